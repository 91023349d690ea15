package workflows

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
)

// disposalFake records what the disposal case asked of the database.
type disposalFake struct {
	mu       sync.Mutex
	drawn    contract.DisposalListResult
	disposed contract.DisposalListResult
	steps    []contract.DisposalListStepInput
	closed   []string
	disposes int
}

func (f *disposalFake) register(env *testsuite.TestWorkflowEnvironment) {
	env.RegisterActivityWithOptions(func(_ context.Context, in contract.DrawUpDisposalListInput) (contract.DisposalListResult, error) {
		return f.drawn, nil
	}, activity.RegisterOptions{Name: contract.DrawUpDisposalList.Name})
	env.RegisterActivityWithOptions(func(_ context.Context, in contract.DisposalListStepInput) (contract.DisposalListStepResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.steps = append(f.steps, in)
		return contract.DisposalListStepResult{}, nil
	}, activity.RegisterOptions{Name: contract.RecordDisposalStep.Name})
	env.RegisterActivityWithOptions(func(_ context.Context, in contract.DisposeListInput) (contract.DisposalListResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.disposes++
		return f.disposed, nil
	}, activity.RegisterOptions{Name: contract.DisposeList.Name})
	env.RegisterActivityWithOptions(func(_ context.Context, in contract.CloseDisposalListInput) (contract.CloseDisposalListResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.closed = append(f.closed, in.Status)
		return contract.CloseDisposalListResult{}, nil
	}, activity.RegisterOptions{Name: contract.CloseDisposalList.Name})
	env.RegisterActivityWithOptions(func(context.Context, contract.CloseCaseInput) (contract.CloseCaseResult, error) {
		return contract.CloseCaseResult{}, nil
	}, activity.RegisterOptions{Name: contract.CloseCase.Name})
}

var disposalIn = RetentionDisposalInput{CaseNumber: DisposalCaseNumber("131016", "2036-12-02"), MunicipalityCode: "131016", Day: "2036-12-02"}

func newDisposalEnv(t *testing.T, f *disposalFake) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(RetentionDisposal, workflow.RegisterOptions{Name: "RetentionDisposal"})
	f.register(env)
	env.SetStartTime(time.Date(2036, 12, 1, 16, 0, 0, 0, time.UTC))
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: WorkflowID(contract.ProcRetentionDisposal, disposalIn.CaseNumber)})
	return env
}

func disposalOutcome(t *testing.T, env *testsuite.TestWorkflowEnvironment) RetentionDisposalResult {
	t.Helper()
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var out RetentionDisposalResult
	if err := env.GetWorkflowResult(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRetentionDisposalApproved: an approval before the submission and an
// approval of one's own list are refused by the validator, recording
// nothing; another manager's approval disposes of the list once, and the
// case completes with who submitted and who approved it.
func TestRetentionDisposalApproved(t *testing.T) {
	f := &disposalFake{drawn: contract.DisposalListResult{Status: "drawn_up", Due: 2, Held: 1},
		disposed: contract.DisposalListResult{Status: "disposed", Due: 2, Held: 1}}
	env := newDisposalEnv(t, f)
	early := sendAt(env, time.Hour, ApproveDisposalListUpdate, ApproveDisposalListInput{Manager: "manager2"})
	submit := sendAt(env, 2*time.Hour, SubmitDisposalListUpdate, SubmitDisposalListInput{Manager: "manager1"})
	again := sendAt(env, 3*time.Hour, SubmitDisposalListUpdate, SubmitDisposalListInput{Manager: "manager2"})
	own := sendAt(env, 4*time.Hour, ApproveDisposalListUpdate, ApproveDisposalListInput{Manager: "manager1"})
	approve := sendAt(env, 5*24*time.Hour, ApproveDisposalListUpdate, ApproveDisposalListInput{Manager: "manager2"})
	env.ExecuteWorkflow(RetentionDisposal, disposalIn)
	out := disposalOutcome(t, env)
	if out.Status != StatusCompleted || out.Detail != (RetentionDisposalDetail{Due: 2, Held: 1, Disposed: 2, SubmittedBy: "manager1", ApprovedBy: "manager2"}) {
		t.Fatalf("outcome %+v", out)
	}
	if !strings.Contains(early.rejection(), "提出されていません") {
		t.Errorf("approval before submission: %q", early.rejection())
	}
	if !strings.Contains(own.rejection(), "自分が提出した") {
		t.Errorf("approval of one's own list: %q", own.rejection())
	}
	if !strings.Contains(again.rejection(), "提出済み") {
		t.Errorf("second submission: %q", again.rejection())
	}
	if !submit.accepted || submit.err != nil || !approve.accepted || approve.err != nil {
		t.Errorf("submit %+v, approve %+v", submit, approve)
	}
	want := []contract.DisposalListStepInput{
		{Office: "131016", Day: "2036-12-02", Step: "submit", Manager: "manager1"},
		{Office: "131016", Day: "2036-12-02", Step: "approve", Manager: "manager2"},
	}
	for i := range f.steps {
		f.steps[i].At = time.Time{}
	}
	if !slices.Equal(f.steps, want) || f.disposes != 1 || len(f.closed) != 0 {
		t.Errorf("steps %+v, disposes %d, closed %v", f.steps, f.disposes, f.closed)
	}
}

// TestRetentionDisposalLapses: a list submitted but never approved lapses
// after the window; nothing is disposed of and the list is closed lapsed.
func TestRetentionDisposalLapses(t *testing.T) {
	f := &disposalFake{drawn: contract.DisposalListResult{Status: "drawn_up", Due: 3}}
	env := newDisposalEnv(t, f)
	sendAt(env, time.Hour, SubmitDisposalListUpdate, SubmitDisposalListInput{Manager: "manager1"})
	late := sendAt(env, DisposalApprovalWindow+time.Hour, ApproveDisposalListUpdate, ApproveDisposalListInput{Manager: "manager2"})
	env.ExecuteWorkflow(RetentionDisposal, disposalIn)
	out := disposalOutcome(t, env)
	if out.Status != StatusLapsed || out.Rejection == nil || out.Rejection.Code != "disposal_not_approved" {
		t.Fatalf("outcome %+v", out)
	}
	if f.disposes != 0 || !slices.Equal(f.closed, []string{"lapsed"}) {
		t.Errorf("disposes %d, closed %v", f.disposes, f.closed)
	}
	if late.accepted {
		t.Error("an approval after the lapse was accepted")
	}
}

// TestRetentionDisposalAllHeld: a list whose every item is held by an open
// request (or with nothing due) asks no approval: it is closed as
// nothing_due and nothing is disposed of.
func TestRetentionDisposalAllHeld(t *testing.T) {
	f := &disposalFake{drawn: contract.DisposalListResult{Status: "drawn_up", Due: 0, Held: 1}}
	env := newDisposalEnv(t, f)
	env.ExecuteWorkflow(RetentionDisposal, disposalIn)
	out := disposalOutcome(t, env)
	if out.Status != StatusCompleted || out.Detail != (RetentionDisposalDetail{Held: 1}) {
		t.Fatalf("outcome %+v", out)
	}
	if f.disposes != 0 || !slices.Equal(f.closed, []string{"nothing_due"}) || len(f.steps) != 0 {
		t.Errorf("disposes %d, closed %v, steps %v", f.disposes, f.closed, f.steps)
	}
}

// TestRetentionDisposalCancelled: a manager cancelling the day's list
// closes it cancelled, nothing disposed of.
func TestRetentionDisposalCancelled(t *testing.T) {
	f := &disposalFake{drawn: contract.DisposalListResult{Status: "drawn_up", Due: 1}}
	env := newDisposalEnv(t, f)
	sendAt(env, time.Hour, CancelUpdate, CancelInput{Clerk: "manager1", Reason: "保存期間の設定を見直すため"})
	env.ExecuteWorkflow(RetentionDisposal, disposalIn)
	out := disposalOutcome(t, env)
	if out.Status != StatusCancelled || f.disposes != 0 || !slices.Equal(f.closed, []string{"cancelled"}) {
		t.Fatalf("outcome %+v, disposes %d, closed %v", out, f.disposes, f.closed)
	}
}

// TestRetentionDisposalDay: the Schedule's run starts one case per
// municipality for its day (the JST day of its start when none is given),
// each named from the office and the day.
func TestRetentionDisposalDay(t *testing.T) {
	for _, tc := range []struct {
		name, day, want string
	}{
		{"scheduled", "", "2026-12-02"},
		{"given", "2040-04-01", "2040-04-01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			env.RegisterWorkflowWithOptions(RetentionDisposalDay, workflow.RegisterOptions{Name: RetentionDisposalDayWorkflow})
			env.RegisterWorkflowWithOptions(RetentionDisposal, workflow.RegisterOptions{Name: "RetentionDisposal"})
			env.RegisterActivityWithOptions(func(context.Context, contract.DisposalOfficesInput) (contract.DisposalOfficesResult, error) {
				return contract.DisposalOfficesResult{Offices: []string{"131016", "141003"}}, nil
			}, activity.RegisterOptions{Name: contract.DisposalOffices.Name})
			var mu sync.Mutex
			var started []RetentionDisposalInput
			env.OnWorkflow("RetentionDisposal", mock.Anything, mock.Anything).Return(
				func(ctx workflow.Context, in RetentionDisposalInput) (RetentionDisposalResult, error) {
					mu.Lock()
					defer mu.Unlock()
					if id := workflow.GetInfo(ctx).WorkflowExecution.ID; id != WorkflowID(contract.ProcRetentionDisposal, in.CaseNumber) {
						t.Errorf("child id %q for %+v", id, in)
					}
					started = append(started, in)
					return RetentionDisposalResult{Status: StatusCompleted}, nil
				})
			env.SetStartTime(time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)) // 2026-12-02 01:00 JST
			env.ExecuteWorkflow(RetentionDisposalDayWorkflow, RetentionDisposalDayInput{Day: tc.day})
			if err := env.GetWorkflowError(); err != nil {
				t.Fatal(err)
			}
			var res RetentionDisposalDayResult
			if err := env.GetWorkflowResult(&res); err != nil {
				t.Fatal(err)
			}
			compact := strings.ReplaceAll(tc.want, "-", "")
			wantCases := []string{"131016-D" + compact, "141003-D" + compact}
			if res.Day != tc.want || !slices.Equal(res.Cases, wantCases) {
				t.Errorf("result %+v", res)
			}
			slices.SortFunc(started, func(a, b RetentionDisposalInput) int { return strings.Compare(a.CaseNumber, b.CaseNumber) })
			if len(started) != 2 || started[0] != (RetentionDisposalInput{CaseNumber: wantCases[0], MunicipalityCode: "131016", Day: tc.want}) {
				t.Errorf("started %+v", started)
			}
		})
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(RetentionDisposalDay, workflow.RegisterOptions{Name: RetentionDisposalDayWorkflow})
	env.ExecuteWorkflow(RetentionDisposalDayWorkflow, RetentionDisposalDayInput{Day: "2040-13-01"})
	if err := env.GetWorkflowError(); err == nil || !strings.Contains(err.Error(), "YYYY-MM-DD") {
		t.Errorf("a malformed day: %v", err)
	}
}

// TestRetentionDisposalSchedule: daily at 01:00 JST on the municipal
// queue, no overlapping runs, a missed day caught up.
func TestRetentionDisposalSchedule(t *testing.T) {
	spec, action, policies := retentionDisposalSchedule()
	if len(spec.Intervals) != 1 || spec.Intervals[0].Every != 24*time.Hour || spec.Intervals[0].Offset != 16*time.Hour {
		t.Errorf("spec %+v", spec)
	}
	if action.Workflow != RetentionDisposalDayWorkflow || action.TaskQueue != contract.MunicipalTaskQueue || policies.CatchupWindow != 24*time.Hour {
		t.Errorf("action %+v, policies %+v", action, policies)
	}
}

// TestDisposalCaseNumber: from the office and the day only.
func TestDisposalCaseNumber(t *testing.T) {
	for _, tc := range []struct{ office, day, want string }{
		{"131016", "2036-12-02", "131016-D20361202"},
		{"141003", "2040-02-29", "141003-D20400229"},
	} {
		if got := DisposalCaseNumber(tc.office, tc.day); got != tc.want {
			t.Errorf("DisposalCaseNumber(%s, %s) = %s, want %s", tc.office, tc.day, got, tc.want)
		}
	}
}
