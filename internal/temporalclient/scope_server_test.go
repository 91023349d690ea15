package temporalclient

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/proto"

	"github.com/madoguchi/madoguchi/internal/codec"
	"github.com/madoguchi/madoguchi/internal/config"
)

// The real-server check of how the SDK binds the codec: which scope each
// payload of a history is encrypted under. It needs a Temporal server
// (MADOGUCHI_TEMPORAL_ADDR, as the test command sets it).

const (
	scopeCheckUpdate = "codec-check-update"
	scopeCheckQuery  = "codec-check-query"
	scopeCheckSignal = "codec-check-signal"
)

type scopeCheckInput struct {
	Secret, Target, Child string
}

func scopeCheckActivity(_ context.Context, s string) (string, error) { return "echo " + s, nil }

func scopeCheckFailingActivity(_ context.Context, s string) error {
	return temporal.NewNonRetryableApplicationError("activity refused "+s, "Refused", nil)
}

func scopeCheckTarget(ctx workflow.Context) (string, error) {
	var got string
	workflow.GetSignalChannel(ctx, scopeCheckSignal).Receive(ctx, &got)
	return got, nil
}

func scopeCheckChild(_ workflow.Context, s string) (string, error) { return "child " + s, nil }

func scopeCheckWorkflow(ctx workflow.Context, in scopeCheckInput) (string, error) {
	if err := workflow.SetQueryHandler(ctx, scopeCheckQuery, func() (string, error) { return "state " + in.Secret, nil }); err != nil {
		return "", err
	}
	done := false
	if err := workflow.SetUpdateHandler(ctx, scopeCheckUpdate, func(ctx workflow.Context, fail bool) (string, error) {
		if fail {
			return "", temporal.NewApplicationError("update refused "+in.Secret, "Refused")
		}
		done = true
		return "update " + in.Secret, nil
	}); err != nil {
		return "", err
	}
	ao := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}})
	if err := workflow.ExecuteActivity(ao, scopeCheckActivity, in.Secret).Get(ctx, nil); err != nil {
		return "", err
	}
	lo := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}})
	if err := workflow.ExecuteLocalActivity(lo, scopeCheckActivity, in.Secret).Get(ctx, nil); err != nil {
		return "", err
	}
	_ = workflow.ExecuteActivity(ao, scopeCheckFailingActivity, in.Secret).Get(ctx, nil)
	_ = workflow.ExecuteLocalActivity(lo, scopeCheckFailingActivity, in.Secret).Get(ctx, nil)
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: in.Child})
	if err := workflow.ExecuteChildWorkflow(cctx, scopeCheckChild, in.Secret).Get(ctx, nil); err != nil {
		return "", err
	}
	if err := workflow.SignalExternalWorkflow(ctx, in.Target, "", scopeCheckSignal, "signal "+in.Secret).Get(ctx, nil); err != nil {
		return "", err
	}
	if err := workflow.Await(ctx, func() bool { return done }); err != nil {
		return "", err
	}
	return "", temporal.NewNonRetryableApplicationError("workflow refused "+in.Secret, "Refused", nil)
}

// eventScopes lists, per event type, the scopes its payloads are under, and
// fails on any payload the codec did not encrypt.
func eventScopes(t *testing.T, c client.Client, id string) (map[string][]string, []byte) {
	t.Helper()
	scopes := map[string][]string{}
	var raw bytes.Buffer
	it := c.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := proto.Marshal(ev)
		raw.Write(b)
		name := ev.GetEventType().String()
		if err := proxy.VisitPayloads(context.Background(), ev, proxy.VisitPayloadsOptions{SkipSearchAttributes: true,
			Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
				for _, p := range ps {
					s, ok := codec.PayloadScope(p)
					if !ok {
						return nil, fmt.Errorf("%s: a payload not encrypted with a scope: %v", name, p.GetMetadata())
					}
					scopes[name] = append(scopes[name], s)
				}
				return ps, nil
			}}); err != nil {
			t.Fatalf("history of %s: %v", id, err)
		}
	}
	return scopes, raw.Bytes()
}

func TestSDKBindsCodecToWorkflow(t *testing.T) {
	cfg := config.FromEnv()
	if os.Getenv("MADOGUCHI_TEMPORAL_ADDR") == "" {
		t.Skip("needs a Temporal server: MADOGUCHI_TEMPORAL_ADDR")
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	path := filepath.Join(t.TempDir(), "codec.key")
	if err := os.WriteFile(path, []byte(hex.EncodeToString(key)), 0o600); err != nil {
		t.Fatal(err)
	}
	cdc, err := codec.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	opts := OptionsWith(cfg, cdc)
	// The worker logs activity errors, personal data of this test included.
	opts.Logger = log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	tc, err := client.Dial(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	raw, err := client.Dial(client.Options{HostPort: cfg.TemporalAddr, Namespace: cfg.TemporalNamespace})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()

	run := hex.EncodeToString(key[:4])
	queue := "codec-scope-check-" + run
	w := worker.New(tc, queue, worker.Options{})
	w.RegisterWorkflow(scopeCheckWorkflow)
	w.RegisterWorkflow(scopeCheckTarget)
	w.RegisterWorkflow(scopeCheckChild)
	w.RegisterActivity(scopeCheckActivity)
	w.RegisterActivity(scopeCheckFailingActivity)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	secret := "山田太郎-" + run
	in := scopeCheckInput{
		Secret: secret,
		Target: "codec-check/141003-R131016-" + run,
		Child:  "codec-check/272035-" + run,
	}
	id := "codec-check/131016-" + run
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// The gateway's cross-check: its municipality against the workflow's.
	if _, err := tc.ExecuteWorkflow(codec.WithScope(ctx, "141003"), client.StartWorkflowOptions{ID: id, TaskQueue: queue},
		scopeCheckWorkflow, in); !errors.Is(err, codec.ErrScopeMismatch) {
		t.Fatalf("start with a contradicting scope: %v, want ErrScopeMismatch", err)
	}
	target, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: in.Target, TaskQueue: queue}, scopeCheckTarget)
	if err != nil {
		t.Fatal(err)
	}
	gw := codec.WithScope(ctx, "131016")
	wr, err := tc.ExecuteWorkflow(gw, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, scopeCheckWorkflow, in)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := target.Get(ctx, &got); err != nil || got != "signal "+secret {
		t.Fatalf("target got %q, %v", got, err)
	}
	v, err := tc.QueryWorkflow(gw, id, "", scopeCheckQuery)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Get(&got); err != nil || got != "state "+secret {
		t.Fatalf("query %q, %v", got, err)
	}
	for _, fail := range []bool{true, false} {
		h, err := tc.UpdateWorkflow(gw, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: scopeCheckUpdate,
			Args: []any{fail}, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err != nil {
			t.Fatal(err)
		}
		err = h.Get(ctx, &got)
		if fail && (err == nil || !bytes.Contains([]byte(err.Error()), []byte("update refused "+secret))) {
			t.Fatalf("failed update: %v (the client must decode the failure)", err)
		}
		if !fail && (err != nil || got != "update "+secret) {
			t.Fatalf("update %q, %v", got, err)
		}
	}
	err = wr.Get(ctx, nil)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("workflow refused "+secret)) {
		t.Fatalf("workflow result: %v", err)
	}

	for _, h := range []struct {
		id   string
		want map[string]string // event type → the scope of all its payloads; other types hold none
	}{
		{id, map[string]string{
			"WorkflowExecutionStarted":                 "131016",
			"ActivityTaskScheduled":                    "131016",
			"ActivityTaskCompleted":                    "131016",
			"ActivityTaskFailed":                       "131016",
			"MarkerRecorded":                           "131016", // local activities
			"StartChildWorkflowExecutionInitiated":     "272035", // the child's
			"ChildWorkflowExecutionCompleted":          "272035",
			"SignalExternalWorkflowExecutionInitiated": "141003", // the target's
			"WorkflowExecutionUpdateAccepted":          "131016",
			"WorkflowExecutionUpdateCompleted":         "131016",
			"WorkflowExecutionFailed":                  "131016",
		}},
		{in.Target, map[string]string{"WorkflowExecutionSignaled": "141003", "WorkflowExecutionCompleted": "141003"}},
		{in.Child, map[string]string{"WorkflowExecutionStarted": "272035", "WorkflowExecutionCompleted": "272035"}},
	} {
		scopes, hist := eventScopes(t, raw, h.id)
		if bytes.Contains(hist, []byte("山田太郎")) {
			t.Fatalf("%s: personal data in clear in the history", h.id)
		}
		for ev, ss := range scopes {
			want, listed := h.want[ev]
			for _, s := range ss {
				if !listed || s != want {
					t.Errorf("%s: %s holds a payload under scope %q, want %q", h.id, ev, s, want)
				}
			}
		}
		for ev := range h.want {
			if len(scopes[ev]) == 0 {
				t.Errorf("%s: no payload in %s", h.id, ev)
			}
		}
		t.Logf("%s: %v", h.id, scopes)
	}
}
