package gateway

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
)

// accessLogPageSize is the console's page of the access log.
const accessLogPageSize = 50

// TestConsoleHistoryPage: a manager's history page shows the timeline with
// the inputs decoded on the server, and the opening is in the access log;
// the case page links to it and to the Temporal UI. A clerk, and a manager
// of another municipality's case, get the not-found page.
func TestConsoleHistoryPage(t *testing.T) {
	t.Setenv("MADOGUCHI_TEMPORAL_UI", "http://127.0.0.1:8233")
	f := newConsoleFixture(t)
	const number = "131016-20261201-000001"
	id := workflows.WorkflowID(workflows.ProcedureInPersonIssuance, number)
	f.store.cases[number] = f.addCase(workflows.ProcedureInPersonIssuance, number, apiMunicipality)
	f.tc.history = historyOf(t, f.apiFixture, id)

	casePage := f.get("manager1", "/console/cases/"+number)
	if casePage.status != http.StatusOK || !strings.Contains(casePage.body, `href="/console/cases/`+number+`/history"`) ||
		!strings.Contains(casePage.body, `href="http://127.0.0.1:8233/namespaces/default/workflows/inperson-issuance%2F`+number+`"`) {
		t.Errorf("the manager's case page lacks the history and Temporal UI links: %d %s", casePage.status, casePage.body)
	}
	if p := f.get("clerk1", "/console/cases/"+number); strings.Contains(p.body, "history-link") || strings.Contains(p.body, "temporal-ui-link") {
		t.Error("a clerk's case page links to the history")
	}

	p := f.get("manager1", "/console/cases/"+number+"/history")
	if p.status != http.StatusOK {
		t.Fatalf("history: %d %s", p.status, p.body)
	}
	for _, want := range []string{`data-kind="started"`, `data-kind="update" data-name="identity-check" data-status="completed"`,
		`&#34;documentType&#34;: &#34;individual_number_card&#34;`, `試験 花子`, `data-kind="activity" data-name="RecordFee" data-status="completed"`,
		`data-kind="completed"`, `<td class="history-who">clerk2</td>`, `id="temporal-ui-link"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the history page lacks %s", want)
		}
	}
	if len(f.store.accesses) != 1 || f.store.accesses[0].ClerkLogin != "manager1" || f.store.accesses[0].CaseNumber != number {
		t.Errorf("access log %+v", f.store.accesses)
	}

	unknown := f.get("manager1", "/console/cases/131016-20000101-999999/history")
	const theirs = "141003-20261201-000001"
	f.store.cases[theirs] = f.addCase(workflows.ProcedureInPersonIssuance, theirs, "141003")
	other := f.get("manager1", "/console/cases/"+theirs+"/history")
	clerk := f.get("clerk1", "/console/cases/"+number+"/history")
	if unknown.status != http.StatusNotFound || other.status != http.StatusNotFound || other.body != unknown.body || clerk.status != http.StatusNotFound {
		t.Errorf("unknown %d, another's %d (same page: %v), a clerk's %d", unknown.status, other.status, other.body == unknown.body, clerk.status)
	}
	if len(f.store.accesses) != 1 {
		t.Errorf("refused openings were logged: %+v", f.store.accesses)
	}
}

// TestConsoleCaseListFilters: the list's filters go to the API, and its
// next page link carries them with the API's page token.
func TestConsoleCaseListFilters(t *testing.T) {
	f := newConsoleFixture(t)
	f.tc.nextToken = []byte("page-2")
	p := f.get("manager1", "/console/cases?status=completed&procedure=proxy-issuance&from=2026-11-01&to=2026-11-30")
	if p.status != http.StatusOK {
		t.Fatalf("%d %s", p.status, p.body)
	}
	q := f.tc.lists[0]
	if !strings.Contains(q, "MadoguchiStatus = 'completed'") || !strings.Contains(q, "MadoguchiProcedure = 'proxy-issuance'") || !strings.Contains(q, "StartTime >= ") {
		t.Errorf("query %q", q)
	}
	if !strings.Contains(p.body, `id="page-next"`) || !strings.Contains(p.body, "page=cGFnZS0y") || !strings.Contains(p.body, "procedure=proxy-issuance") {
		t.Errorf("no next page link with the filters: %s", p.body)
	}
	if !strings.Contains(p.body, `<option value="proxy-issuance" selected>`) {
		t.Error("the chosen procedure is not kept")
	}
	f.get("manager1", "/console/cases?status=completed&page=cGFnZS0y")
	if string(f.tc.pageTokens[1]) != "page-2" {
		t.Errorf("the next page asked %q", f.tc.pageTokens[1])
	}
}

// TestConsoleAccessLogPage: managers and auditors find the access log in
// the navigation; its search by staff login, case and days goes to the API,
// its next page link keeps the search, and a bad range is refused beside
// what was typed. Clerks neither see the link nor the page.
func TestConsoleAccessLogPage(t *testing.T) {
	f := newConsoleFixture(t)
	const number = "131016-20261201-000001"
	for i := range accessLogPageSize + 1 {
		f.store.accesses = append(f.store.accesses, storage.HistoryAccess{ID: int64(i + 1), ClerkLogin: "manager1", Office: apiMunicipality,
			CaseNumber: number, Municipality: apiMunicipality, At: apiNow.Add(time.Duration(i) * time.Minute)})
	}
	f.store.accesses = append(f.store.accesses, storage.HistoryAccess{ID: 99, ClerkLogin: "auditor1", Office: apiMunicipality,
		CaseNumber: "131016-20261201-000002", Municipality: apiMunicipality, At: apiNow})

	for _, login := range []string{"manager1", "auditor1"} {
		if p := f.get(login, "/console/"); !strings.Contains(p.body, `id="nav-access-log"`) {
			t.Errorf("%s's navigation lacks the access log", login)
		}
	}
	if p := f.get("clerk1", "/console/"); strings.Contains(p.body, "nav-access-log") {
		t.Error("a clerk's navigation links to the access log")
	}
	if p := f.get("clerk1", "/console/access-log"); p.status != http.StatusNotFound {
		t.Errorf("a clerk's access log: %d", p.status)
	}

	p := f.get("manager1", "/console/access-log?clerk=manager1&case="+number+"&from=2026-12-01&to=2026-12-02")
	if p.status != http.StatusOK {
		t.Fatalf("%d %s", p.status, p.body)
	}
	fl := f.store.accessFilters[len(f.store.accessFilters)-1]
	if fl.ClerkLogin != "manager1" || fl.CaseNumber != number || fl.Limit != accessLogPageSize+1 || fl.Offset != 0 ||
		!fl.From.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, storage.Tokyo)) || !fl.To.Equal(time.Date(2026, 12, 3, 0, 0, 0, 0, storage.Tokyo)) {
		t.Errorf("the search reached the store as %+v", fl)
	}
	if n := strings.Count(p.body, `class="access-entry"`); n != accessLogPageSize {
		t.Errorf("the first page shows %d entries", n)
	}
	if !strings.Contains(p.body, `id="page-next"`) || !strings.Contains(p.body, "offset=50") || !strings.Contains(p.body, "clerk=manager1") ||
		!strings.Contains(p.body, `value="`+number+`"`) {
		t.Errorf("the next page link or the search typed is missing: %s", p.body)
	}
	next := f.get("manager1", "/console/access-log?case="+number+"&clerk=manager1&offset=50")
	if n := strings.Count(next.body, `class="access-entry"`); n != 1 || strings.Contains(next.body, `id="page-next"`) || !strings.Contains(next.body, `id="page-first"`) {
		t.Errorf("the second page shows %d entries: %s", n, next.body)
	}
	bad := f.get("auditor1", "/console/access-log?clerk=manager1&from=2026-12-05&to=2026-12-01")
	if bad.status != http.StatusBadRequest || !strings.Contains(bad.body, `id="page-error"`) || !strings.Contains(bad.body, `value="2026-12-05"`) ||
		!strings.Contains(bad.body, `value="manager1"`) {
		t.Errorf("a range ending before it starts: %d %s", bad.status, bad.body)
	}
}

// TestConsoleWaitingListPages: the waiting list asks the API for a page of
// 50 waiting cases, and links the next page with the API's token.
func TestConsoleWaitingListPages(t *testing.T) {
	f := newConsoleFixture(t)
	f.tc.nextToken = []byte("page-2")
	p := f.get("clerk1", "/console/")
	if p.status != http.StatusOK || !strings.Contains(f.tc.lists[0], "MadoguchiWaiting IS NOT NULL") || f.tc.pageSizes[0] != 50 {
		t.Fatalf("%d, queried %q of %v", p.status, f.tc.lists, f.tc.pageSizes)
	}
	if !strings.Contains(p.body, `id="page-next"`) || !strings.Contains(p.body, `href="/console/?page=cGFnZS0y"`) || strings.Contains(p.body, `id="page-first"`) {
		t.Errorf("the next page link: %s", p.body)
	}
	next := f.get("clerk1", "/console/?page=cGFnZS0y")
	if string(f.tc.pageTokens[1]) != "page-2" || !strings.Contains(next.body, `id="page-first"`) {
		t.Errorf("the next page asked %q: %s", f.tc.pageTokens[1], next.body)
	}
}
