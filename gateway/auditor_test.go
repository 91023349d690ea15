package gateway

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/madoguchi/madoguchi/workflows"
)

// notWrites are the mutating routes an auditor may call because they
// change no record: signing in and out (a session of one's own), and the console,
// whose every write is a call of this API in-process (walked below through
// its own forms as well).
var notWrites = []string{"POST /api/login", "POST /api/logout", "/console/*path"}

// changes counts everything a call could record, start, send or change.
func (f *apiFixture) changes() int {
	n := len(f.store.inserted) + len(f.tc.starts) + len(f.tc.updates) + f.store.events + len(f.store.accesses) + len(f.store.terminalStatus)
	for _, k := range f.store.complaints {
		if k.Response != "" {
			n++
		}
	}
	return n + len(f.store.complaints) + len(f.store.refusals)
}

// expand makes the paths of a route: every case of the RBAC fixture
// (the own office's and others'), every step of the catalog, every
// procedure but the auditor's own audit finding, the fixture's ids.
func expand(path string) []string {
	out := []string{path}
	sub := func(param string, values []string) {
		var next []string
		for _, p := range out {
			if !strings.Contains(p, param) {
				next = append(next, p)
				continue
			}
			for _, v := range values {
				next = append(next, strings.Replace(p, param, v, 1))
			}
		}
		out = next
	}
	var cases, steps, procs []string
	for _, c := range matrixCases {
		cases = append(cases, c.number)
	}
	cases = append(cases, "131016-20261201-999999") // unknown
	for _, p := range workflows.Catalog {
		for _, st := range p.Steps {
			if !slices.Contains(steps, st.Path) {
				steps = append(steps, st.Path)
			}
		}
		// Those nobody starts are every role's 404 (unknown_procedure).
		if p.Name != workflows.ProcedureAuditFinding && len(p.StartRoles) > 0 {
			procs = append(procs, p.Name)
		}
	}
	sub(":case", cases)
	sub(":step", steps)
	sub(":procedure", procs)
	sub(":id", []string{"1", "2", apiTerminal})
	return out
}

// TestAuditorChangesNothing walks every mutating route the gin engine has
// registered (so a route added later is walked too) with every path the
// fixture gives it, as the auditor: each is a 403 with the API's error
// and nothing is recorded, started, sent or changed. The auditor's own
// findings (their start and their steps, TestAuditFindingRoutes) are the
// only writes an auditor makes.
func TestAuditorChangesNothing(t *testing.T) {
	f := newAPIFixture(t, &apiTemporal{})
	var walked int
	for _, r := range f.h.(*gin.Engine).Routes() {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodConnect, http.MethodTrace:
			continue
		}
		if slices.Contains(notWrites, r.Method+" "+r.Path) || slices.Contains(notWrites, r.Path) {
			continue
		}
		for _, path := range expand(r.Path) {
			f := newAPIFixture(t, &apiTemporal{})
			for _, c := range matrixCases {
				f.store.cases[c.number] = f.addCaseAt(c.procedure, c.number, c.municipality, c.office)
			}
			f.addComplaints()
			before := f.changes()
			body := startBody(t)
			req := httptest.NewRequest(r.Method, path, strings.NewReader(string(body)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+f.tokens["auditor1"])
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			if rec.Code != http.StatusForbidden {
				t.Errorf("%s %s as the auditor: %d %s, want 403", r.Method, path, rec.Code, rec.Body)
				continue
			}
			errorBody(t, rec)
			if f.changes() != before {
				t.Errorf("%s %s as the auditor changed %d things", r.Method, path, f.changes()-before)
			}
			walked++
		}
	}
	if walked < 50 {
		t.Errorf("walked only %d calls", walked)
	}

	// The console's forms, as the auditor: a step is the API's 403; a step
	// the procedure lacks, or a start form the auditor is not offered, the
	// console's 404; nothing is sent.
	cf := newConsoleFixture(t)
	cs := cf.addCase(workflows.ProcedureInPersonIssuance, apiMunicipality+"-20261201-0001", apiMunicipality)
	for _, path := range []string{"/console/cases/" + cs.CaseNumber + "/steps/cancel", "/console/cases/" + cs.CaseNumber + "/steps/confirm-closed",
		"/console/start/inperson-revocation"} {
		page := cf.postForm("auditor1", path, url.Values{"_csrf": {cf.csrf("auditor1")}, "reason": {"試験"}, "residentCode": {"12345678901"}})
		want := http.StatusNotFound
		if strings.HasSuffix(path, "/cancel") {
			want = http.StatusForbidden
		}
		if page.status != want || len(cf.tc.updates)+len(cf.tc.starts) != 0 {
			t.Errorf("console %s as the auditor: HTTP %d, %d updates, %d starts", path, page.status, len(cf.tc.updates), len(cf.tc.starts))
		}
	}
}

// TestAuditFindingRoutes: an auditor records a finding at their office;
// only the office's manager records its correction and only an auditor
// confirms it closed or withdraws it; the updates carry the session's login.
func TestAuditFindingRoutes(t *testing.T) {
	f := newAPIFixture(t, &apiTemporal{})
	rec := f.post("auditor1", "/api/procedures/"+workflows.ProcedureAuditFinding, []byte(`{"category":"pin_confirmation","subject":"131016-20261201-000042","summary":"確認記録の日付が翌日"}`))
	if rec.Code != http.StatusCreated || len(f.store.inserted) != 1 {
		t.Fatalf("start: %d %s", rec.Code, rec.Body)
	}
	cs := f.store.inserted[0]
	in, ok := f.tc.starts[0].(workflows.AuditFindingInput)
	if !ok || cs.MunicipalityCode != apiMunicipality || in.Auditor != "auditor1" || in.Finding.Category != "pin_confirmation" {
		t.Fatalf("started %+v for %+v", f.tc.starts[0], cs)
	}
	if rec := f.post("auditor1", "/api/procedures/"+workflows.ProcedureAuditFinding, []byte(`{"category":"gossip","summary":"x"}`)); rec.Code != http.StatusBadRequest ||
		errorBody(t, rec).Code != "bad_category" || len(f.store.inserted) != 1 {
		t.Errorf("a bad finding: %d %s", rec.Code, rec.Body)
	}
	cs.Status = workflows.StatusOpen
	f.store.cases[cs.CaseNumber] = cs
	for _, tc := range []struct {
		login, step string
		status      int
		update      string
	}{
		{"clerk1", "record-correction", http.StatusForbidden, ""},
		{"auditor1", "record-correction", http.StatusForbidden, ""},
		{"manager1", "record-correction", http.StatusOK, workflows.RecordCorrectionUpdate},
		{"manager1", "confirm-closed", http.StatusForbidden, ""},
		{"clerk1", "confirm-closed", http.StatusForbidden, ""},
		{"auditor1", "confirm-closed", http.StatusOK, workflows.ConfirmClosedUpdate},
		{"manager1", "cancel", http.StatusForbidden, ""},
		{"auditor1", "cancel", http.StatusOK, "cancel"},
		{"auditor1", "identity-check", http.StatusForbidden, ""},
	} {
		n := len(f.tc.updates)
		rec := f.post(tc.login, "/api/cases/"+cs.CaseNumber+"/"+tc.step, []byte(`{"correction":"周知した","closed":true,"reason":"誤認","clerk":"mallory"}`))
		if rec.Code != tc.status {
			t.Errorf("%s %s: %d %s, want %d", tc.login, tc.step, rec.Code, rec.Body, tc.status)
			continue
		}
		if tc.update == "" {
			if len(f.tc.updates) != n {
				t.Errorf("%s %s: refused but sent an update", tc.login, tc.step)
			}
			continue
		}
		u := f.tc.updates[len(f.tc.updates)-1]
		if len(f.tc.updates) != n+1 || u.UpdateName != tc.update || clerkOf(t, u.Args[0]) != tc.login {
			t.Errorf("%s %s: sent %+v", tc.login, tc.step, u)
		}
	}
}
