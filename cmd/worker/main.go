// Command worker runs the municipal worker: the procedures of the catalog
// and the municipal database's activities. The Organization's CA worker is
// the separate command caworker, so this binary links no PKCS#11.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/madoguchi/madoguchi/internal/config"
	"github.com/madoguchi/madoguchi/internal/logs"
	"github.com/madoguchi/madoguchi/worker"
)

func main() {
	logs.Default()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := worker.RunMunicipal(ctx, config.FromEnv()); err != nil {
		slog.Error("municipal worker stopped", "err", err)
		os.Exit(1)
	}
}
