package workflows

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/madoguchi/madoguchi/internal/codec"
	"github.com/madoguchi/madoguchi/internal/config"
)

// TestReplayRecordedHistories replays histories recorded from real runs of
// the procedures (testdata/*.history.json) against the current code: a change
// that would break a running procedure fails here and needs workflow.GetVersion.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/*.history.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no recorded histories in testdata")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(InPersonIssuance, workflow.RegisterOptions{Name: "InPersonIssuance"})
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}

// TestRecordHistory records a finished procedure's history into testdata,
// with its payloads decoded (the demo data is fictitious):
//
//	source .dev/env; MADOGUCHI_RECORD_HISTORY=<workflow id> MADOGUCHI_RECORD_AS=<name> go test -run TestRecordHistory ./workflows
func TestRecordHistory(t *testing.T) {
	id := os.Getenv("MADOGUCHI_RECORD_HISTORY")
	if id == "" {
		t.Skip("set MADOGUCHI_RECORD_HISTORY to a workflow id to record its history")
	}
	cfg := config.FromEnv()
	c, err := codec.Load(cfg.CodecKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	// A client without the codec: the history comes back as stored.
	tc, err := client.Dial(client.Options{HostPort: cfg.TemporalAddr, Namespace: cfg.TemporalNamespace})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	hist := &historypb.History{}
	it := tc.GetWorkflowHistory(context.Background(), id, "", false, 0)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		hist.Events = append(hist.Events, ev)
	}
	if err := proxy.VisitPayloads(context.Background(), hist, proxy.VisitPayloadsOptions{
		SkipSearchAttributes: true,
		Visitor: func(_ *proxy.VisitPayloadsContext, p []*common.Payload) ([]*common.Payload, error) {
			return c.Decode(p)
		},
	}); err != nil {
		t.Fatal(err)
	}
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(hist)
	if err != nil {
		t.Fatal(err)
	}
	name := os.Getenv("MADOGUCHI_RECORD_AS")
	if name == "" {
		name = "recorded"
	}
	if err := os.WriteFile(filepath.Join("testdata", name+".history.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
