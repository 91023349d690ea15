package terminal

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"

	"github.com/madoguchi/madoguchi/internal/metrics"
)

// Heartbeats is the card agent's worker interceptor: every card activity
// heartbeats while it runs, a third of its heartbeat timeout apart, so a
// long card write is never mistaken for a dead terminal, while a dead agent
// is noticed within the timeout. It also times each card step
// (metrics.CardStep).
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

func (a *heartbeatActivity) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (out any, err error) {
	info := activity.GetInfo(ctx)
	// Each card step's duration, by activity and result (issue 13).
	began := time.Now()
	defer func() {
		metrics.Since(metrics.CardStep.WithLabelValues(info.ActivityType.Name, metrics.Result(err)), began)
	}()
	every := info.HeartbeatTimeout / 3
	if every <= 0 {
		return a.Next.ExecuteActivity(ctx, in)
	}
	stop := heartbeatEvery(ctx, max(every, 100*time.Millisecond))
	defer stop()
	return a.Next.ExecuteActivity(ctx, in)
}
