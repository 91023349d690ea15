package integration

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/workflows"
)

// historyRow is one entry of a history page, as the browser shows it.
type historyRow struct {
	Kind, Name, Status, Who, Input, Result string
}

func (b *tab) historyRows() []historyRow {
	b.t.Helper()
	js := `JSON.stringify(Array.from(document.querySelectorAll("#history tr.history-entry")).map(r => ({
		Kind: r.dataset.kind, Name: r.dataset.name, Status: r.dataset.status,
		Who: r.querySelector(".history-who").innerText,
		Input: r.querySelector(".history-input") ? r.querySelector(".history-input").innerText : "",
		Result: r.querySelector(".history-result") ? r.querySelector(".history-result").innerText : ""})))`
	s, _ := b.eval(js).(string)
	var rows []historyRow
	if err := json.Unmarshal([]byte(s), &rows); err != nil {
		b.t.Fatalf("the history rows: %v (%q)", err, s)
	}
	return rows
}

// TestConsoleManagerHistory: a manager opens a completed case's history
// from its page: the steps with their inputs, decoded on the server; the
// opening is in the access log the auditor searches; the case page links
// to the workflow in the Temporal UI. The manager's access-log page has
// one entry per history page the test opened. Another municipality's manager gets
// the not-found page, the same as for an unknown case, and nothing is
// logged for them.
func TestConsoleManagerHistory(t *testing.T) {
	beginTest(t)
	clerk := login(t, "clerk1")
	r := demo.Find(demo.ResidentAdult)
	revokeCurrent(t, clerk, demo.ResidentAdult)
	startBlankCard(t, r)
	n, st := issue(t, clerk, application(demo.ResidentAdult, true, true))
	if st["status"] != workflows.StatusCompleted {
		t.Fatalf("the issuance did not complete: %v", st)
	}
	// The console's issuance test that follows expects a new issuance of
	// the same resident, not a renewal.
	t.Cleanup(func() { revokeCurrent(t, clerk, demo.ResidentAdult) })

	b := newTab(t)
	b.signIn("manager1")
	b.do("the case page", chromedp.Navigate(gatewayURL+"/console/cases/"+n), chromedp.WaitVisible(chromedp.CSS("#history-link")))
	ui, _ := b.eval(`document.getElementById("temporal-ui-link").href`).(string)
	if !strings.HasPrefix(ui, "http") || !strings.HasSuffix(ui, "/workflows/"+strings.ReplaceAll(workflows.WorkflowID(workflows.ProcedureInPersonIssuance, n), "/", "%2F")) {
		t.Errorf("the Temporal UI link: %q", ui)
	}
	// opened counts the history pages this test opens as the manager: the
	// access log must hold one entry for each.
	opened := 0
	b.do("open the history", chromedp.Click(chromedp.CSS("#history-link")), chromedp.WaitVisible(chromedp.CSS("#history")))
	opened++
	if got := b.text("#history-case"); got != n {
		t.Errorf("the history of %q", got)
	}
	rows := b.historyRows()
	if len(rows) < 4 {
		t.Fatalf("the history shows %d entries: %+v", len(rows), rows)
	}
	if rows[0].Kind != "started" || !strings.Contains(rows[0].Input, r.Name) || !strings.Contains(rows[0].Input, demo.ResidentAdult) {
		t.Errorf("the start, its application decoded: %+v", rows[0])
	}
	if last := rows[len(rows)-1]; last.Kind != "completed" || !strings.Contains(last.Result, workflows.StatusCompleted) {
		t.Errorf("the ending: %+v", last)
	}
	var identity, activities bool
	for _, row := range rows {
		if strings.Contains(row.Input, "復号できません") || strings.Contains(row.Result, "復号できません") {
			t.Errorf("an entry was not decoded: %+v", row)
		}
		if row.Kind == "update" && strings.Contains(row.Input, "individual_number_card") {
			identity = true
			if row.Status != "completed" || row.Who != "clerk1" {
				t.Errorf("the identity check: %+v", row)
			}
		}
		if row.Kind == "activity" && row.Status == "completed" && row.Name != "" {
			activities = true
		}
	}
	if !identity || !activities {
		t.Errorf("the history lacks the identity check (%v) or a completed activity (%v): %+v", identity, activities, rows)
	}

	// A second opening, from the address bar.
	b.do("open the history again", chromedp.Navigate(gatewayURL+"/console/cases/"+n+"/history"), chromedp.WaitVisible(chromedp.CSS("#history")))
	opened++

	// The manager's own access-log page, reached from the navigation and
	// searched by login and case: one entry per history page opened.
	b.do("the access log", chromedp.Click(chromedp.CSS("#nav-access-log")), chromedp.WaitVisible(chromedp.CSS("#access-filter")),
		chromedp.SendKeys(chromedp.CSS("#access-clerk"), "manager1"),
		chromedp.SendKeys(chromedp.CSS("#access-case"), n),
		chromedp.Click(chromedp.CSS("#access-submit")),
		// The page of the search: its fields hold the search as sent.
		chromedp.WaitVisible(chromedp.CSS(`#access-case[value="`+n+`"]`)))
	if got := b.eval(`document.querySelectorAll('#access-table tr.access-entry[data-case="` + n + `"][data-clerk="manager1"]').length`); got != float64(opened) {
		t.Errorf("the access-log page shows %v openings of %s by manager1, the test opened %d: %s", got, n, opened, b.peek())
	}
	if got := b.eval(`document.querySelectorAll('#access-table tr.access-entry').length`); got != float64(opened) {
		t.Errorf("the search by login and case shows %v entries, want %d", got, opened)
	}

	// The openings are in the access log, which the auditor searches.
	var log struct {
		Entries []struct {
			Clerk, Office, CaseNumber string
			At                        time.Time
		}
	}
	auditor := login(t, "auditor1")
	if code := auditor.do("GET", "/api/access-log?kind=history&case="+n, nil, &log); code != http.StatusOK {
		t.Fatalf("the access log: HTTP %d", code)
	}
	if len(log.Entries) != opened || log.Entries[0].Clerk != "manager1" || log.Entries[0].Office != demo.Chiyoda ||
		log.Entries[0].CaseNumber != n || time.Since(log.Entries[0].At) > 5*time.Minute {
		t.Errorf("the access log of %s: %+v", n, log.Entries)
	}
	if code := clerk.do("GET", "/api/access-log?case="+n, nil, nil); code != http.StatusForbidden {
		t.Errorf("a clerk searched the access log: HTTP %d", code)
	}

	// The case is in the manager's list of completed in-person issuances
	// (visibility records the ending once the workflow closes), not in
	// the proxy issuances'.
	deadline := time.Now().Add(time.Minute)
	for {
		b.do("the completed in-person issuances", chromedp.Navigate(gatewayURL+"/console/cases?status=completed&procedure=inperson-issuance"),
			chromedp.WaitVisible(chromedp.CSS("#list-filter")))
		if b.eval(`document.querySelectorAll('tr[data-case="`+n+`"]').length`) == float64(1) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("case %s is not in the list of completed in-person issuances: %s", n, b.peek())
		}
		time.Sleep(500 * time.Millisecond)
	}
	if v := b.value("#filter-procedure"); v != workflows.ProcedureInPersonIssuance {
		t.Errorf("the procedure filter shows %q", v)
	}
	b.do("the completed proxy issuances", chromedp.Navigate(gatewayURL+"/console/cases?status=completed&procedure=proxy-issuance"),
		chromedp.WaitVisible(chromedp.CSS("#list-filter")))
	if b.eval(`document.querySelectorAll('tr[data-case="`+n+`"]').length`) != float64(0) {
		t.Error("the in-person issuance is in the list of proxy issuances")
	}

	// Another municipality's manager: the unknown case's page.
	k := newTab(t)
	k.signIn("kawasaki1")
	k.do("an unknown case's history", chromedp.Navigate(gatewayURL+"/console/cases/131016-20000101-999999/history"), chromedp.WaitVisible(chromedp.CSS("#not-found")))
	unknown := k.eval(`document.querySelector("main").outerHTML`)
	k.do("千代田区's case's history", chromedp.Navigate(gatewayURL+"/console/cases/"+n+"/history"), chromedp.WaitVisible(chromedp.CSS("#not-found")))
	theirs := k.eval(`document.querySelector("main").outerHTML`)
	if unknown != theirs {
		t.Errorf("another municipality's case and an unknown one differ:\n%v\n%v", unknown, theirs)
	}
	k.do("千代田区's case page", chromedp.Navigate(gatewayURL+"/console/cases/"+n), chromedp.WaitVisible(chromedp.CSS("#not-found")))
	log.Entries = nil
	if auditor.do("GET", "/api/access-log?case="+n+"&clerk=kawasaki1", nil, &log); len(log.Entries) != 0 {
		t.Errorf("the refused opening was logged: %+v", log.Entries)
	}
}
