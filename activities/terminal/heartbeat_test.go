package terminal

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// slowCardStep stands for a card step that never heartbeats itself, such
// as a long write: it works for a second.
func slowCardStep(ctx context.Context) error {
	select {
	case <-time.After(time.Second):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runSlowStep runs slowCardStep from a workflow, as a card step runs, with
// the given heartbeat timeout.
func runSlowStep(ctx workflow.Context, heartbeat time.Duration) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute, HeartbeatTimeout: heartbeat,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	return workflow.ExecuteActivity(ctx, slowCardStep).Get(ctx, nil)
}

// TestHeartbeatsInterceptor: with the card agent's interceptor, a card step
// that runs longer than its heartbeat timeout (1 s against 300 ms) is
// heartbeated while it works, so it is never mistaken for a dead terminal;
// without it, nothing is. Only counts, no timing.
func TestHeartbeatsInterceptor(t *testing.T) {
	for _, tc := range []struct {
		name         string
		interceptors []interceptor.WorkerInterceptor
		heartbeat    time.Duration
		want         bool
	}{
		{"card agent", []interceptor.WorkerInterceptor{Heartbeats()}, 300 * time.Millisecond, true},
		{"without the interceptor", nil, 300 * time.Millisecond, false},
		{"no heartbeat timeout", []interceptor.WorkerInterceptor{Heartbeats()}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ts testsuite.WorkflowTestSuite
			env := ts.NewTestWorkflowEnvironment()
			env.SetWorkerOptions(worker.Options{Interceptors: tc.interceptors})
			env.RegisterWorkflow(runSlowStep)
			env.RegisterActivity(slowCardStep)
			var beats atomic.Int32
			env.SetOnActivityHeartbeatListener(func(*activity.Info, converter.EncodedValues) { beats.Add(1) })
			env.ExecuteWorkflow(runSlowStep, tc.heartbeat)
			if !env.IsWorkflowCompleted() {
				t.Fatal("workflow did not complete")
			}
			if tc.want {
				if err := env.GetWorkflowError(); err != nil {
					t.Fatalf("the step failed: %v", err)
				}
				if beats.Load() < 1 {
					t.Fatal("no heartbeat recorded while the step ran")
				}
			} else if n := beats.Load(); n != 0 {
				t.Fatalf("%d heartbeats recorded, want none", n)
			}
		})
	}
}
