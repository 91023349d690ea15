package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
)

func newAnchorEnv(start time.Time) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(AuditChainAnchors, workflow.RegisterOptions{Name: AuditChainAnchorsWorkflow})
	env.RegisterActivityWithOptions(func(context.Context, contract.AnchorAuditChainsInput) (contract.AnchorAuditChainsResult, error) {
		return contract.AnchorAuditChainsResult{}, nil
	}, activity.RegisterOptions{Name: contract.AnchorAuditChains.Name})
	env.SetStartTime(start)
	return env
}

// TestAuditChainAnchors: the Schedule's run at 00:00 JST anchors that JST
// day; a run that finds a broken chain fails, naming the office.
func TestAuditChainAnchors(t *testing.T) {
	start := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC) // 2026-12-02 00:00 JST
	env := newAnchorEnv(start)
	var day string
	env.OnActivity(contract.AnchorAuditChains.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.AnchorAuditChainsInput) (contract.AnchorAuditChainsResult, error) {
			day = in.Day
			return contract.AnchorAuditChainsResult{Verified: 3, Anchored: 3}, nil
		})
	env.ExecuteWorkflow(AuditChainAnchorsWorkflow)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res contract.AnchorAuditChainsResult
	if err := env.GetWorkflowResult(&res); err != nil || res.Anchored != 3 || day != "2026-12-02" {
		t.Fatalf("%+v %v, day %q", res, err, day)
	}

	env = newAnchorEnv(start)
	env.OnActivity(contract.AnchorAuditChains.Name, mock.Anything, mock.Anything).Return(
		contract.AnchorAuditChainsResult{Verified: 3, Anchored: 2, Broken: []string{"131016"}}, nil)
	env.ExecuteWorkflow(AuditChainAnchorsWorkflow)
	var appErr *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != ErrTypeAuditChainBroken {
		t.Fatalf("a broken chain: %v", err)
	}
}

// TestAuditAnchorSchedule: daily at 00:00 JST on the municipal queue, no
// overlapping runs, a missed day caught up.
func TestAuditAnchorSchedule(t *testing.T) {
	spec, action, policies := auditAnchorSchedule()
	if len(spec.Intervals) != 1 || spec.Intervals[0].Every != 24*time.Hour || spec.Intervals[0].Offset != 15*time.Hour {
		t.Errorf("spec %+v", spec)
	}
	if action.Workflow != AuditChainAnchorsWorkflow || action.TaskQueue != contract.MunicipalTaskQueue || policies.CatchupWindow != 24*time.Hour {
		t.Errorf("action %+v, policies %+v", action, policies)
	}
}
