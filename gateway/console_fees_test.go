package gateway

import (
	"net/http"
	"strings"
	"testing"

	"github.com/madoguchi/madoguchi/workflows"
)

// TestConsoleFees: the fees page shows today's and this month's figures of
// the office per item, with CSV and PDF links the console passes through;
// managers and auditors get the link and the page, a clerk neither.
func TestConsoleFees(t *testing.T) {
	f := newConsoleFixture(t)
	f.addFees()
	p := f.get("manager1", "/console/fees")
	if p.status != http.StatusOK {
		t.Fatalf("%d %s", p.status, p.body)
	}
	for _, want := range []string{`id="fees-day" data-period="2026-12-01"`, `id="fees-month" data-period="2026-12"`,
		`<tr data-item="certificate_reissue_after_card_reissue">`, "カード再交付後の電子証明書の発行", "400 円", `class="net">200 円`,
		`href="/console/fees/report?day=2026-12-01&amp;format=csv"`, `href="/console/fees/report?month=2026-12&amp;format=pdf"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the page does not show %q:\n%s", want, p.body)
		}
	}
	if a := f.store.feeAsks; len(a) != 2 {
		t.Errorf("asked %v", a)
	}
	csv := f.get("auditor1", "/console/fees/report?day=2026-12-01&format=csv")
	if csv.status != http.StatusOK || !strings.HasPrefix(csv.header.Get("Content-Type"), "text/csv") || !strings.Contains(csv.body, "net,all,,,200,") {
		t.Errorf("CSV through the console: %d %s %s", csv.status, csv.header.Get("Content-Type"), csv.body)
	}
	for _, login := range []string{"manager1", "auditor1"} {
		if p := f.get(login, "/console/"); !strings.Contains(p.body, `id="nav-fees"`) {
			t.Errorf("%s: no link to the fees page", login)
		}
	}
	if p := f.get("clerk1", "/console/"); strings.Contains(p.body, `id="nav-fees"`) {
		t.Error("a clerk is shown the fees link")
	}
	for _, path := range []string{"/console/fees", "/console/fees/report?day=2026-12-01"} {
		if p := f.get("clerk1", path); p.status != http.StatusNotFound {
			t.Errorf("a clerk: %s %d", path, p.status)
		}
	}
}

// TestConsoleCaseShowsFee: a case whose fee was recorded shows its item and
// amount on the case page.
func TestConsoleCaseShowsFee(t *testing.T) {
	f := newConsoleFixture(t)
	cs := f.addCase(workflows.ProcedureInPersonIssuance, apiMunicipality+"-20261201-0001", apiMunicipality)
	f.ct.state = `{"caseNumber":"x","procedure":"inperson-issuance","status":"completed","step":"done","steps":[],` +
		`"issuance":{"kinds":["sign","auth"],"renewal":false,"fee":{"item":"certificate_reissue_after_card_reissue","amountYen":200}}}`
	page := f.get("clerk1", "/console/cases/"+cs.CaseNumber)
	if page.status != http.StatusOK || !strings.Contains(page.body, `id="case-fee" data-item="certificate_reissue_after_card_reissue">カード再交付後の電子証明書の発行 200 円</dd>`) {
		t.Errorf("the case page does not show the fee: %d\n%s", page.status, page.body)
	}
}
