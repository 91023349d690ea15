// Command temporal-server is the Temporal server (go.temporal.io/server, the version the pinned
// CLI embeds) built with madoguchi's ClaimMapper and Authorizer (package authz). One binary runs
// any of the services; scripts/lib.sh (md_cluster_start) runs frontend, history, matching and
// worker as four processes on loopback, on the project's Postgres, with mTLS.
//
//	temporal-server -config DIR -service frontend -namespaces default
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	_ "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql" // the postgres12 plugin

	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/temporal"

	"github.com/madoguchi/madoguchi/cluster/authz"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "temporal-server:", err)
		os.Exit(1)
	}
}

func run() error {
	configDir := flag.String("config", "", "folder holding the server's development.yaml (written by scripts/lib.sh)")
	services := flag.String("service", "frontend", "comma-separated services to run: frontend, history, matching, worker")
	namespaces := flag.String("namespaces", "default", "comma-separated namespaces the back office serves; the only ones its identities may use")
	metricsAddr := flag.String("metrics", "", "address to serve the service's Prometheus metrics on (/metrics); empty: none")
	pprofPort := flag.Int("pprof", 0, "loopback port to serve the service's Go profiles on (/debug/pprof); 0: none")
	flag.Parse()
	if *configDir == "" {
		return fmt.Errorf("-config is required")
	}
	cfg, err := config.LoadConfig("development", *configDir, "")
	if err != nil {
		return fmt.Errorf("load config: %w", err)
	}
	// One configuration for the four processes, each its own metrics port.
	if *metricsAddr != "" {
		cfg.Global.Metrics = &metrics.Config{Prometheus: &metrics.PrometheusConfig{Framework: metrics.FrameworkOpentelemetry,
			ListenAddress: *metricsAddr, HandlerPath: "/metrics"}}
	}
	if *pprofPort != 0 {
		cfg.Global.PProf = config.PProf{Port: *pprofPort, Host: "127.0.0.1"}
	}
	logger := log.NewZapLogger(log.BuildZapLogger(cfg.Log))
	dc := dynamicconfig.NewNoopClient()
	if cfg.DynamicConfigClient != nil {
		if dc, err = dynamicconfig.NewFileBasedClient(cfg.DynamicConfigClient, logger, temporal.InterruptCh()); err != nil {
			return fmt.Errorf("dynamic config: %w", err)
		}
	}
	served := map[string]bool{}
	for _, ns := range strings.Split(*namespaces, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			served[ns] = true
		}
	}
	az := authz.Authorizer{Served: served, Denied: func(subject string, call authz.Call) {
		logger.Warn("madoguchi authz: refused", tag.NewStringTag("subject", subject), tag.NewStringTag("method", call.Method),
			tag.WorkflowNamespace(call.Namespace), tag.WorkflowTaskQueueName(call.Queue.Name))
	}}
	s, err := temporal.NewServer(
		temporal.ForServices(strings.Split(*services, ",")),
		temporal.WithConfig(cfg),
		temporal.WithDynamicConfigClient(dc),
		temporal.WithLogger(logger),
		temporal.InterruptOn(temporal.InterruptCh()),
		temporal.WithAuthorizer(az),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return authz.ClaimMapper{} }),
	)
	if err != nil {
		return fmt.Errorf("new server: %w", err)
	}
	if err := s.Start(); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	return nil
}
