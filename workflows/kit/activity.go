package kit

import (
	"errors"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
)

// nonRetryable are the error types no retry can fix.
var nonRetryable = []string{contract.ErrTypeRejected, contract.ErrTypeInvalid, contract.ErrTypeLapsed}

// Local runs a short, idempotent municipal database step as a local
// activity in the municipal worker: no queue round trip.
func Local[In, Out any](ctx workflow.Context, a contract.Activity[In, Out], in In) (Out, error) {
	ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		// Bounded, so a database that stays down fails the case instead of
		// holding it open.
		ScheduleToCloseTimeout: 30 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, MaximumInterval: time.Minute, NonRetryableErrorTypes: nonRetryable,
		},
	})
	var out Out
	err := workflow.ExecuteLocalActivity(ctx, a.Name, in).Get(ctx, &out)
	return out, err
}

// Org runs a step at the Organization's CA worker.
func Org[In, Out any](ctx workflow.Context, a contract.Activity[In, Out], in In) (Out, error) {
	// The CA may be down for maintenance; a day later the case fails (and
	// compensates) rather than waiting forever. A compensation itself gets
	// an hour, so a failing case still ends.
	bound := 24 * time.Hour
	if c, _ := ctx.Value(compensatingKey{}).(bool); c {
		bound = compensationTimeout
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              contract.CATaskQueue,
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: bound,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, MaximumInterval: time.Minute, NonRetryableErrorTypes: nonRetryable,
		},
	})
	var out Out
	err := workflow.ExecuteActivity(ctx, a.Name, in).Get(ctx, &out)
	return out, err
}

// Terminal timing. A card agent picks a task up within a second when it
// runs; TerminalReach without a pick-up means the terminal is not
// responding, which the case shows while it keeps trying, up to
// TerminalGiveUp. Card activities heartbeat (the card agent's interceptor)
// every few seconds, so TerminalHeartbeat notices a dead agent quickly
// without cutting a long card write short.
var (
	TerminalReach     = 30 * time.Second
	TerminalGiveUp    = 8 * time.Hour
	TerminalHeartbeat = 10 * time.Second
)

// onTerminal runs a card step on a terminal's own queue. While the terminal
// does not pick it up, the case says "terminal T0001 not responding".
func onTerminal[In, Out any](ctx workflow.Context, t *Terminal, a contract.Activity[In, Out], timeout time.Duration, in In) (Out, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              contract.TerminalTaskQueue(t.id),
		ScheduleToStartTimeout: TerminalReach,
		StartToCloseTimeout:    timeout,
		HeartbeatTimeout:       TerminalHeartbeat,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, MaximumInterval: 30 * time.Second, NonRetryableErrorTypes: nonRetryable,
			// A card step that keeps failing on a responding terminal (a
			// broken reader) ends the case as failed.
			MaximumAttempts: 20,
		},
	})
	started := workflow.Now(ctx)
	var out Out
	for {
		err := workflow.ExecuteActivity(actx, a.Name, in).Get(ctx, &out)
		if !notPickedUp(err) {
			t.responding(ctx)
			return out, err
		}
		t.notResponding(ctx)
		if workflow.Now(ctx).Sub(started) >= TerminalGiveUp {
			return out, err
		}
	}
}

// notPickedUp reports a schedule-to-start timeout: no agent took the task.
func notPickedUp(err error) bool {
	var te *temporal.TimeoutError
	return errors.As(err, &te) && te.TimeoutType() == enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START
}
