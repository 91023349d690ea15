// Command setup prepares a state folder's databases and HSM: it applies the
// migrations of the municipal and the Organization's databases, bootstraps
// the Organization's two issuing CAs in the HSM, and loads the demo data.
// It is idempotent: `make run` calls it at every start.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/madoguchi/madoguchi/internal/config"
	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/worker"
)

func main() {
	if err := run(); err != nil {
		slog.Error("setup failed", "err", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := config.FromEnv()
	if err := config.Require("MADOGUCHI_DB_DSN", cfg.DBDSN); err != nil {
		return err
	}
	db, err := storage.Open(ctx, cfg.DBDSN)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	if err := demo.Seed(ctx, db); err != nil {
		return err
	}
	if err := worker.SetupCA(ctx, cfg); err != nil {
		return fmt.Errorf("CA: %w", err)
	}
	fmt.Println("setup: municipal and jlis databases migrated, CA keys in the HSM, demo data loaded")
	return nil
}
