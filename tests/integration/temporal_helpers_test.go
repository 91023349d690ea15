package integration

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
)

// rawTLS is the tests' own mTLS to the Temporal cluster (the operator's
// certificate, from the env file), nil on the dev server.
var rawTLS *tls.Config

// rawOptions are client options without the payload codec, with the tests'
// TLS when the stack runs the cluster.
func rawOptions() client.Options {
	return client.Options{HostPort: cfg.TemporalAddr, Namespace: cfg.TemporalNamespace,
		ConnectionOptions: client.ConnectionOptions{TLS: rawTLS}}
}

// identityEnv gives a process the tests start its own certificate on the
// cluster (MADOGUCHI_TEMPORAL_TLS_DIR, scripts/lib.sh), by the process's
// name: the cluster's authorizer lets each identity do only its own work.
// On the dev server it adds nothing.
func identityEnv(name string) []string {
	dir := os.Getenv("MADOGUCHI_TEMPORAL_TLS_DIR")
	if dir == "" {
		return nil
	}
	var stem string
	switch {
	case name == "gateway" || strings.HasPrefix(name, "gateway-"):
		stem = "gateway"
	case name == "worker-ca":
		stem = "caworker"
	case name == "worker-municipal":
		stem = "worker-municipal"
	case strings.HasPrefix(name, "cardagent-"):
		stem = "terminal-" + strings.TrimPrefix(name, "cardagent-")
	default:
		// The repository and the virtual cards do not talk to Temporal: they
		// get no certificate, not the tests' own (the operator's).
		return []string{"MADOGUCHI_TEMPORAL_TLS_CERT=", "MADOGUCHI_TEMPORAL_TLS_KEY="}
	}
	return []string{"MADOGUCHI_TEMPORAL_TLS_CERT=" + filepath.Join(dir, stem+".pem"),
		"MADOGUCHI_TEMPORAL_TLS_KEY=" + filepath.Join(dir, stem+".key")}
}

// dialTemporal connects to the tests' namespace without the payload codec,
// as anyone with access to the Temporal server would; the client is closed
// at the test's end.
func dialTemporal(t testing.TB) client.Client {
	t.Helper()
	c, err := client.Dial(rawOptions())
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
