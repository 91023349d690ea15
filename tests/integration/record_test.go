package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/madoguchi/madoguchi/internal/codec"
	"github.com/madoguchi/madoguchi/internal/historyrec"
	"github.com/madoguchi/madoguchi/internal/searchattr"
	"github.com/madoguchi/madoguchi/workflows"
)

// envRecordHistories names a folder: when set, the integration run ends by
// writing, for every procedure of the catalog and every ending it reached,
// one decoded history there (<procedure>-<status>.history.json), to be
// copied into workflows/testdata for the replay tests. The runs use demo
// data only.
const envRecordHistories = "MADOGUCHI_RECORD_HISTORIES"

// recordHistories writes those histories; it runs after the tests, in
// TestMain, so it is no test of its own.
func recordHistories() error {
	dir := os.Getenv(envRecordHistories)
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	c, err := codec.Load(cfg.CodecKeyFile)
	if err != nil {
		return err
	}
	raw, err := client.Dial(rawOptions())
	if err != nil {
		return err
	}
	defer raw.Close()
	ctx := context.Background()
	for _, p := range workflows.Catalog {
		resp, err := raw.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: cfg.TemporalNamespace, PageSize: 1000,
			Query: fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Completed'", p.WorkflowType)})
		if err != nil {
			return err
		}
		done := map[string]bool{}
		for _, e := range resp.GetExecutions() {
			f := e.GetSearchAttributes().GetIndexedFields()
			status := searchattr.KeywordOf(f, searchattr.Status)
			if status == "" || done[status] {
				continue
			}
			b, err := historyrec.Record(ctx, raw, c, e.GetExecution().GetWorkflowId())
			if err != nil {
				return err
			}
			done[status] = true
			if err := os.WriteFile(filepath.Join(dir, p.Name+"-"+status+".history.json"), b, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}
