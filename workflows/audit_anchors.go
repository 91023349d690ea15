package workflows

import (
	"context"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
)

// The audit trail's daily anchors (issue 12, 第3 10; docs/AUDIT.md): a
// Temporal Schedule runs AuditChainAnchors every day at 00:00 Asia/Tokyo on
// the municipal worker. It verifies every office's hash chain and records
// each intact chain's head as the anchor of the day (the head as the day
// begins closes the day before); a broken chain is never anchored, and the
// run fails naming it, so it shows in the Temporal UI.

// AuditChainAnchorsWorkflow is the registered workflow name.
const AuditChainAnchorsWorkflow = "AuditChainAnchors"

// AuditAnchorScheduleID is the Temporal Schedule of the daily anchors.
const AuditAnchorScheduleID = "audit-anchor-daily"

// ErrTypeAuditChainBroken is the failure of a run that found a broken chain.
const ErrTypeAuditChainBroken = "AuditChainBroken"

// jst is Asia/Tokyo, which has had no daylight saving time since 1951.
var jst = time.FixedZone("JST", 9*3600)

// AuditChainAnchors verifies the chains and anchors the intact ones for the
// day of the run (its workflow time, in Asia/Tokyo).
func AuditChainAnchors(ctx workflow.Context) (contract.AnchorAuditChainsResult, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		// Every row of every chain is read: long for a large trail.
		StartToCloseTimeout: time.Hour,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        5 * time.Second,
			MaximumInterval:        5 * time.Minute,
			NonRetryableErrorTypes: []string{contract.ErrTypeInvalid},
		},
	})
	day := workflow.Now(ctx).In(jst).Format(time.DateOnly)
	var res contract.AnchorAuditChainsResult
	if err := workflow.ExecuteActivity(actx, contract.AnchorAuditChains.Name, contract.AnchorAuditChainsInput{Day: day}).Get(ctx, &res); err != nil {
		return res, fmt.Errorf("anchor audit chains: %w", err)
	}
	if len(res.Broken) > 0 {
		return res, temporal.NewNonRetryableApplicationError(
			"audit chain broken at "+strings.Join(res.Broken, ", ")+": run auditchain verify", ErrTypeAuditChainBroken, nil, res)
	}
	return res, nil
}

// auditAnchorSchedule is the Schedule's definition: daily at 00:00 JST.
func auditAnchorSchedule() (client.ScheduleSpec, *client.ScheduleWorkflowAction, client.SchedulePolicies) {
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: 24 * time.Hour, Offset: 15 * time.Hour}}}
	action := &client.ScheduleWorkflowAction{
		// Temporal appends the scheduled time.
		ID:        "audit-anchors/daily",
		Workflow:  AuditChainAnchorsWorkflow,
		TaskQueue: contract.MunicipalTaskQueue,
	}
	policies := client.SchedulePolicies{Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, CatchupWindow: 24 * time.Hour}
	return spec, action, policies
}

// EnsureAuditAnchorSchedule creates the daily Schedule "audit-anchor-daily",
// or brings an existing one back to this definition; setup calls it at
// every start.
func EnsureAuditAnchorSchedule(ctx context.Context, c client.Client) error {
	spec, action, policies := auditAnchorSchedule()
	return ensureScheduleDef(ctx, c, scheduleDef{id: AuditAnchorScheduleID, spec: spec, action: action, policies: policies,
		note: "manual 第3 10: the audit trail's hash chains verified and anchored daily (docs/AUDIT.md)"})
}
