// Command setup prepares a state folder's databases and HSM: it applies the
// migrations of the municipal and the Organization's databases, bootstraps
// the Organization's two issuing CAs in the HSM, and loads the demo data; it
// makes the municipalities' sealing keys and the demo terminals' key for the
// PIN reset (<state>/terminal-auth).
// It is idempotent: `make run` calls it at every start.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/madoguchi/madoguchi/internal/config"
	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/internal/logs"
	"github.com/madoguchi/madoguchi/internal/sealing"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/internal/temporalclient"
	"github.com/madoguchi/madoguchi/internal/terminalauth"
	"github.com/madoguchi/madoguchi/worker/caworker"
	"github.com/madoguchi/madoguchi/workflows"
)

func main() {
	logs.Default()
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
	// The demo's offices, staff (with the published demo password) and
	// residents, only when asked for: a production gateway refuses to start
	// while demo accounts are in the database (MADOGUCHI_DEMO).
	withDemo := os.Getenv("MADOGUCHI_DEMO") == "1"
	if withDemo {
		if err := demo.Seed(ctx, db); err != nil {
			return err
		}
	}
	if err := caworker.Setup(ctx, cfg); err != nil {
		return fmt.Errorf("CA: %w", err)
	}
	// The daily CRL publication (manual 第1 4 (3)) is a Temporal Schedule.
	tc, err := temporalclient.Dial(cfg)
	if err != nil {
		return err
	}
	defer tc.Close()
	if err := workflows.EnsureRevocationListSchedule(ctx, tc); err != nil {
		return fmt.Errorf("CRL schedule: %w", err)
	}
	// The audit trail's daily anchors (第3 10, docs/AUDIT.md).
	if err := workflows.EnsureAuditAnchorSchedule(ctx, tc); err != nil {
		return fmt.Errorf("audit anchor schedule: %w", err)
	}
	// The Organization's daily expiry notices (issue 12).
	if err := workflows.EnsureExpiryNoticeSchedule(ctx, tc); err != nil {
		return fmt.Errorf("expiry notice schedule: %w", err)
	}
	// The daily disposal lists of the retention periods (第3 3).
	if err := workflows.EnsureRetentionDisposalSchedule(ctx, tc); err != nil {
		return fmt.Errorf("retention disposal schedule: %w", err)
	}
	// A back office started today publishes today's CRLs now, not at the
	// next midnight, so verifiers find them at once; once per day.
	if _, err := workflows.StartPublishRevocationLists(ctx, tc, "setup-"+time.Now().In(storage.Tokyo).Format("20060102")); err != nil {
		return fmt.Errorf("first CRLs: %w", err)
	}
	for _, m := range []string{demo.Chiyoda, demo.Yokohama} {
		if !withDemo {
			break
		}
		if err := ensureSealingKey(ctx, db, filepath.Join(cfg.State, "sealing", m), m); err != nil {
			return err
		}
	}
	// The demo terminals' key for the PIN reset, and the authority file the
	// virtual cards are provisioned with (docs/CARD.md §5a); made once.
	if _, err := terminalauth.Ensure(filepath.Join(cfg.State, "terminal-auth")); err != nil {
		return err
	}
	if !withDemo {
		fmt.Println("setup: municipal and jlis databases migrated, CA keys in the HSM, terminal key made; no demo data (MADOGUCHI_DEMO is not 1)")
		return nil
	}
	fmt.Println("setup: municipal and jlis databases migrated, CA keys in the HSM, sealing and terminal keys made, demo data loaded")
	return nil
}

// ensureSealingKey gives a municipality its first PIN-notice sealing key
// when it has none whose private key is on this machine.
func ensureSealingKey(ctx context.Context, db *storage.DB, dir, municipality string) error {
	cur, err := db.CurrentSealingKey(ctx, municipality)
	if err == nil {
		if _, statErr := os.Stat(filepath.Join(dir, cur.KeyID+".key")); statErr == nil {
			return nil
		}
	} else if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	if _, err := sealing.Rotate(ctx, dir, municipality, db); err != nil {
		return fmt.Errorf("sealing key of %s: %w", municipality, err)
	}
	return nil
}
