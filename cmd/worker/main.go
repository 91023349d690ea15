// Command worker runs a madoguchi Temporal worker:
//
//	worker -role municipal   procedures and the municipal database's activities
//	worker -role ca          the Organization's CA (HSM, jlis database)
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/madoguchi/madoguchi/internal/config"
	"github.com/madoguchi/madoguchi/worker"
)

func main() {
	role := flag.String("role", "municipal", "municipal or ca")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := config.FromEnv()
	var err error
	switch *role {
	case "municipal":
		err = worker.RunMunicipal(ctx, cfg)
	case "ca":
		err = worker.RunCA(ctx, cfg)
	default:
		err = fmt.Errorf("unknown role %q: use municipal or ca", *role)
	}
	if err != nil {
		slog.Error("worker stopped", "role", *role, "err", err)
		os.Exit(1)
	}
}
