package integration

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
)

// The ex-officio revocation (第2 2(3)) on the real stack: certificates are
// issued through the gateway's in-person flow, then the register's changes
// arrive through POST /api/register-events and the Organization's records
// (the jlis database) show what was revoked, with which reason.

// exResident is a register record of these tests only, with its card.
type exResident struct {
	code, name, address, birth, sex, card string
}

var (
	exMover = exResident{"00000000150", "森 修", "東京都千代田区神田1番2号", "1975-06-15", "male", "C131016000150"}
	exDead  = exResident{"00000000168", "池田 和子", "東京都千代田区麹町3番4号", "1948-01-20", "female", "C131016000168"}
)

const exCardExpiry = "2034-04-01"

func municipalDB(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), cfg.DBDSN)
	if err != nil {
		t.Fatalf("connect madoguchi: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// seedExResident writes the record and its card (idempotent).
func seedExResident(t *testing.T, db *pgx.Conn, r exResident) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.Exec(ctx, `INSERT INTO residents (resident_code, municipality_code, name, birth_date, sex, address, status)
		VALUES ($1, '131016', $2, $3, $4, $5, 'resident') ON CONFLICT DO NOTHING`, r.code, r.name, r.birth, r.sex, r.address); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `INSERT INTO cards (card_serial, resident_code, expires_on) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		r.card, r.code, exCardExpiry); err != nil {
		t.Fatal(err)
	}
	// A code another test or the demo took already would leave its record
	// in place, and this test's application would differ from it.
	var name string
	if err := db.QueryRow(ctx, `SELECT name FROM residents WHERE resident_code = $1`, r.code).Scan(&name); err != nil || name != r.name {
		t.Fatalf("resident code %s is taken by another record (%v): choose another for this test", r.code, err)
	}
}

// registerAccount makes the register system's account of 千代田区 and logs in.
func registerAccount(t *testing.T, db *pgx.Conn) *api {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("madoguchi-demo"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(context.Background(), `INSERT INTO clerks (municipality_code, login, display_name, role, password_hash)
		VALUES ('131016', 'jukisys', '住基システム連携', 'register', $1) ON CONFLICT (login) DO NOTHING`, string(hash)); err != nil {
		t.Fatal(err)
	}
	return login(t, "jukisys")
}

func (r exResident) application() contract.Application {
	return contract.Application{ResidentCode: r.code, Name: r.name, BirthDate: r.birth, Sex: r.sex, Address: r.address, Signing: true, UserAuth: true}
}

// issueBoth issues both certificates to r at terminal T0001.
func issueBoth(t *testing.T, clerk *api, r exResident) (sign, auth string) {
	t.Helper()
	startTerminal(t, r.card, exCardExpiry, false)
	_, st := issue(t, clerk, r.application())
	if st["status"] != workflows.StatusCompleted {
		t.Fatalf("issuance to %s did not complete: %v", r.code, st)
	}
	c := certsOf(st)
	return c[contract.KindSigning]["serial"].(string), c[contract.KindUserAuth]["serial"].(string)
}

// caReason is a certificate's revocation reason at the CA (0: good) and
// the number of status events recorded for it.
func caReason(t *testing.T, db *pgx.Conn, serial string) (reason, events int) {
	t.Helper()
	var r *int
	if err := db.QueryRow(context.Background(), `SELECT revocation_reason, (SELECT count(*) FROM ca_status_events e WHERE e.serial = c.serial)
		FROM ca_certificates c WHERE serial = $1`, serial).Scan(&r, &events); err != nil {
		t.Fatalf("certificate %s: %v", serial, err)
	}
	if r != nil {
		reason = *r
	}
	return reason, events
}

type eventAnswer struct {
	CaseNumber string
	Procedure  string
	Duplicate  bool
	Changes    int
	Error      struct{ Code, Message string }
}

func postChange(t *testing.T, a *api, path string, body any) (int, eventAnswer) {
	t.Helper()
	var res eventAnswer
	code := a.do("POST", path, body, &res)
	return code, res
}

// TestExOfficioRevocation: an address change revokes the signing
// certificate only (affiliationChanged); a death revokes both (the
// user-authentication certificate as cessationOfOperation); a death
// delivered twice, and again after it was processed, is one case and
// revokes once; an unknown resident and malformed events are refused with
// a 4xx and change nothing; a batch revokes what is left, once; the cases
// are in the manager's list.
func TestExOfficioRevocation(t *testing.T) {
	beginTest(t)
	mdb, jdb := municipalDB(t), jlis(t)
	seedExResident(t, mdb, exMover)
	seedExResident(t, mdb, exDead)
	clerk, manager, reg := login(t, "clerk1"), login(t, "manager1"), registerAccount(t, mdb)
	moverSign, moverAuth := issueBoth(t, clerk, exMover)
	deadSign, deadAuth := issueBoth(t, clerk, exDead)
	today := time.Now().In(storage.Tokyo).Format(time.DateOnly)
	run := time.Now().UnixNano()

	// An address change, from the register's account.
	code, addr := postChange(t, reg, "/api/register-events", contract.RegisterChange{ChangeID: fmt.Sprintf("ADDR-%d", run),
		ResidentCode: exMover.code, Kind: "address_change", Date: today})
	if code != http.StatusCreated || addr.Duplicate || addr.Procedure != workflows.ProcedureExOfficioRevocation {
		t.Fatalf("address change: HTTP %d %+v", code, addr)
	}
	st := reg.waitStep(addr.CaseNumber, 2*time.Minute, endSteps...)
	if st["status"] != workflows.StatusCompleted {
		t.Fatalf("address change case: %v", st)
	}
	if r, n := caReason(t, jdb, moverSign); r != 3 || n != 1 {
		t.Errorf("signing certificate after an address change: reason %d, %d events; want affiliationChanged (3), once", r, n)
	}
	if r, n := caReason(t, jdb, moverAuth); r != 0 || n != 0 {
		t.Errorf("user-authentication certificate after an address change: reason %d, %d events; want good", r, n)
	}

	// A death, delivered twice at once by a manager and the register, then
	// once more after it was processed.
	death := contract.RegisterChange{ChangeID: fmt.Sprintf("DEATH-%d", run), ResidentCode: exDead.code, Kind: "death", Date: today}
	code, first := postChange(t, reg, "/api/register-events", death)
	if code != http.StatusCreated {
		t.Fatalf("death: HTTP %d %+v", code, first)
	}
	code, second := postChange(t, manager, "/api/register-events", death)
	if code != http.StatusOK || !second.Duplicate || second.CaseNumber != first.CaseNumber {
		t.Fatalf("the same death again: HTTP %d %+v, want 200 with case %s", code, second, first.CaseNumber)
	}
	st = reg.waitStep(first.CaseNumber, 2*time.Minute, endSteps...)
	if st["status"] != workflows.StatusCompleted {
		t.Fatalf("death case: %v", st)
	}
	code, third := postChange(t, reg, "/api/register-events", death)
	if code != http.StatusOK || !third.Duplicate || third.CaseNumber != first.CaseNumber {
		t.Fatalf("the death after it was processed: HTTP %d %+v", code, third)
	}
	if r, n := caReason(t, jdb, deadSign); r != 3 || n != 1 {
		t.Errorf("signing certificate after a death: reason %d, %d events; want affiliationChanged (3), once", r, n)
	}
	if r, n := caReason(t, jdb, deadAuth); r != 5 || n != 1 {
		t.Errorf("user-authentication certificate after a death: reason %d, %d events; want cessationOfOperation (5), once", r, n)
	}
	rev, _ := st["revocation"].(map[string]any)
	if list, _ := rev["revoked"].([]any); len(list) != 2 || rev["notice"] != workflows.DocRevocationNotice {
		t.Errorf("death case state: %v", rev)
	}
	var docs, marked int
	if err := mdb.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM documents WHERE case_number = $1 AND doc_type = $2),
		(SELECT count(*) FROM issued_certificates WHERE resident_code = $3 AND status = 'revoked')`,
		first.CaseNumber, workflows.DocRevocationNotice, exDead.code).Scan(&docs, &marked); err != nil || docs != 1 || marked != 2 {
		t.Errorf("municipal records: %d notices, %d certificates marked revoked (%v); want 1 and 2", docs, marked, err)
	}
	// The same change id for another change is refused.
	reused := death
	reused.Kind = "name_change"
	if code, res := postChange(t, reg, "/api/register-events", reused); code != http.StatusConflict || res.Error.Code != "change_id_reused" {
		t.Errorf("a change id reused: HTTP %d %+v", code, res)
	}

	// Refusals change nothing.
	var before int
	_ = mdb.QueryRow(context.Background(), `SELECT count(*) FROM register_events`).Scan(&before)
	for _, tc := range []struct {
		who    *api
		body   any
		status int
		code   string
	}{
		{reg, contract.RegisterChange{ChangeID: fmt.Sprintf("X-%d", run), ResidentCode: "99999999999", Kind: "death", Date: today}, http.StatusUnprocessableEntity, "unknown_resident"},
		// 横浜市's resident is not in 千代田区's register.
		{reg, contract.RegisterChange{ChangeID: fmt.Sprintf("Y-%d", run), ResidentCode: "00000000060", Kind: "death", Date: today}, http.StatusUnprocessableEntity, "unknown_resident"},
		{reg, contract.RegisterChange{ChangeID: fmt.Sprintf("K-%d", run), ResidentCode: exMover.code, Kind: "marriage", Date: today}, http.StatusBadRequest, "bad_change_kind"},
		{reg, contract.RegisterChange{ChangeID: "", ResidentCode: exMover.code, Kind: "death", Date: today}, http.StatusBadRequest, "bad_change_id"},
		{reg, contract.RegisterChange{ChangeID: fmt.Sprintf("D-%d", run), ResidentCode: exMover.code, Kind: "death", Date: "2999-01-01"}, http.StatusBadRequest, "future_date"},
		{reg, map[string]any{"changeId": 7}, http.StatusBadRequest, "bad_request"},
		{clerk, death, http.StatusForbidden, "forbidden"},
		{reg, map[string]any{"batchId": fmt.Sprintf("BU-%d", run), "changes": []contract.RegisterChange{
			{ChangeID: fmt.Sprintf("BU1-%d", run), ResidentCode: exMover.code, Kind: "death", Date: today},
			{ChangeID: fmt.Sprintf("BU2-%d", run), ResidentCode: "99999999999", Kind: "death", Date: today}}}, http.StatusUnprocessableEntity, "unknown_resident"},
	} {
		path := "/api/register-events"
		if m, ok := tc.body.(map[string]any); ok && m["batchId"] != nil {
			path += "/batch"
		}
		if code, res := postChange(t, tc.who, path, tc.body); code != tc.status || res.Error.Code != tc.code || res.Error.Message == "" {
			t.Errorf("%+v: HTTP %d %+v, want %d %s", tc.body, code, res, tc.status, tc.code)
		}
	}
	var after int
	_ = mdb.QueryRow(context.Background(), `SELECT count(*) FROM register_events`).Scan(&after)
	if after != before {
		t.Errorf("refused events recorded %d rows", after-before)
	}
	if r, _ := caReason(t, jdb, moverAuth); r != 0 {
		t.Errorf("a refused event revoked the mover's user-authentication certificate")
	}

	// A batch: the mover leaves Japan (the user-authentication certificate
	// goes now, the signing one was revoked before), the dead person's
	// record is removed (nothing left). Sent twice: one case.
	batch := map[string]any{"batchId": fmt.Sprintf("MERGE-%d", run), "changes": []contract.RegisterChange{
		{ChangeID: fmt.Sprintf("B1-%d", run), ResidentCode: exMover.code, Kind: "moved_abroad", Date: today},
		{ChangeID: fmt.Sprintf("B2-%d", run), ResidentCode: exDead.code, Kind: "record_removal", Date: today}}}
	code, b := postChange(t, reg, "/api/register-events/batch", batch)
	if code != http.StatusCreated || b.Changes != 2 || b.Procedure != workflows.ProcedureExOfficioRevocationBatch {
		t.Fatalf("batch: HTTP %d %+v", code, b)
	}
	if code, again := postChange(t, reg, "/api/register-events/batch", batch); code != http.StatusOK || !again.Duplicate || again.CaseNumber != b.CaseNumber {
		t.Fatalf("batch again: HTTP %d %+v", code, again)
	}
	st = reg.waitStep(b.CaseNumber, 2*time.Minute, endSteps...)
	if st["status"] != workflows.StatusCompleted {
		t.Fatalf("batch case: %v", st)
	}
	if r, n := caReason(t, jdb, moverAuth); r != 5 || n != 1 {
		t.Errorf("user-authentication certificate after leaving Japan: reason %d, %d events; want cessationOfOperation (5), once", r, n)
	}
	for _, s := range []string{moverSign, deadSign, deadAuth} {
		if _, n := caReason(t, jdb, s); n != 1 {
			t.Errorf("%s: %d status events after the batch, want 1", s, n)
		}
	}
	rev, _ = st["revocation"].(map[string]any)
	if rev["processed"] != float64(2) || rev["revokedCount"] != float64(1) || rev["alreadyRevoked"] != float64(3) {
		t.Errorf("batch state: %v", rev)
	}

	// The manager's case list (visibility) shows the three cases.
	var list struct {
		Cases []struct{ CaseNumber, Procedure, Status string }
	}
	found := map[string]bool{}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) && len(found) < 3 {
		list.Cases = nil
		if manager.do("GET", "/api/cases?status=completed", nil, &list) == http.StatusOK {
			for _, c := range list.Cases {
				if c.CaseNumber == addr.CaseNumber || c.CaseNumber == first.CaseNumber || c.CaseNumber == b.CaseNumber {
					found[c.CaseNumber] = true
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(found) != 3 {
		t.Errorf("the manager's completed cases show %d of the 3 ex-officio cases", len(found))
	}
}
