package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
)

// municipalCtx runs short, idempotent database steps as local activities in
// the municipal worker: they need no queue round trip.
func municipalCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: []string{contract.ErrTypeRejected, contract.ErrTypeInvalid},
		},
	})
}

// terminalCtx sends a card step to the terminal's card agent. Card steps are
// safe to retry; the heartbeat notices a terminal that died.
func terminalCtx(ctx workflow.Context, terminalID string, timeout time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           contract.TerminalTaskQueue(terminalID),
		StartToCloseTimeout: timeout,
		HeartbeatTimeout:    20 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			MaximumInterval:        30 * time.Second,
			NonRetryableErrorTypes: []string{contract.ErrTypeRejected, contract.ErrTypeInvalid},
		},
	})
}

// cardWriteCtx is terminalCtx with a short heartbeat, so that a terminal
// killed while writing is retried quickly.
func cardWriteCtx(ctx workflow.Context, terminalID string) workflow.Context {
	ctx = terminalCtx(ctx, terminalID, 2*time.Minute)
	o := workflow.GetActivityOptions(ctx)
	o.HeartbeatTimeout = 5 * time.Second
	return workflow.WithActivityOptions(ctx, o)
}

// caCtx sends a step to the Organization's CA worker.
func caCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           contract.CATaskQueue,
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: []string{contract.ErrTypeRejected, contract.ErrTypeInvalid},
		},
	})
}
