package integration

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/codec"
	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/internal/historyrec"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/internal/temporalclient"
	"github.com/madoguchi/madoguchi/workflows"
)

// disposalView is the gateway's list of a day, as read here.
type disposalView struct {
	Status, SubmittedBy, ApprovedBy string
	Due, Held, Disposed             int
	Items                           []struct{ Kind, CaseNumber, Item, DueOn, HeldBy, DisposedAt string }
}

// TestRetentionDisposalDay: a disposal day, time-skipped (第3 3). The
// municipality's manager sets the period of disclosure requests to 2
// years; two residents ask for disclosure of their records at the counter,
// which keeps each request; one request is disclosed and ends, the other
// stays open. The Schedule's workflow then runs for a day three years
// ahead (its day is its input, as the Schedule gives its
// own scheduled day): 千代田区's case lists both documents, the open
// request's held by it. Through the gateway: a disposal without approval
// is refused, the submitting manager's own approval is refused (both
// recorded as refused attempts), another manager approves, and the case
// disposes of the due document with that approval while the held one is
// kept.
func TestRetentionDisposalDay(t *testing.T) {
	beginTest(t)
	ctx := context.Background()
	db := municipalDB(t)
	clerk, op := login(t, "clerk1"), login(t, "jlis1")
	manager1, manager2, auditor := login(t, "manager1"), login(t, "manager2"), login(t, "auditor1")

	// The daily Schedule exists, on the Schedule's workflow.
	tc, err := temporalclient.Dial(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	desc, err := tc.ScheduleClient().GetHandle(ctx, workflows.RetentionDisposalScheduleID).Describe(ctx)
	if err != nil {
		t.Fatalf("the disposal Schedule: %v", err)
	}
	if a, ok := desc.Schedule.Action.(*client.ScheduleWorkflowAction); !ok || a.Workflow != workflows.RetentionDisposalDayWorkflow {
		t.Fatalf("the Schedule's action: %+v", desc.Schedule.Action)
	}

	// The municipality keeps disclosure requests 2 years (its setting for
	// the type; others keep the default 5).
	type period struct {
		DocType string
		Years   int
	}
	var periods struct {
		DefaultYears int
		Periods      []period
	}
	if code := manager1.do("PUT", "/api/retention-periods/disclosure_request", map[string]any{"years": 2}, &periods); code != http.StatusOK ||
		periods.DefaultYears != 5 || !slices.Contains(periods.Periods, period{"disclosure_request", 2}) {
		t.Fatalf("set the period: HTTP %d %+v", code, periods)
	}
	t.Cleanup(func() {
		manager1.do("PUT", "/api/retention-periods/disclosure_request", map[string]any{"years": 5}, nil)
	})

	request := func(resident string) string {
		number := startStatusChange(t, clerk, "inperson-disclosure-request", map[string]any{"residentCode": resident, "delivery": "mail"})
		checkIdentity(t, clerk, number, false)
		clerk.waitStep(number, time.Minute, workflows.StepForwardedToOrganization)
		return number
	}
	done := request(demo.ResidentLeapDay)
	disclose(t, clerk, op, done)
	held := request(demo.ResidentProxyRevoke)

	// The day three years ahead: the requests' documents are due (two
	// years), documents of the default period are not.
	now := time.Now().In(storage.Tokyo)
	day := now.AddDate(3, 0, 0).Format(time.DateOnly)
	kept := now.AddDate(2, 0, 0).Format(time.DateOnly)
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "retention-disposal/test-" + day, TaskQueue: contract.MunicipalTaskQueue},
		workflows.RetentionDisposalDayWorkflow, workflows.RetentionDisposalDayInput{Day: day})
	if err != nil {
		t.Fatal(err)
	}
	var started workflows.RetentionDisposalDayResult
	if err := run.Get(ctx, &started); err != nil {
		t.Fatalf("the day's run: %v", err)
	}
	caseNumber := workflows.DisposalCaseNumber(demo.Chiyoda, day)
	if started.Day != day || !slices.Contains(started.Cases, caseNumber) {
		t.Fatalf("started %+v", started)
	}

	// The list, as an auditor reads it once drawn up.
	var l disposalView
	deadline := time.Now().Add(time.Minute)
	for {
		code := auditor.do("GET", "/api/disposals?day="+day, nil, &l)
		if code == http.StatusOK && l.Status == storage.DisposalDrawnUp {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no list drawn up: HTTP %d %+v", code, l)
		}
		time.Sleep(300 * time.Millisecond)
	}
	item := func(l disposalView, number string) (heldBy, disposedAt string, found bool) {
		for _, it := range l.Items {
			if it.Kind == storage.ItemDocument && it.CaseNumber == number {
				return it.HeldBy, it.DisposedAt, true
			}
		}
		return "", "", false
	}
	for _, it := range l.Items {
		if it.Item != "disclosure_request" || it.DueOn > kept {
			t.Errorf("listed %+v: only documents of a 2-year type are due three years ahead", it)
		}
	}
	if h, _, ok := item(l, done); !ok || h != "" {
		t.Errorf("the ended request's document: listed %v, held by %q", ok, h)
	}
	if h, _, ok := item(l, held); !ok || h != held {
		t.Errorf("the open request's document: listed %v, held by %q, want %s", ok, h, held)
	}

	var e apiErr
	if code := auditor.do("POST", "/api/disposals/"+day+"/approve", nil, &e); code != http.StatusForbidden {
		t.Errorf("an auditor's approval: HTTP %d", code)
	}
	if code := manager1.do("POST", "/api/disposals/"+day+"/dispose", nil, &e); code != http.StatusConflict || e.Error.Code != "not_approved" {
		t.Errorf("a disposal without approval: HTTP %d %+v", code, e)
	}
	if code := manager1.do("POST", "/api/disposals/"+day+"/approve", nil, &e); code != http.StatusConflict || e.Error.Code != workflows.CodeDisposalNotSubmitted {
		t.Errorf("an approval before submission: HTTP %d %+v", code, e)
	}
	if code := manager1.do("POST", "/api/disposals/"+day+"/submit", nil, &l); code != http.StatusOK || l.Status != storage.DisposalSubmitted || l.SubmittedBy != "manager1" {
		t.Fatalf("submit: HTTP %d %+v", code, l)
	}
	e = apiErr{}
	if code := manager1.do("POST", "/api/disposals/"+day+"/approve", nil, &e); code != http.StatusForbidden || e.Error.Code != workflows.CodeOwnDisposalList {
		t.Errorf("an approval of one's own list: HTTP %d %+v", code, e)
	}
	var refused struct {
		Refusals []struct{ Kind, Actor, Subject, Reason string }
	}
	if code := auditor.do("GET", "/api/refusals", nil, &refused); code != http.StatusOK {
		t.Fatalf("refusals: HTTP %d", code)
	}
	var kinds []string
	for _, r := range refused.Refusals {
		if r.Subject == day && r.Actor == "manager1" {
			kinds = append(kinds, r.Kind+":"+r.Reason)
		}
	}
	slices.Sort(kinds)
	if want := []string{"approval_of_own_list:own_list", "disposal_without_approval:not_approved"}; !slices.Equal(kinds, want) {
		t.Errorf("recorded refusals %v, want %v", kinds, want)
	}
	if code := manager2.do("POST", "/api/disposals/"+day+"/approve", nil, &l); code != http.StatusOK {
		t.Fatalf("another manager's approval: HTTP %d %+v", code, l)
	}

	// The case disposes of the list and completes.
	var out workflows.RetentionDisposalResult
	if err := tc.GetWorkflow(ctx, workflows.WorkflowID(contract.ProcRetentionDisposal, caseNumber), "").Get(ctx, &out); err != nil {
		t.Fatal(err)
	}
	if out.Status != workflows.StatusCompleted || out.Detail.SubmittedBy != "manager1" || out.Detail.ApprovedBy != "manager2" || out.Detail.Disposed == 0 || out.Detail.Held == 0 {
		t.Fatalf("the case ended %+v", out)
	}
	if code := manager1.do("GET", "/api/disposals?day="+day, nil, &l); code != http.StatusOK || l.Status != storage.DisposalDisposed || l.ApprovedBy != "manager2" {
		t.Fatalf("after disposal: HTTP %d %+v", code, l)
	}
	if _, at, _ := item(l, done); at == "" {
		t.Error("the ended request's document was not disposed of")
	}
	if h, at, _ := item(l, held); at != "" || h != held {
		t.Errorf("the held document: disposed at %q, held by %q", at, h)
	}
	// In the database: the disposal recorded with its approval, the held
	// document kept.
	var approvedBy string
	var disposedAt *time.Time
	if err := db.QueryRow(ctx, `SELECT p.approved_by, d.disposed_at FROM disposals p JOIN documents d ON d.case_number = p.case_number AND d.doc_type = p.item
		WHERE p.kind = 'document' AND p.case_number = $1`, done).Scan(&approvedBy, &disposedAt); err != nil || approvedBy != "manager2" || disposedAt == nil {
		t.Errorf("the disposal's record: %q %v %v", approvedBy, disposedAt, err)
	}
	var left int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM documents WHERE case_number = $1 AND disposed_at IS NULL`, held).Scan(&left); err != nil || left == 0 {
		t.Errorf("the held request's documents kept: %d %v", left, err)
	}
	if err := db.QueryRow(ctx, `SELECT count(*) FROM disposals WHERE case_number = $1`, held).Scan(&left); err != nil || left != 0 {
		t.Errorf("disposals of the held request: %d %v", left, err)
	}
	// The day's case is the office's, read like any other; its submission,
	// approval and disposal are in the audit trail, whose chain holds.
	var st map[string]any
	if code := manager1.do("GET", "/api/cases/"+caseNumber, nil, &st); code != http.StatusOK || st["status"] != workflows.StatusCompleted || st["procedure"] != contract.ProcRetentionDisposal {
		t.Errorf("the day's case: HTTP %d %v", code, st)
	}
	var events []string
	rows, err := db.Query(ctx, `SELECT event_key || ':' || actor FROM case_events WHERE case_number = $1 ORDER BY chain_seq`, caseNumber)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var ev string
		if err := rows.Scan(&ev); err != nil {
			t.Fatal(err)
		}
		events = append(events, ev)
	}
	rows.Close()
	if want := []string{"disposal_submitted:manager1", "disposal_approved:manager2", "disposed:manager2"}; !slices.Equal(events, want) {
		t.Errorf("audit events %v, want %v", events, want)
	}
	var chain struct{ OK bool }
	if code := auditor.do("GET", "/api/audit/chain", nil, &chain); code != http.StatusOK || !chain.OK {
		t.Errorf("the audit chain: HTTP %d %+v", code, chain)
	}
	// Disposing again answers the list and records nothing more.
	if code := manager1.do("POST", "/api/disposals/"+day+"/dispose", nil, &l); code != http.StatusOK || l.Status != storage.DisposalDisposed {
		t.Errorf("dispose after approval: HTTP %d %+v", code, l)
	}
	// The console's page shows the same list to the manager.
	req, _ := http.NewRequest(http.MethodGet, gatewayURL+"/console/disposals?day="+day, nil)
	req.AddCookie(&http.Cookie{Name: "md_console", Value: manager1.token})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), `data-status="disposed"`) || !strings.Contains(string(page), `data-held="`+held+`"`) {
		t.Errorf("the console's list: HTTP %d %s", resp.StatusCode, page)
	}
	recordDisposalHistory(t, workflows.WorkflowID(contract.ProcRetentionDisposal, caseNumber))
}

// recordDisposalHistory writes the approved disposal's history for the
// replay tests when the run records histories: the run's other
// municipalities' cases (nothing due) may be the ones recordHistories picks
// for "completed".
func recordDisposalHistory(t *testing.T, workflowID string) {
	t.Helper()
	dir := os.Getenv(envRecordHistories)
	if dir == "" {
		return
	}
	c, err := codec.Load(cfg.CodecKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := client.Dial(rawOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	b, err := historyrec.Record(context.Background(), raw, c, workflowID)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, contract.ProcRetentionDisposal+"-approved.history.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
