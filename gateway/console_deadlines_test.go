package gateway

import (
	"net/http"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/converter"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows"
)

// TestConsoleDeadlines: the deadline list shows GET /api/deadlines, the
// overdue case first and marked in words; the header links to it for
// managers, auditors and operators, and a clerk gets neither the link nor
// the page.
func TestConsoleDeadlines(t *testing.T) {
	f := newConsoleFixture(t)
	row := func(number string, due time.Time) *workflowpb.WorkflowExecutionInfo {
		kw := func(v string) *commonpb.Payload {
			p, _ := converter.GetDefaultDataConverter().ToPayload(v)
			return p
		}
		d, _ := converter.GetDefaultDataConverter().ToPayload(due)
		return &workflowpb.WorkflowExecutionInfo{SearchAttributes: &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{
			"MadoguchiCaseNumber": kw(number), "MadoguchiProcedure": kw(contract.ProcDisclosure), "MadoguchiStep": kw(workflows.StepDisclosure),
			"MadoguchiDue": d}}}
	}
	f.tc.executions = []*workflowpb.WorkflowExecutionInfo{row("131016-20261201-000002", apiNow.Add(48*time.Hour)), row("131016-20261101-000001", apiNow.Add(-time.Hour))}

	p := f.get("manager1", "/console/deadlines")
	if p.status != http.StatusOK {
		t.Fatalf("%d %s", p.status, p.body)
	}
	late := strings.Index(p.body, `<tr data-case="131016-20261101-000001" class="overdue" data-overdue="1">`)
	soon := strings.Index(p.body, `<tr data-case="131016-20261201-000002">`)
	if late < 0 || soon < 0 || late > soon {
		t.Errorf("the overdue case is not first and marked: %s", p.body)
	}
	if strings.Count(p.body, `class="overdue-mark"`) != 1 || !strings.Contains(p.body, `id="overdue-count"`) || !strings.Contains(p.body, "期限超過: 1") {
		t.Errorf("the overdue mark: %s", p.body)
	}
	if !strings.Contains(p.body, `href="/console/cases/131016-20261101-000001"`) {
		t.Error("no link to the case")
	}
	if q := f.tc.lists[len(f.tc.lists)-1]; !strings.Contains(q, "MadoguchiDue IS NOT NULL") || !strings.Contains(q, "'131016'") {
		t.Errorf("query %q", q)
	}

	for _, login := range []string{"manager1", "auditor1", "operator1"} {
		if p := f.get(login, "/console/"); !strings.Contains(p.body, `id="nav-deadlines"`) {
			t.Errorf("%s: no link to the deadline list (%d)", login, p.status)
		}
	}
	if p := f.get("operator1", "/console/deadlines"); p.status != http.StatusOK {
		t.Errorf("operator: %d %s", p.status, p.body)
	}
	if p := f.get("clerk1", "/console/"); strings.Contains(p.body, `id="nav-deadlines"`) {
		t.Error("a clerk's header links to the deadline list")
	}
	if p := f.get("clerk1", "/console/deadlines"); p.status != http.StatusNotFound {
		t.Errorf("a clerk's deadline list: %d", p.status)
	}
}
