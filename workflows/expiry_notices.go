package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
)

// Expiry notices (有効期限通知書, issue 12): a Temporal Schedule at the
// Organization runs ExpiryNotices daily on the CA worker. It selects the
// certificates that expire within the coming 3 months (not revoked, not
// superseded, without a notice; ca.NoticeDue), in chunks, reads their
// holders' names and addresses from the register (住基ネット), and produces
// each notice with its proxy-renewal form once per certificate: the
// Organization's database keys notices by serial, so a re-run of the day,
// or the next day's run, produces none twice.

// ExpiryNoticesWorkflow is the registered workflow name.
const ExpiryNoticesWorkflow = "ExpiryNotices"

// ExpiryNoticeScheduleID is the Temporal Schedule of the daily run.
const ExpiryNoticeScheduleID = "expiry-notices-daily"

// RenewalCodeCheckWorkflow is the registered name of the counter's
// look-up of a renewal code.
const RenewalCodeCheckWorkflow = "RenewalCodeCheck"

// ExpiryNoticeChunk is how many certificates one chunk selects.
const ExpiryNoticeChunk = 100

// expiryChunksPerRun bounds a run's history: beyond it the run continues
// as new from where it stopped.
const expiryChunksPerRun = 50

// ExpiryNoticesInput starts a run, or continues one.
type ExpiryNoticesInput struct {
	// Trigger is "schedule" or "on-demand", for the record.
	Trigger string `json:"trigger"`
	// AsOf is the run's time, kept across continue-as-new; zero at a start
	// (the workflow's time then).
	AsOf time.Time `json:"asOf,omitzero"`
	// After is the last serial a continued run handled.
	After string `json:"after,omitempty"`
	// Done is what the run did before it continued.
	Done ExpiryNoticesResult `json:"done,omitzero"`
}

// ExpiryNoticesResult counts what a run did: no serials, no holders.
type ExpiryNoticesResult struct {
	Selected int `json:"selected"`
	Produced int `json:"produced"`
	// Existing were noticed already (a run racing this one).
	Existing int `json:"existing"`
	// NotAddressed have no holder in the register as a resident (moved
	// abroad, dead): no letter; a later run selects them again.
	NotAddressed int `json:"notAddressed"`
}

// ExpiryNotices is the daily run.
func ExpiryNotices(ctx workflow.Context, in ExpiryNoticesInput) (ExpiryNoticesResult, error) {
	runID := workflow.GetInfo(ctx).WorkflowExecution.ID
	asOf := in.AsOf
	if asOf.IsZero() {
		asOf = workflow.Now(ctx)
	}
	retry := &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumInterval: 5 * time.Minute,
		NonRetryableErrorTypes: []string{contract.ErrTypeInvalid}}
	orgCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue: contract.CATaskQueue,
		// A chunk renders up to ExpiryNoticeChunk letters, heartbeating each.
		StartToCloseTimeout: 10 * time.Minute, HeartbeatTimeout: time.Minute, RetryPolicy: retry,
	})
	regCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue: contract.MunicipalTaskQueue, StartToCloseTimeout: 2 * time.Minute, RetryPolicy: retry,
	})
	res, after := in.Done, in.After
	for chunk := 0; ; chunk++ {
		if chunk == expiryChunksPerRun {
			return res, workflow.NewContinueAsNewError(ctx, ExpiryNoticesWorkflow,
				ExpiryNoticesInput{Trigger: in.Trigger, AsOf: asOf, After: after, Done: res})
		}
		// 対象の選定: the next chunk due a notice.
		var sel contract.SelectExpiringResult
		if err := workflow.ExecuteActivity(orgCtx, contract.SelectExpiringCertificates.Name,
			contract.SelectExpiringInput{AsOf: asOf, After: after, Limit: ExpiryNoticeChunk}).Get(ctx, &sel); err != nil {
			return res, fmt.Errorf("select expiring certificates: %w", err)
		}
		if len(sel.Certificates) == 0 {
			break
		}
		res.Selected += len(sel.Certificates)
		after = sel.Certificates[len(sel.Certificates)-1].Serial
		// 宛先: the holders' names and addresses from the register.
		codes := make([]string, len(sel.Certificates))
		for i, c := range sel.Certificates {
			codes[i] = c.ResidentCode
		}
		var hs contract.ReadHoldersResult
		if err := workflow.ExecuteActivity(regCtx, contract.ReadHolders.Name, contract.ReadHoldersInput{ResidentCodes: codes}).Get(ctx, &hs); err != nil {
			return res, fmt.Errorf("read holders: %w", err)
		}
		holders := make(map[string]contract.Requester, len(hs.Holders))
		for _, h := range hs.Holders {
			holders[h.ResidentCode] = h
		}
		var items []contract.ExpiryNoticeItem
		for _, c := range sel.Certificates {
			h, ok := holders[c.ResidentCode]
			if !ok {
				res.NotAddressed++
				continue
			}
			items = append(items, contract.ExpiryNoticeItem{Certificate: c, Name: h.Name, Address: h.Address})
		}
		if len(items) == 0 {
			continue
		}
		// 通知書の作成: once per certificate.
		var p contract.ProduceExpiryNoticesResult
		if err := workflow.ExecuteActivity(orgCtx, contract.ProduceExpiryNotices.Name,
			contract.ProduceExpiryNoticesInput{RunID: runID, IssuedOn: asOf, Notices: items}).Get(ctx, &p); err != nil {
			return res, fmt.Errorf("produce expiry notices: %w", err)
		}
		res.Produced += len(p.Produced)
		res.Existing += p.Existing
	}
	workflow.GetLogger(ctx).Info("expiry notices produced", "run", runID, "produced", res.Produced, "existing", res.Existing)
	return res, nil
}

// StartExpiryNotices runs the notices now under the caller's request id
// (expiry-notices/on-demand-<requestID>): the same request id again
// returns the same run and starts nothing.
func StartExpiryNotices(ctx context.Context, c client.Client, requestID string) (client.WorkflowRun, error) {
	if !validRequestID(requestID) {
		return nil, ErrInvalidRequestID
	}
	id := WorkflowID(contract.ProcExpiryNotices, "on-demand-"+requestID)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: contract.CATaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, ExpiryNoticesWorkflow, ExpiryNoticesInput{Trigger: "on-demand"})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return c.GetWorkflow(ctx, id, ""), nil
	}
	if err != nil {
		return nil, fmt.Errorf("workflows: start %s: %w", id, err)
	}
	return run, nil
}

// expiryNoticeSchedule is the Schedule's definition: daily at 01:00 JST,
// after the CRL; a run's id is expiry-notices/daily-<scheduled time>.
func expiryNoticeSchedule() (client.ScheduleSpec, *client.ScheduleWorkflowAction, client.SchedulePolicies) {
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: 24 * time.Hour, Offset: 16 * time.Hour}}}
	action := &client.ScheduleWorkflowAction{
		ID:        WorkflowID(contract.ProcExpiryNotices, "daily"),
		Workflow:  ExpiryNoticesWorkflow,
		Args:      []any{ExpiryNoticesInput{Trigger: "schedule"}},
		TaskQueue: contract.CATaskQueue,
	}
	policies := client.SchedulePolicies{Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, CatchupWindow: 24 * time.Hour}
	return spec, action, policies
}

// EnsureExpiryNoticeSchedule creates the daily Schedule
// "expiry-notices-daily", or brings an existing one back to this
// definition; setup calls it at every start.
func EnsureExpiryNoticeSchedule(ctx context.Context, c client.Client) error {
	spec, action, policies := expiryNoticeSchedule()
	return ensureScheduleDef(ctx, c, scheduleDef{id: ExpiryNoticeScheduleID, spec: spec, action: action, policies: policies,
		note: "issue 12: expiry notices (有効期限通知書) with a proxy-renewal form, once per certificate"})
}

// RenewalCodeCheckInput names the code by its hash.
type RenewalCodeCheckInput struct {
	CodeHash string `json:"codeHash"`
}

// RenewalCodeCheck looks a renewal code up at the Organization for a
// counter, before any case exists: the counter has no access to the
// Organization's database, so it asks through this short workflow on the
// CA worker.
func RenewalCodeCheck(ctx workflow.Context, in RenewalCodeCheckInput) (contract.RenewalHolder, error) {
	return lookupActivity(ctx, contract.LookupRenewalCode, contract.LookupRenewalCodeInput{CodeHash: in.CodeHash})
}

// CheckRenewalCode runs RenewalCodeCheck and waits for its answer (a
// random workflow id: the look-up is no case, and its id holds neither
// the code nor its hash).
func CheckRenewalCode(ctx context.Context, c client.Client, codeHash string) (contract.RenewalHolder, error) {
	return lookup[contract.RenewalHolder](ctx, c, contract.ProcRenewalCodeCheck, RenewalCodeCheckWorkflow, RenewalCodeCheckInput{CodeHash: codeHash})
}
