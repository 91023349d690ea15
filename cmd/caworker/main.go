// Command caworker runs the Organization's CA worker: issuance, revocation,
// hold and release through the HSM, and the CRL publication, on the
// "jlis-ca" task queue. It alone holds the HSM PIN and the jlis database.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/madoguchi/madoguchi/internal/config"
	"github.com/madoguchi/madoguchi/internal/logs"
	"github.com/madoguchi/madoguchi/worker/caworker"
)

func main() {
	logs.Default()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := caworker.Run(ctx, config.FromEnv()); err != nil {
		slog.Error("ca worker stopped", "err", err)
		os.Exit(1)
	}
}
