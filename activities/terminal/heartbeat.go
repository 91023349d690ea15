package terminal

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
)

// Heartbeats is the card agent's worker interceptor: every card activity
// heartbeats while it runs, a third of its heartbeat timeout apart, so a
// long card write is never mistaken for a dead terminal, while a dead agent
// is noticed within the timeout.
func Heartbeats() interceptor.WorkerInterceptor { return &heartbeats{} }

type heartbeats struct {
	interceptor.WorkerInterceptorBase
}

func (h *heartbeats) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &heartbeatActivity{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}}
}

type heartbeatActivity struct {
	interceptor.ActivityInboundInterceptorBase
}

func (a *heartbeatActivity) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	every := activity.GetInfo(ctx).HeartbeatTimeout / 3
	if every <= 0 {
		return a.Next.ExecuteActivity(ctx, in)
	}
	stop := heartbeatEvery(ctx, max(every, 100*time.Millisecond))
	defer stop()
	return a.Next.ExecuteActivity(ctx, in)
}
