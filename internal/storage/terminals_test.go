package storage_test

import (
	"context"
	"errors"
	"fmt"
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

// TestTerminalRegisteredAndDecommissioned: a terminal registered with its
// card agent's identity is active with who and when; the same id or agent
// again is ErrTerminalExists, an unknown office ErrNotFound. Decommissioning
// it retires the office's current sealing key (its overlap as for a
// rotation) and returns the open cases started on it, not the closed ones
// nor another terminal's; a second decommissioning is ErrTerminalStatus.
func TestTerminalRegisteredAndDecommissioned(t *testing.T) {
	db := storagetest.Seeded(t)
	ctx := context.Background()
	manager := storagetest.Clerk(t, db, "kawasaki1")
	m := testMunicipality(t, db)
	id, other := "R"+m, "S"+m
	t.Cleanup(func() {
		db.Pool.Exec(ctx, `DELETE FROM cases WHERE municipality_code = $1`, m)
		db.Pool.Exec(ctx, `DELETE FROM terminals WHERE municipality_code = $1`, m)
		db.Pool.Exec(ctx, `DELETE FROM offices WHERE code = $1`, m)
	})
	if _, err := db.Pool.Exec(ctx, `INSERT INTO offices (code, kind, name) VALUES ($1, 'municipality', 'sealing test') ON CONFLICT DO NOTHING`, m); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, storage.Tokyo)
	reg := storage.Terminal{ID: id, MunicipalityCode: m, ReaderName: "Virtual PCD 00 01", AgentIdentity: "agent-" + id, RegisteredBy: manager.ID,
		RegisteredAt: &now, HoldsSealingKeys: true}
	if err := db.RegisterTerminal(ctx, reg); err != nil {
		t.Fatal(err)
	}
	got, err := db.Terminal(ctx, id)
	if err != nil || got.Status != storage.TerminalActive || got.AgentIdentity != "agent-"+id || got.RegisteredBy != manager.ID ||
		got.RegisteredAt == nil || !got.RegisteredAt.Equal(now) || got.PINReset || !got.HoldsSealingKeys {
		t.Fatalf("registered %+v, %v", got, err)
	}
	for _, bad := range []storage.Terminal{
		{ID: id, MunicipalityCode: m, ReaderName: "r", RegisteredBy: manager.ID, RegisteredAt: &now},
		{ID: other, MunicipalityCode: m, ReaderName: "r", AgentIdentity: "agent-" + id, RegisteredBy: manager.ID, RegisteredAt: &now},
	} {
		if err := db.RegisterTerminal(ctx, bad); !errors.Is(err, storage.ErrTerminalExists) {
			t.Errorf("registered again %+v: %v", bad, err)
		}
	}
	if err := db.RegisterTerminal(ctx, storage.Terminal{ID: "U" + m, MunicipalityCode: "nowhere", ReaderName: "r", RegisteredBy: manager.ID, RegisteredAt: &now}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("an unknown office: %v", err)
	}
	if err := db.RegisterTerminal(ctx, storage.Terminal{ID: other, MunicipalityCode: m, ReaderName: "r", RegisteredBy: manager.ID, RegisteredAt: &now}); err != nil {
		t.Fatal(err)
	}
	key := genKey(t, t.TempDir(), m)
	if err := db.RegisterSealingKey(ctx, key, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Cases: open on the terminal, closed on it, open on the other one.
	var open string
	for i, c := range []struct{ terminal, status string }{{id, "open"}, {id, "completed"}, {other, "open"}} {
		number := fmt.Sprintf("%s-20261202-%06d", m, i+1)
		if err := db.InsertCase(ctx, storage.Case{CaseNumber: number, MunicipalityCode: m, Procedure: "inperson-issuance",
			WorkflowID: "inperson-issuance/" + number, OpenedBy: manager.ID, TerminalID: c.terminal}); err != nil {
			t.Fatal(err)
		}
		if c.status != "open" {
			if _, err := db.Pool.Exec(ctx, `UPDATE cases SET status = $2 WHERE case_number = $1`, number, c.status); err != nil {
				t.Fatal(err)
			}
		} else if c.terminal == id {
			open = number
		}
	}
	d, err := db.DecommissionTerminal(ctx, id, []string{storage.TerminalActive, storage.TerminalSuspended}, manager.ID, now)
	if err != nil || d.RetiredSealingKey != key.KeyID || len(d.OpenCases) != 1 || d.OpenCases[0] != open {
		t.Fatalf("decommissioned: %+v, %v", d, err)
	}
	if _, err := db.CurrentSealingKey(ctx, m); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the office still has a current sealing key: %v", err)
	}
	if got, _ := db.Terminal(ctx, id); got.Status != storage.TerminalDecommissioned || got.StatusChangedBy != manager.ID {
		t.Errorf("terminal %+v", got)
	}
	if _, err := db.DecommissionTerminal(ctx, id, []string{storage.TerminalActive, storage.TerminalSuspended}, manager.ID, now); !errors.Is(err, storage.ErrTerminalStatus) {
		t.Errorf("decommissioned twice: %v", err)
	}
	// The Organization grants the other terminal the PIN-reset authority;
	// a decommissioned one gets none.
	if err := db.SetPINResetAuthority(ctx, other, true, manager.ID, now); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Terminal(ctx, other); !got.PINReset {
		t.Error("the authority was not granted")
	}
	if err := db.SetPINResetAuthority(ctx, id, true, manager.ID, now); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a decommissioned terminal authorised: %v", err)
	}
	// The other terminal holds no sealing keys: a new current key stays.
	key2 := genKey(t, t.TempDir(), m)
	if err := db.RegisterSealingKey(ctx, key2, now); err != nil {
		t.Fatal(err)
	}
	if d, err := db.DecommissionTerminal(ctx, other, []string{storage.TerminalActive}, manager.ID, now); err != nil || d.RetiredSealingKey != "" || len(d.OpenCases) != 1 {
		t.Errorf("the other terminal: %+v, %v", d, err)
	}
	if cur, err := db.CurrentSealingKey(ctx, m); err != nil || cur.KeyID != key2.KeyID {
		t.Errorf("the key retired with a terminal that held none: %+v, %v", cur, err)
	}
}
