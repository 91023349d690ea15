package storage_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/internal/storage/storagetest"
)

// TestDisposalLists, on the real database, in a municipality of its own:
// documents are kept for their type's period or the default; a day's list
// holds what is due, documents and issuance records, and marks held what
// is about a resident with an open disclosure request; it is disposed of
// only once approved by a manager other than the one who submitted it,
// each disposal recorded with the approval; a request opened after the list
// was drawn up holds its items at disposal; what was disposed of is never
// listed again, what was held is listed again once the request closed.
func TestDisposalLists(t *testing.T) {
	db := storagetest.Seeded(t)
	ctx := context.Background()
	clerk := storagetest.Clerk(t, db, "clerk1")
	n := time.Now().UnixNano()
	office := fmt.Sprintf("9%05d", n%100000)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := db.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO municipalities (code, name, document_retention_years) VALUES ($1, 'テスト市', 5)`, office)
	exec(`INSERT INTO offices (code, kind, name) VALUES ($1, 'municipality', 'テスト市')`, office)
	residentA, residentB := fmt.Sprintf("8%010d", n%1e10), fmt.Sprintf("7%010d", n%1e10)
	for _, r := range []string{residentA, residentB} {
		exec(`INSERT INTO residents (resident_code, municipality_code, name, birth_date, sex, address, status)
			VALUES ($1, $2, 'テスト', '1980-01-01', 'female', 'テスト市', 'resident')`, r, office)
	}
	newCase := func(procedure string, seq int) string {
		t.Helper()
		number := fmt.Sprintf("%s-20261201-%06d", office, seq)
		if err := db.InsertCase(ctx, storage.Case{CaseNumber: number, MunicipalityCode: office, Procedure: procedure,
			WorkflowID: procedure + "/" + number, OpenedBy: clerk.ID}); err != nil {
			t.Fatal(err)
		}
		return number
	}
	registered := time.Date(2026, 12, 1, 10, 0, 0, 0, storage.Tokyo)
	// A's issuance: an application (the default 5 years) and the record
	// of a certificate expiring 2031-03-31 (disposable from 2041-04-01).
	issuance := newCase("inperson-issuance", 1)
	if until, err := db.RegisterDocuments(ctx, issuance, []string{"application"}, registered); err != nil || until.Format(time.DateOnly) != "2031-12-01" {
		t.Fatalf("register: %v %v", until, err)
	}
	serial := fmt.Sprintf("S%d", n)
	if err := db.RecordIssued(ctx, []storage.IssuedCertificate{{Serial: serial, Kind: "auth", CaseNumber: issuance, ResidentCode: residentA,
		CardSerial: "C" + serial, NotAfter: time.Date(2031, 3, 31, 23, 59, 59, 0, storage.Tokyo)}}); err != nil {
		t.Fatal(err)
	}
	// B's revocation: its application kept 1 year, the type's own period
	// (set twice: the last setting holds).
	for _, years := range []int{3, 1} {
		if err := db.SetRetentionPeriod(ctx, office, "revocation_application", years); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetRetentionPeriod(ctx, office, "revocation_application", 0); err == nil {
		t.Fatal("a period of 0 years was recorded")
	}
	revocation := newCase("inperson-revocation", 2)
	if err := db.RecordCaseResident(ctx, revocation, residentB); err != nil {
		t.Fatal(err)
	}
	if until, err := db.RegisterDocuments(ctx, revocation, []string{"revocation_application"}, registered); err != nil || until.Format(time.DateOnly) != "2027-12-01" {
		t.Fatalf("register with the type's period: %v %v", until, err)
	}
	if rs, err := db.RetentionPeriods(ctx, office); err != nil || rs.DefaultYears != 5 || len(rs.Periods) != 1 ||
		rs.Periods[0] != (storage.RetentionPeriod{DocType: "revocation_application", Years: 1}) ||
		!slices.Equal(rs.DocumentTypes, []string{"application", "revocation_application"}) {
		t.Fatalf("retention settings %+v %v", rs, err)
	}
	if _, err := db.RetentionPeriods(ctx, "jlis"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the Organization's settings: %v", err)
	}
	// A asks for disclosure: the request is open.
	// The gateway records whom a request is about with its case.
	disclosure := fmt.Sprintf("%s-20261201-%06d", office, 3)
	if err := db.InsertCase(ctx, storage.Case{CaseNumber: disclosure, MunicipalityCode: office, Procedure: contract.ProcInPersonDisclosureRequest,
		WorkflowID: "x/" + disclosure, OpenedBy: clerk.ID, Resident: residentA}); err != nil {
		t.Fatal(err)
	}

	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	at := time.Date(2041, 4, 1, 1, 0, 0, 0, storage.Tokyo)
	d1 := day("2041-04-01")
	l, err := db.DrawUpDisposalList(ctx, office, d1, office+"-D20410401", "retention-disposal/"+office+"-D20410401", contract.HoldingProcedures, at)
	if err != nil {
		t.Fatal(err)
	}
	want := []storage.DisposalItem{
		{Kind: storage.ItemDocument, CaseNumber: issuance, Item: "application", DueOn: day("2031-12-01"), HeldBy: disclosure},
		{Kind: storage.ItemDocument, CaseNumber: revocation, Item: "revocation_application", DueOn: day("2027-12-01")},
		{Kind: storage.ItemIssuanceRecord, CaseNumber: issuance, Item: serial, DueOn: day("2041-04-01"), HeldBy: disclosure},
	}
	if l.Status != storage.DisposalDrawnUp || l.Due() != 1 || !sameItems(l.Items, want) {
		t.Fatalf("drawn up %+v", l)
	}
	// The issuance record is not due the day before.
	before, err := db.DrawUpDisposalList(ctx, office, day("2041-03-31"), office+"-D20410331", "retention-disposal/"+office+"-D20410331", contract.HoldingProcedures, at)
	if err != nil || len(before.Items) != 2 {
		t.Fatalf("the day before: %+v %v", before, err)
	}
	// Drawing up again changes nothing.
	if again, err := db.DrawUpDisposalList(ctx, office, d1, office+"-D20410401", "retention-disposal/"+office+"-D20410401", contract.HoldingProcedures, at.Add(time.Hour)); err != nil || !again.DrawnUpAt.Equal(at) || len(again.Items) != 3 {
		t.Fatalf("drawn up again: %+v %v", again, err)
	}

	if _, err := db.DisposeList(ctx, office, d1, contract.HoldingProcedures, at); !errors.Is(err, storage.ErrDisposalNotApproved) {
		t.Fatalf("disposal without approval: %v", err)
	}
	if err := db.ApproveDisposalList(ctx, office, d1, "manager2", at); !errors.Is(err, storage.ErrDisposalListState) {
		t.Fatalf("approval before submission: %v", err)
	}
	if err := db.SubmitDisposalList(ctx, office, d1, "manager1", at); err != nil {
		t.Fatal(err)
	}
	if err := db.SubmitDisposalList(ctx, office, d1, "manager2", at); !errors.Is(err, storage.ErrDisposalListState) {
		t.Fatalf("a second submission: %v", err)
	}
	if err := db.ApproveDisposalList(ctx, office, d1, "manager1", at); !errors.Is(err, storage.ErrOwnDisposalList) {
		t.Fatalf("approval of one's own list: %v", err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE disposal_lists SET approved_by = submitted_by, approved_at = now() WHERE office_code = $1 AND day = $2`, office, d1); err == nil {
		t.Fatal("the schema let the submitter approve")
	}
	if _, err := db.DisposeList(ctx, office, d1, contract.HoldingProcedures, at); !errors.Is(err, storage.ErrDisposalNotApproved) {
		t.Fatalf("disposal of a submitted list: %v", err)
	}
	approvedAt := at.Add(2 * time.Hour)
	if err := db.ApproveDisposalList(ctx, office, d1, "manager2", approvedAt); err != nil {
		t.Fatal(err)
	}
	if err := db.ApproveDisposalList(ctx, office, d1, "manager2", approvedAt.Add(time.Hour)); err != nil {
		t.Fatalf("the same approval again: %v", err)
	}
	disposedAt := approvedAt.Add(time.Minute)
	l, err = db.DisposeList(ctx, office, d1, contract.HoldingProcedures, disposedAt)
	if err != nil || l.Status != storage.DisposalDisposed || l.SubmittedBy != "manager1" || l.ApprovedBy != "manager2" {
		t.Fatalf("disposed %+v %v", l, err)
	}
	for _, it := range l.Items {
		if (it.HeldBy == "") != (it.DisposedAt != nil) {
			t.Errorf("item %+v: disposed iff not held", it)
		}
	}
	var approvedBy string
	var recordedApproval, docDisposed time.Time
	if err := db.Pool.QueryRow(ctx, `SELECT approved_by, approved_at FROM disposals WHERE kind = 'document' AND case_number = $1 AND item = 'revocation_application'`,
		revocation).Scan(&approvedBy, &recordedApproval); err != nil || approvedBy != "manager2" || !recordedApproval.Equal(approvedAt) {
		t.Fatalf("the disposal's record: %s %v %v", approvedBy, recordedApproval, err)
	}
	if err := db.Pool.QueryRow(ctx, `SELECT disposed_at FROM documents WHERE case_number = $1`, revocation).Scan(&docDisposed); err != nil || !docDisposed.Equal(disposedAt) {
		t.Fatalf("document disposed at %v %v", docDisposed, err)
	}
	var heldDisposed *time.Time
	if err := db.Pool.QueryRow(ctx, `SELECT disposed_at FROM documents WHERE case_number = $1`, issuance).Scan(&heldDisposed); err != nil || heldDisposed != nil {
		t.Fatalf("the held document: %v %v", heldDisposed, err)
	}
	// The day's case is a case of the office, opened by no clerk, and its
	// submission, approval and disposal are in the audit chain.
	if c, err := db.Case(ctx, office+"-D20410401"); err != nil || c.Procedure != storage.DisposalProcedure || c.OpenedBy != 0 || c.MunicipalityCode != office {
		t.Fatalf("the day's case: %+v %v", c, err)
	}
	rows, err := db.Pool.Query(ctx, `SELECT event_key || ':' || actor || ':' || detail FROM case_events WHERE case_number = $1 ORDER BY chain_seq`, office+"-D20410401")
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	if want := []string{"disposal_submitted:manager1:", "disposal_approved:manager2:", "disposed:manager2:disposed=1"}; !slices.Equal(events, want) {
		t.Errorf("audit events %v, want %v", events, want)
	}
	if rep, err := db.VerifyAuditChain(ctx, office); err != nil || !rep.OK {
		t.Errorf("the office's chain: %+v %v", rep, err)
	}
	// Disposing again changes nothing.
	if again, err := db.DisposeList(ctx, office, d1, contract.HoldingProcedures, disposedAt.Add(time.Hour)); err != nil || again.Items[1].DisposedAt == nil || !again.Items[1].DisposedAt.Equal(disposedAt) {
		t.Fatalf("disposed again: %+v %v", again, err)
	}

	// The request ends: the next day lists A's items again, B's no more.
	if err := db.CloseCase(ctx, disclosure, "completed", "", at); err != nil {
		t.Fatal(err)
	}
	d2 := day("2041-04-02")
	l, err = db.DrawUpDisposalList(ctx, office, d2, office+"-D20410402", "retention-disposal/"+office+"-D20410402", contract.HoldingProcedures, at)
	if err != nil || l.Due() != 2 || len(l.Items) != 2 || l.Items[0].CaseNumber != issuance || l.Items[1].CaseNumber != issuance {
		t.Fatalf("the next day: %+v %v", l, err)
	}
	// A opens a correction request before the list is disposed of: its
	// items are held at disposal.
	correction := newCase(contract.ProcProxyCorrectionRequest, 4)
	if err := db.RecordCaseResident(ctx, correction, residentA); err != nil {
		t.Fatal(err)
	}
	if err := db.SubmitDisposalList(ctx, office, d2, "manager2", at); err != nil {
		t.Fatal(err)
	}
	if err := db.ApproveDisposalList(ctx, office, d2, "manager1", at); err != nil {
		t.Fatal(err)
	}
	l, err = db.DisposeList(ctx, office, d2, contract.HoldingProcedures, at)
	if err != nil || l.Status != storage.DisposalDisposed || l.Due() != 0 || l.Items[0].HeldBy != correction || l.Items[0].DisposedAt != nil {
		t.Fatalf("held at disposal: %+v %v", l, err)
	}
	// A list never approved lapses; a lapsed list stays lapsed.
	if err := db.CloseDisposalList(ctx, office, day("2041-03-31"), storage.DisposalLapsed, at); err != nil {
		t.Fatal(err)
	}
	if err := db.CloseDisposalList(ctx, office, d2, storage.DisposalLapsed, at); err != nil {
		t.Fatal(err)
	}
	if l, err := db.DisposalList(ctx, office, day("2041-03-31")); err != nil || l.Status != storage.DisposalLapsed || l.ClosedAt == nil {
		t.Fatalf("lapsed %+v %v", l, err)
	}
	if l, err := db.DisposalList(ctx, office, d2); err != nil || l.Status != storage.DisposalDisposed {
		t.Fatalf("a disposed list closed as lapsed: %+v %v", l, err)
	}
	if err := db.CloseDisposalList(ctx, office, d2, storage.DisposalApproved, at); !errors.Is(err, storage.ErrDisposalListState) {
		t.Fatalf("closing as approved: %v", err)
	}
	if _, err := db.DisposalList(ctx, office, day("2041-05-01")); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("no list: %v", err)
	}
	// What a lapsed list held is on the next day's list again.
	later := newCase("inperson-pin-change", 5)
	if _, err := db.RegisterDocuments(ctx, later, []string{"identity_check_record"}, registered); err != nil {
		t.Fatal(err)
	}
	d3, d4 := day("2041-04-03"), day("2041-04-04")
	if l, err := db.DrawUpDisposalList(ctx, office, d3, office+"-D20410403", "retention-disposal/"+office+"-D20410403", contract.HoldingProcedures, at); err != nil || l.Due() != 1 {
		t.Fatalf("the third day: %+v %v", l, err)
	}
	if err := db.CloseDisposalList(ctx, office, d3, storage.DisposalLapsed, at); err != nil {
		t.Fatal(err)
	}
	l, err = db.DrawUpDisposalList(ctx, office, d4, office+"-D20410404", "retention-disposal/"+office+"-D20410404", contract.HoldingProcedures, at)
	if err != nil || l.Due() != 1 || !slices.ContainsFunc(l.Items, func(it storage.DisposalItem) bool { return it.CaseNumber == later && it.HeldBy == "" }) {
		t.Fatalf("the day after a lapse: %+v %v", l, err)
	}
}

// sameItems compares items without their disposal times.
func sameItems(got, want []storage.DisposalItem) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g := got[i]
		g.DisposedAt = nil
		if g.Kind != want[i].Kind || g.CaseNumber != want[i].CaseNumber || g.Item != want[i].Item || !g.DueOn.Equal(want[i].DueOn) || g.HeldBy != want[i].HeldBy {
			return false
		}
	}
	return true
}
