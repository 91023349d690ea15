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
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/madoguchi/madoguchi/contract"
)

// Manual 第1 4 (3): the Organization issues a certificate revocation list
// (失効記録) every 24 hours and keeps each day's revocation-information file
// (失効情報ファイル) for 10 years, so that verifiers can check a certificate
// as of any day. PublishRevocationLists is that publication; a Temporal
// Schedule runs it daily and StartPublishRevocationLists runs it on demand.

// ProcedurePublishRevocationLists names the publication's workflow ids:
// publish-revocation-lists/daily-<scheduled time> for the Schedule's runs,
// publish-revocation-lists/on-demand-<request id> for the others.
const ProcedurePublishRevocationLists = "publish-revocation-lists"

// PublishRevocationListsWorkflow is the registered workflow name; runs are
// listed by it (workflow type) rather than by search attributes.
const PublishRevocationListsWorkflow = "PublishRevocationLists"

// RevocationListScheduleID is the Temporal Schedule that publishes daily.
const RevocationListScheduleID = "jlis-crl-daily"

// Schedule timing: every 24 hours at 00:00 Asia/Tokyo (15:00 UTC), so that
// each JST day's file is made early that day.
const (
	revocationListEvery  = 24 * time.Hour
	revocationListOffset = 15 * time.Hour
)

// PublishRevocationListsInput says who asked, for the record.
type PublishRevocationListsInput struct {
	// Trigger is "schedule" or "on-demand".
	Trigger string `json:"trigger"`
}

// PublishRevocationListsResult is what a publication did.
type PublishRevocationListsResult struct {
	// RunID is the business key stored with every CRL of the run: the
	// workflow id.
	RunID    string                                `json:"runId"`
	Lists    []contract.IssueRevocationListsResult `json:"lists"`
	Disposed contract.DisposeRevocationFilesResult `json:"disposed"`
}

// PublishRevocationLists issues the partition and full CRLs of both issuing
// CAs (the full CRL is the day's revocation-information file), then disposes
// of files past their 10 years. Partitions are issuing municipalities for
// signing certificates and serial shards for user-authentication ones; a
// partition's first CRL is not this workflow's: the CA issues it before the
// partition's first certificate (docs/CRL.md), so every partition this run
// finds already answers. It is idempotent per run: the workflow id is
// the run's business key, so a retried activity or a reset workflow issues
// nothing twice. It runs on the CA worker's queue ("jlis-ca"), and so do its
// activities (they inherit the workflow's task queue).
func PublishRevocationLists(ctx workflow.Context, in PublishRevocationListsInput) (PublishRevocationListsResult, error) {
	runID := workflow.GetInfo(ctx).WorkflowExecution.ID
	res := PublishRevocationListsResult{RunID: runID}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		// A national CA has thousands of partitions: long, heartbeating.
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        5 * time.Second,
			MaximumInterval:        5 * time.Minute,
			NonRetryableErrorTypes: []string{contract.ErrTypeInvalid},
		},
	})
	// The two CAs are independent: publish them side by side.
	var futures []workflow.Future
	for _, kind := range []string{contract.KindSigning, contract.KindUserAuth} {
		futures = append(futures, workflow.ExecuteActivity(actx, contract.IssueRevocationLists.Name,
			contract.IssueRevocationListsInput{RunID: runID, Kind: kind}))
	}
	var errs []error
	for _, f := range futures {
		var r contract.IssueRevocationListsResult
		if err := f.Get(ctx, &r); err != nil {
			errs = append(errs, err)
			continue
		}
		res.Lists = append(res.Lists, r)
	}
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("publish revocation lists: %w", err)
	}
	workflow.GetLogger(ctx).Info("revocation lists published", "run", runID, "trigger", in.Trigger)
	// Retention runs with the daily publication: the same Schedule is
	// its schedule.
	if err := workflow.ExecuteActivity(actx, contract.DisposeRevocationFiles.Name).Get(ctx, &res.Disposed); err != nil {
		return res, fmt.Errorf("dispose revocation files: %w", err)
	}
	return res, nil
}

// ErrInvalidRequestID: an on-demand request id must be 1–100 characters of
// A–Z, a–z, 0–9, '.', '_', ':' and '-' (it becomes part of the workflow id).
var ErrInvalidRequestID = errors.New("workflows: invalid request id")

// StartPublishRevocationLists publishes the revocation lists now (after an
// urgent revocation, say), with the caller's requestID as business key:
// calling again with the same requestID returns the same run, running or
// finished, and starts nothing.
func StartPublishRevocationLists(ctx context.Context, c client.Client, requestID string) (client.WorkflowRun, error) {
	return startPublish(ctx, c, requestID, contract.CATaskQueue)
}

func startPublish(ctx context.Context, c client.Client, requestID, taskQueue string) (client.WorkflowRun, error) {
	if !validRequestID(requestID) {
		return nil, ErrInvalidRequestID
	}
	id := WorkflowID(ProcedurePublishRevocationLists, "on-demand-"+requestID)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                taskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, PublishRevocationListsWorkflow, PublishRevocationListsInput{Trigger: "on-demand"})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		// Finished earlier under this request id: that run is the answer.
		return c.GetWorkflow(ctx, id, ""), nil
	}
	if err != nil {
		return nil, fmt.Errorf("workflows: start %s: %w", id, err)
	}
	return run, nil
}

func validRequestID(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == ':' || r == '-') {
			return false
		}
	}
	return true
}

// EnsureRevocationListSchedule creates the daily Schedule "jlis-crl-daily",
// or brings an existing one back to this definition; setup calls it at
// every start.
func EnsureRevocationListSchedule(ctx context.Context, c client.Client) error {
	return ensureSchedule(ctx, c, RevocationListScheduleID, contract.CATaskQueue)
}

func revocationListSchedule(taskQueue string) (client.ScheduleSpec, *client.ScheduleWorkflowAction, client.SchedulePolicies) {
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: revocationListEvery, Offset: revocationListOffset}}}
	action := &client.ScheduleWorkflowAction{
		// Temporal appends the scheduled time: .../daily-2026-04-01T15:00:00Z.
		ID:        WorkflowID(ProcedurePublishRevocationLists, "daily"),
		Workflow:  PublishRevocationListsWorkflow,
		Args:      []any{PublishRevocationListsInput{Trigger: "schedule"}},
		TaskQueue: taskQueue,
	}
	policies := client.SchedulePolicies{
		// A run still retrying (the HSM is down) is not doubled: when it
		// succeeds it publishes the current state anyway.
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		// A Temporal outage at midnight still gets the day's run.
		CatchupWindow: 24 * time.Hour,
	}
	return spec, action, policies
}

func ensureSchedule(ctx context.Context, c client.Client, id, taskQueue string) error {
	spec, action, policies := revocationListSchedule(taskQueue)
	return ensureScheduleDef(ctx, c, scheduleDef{id: id, spec: spec, action: action, policies: policies,
		note: "manual 第1 4 (3): CRLs every 24 hours and the day's revocation-information file"})
}

// scheduleDef is one of the back office's Schedules as setup keeps it.
type scheduleDef struct {
	id, note string
	spec     client.ScheduleSpec
	action   *client.ScheduleWorkflowAction
	policies client.SchedulePolicies
}

// scheduleAttempts bounds the retries of a Schedule's update: a dev server
// just started may answer its first calls late.
const scheduleAttempts = 5

// ensureScheduleDef creates a Schedule, or brings an existing one back to
// its definition.
func ensureScheduleDef(ctx context.Context, c client.Client, d scheduleDef) error {
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: d.id, Spec: d.spec, Action: d.action, Overlap: d.policies.Overlap, CatchupWindow: d.policies.CatchupWindow, Note: d.note,
	})
	if err == nil {
		return nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("workflows: create schedule %s: %w", d.id, err)
	}
	for attempt := 1; ; attempt++ {
		err = c.ScheduleClient().GetHandle(ctx, d.id).Update(ctx, client.ScheduleUpdateOptions{
			DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
				s := in.Description.Schedule
				spec, policies := d.spec, d.policies
				s.Spec, s.Action, s.Policy = &spec, d.action, &policies
				return &client.ScheduleUpdate{Schedule: &s}, nil
			},
		})
		var late *serviceerror.DeadlineExceeded
		if err == nil || ctx.Err() != nil || attempt == scheduleAttempts ||
			!(errors.As(err, &late) || errors.Is(err, context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded) {
			break
		}
		time.Sleep(time.Second)
	}
	if err != nil {
		return fmt.Errorf("workflows: update schedule %s: %w", d.id, err)
	}
	return nil
}
