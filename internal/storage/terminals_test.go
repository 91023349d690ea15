package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/internal/storage/storagetest"
)

// TestTerminalStatus: a terminal is active when registered; it is
// suspended from active only, decommissioned from active or suspended,
// never changed after, with who and when; the office's list has it with
// its status; the schema refuses an unknown status.
func TestTerminalStatus(t *testing.T) {
	db := storagetest.Seeded(t)
	ctx := context.Background()
	manager := storagetest.Clerk(t, db, "kawasaki1")
	// A fresh office and terminal per run, so that the demo's stay active.
	office := storagetest.FreshOffice(t, db)
	id := "X" + office
	if _, err := db.Pool.Exec(ctx, `INSERT INTO terminals (id, municipality_code, reader_name, pin_reset) VALUES ($1, $2, 'Virtual PCD', true)`, id, office); err != nil {
		t.Fatal(err)
	}
	term, err := db.Terminal(ctx, id)
	if err != nil || term.Status != storage.TerminalActive || !term.PINReset || term.StatusChangedAt != nil {
		t.Fatalf("registered %+v, %v", term, err)
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, storage.Tokyo)
	suspend := []string{storage.TerminalActive}
	decommission := []string{storage.TerminalActive, storage.TerminalSuspended}
	if err := db.SetTerminalStatus(ctx, id, suspend, storage.TerminalSuspended, manager.ID, at); err != nil {
		t.Fatal(err)
	}
	if err := db.SetTerminalStatus(ctx, id, suspend, storage.TerminalSuspended, manager.ID, at); !errors.Is(err, storage.ErrTerminalStatus) {
		t.Errorf("suspended twice: %v", err)
	}
	if err := db.SetTerminalStatus(ctx, id, decommission, storage.TerminalDecommissioned, manager.ID, at); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{storage.TerminalSuspended, storage.TerminalDecommissioned} {
		if err := db.SetTerminalStatus(ctx, id, decommission, to, manager.ID, at); !errors.Is(err, storage.ErrTerminalStatus) {
			t.Errorf("%s after the decommissioning: %v", to, err)
		}
	}
	if err := db.SetTerminalStatus(ctx, "no-such-terminal", suspend, storage.TerminalSuspended, manager.ID, at); !errors.Is(err, storage.ErrTerminalStatus) {
		t.Errorf("unknown terminal: %v", err)
	}
	ts, err := db.Terminals(ctx, office)
	if err != nil || len(ts) != 1 || ts[0].ID != id || ts[0].Status != storage.TerminalDecommissioned || ts[0].StatusChangedBy != manager.ID ||
		ts[0].StatusChangedAt == nil || !ts[0].StatusChangedAt.Equal(at) {
		t.Fatalf("listed %+v, %v", ts, err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE terminals SET status = 'broken' WHERE id = $1`, id); err == nil {
		t.Error("the schema took an unknown status")
	}
}
