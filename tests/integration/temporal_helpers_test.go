package integration

import (
	"context"
	"testing"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
)

// dialTemporal connects to the tests' namespace without the payload codec,
// as anyone with access to the Temporal server would; the client is closed
// at the test's end.
func dialTemporal(t testing.TB) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: cfg.TemporalAddr, Namespace: cfg.TemporalNamespace})
	if err != nil {
		t.Fatalf("dial Temporal: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// historyEvents returns every event of a workflow's latest run, payloads as
// stored.
func historyEvents(t testing.TB, c client.Client, workflowID string) []*historypb.HistoryEvent {
	t.Helper()
	var evs []*historypb.HistoryEvent
	it := c.GetWorkflowHistory(context.Background(), workflowID, "", false, 0)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", workflowID, err)
		}
		evs = append(evs, ev)
	}
	return evs
}

// activityAttempts returns, for each activity of the given type in a
// history, the attempt that ran last (ActivityTaskStarted is recorded once,
// for the attempt that closed it) and whether it completed.
func activityAttempts(evs []*historypb.HistoryEvent, activityType string) (attempts []int32, completed []bool) {
	scheduled := map[int64]int{}
	for _, ev := range evs {
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == activityType {
			scheduled[ev.GetEventId()] = len(attempts)
			attempts = append(attempts, 0)
			completed = append(completed, false)
		}
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil {
			if i, ok := scheduled[a.GetScheduledEventId()]; ok {
				attempts[i] = a.GetAttempt()
			}
		}
		if a := ev.GetActivityTaskCompletedEventAttributes(); a != nil {
			if i, ok := scheduled[a.GetScheduledEventId()]; ok {
				completed[i] = true
			}
		}
	}
	return attempts, completed
}
