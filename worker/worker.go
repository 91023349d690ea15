// Package worker runs the municipal worker: the procedures of the catalog
// and the municipal database's activities. The Organization's CA worker is
// worker/caworker, a binary of its own.
package worker

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/activities/municipal"
	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/config"
	"github.com/madoguchi/madoguchi/internal/metrics"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/internal/temporalclient"
	"github.com/madoguchi/madoguchi/workflows"
)

// RegisterMunicipal registers the procedures and municipal activities on w;
// tests and the benchmark use it to build the same worker.
func RegisterMunicipal(w sdkworker.Registry, db *storage.DB, tc client.Client) {
	workflows.RegisterAll(w)
	w.RegisterActivity(&municipal.Municipal{Store: db})
	w.RegisterActivity(&municipal.Inquiry{Store: db})
	w.RegisterActivity(&municipal.Relay{Store: db, Temporal: tc})
	w.RegisterActivity(&municipal.RegisterChanges{Store: db})
	// The audit trail's daily anchors (docs/AUDIT.md).
	w.RegisterWorkflowWithOptions(workflows.AuditChainAnchors, workflow.RegisterOptions{Name: workflows.AuditChainAnchorsWorkflow})
	w.RegisterActivity(&municipal.Audit{Store: db})
	// The daily disposal lists (第3 3): the Schedule's run starts the cases.
	w.RegisterWorkflowWithOptions(workflows.RetentionDisposalDay, workflow.RegisterOptions{Name: workflows.RetentionDisposalDayWorkflow})
	w.RegisterActivity(&municipal.Disposal{Store: db})
}

// RunMunicipal runs the municipal worker until ctx ends.
func RunMunicipal(ctx context.Context, cfg config.Config) error {
	if err := config.Require("MADOGUCHI_DB_DSN", cfg.DBDSN); err != nil {
		return err
	}
	db, err := storage.Open(ctx, cfg.DBDSN)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := metrics.Serve(ctx, cfg.MetricsAddr); err != nil {
		return fmt.Errorf("municipal worker: metrics: %w", err)
	}
	tc, err := temporalclient.Dial(cfg)
	if err != nil {
		return err
	}
	defer tc.Close()
	w := sdkworker.New(tc, contract.MunicipalTaskQueue, MunicipalOptions())
	RegisterMunicipal(w, db, tc)
	return run(ctx, w)
}

// MunicipalOptions tunes the municipal worker: procedures run many short
// workflow tasks, so more pollers keep a burst of counters from queueing.
func MunicipalOptions() sdkworker.Options {
	return sdkworker.Options{MaxConcurrentWorkflowTaskPollers: 8, MaxConcurrentLocalActivityExecutionSize: 64}
}

// run runs a worker until ctx ends.
func run(ctx context.Context, w sdkworker.Worker) error {
	if err := w.Start(); err != nil {
		return fmt.Errorf("worker: start: %w", err)
	}
	<-ctx.Done()
	w.Stop()
	return nil
}
