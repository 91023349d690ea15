package integration

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/madoguchi/madoguchi/internal/letter/lettertest"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
)

// get fetches a route's raw answer (CSV, PDF).
func (a *api) get(path string) (int, []byte) {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, gatewayURL+path, nil)
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// freshMunicipality records a municipality of this run's own, with an
// auditor, a second auditor, a manager and a clerk (the demo password), so
// that its report holds only what the test did; it returns the office code
// and the logins' prefix.
func freshMunicipality(t *testing.T) (string, string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, cfg.DBDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	code := fmt.Sprintf("9%05d", time.Now().UnixMilli()%100000)
	prefix := "audit" + code
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO municipalities (code, name) VALUES ($1, $2)`, []any{code, "監査試験市"}},
		{`INSERT INTO offices (code, kind, name) VALUES ($1, 'municipality', $2)`, []any{code, "監査試験市"}},
	} {
		if _, err := conn.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("fresh municipality: %v", err)
		}
	}
	for _, c := range [][2]string{{"auditor", "auditor"}, {"auditor2", "auditor"}, {"manager", "manager"}, {"clerk", "clerk"}} {
		// The demo password's hash, copied from a demo clerk.
		if _, err := conn.Exec(ctx, `INSERT INTO clerks (login, display_name, role, municipality_code, password_hash)
			SELECT $1, $2, $3, $4, password_hash FROM clerks WHERE login = 'auditor1'`, prefix+c[0], "試験 "+c[0], c[1], code); err != nil {
			t.Fatalf("fresh clerk: %v", err)
		}
	}
	return code, prefix
}

// reportCounts are the CSV's totals by outcome, and its not-completed
// cases by number.
type reportCounts struct {
	totals       map[string]int
	notCompleted map[string]string // case number → outcome/reason
	access       map[string]int    // staff/kind → count
	rows         [][]string
}

func parseReport(t *testing.T, b []byte) reportCounts {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("the report's CSV: %v\n%s", err, b)
	}
	r := reportCounts{totals: map[string]int{}, notCompleted: map[string]string{}, access: map[string]int{}, rows: rows}
	for _, row := range rows[1:] {
		switch row[0] {
		case "totals":
			n, _ := strconv.Atoi(row[4])
			r.totals[row[3]] = n
		case "not_completed":
			r.notCompleted[row[1]] = row[3] + "/" + row[7]
		case "access":
			n, _ := strconv.Atoi(row[4])
			r.access[row[5]+"/"+row[3]] = n
		}
	}
	return r
}

// TestAuditReportCountsTheRun: in a municipality of its own, an auditor
// records three findings; the manager corrects one, which another auditor
// confirms closed; the auditor withdraws the second; the third stays open.
// A clerk's start refused by the register check and the auditor's opening
// of a history are in the access log. The report for today, as CSV, counts
// exactly those cases by outcome, lists the withdrawn one with its reason
// and the reads per staff and kind; the PDF's text, through pdftotext, has
// the same totals; the access log is searched by kind. The findings'
// histories are recorded for the replay test.
func TestAuditReportCountsTheRun(t *testing.T) {
	beginTest(t)
	office, prefix := freshMunicipality(t)
	auditor, auditor2, manager, clerk := login(t, prefix+"auditor"), login(t, prefix+"auditor2"), login(t, prefix+"manager"), login(t, prefix+"clerk")
	tc := dialTemporal(t)

	finding := func(summary string) string {
		var started struct{ CaseNumber string }
		var e apiErr
		if code := auditor.do("POST", "/api/procedures/"+workflows.ProcedureAuditFinding,
			map[string]any{"category": "procedure", "subject": "受付簿", "summary": summary}, &started); code != http.StatusCreated {
			t.Fatalf("finding: HTTP %d %v", code, e)
		}
		auditor.waitStep(started.CaseNumber, time.Minute, workflows.StepFindingCorrection)
		return started.CaseNumber
	}
	step := func(a *api, n, path string, body map[string]any, want int) {
		t.Helper()
		var e apiErr
		if code := a.do("POST", "/api/cases/"+n+"/"+path, body, &e); code != want {
			t.Fatalf("%s %s: HTTP %d %v, want %d", n, path, code, e, want)
		}
	}
	ended := func(n string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := tc.GetWorkflow(ctx, workflows.WorkflowID(workflows.ProcedureAuditFinding, n), "").Get(ctx, nil); err != nil {
			t.Fatalf("%s did not end: %v", n, err)
		}
	}

	closed := finding("受付簿に記載漏れがある")
	withdrawn := finding("端末の点検記録がない")
	open := finding("廃棄の承認記録がない")
	// 是正: the manager records it; the auditor who found it may not.
	step(auditor, closed, "record-correction", map[string]any{"correction": "自分で直した"}, http.StatusForbidden)
	step(manager, closed, "record-correction", map[string]any{"correction": "記載要領を改め、職員に周知した"}, http.StatusOK)
	manager.waitStep(closed, time.Minute, workflows.StepFindingConfirmation)
	step(manager, closed, "confirm-closed", map[string]any{"closed": true}, http.StatusForbidden)
	step(auditor2, closed, "confirm-closed", map[string]any{"closed": true}, http.StatusOK)
	ended(closed)
	step(manager, withdrawn, "cancel", map[string]any{"reason": "指摘に当たらない"}, http.StatusForbidden)
	step(auditor, withdrawn, "cancel", map[string]any{"reason": "誤認による指摘"}, http.StatusOK)
	ended(withdrawn)

	// Personal-data reads: a start the register refused, a history opened.
	var e apiErr
	if code := clerk.do("POST", "/api/procedures/inperson-revocation", map[string]any{"residentCode": "99999999999",
		"signing": true, "userAuth": true, "reason": "keyCompromise", "cardLost": true}, &e); code != http.StatusNotFound || e.Error.Code != "not_in_register" {
		t.Fatalf("a start for no resident: HTTP %d %v", code, e)
	}
	if code := auditor.do("GET", "/api/cases/"+closed+"/history", nil, nil); code != http.StatusOK {
		t.Fatalf("history: HTTP %d", code)
	}

	today := time.Now().In(storage.Tokyo).Format(time.DateOnly)
	code, body := auditor.get("/api/audit/report?from=" + today + "&to=" + today + "&format=csv")
	if code != http.StatusOK {
		t.Fatalf("report: HTTP %d %s", code, body)
	}
	rep := parseReport(t, body)
	want := map[string]int{"completed": 1, "rejected": 0, "lapsed": 0, "failed": 0, "cancelled": 1, "open": 1, "total": 3}
	for k, v := range want {
		if rep.totals[k] != v {
			t.Errorf("report total %s = %d, want %d (the run's cases %s %s %s)\n%s", k, rep.totals[k], v, closed, withdrawn, open, body)
		}
	}
	if rep.notCompleted[withdrawn] != "cancelled/cancelled" || len(rep.notCompleted) != 1 {
		t.Errorf("not completed %v, want only %s cancelled", rep.notCompleted, withdrawn)
	}
	if rep.access[prefix+"auditor/history"] != 1 || rep.access[prefix+"clerk/register_record"] != 1 {
		t.Errorf("access summary %v", rep.access)
	}
	if !slices.ContainsFunc(rep.rows, func(r []string) bool {
		return r[0] == "procedures" && r[2] == workflows.ProcedureAuditFinding && r[3] == "total" && r[4] == "3"
	}) {
		t.Errorf("no audit-finding total of 3 in\n%s", body)
	}
	if bytes.Contains(body, []byte("99999999999")) {
		t.Error("the report holds the resident code typed")
	}

	code, pdf := manager.get("/api/audit/report?from=" + today + "&to=" + today + "&format=pdf")
	if code != http.StatusOK || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("pdf: HTTP %d", code)
	}
	text := lettertest.Text(t, pdf)
	wantLine := fmt.Sprintf("totals: completed=%d rejected=%d lapsed=%d failed=%d cancelled=%d open=%d total=%d",
		rep.totals["completed"], rep.totals["rejected"], rep.totals["lapsed"], rep.totals["failed"], rep.totals["cancelled"], rep.totals["open"], rep.totals["total"])
	if !strings.Contains(text, wantLine) || !strings.Contains(text, withdrawn) {
		t.Errorf("the PDF's text lacks %q or %s:\n%s", wantLine, withdrawn, text)
	}

	// The access log, by kind, holds the refused start with no case and no
	// resident code.
	var log struct{ Entries []storage.HistoryAccess }
	if code := auditor.do("GET", "/api/access-log?kind=register_record", nil, &log); code != http.StatusOK || len(log.Entries) != 1 ||
		log.Entries[0].CaseNumber != "" || log.Entries[0].ClerkLogin != prefix+"clerk" || !strings.HasPrefix(log.Entries[0].Reference, "start:inperson-revocation:") {
		t.Errorf("register reads: HTTP %d %+v", code, log.Entries)
	}
	if code := clerk.do("GET", "/api/audit/report?from="+today+"&to="+today, nil, nil); code != http.StatusForbidden {
		t.Errorf("a clerk's report: HTTP %d", code)
	}
	if !strings.Contains(rep.rows[1][7], "office="+office) {
		t.Errorf("the report's office: %v", rep.rows[1])
	}
}
