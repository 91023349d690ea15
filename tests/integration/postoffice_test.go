package integration

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
)

// usePostTerminal starts the post office's terminal P0001 with a card, after
// taking Yokohama's agent and card off the reader the two share; it stops
// them at the test's end so the relay tests find the reader free.
func usePostTerminal(t *testing.T, cardSerial, cardExpiry string) {
	t.Helper()
	stop("cardagent-" + yokohamaT.id)
	stop("vcard-" + yokohamaT.id)
	t.Cleanup(func() {
		stop("cardagent-" + postT.id)
		stop("vcard-" + postT.id)
	})
	startTerminalOf(t, postT, cardSerial, cardExpiry, false)
}

// countCases counts the municipal database's cases.
func countCases(t *testing.T) int {
	t.Helper()
	var n int
	if err := municipalDB(t).QueryRow(context.Background(), `SELECT count(*) FROM cases`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// listedRow waits until a case is in a list and returns its row.
func listedRow(t *testing.T, a *api, path, caseNumber string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var list struct{ Cases []map[string]any }
		if c := a.do("GET", path, nil, &list); c != http.StatusOK {
			t.Fatalf("GET %s: HTTP %d", path, c)
		}
		for _, row := range list.Cases {
			if row["caseNumber"] == caseNumber {
				return row
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is not in %s", caseNumber, path)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestPostOfficeIssuance (第2 6): 千代田郵便局's clerk issues certificates at
// the post office's terminal to a resident of 千代田区, which delegated
// in-person issuance to it. The procedure is the in-person issuance with its
// register check, identity check and PINs typed on the post office's panel;
// the case is 千代田区's, whose manager lists it with the office that did it.
// A resident of 横浜市 is refused before any case exists, and the post
// office reads and lists nothing but its own work.
func TestPostOfficeIssuance(t *testing.T) {
	beginTest(t)
	r := demo.Find(demo.ResidentPostOffice)
	usePostTerminal(t, r.CardSerial, r.CardExpiry)
	post, clerk1, manager1, yokohama := login(t, "post1"), login(t, "clerk1"), login(t, "manager1"), login(t, "yokohama1")

	var started struct{ CaseNumber string }
	if c := post.do("POST", "/api/procedures/inperson-issuance", map[string]any{"terminalId": postT.id,
		"application": application(demo.ResidentPostOffice, true, true)}, &started); c != http.StatusCreated {
		t.Fatalf("start at the post office: HTTP %d", c)
	}
	cn := started.CaseNumber
	if !strings.HasPrefix(cn, demo.Chiyoda+"-") {
		t.Fatalf("case %s is not 千代田区's", cn)
	}
	post.waitStep(cn, time.Minute, workflows.StepIdentityCheck)
	var e apiErr
	if c := post.do("POST", "/api/cases/"+cn+"/identity-check", map[string]any{"documentType": "individual_number_card", "verified": true}, &e); c != http.StatusOK {
		t.Fatalf("identity check at the post office: HTTP %d %v", c, e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	post.waitStep(cn, time.Minute, workflows.StepPINSetting)
	enterPINsAt(t, ctx, postT.panel, testPINs)
	st := post.waitStep(cn, 2*time.Minute, workflows.StepDone, workflows.StepRejected, workflows.StepFailed)
	if st["status"] != workflows.StatusCompleted {
		t.Fatalf("post-office issuance: %v", st)
	}
	var n int
	if err := jlis(t).QueryRow(ctx, `SELECT count(*) FROM ca_certificates WHERE request_id LIKE $1`, cn+"/%").Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d certificates issued for %s (%v)", n, cn, err)
	}
	var office string
	if err := municipalDB(t).QueryRow(ctx, `SELECT municipality_code || '/' || office_code FROM cases WHERE case_number = $1`, cn).Scan(&office); err != nil || office != demo.Chiyoda+"/"+demo.PostOffice {
		t.Fatalf("the case is recorded as %q (%v)", office, err)
	}

	// 千代田区 is responsible: its manager lists the case with the office.
	row := listedRow(t, manager1, "/api/cases?status=completed", cn)
	if row["office"] != demo.PostOffice || row["municipality"] != demo.Chiyoda {
		t.Fatalf("the manager's row: %v", row)
	}
	if c := clerk1.do("GET", "/api/cases/"+cn, nil, nil); c != http.StatusOK {
		t.Fatalf("the address municipality's clerk reads the case: HTTP %d", c)
	}
	if c := yokohama.do("GET", "/api/cases/"+cn, nil, &e); c != http.StatusNotFound {
		t.Fatalf("another municipality read the case: HTTP %d", c)
	}
	if row := listedRow(t, post, "/api/cases?status=completed", cn); row["office"] != demo.PostOffice {
		t.Fatalf("the post office's row: %v", row)
	}

	// A resident of 横浜市, which delegated nothing to the post office.
	before := countCases(t)
	e = apiErr{}
	if c := post.do("POST", "/api/procedures/inperson-issuance", map[string]any{"terminalId": postT.id,
		"application": application(demo.ResidentYokohama, true, true)}, &e); c != http.StatusForbidden || e.Error.Code != "outside_delegation" || e.Error.Message == "" {
		t.Fatalf("another municipality's resident at the post office: HTTP %d %v", c, e)
	}
	// Procedures it was not delegated, and 千代田区's own cases.
	e = apiErr{}
	if c := post.do("POST", "/api/procedures/proxy-issuance", map[string]any{"terminalId": postT.id,
		"application": application(demo.ResidentPostOffice, true, true), "proxy": map[string]any{"name": "代理 人", "address": "東京都"}}, &e); c != http.StatusForbidden {
		t.Fatalf("proxy issuance at the post office: HTTP %d %v", c, e)
	}
	e = apiErr{}
	if c := post.do("POST", "/api/procedures/inperson-revocation", map[string]any{"residentCode": demo.ResidentPostOffice,
		"signing": true, "reason": "cessationOfOperation"}, &e); c != http.StatusForbidden {
		t.Fatalf("revocation at the post office: HTTP %d %v", c, e)
	}
	if countCases(t) != before {
		t.Fatal("a refused start at the post office recorded a case")
	}
	var own struct{ CaseNumber string }
	if c := clerk1.do("POST", "/api/procedures/inperson-issuance", map[string]any{"terminalId": "T0001",
		"application": application(demo.ResidentMovedOut, false, true)}, &own); c != http.StatusCreated {
		t.Fatalf("千代田区's own case: HTTP %d", c)
	}
	clerk1.waitStep(own.CaseNumber, time.Minute, workflows.StepRejected)
	e = apiErr{}
	if c := post.do("GET", "/api/cases/"+own.CaseNumber, nil, &e); c != http.StatusNotFound || e.Error.Code != "unknown_case" {
		t.Fatalf("the post office read 千代田区's own case: HTTP %d %v", c, e)
	}
	var list struct{ Cases []map[string]any }
	if c := post.do("GET", "/api/cases?status=rejected", nil, &list); c != http.StatusOK {
		t.Fatalf("post office list: HTTP %d", c)
	}
	for _, row := range list.Cases {
		if row["office"] != demo.PostOffice {
			t.Fatalf("the post office lists another office's case: %v", row)
		}
	}
	if c := post.do("GET", "/api/delegations", nil, &e); c != http.StatusForbidden {
		t.Fatalf("a post-office clerk read the delegations: HTTP %d", c)
	}
}

// TestDelegationEndStopsNewCases (規則65, 68): 川崎市's manager delegates
// in-person issuance to 千代田郵便局 from today; its overlapping twin and one
// that starts after it ends are refused without a record. The post office
// opens a case for a 川崎市 resident; the manager ends the delegation today:
// a new start is refused (delegation_ended) with nothing recorded, while the
// case already open finishes under it (here its clerk cancels it), and
// 川崎市's manager lists it with the office that did it.
func TestDelegationEndStopsNewCases(t *testing.T) {
	beginTest(t)
	kawasaki, post := login(t, "kawasaki1"), login(t, "post1")
	today := storage.Day(time.Now()).Format(time.DateOnly)
	// A run before this one may have left its delegation open.
	var ds struct{ Delegations []map[string]any }
	if c := kawasaki.do("GET", "/api/delegations", nil, &ds); c != http.StatusOK {
		t.Fatalf("list delegations: HTTP %d", c)
	}
	for _, d := range ds.Delegations {
		if d["office"] == demo.PostOffice && d["state"] != "ended" {
			kawasaki.do("POST", fmt.Sprintf("/api/delegations/%v/end", d["id"]), map[string]any{"on": today}, nil)
		}
	}

	body := map[string]any{"office": demo.PostOffice, "procedures": []string{workflows.ProcedureInPersonIssuance}, "startsOn": today}
	var d struct {
		ID    int64
		State string
	}
	if c := kawasaki.do("POST", "/api/delegations", body, &d); c != http.StatusCreated || d.State != "active" {
		t.Fatalf("delegate: HTTP %d %+v", c, d)
	}
	var e apiErr
	if c := kawasaki.do("POST", "/api/delegations", body, &e); c != http.StatusConflict || e.Error.Code != "delegation_overlap" {
		t.Fatalf("overlapping delegation: HTTP %d %v", c, e)
	}
	e = apiErr{}
	if c := kawasaki.do("POST", "/api/delegations", map[string]any{"office": demo.Yokohama, "procedures": []string{workflows.ProcedureInPersonIssuance},
		"startsOn": "2031-04-02", "endsOn": "2031-04-01"}, &e); c != http.StatusBadRequest || e.Error.Code != "ends_before_start" {
		t.Fatalf("a delegation that starts after it ends: HTTP %d %v", c, e)
	}

	app := application(demo.ResidentKawasaki, true, true)
	var started struct{ CaseNumber string }
	if c := post.do("POST", "/api/procedures/inperson-issuance", map[string]any{"terminalId": postT.id, "application": app}, &started); c != http.StatusCreated {
		t.Fatalf("start under the delegation: HTTP %d", c)
	}
	cn := started.CaseNumber
	if !strings.HasPrefix(cn, demo.Kawasaki+"-") {
		t.Fatalf("case %s is not 川崎市's", cn)
	}
	post.waitStep(cn, time.Minute, workflows.StepIdentityCheck)

	var ended struct{ State, EndsOn string }
	if c := kawasaki.do("POST", fmt.Sprintf("/api/delegations/%d/end", d.ID), map[string]any{"on": today}, &ended); c != http.StatusOK || ended.State != "ended" || ended.EndsOn != today {
		t.Fatalf("end: HTTP %d %+v", c, ended)
	}
	before := countCases(t)
	e = apiErr{}
	if c := post.do("POST", "/api/procedures/inperson-issuance", map[string]any{"terminalId": postT.id, "application": app}, &e); c != http.StatusForbidden || e.Error.Code != "delegation_ended" || e.Error.Message == "" {
		t.Fatalf("a start after the end: HTTP %d %v", c, e)
	}
	if countCases(t) != before {
		t.Fatal("a start after the end recorded a case")
	}
	e = apiErr{}
	if c := kawasaki.do("POST", fmt.Sprintf("/api/delegations/%d/end", d.ID), map[string]any{"on": today}, &e); c != http.StatusConflict || e.Error.Code != "already_ended" {
		t.Fatalf("ended twice: HTTP %d %v", c, e)
	}

	// The case opened before the end finishes under it.
	if c := post.do("GET", "/api/cases/"+cn, nil, nil); c != http.StatusOK {
		t.Fatalf("the post office reads its open case after the end: HTTP %d", c)
	}
	if c := post.do("POST", "/api/cases/"+cn+"/cancel", map[string]any{"reason": "申請者の都合 / the applicant's choice"}, &e); c != http.StatusOK {
		t.Fatalf("cancel after the end: HTTP %d %v", c, e)
	}
	post.waitStep(cn, time.Minute, workflows.StepCancelled)
	if row := listedRow(t, kawasaki, "/api/cases?status=cancelled", cn); row["office"] != demo.PostOffice {
		t.Fatalf("川崎市's manager's row: %v", row)
	}
}

// TestDelegatedMunicipality (規則65, 66, 69): 川崎市 delegated its work to
// 横浜市's head and notified the Organization (demo data, shown to its
// manager with both days); 横浜市's clerk opens 川崎市's case for a 川崎市
// resident, whose register check passes as 川崎市's; 川崎市's manager lists
// it with the office that did it, and 千代田区 cannot read it.
func TestDelegatedMunicipality(t *testing.T) {
	beginTest(t)
	kawasaki, yokohama, clerk1 := login(t, "kawasaki1"), login(t, "yokohama1"), login(t, "clerk1")
	var ds struct{ Delegations []map[string]any }
	if c := kawasaki.do("GET", "/api/delegations", nil, &ds); c != http.StatusOK {
		t.Fatalf("list delegations: HTTP %d", c)
	}
	found := false
	for _, d := range ds.Delegations {
		if d["office"] == demo.Yokohama {
			found = d["state"] == "active" && d["manual"] == "第2 5" && d["startsOn"] == demo.DelegationsStart && d["notifiedOn"] == demo.DelegationsStart
		}
	}
	if !found {
		t.Fatalf("川崎市's delegation to 横浜市 is not shown active and notified: %v", ds.Delegations)
	}

	var started struct{ CaseNumber string }
	if c := yokohama.do("POST", "/api/procedures/inperson-issuance", map[string]any{"terminalId": yokohamaT.id,
		"application": application(demo.ResidentKawasaki, true, true)}, &started); c != http.StatusCreated {
		t.Fatalf("start for 川崎市: HTTP %d", c)
	}
	cn := started.CaseNumber
	if !strings.HasPrefix(cn, demo.Kawasaki+"-") {
		t.Fatalf("case %s is not 川崎市's", cn)
	}
	// Past the register check, which ran as 川崎市's.
	yokohama.waitStep(cn, time.Minute, workflows.StepIdentityCheck)
	var e apiErr
	if c := clerk1.do("GET", "/api/cases/"+cn, nil, &e); c != http.StatusNotFound {
		t.Fatalf("千代田区 read 川崎市's case: HTTP %d", c)
	}
	if row := listedRow(t, kawasaki, "/api/cases", cn); row["office"] != demo.Yokohama || row["municipality"] != demo.Kawasaki {
		t.Fatalf("川崎市's manager's row: %v", row)
	}
	if row := listedRow(t, yokohama, "/api/cases", cn); row["office"] != demo.Yokohama {
		t.Fatalf("横浜市's row: %v", row)
	}
	if c := kawasaki.do("POST", "/api/cases/"+cn+"/cancel", map[string]any{"reason": "試験 / test"}, &e); c != http.StatusOK {
		t.Fatalf("川崎市's manager cancels: HTTP %d %v", c, e)
	}
	yokohama.waitStep(cn, time.Minute, workflows.StepCancelled)
}
