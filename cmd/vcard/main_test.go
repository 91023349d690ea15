package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/madoguchi/madoguchi/internal/cardproto"
	"github.com/madoguchi/madoguchi/internal/terminalauth"
	"github.com/madoguchi/madoguchi/internal/vcard"
)

func TestRandomSerialIsValidAndRandom(t *testing.T) {
	a, err := randomSerial()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := randomSerial()
	if a == b {
		t.Fatalf("two serials equal: %s", a)
	}
	if err := (cardproto.CardInfo{Serial: a, Expiry: "20350101"}).Validate(); err != nil {
		t.Fatalf("serial %q: %v", a, err)
	}
}

func TestQuietLowersOnlyCommandRecords(t *testing.T) {
	var buf bytes.Buffer
	base := slog.NewTextHandler(&buf, nil) // Info and above
	l := slog.New(commandLevel{base})
	l.Info("command", "cmd", "VERIFY")
	l.Info("power on")
	out := buf.String()
	if strings.Contains(out, "VERIFY") || !strings.Contains(out, "power on") {
		t.Fatalf("log output %q", out)
	}
	if !(commandLevel{base}).Enabled(context.Background(), slog.LevelDebug) {
		t.Fatal("handler must see debug records to re-level them")
	}
}

// TestProvisionTrustsTheAuthority: the card file ends up trusting the key
// in the authority file, whether it trusted none or another; a second run
// with the same file leaves it untouched.
func TestProvisionTrustsTheAuthority(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"old", "new"} {
		if _, err := terminalauth.Ensure(filepath.Join(dir, sub)); err != nil {
			t.Fatal(err)
		}
	}
	statePath := filepath.Join(dir, "card.json")
	st, _, err := vcard.LoadOrCreate(statePath, "VC0001", "20351231")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	for _, sub := range []string{"old", "new", "new"} {
		file := filepath.Join(dir, sub, terminalauth.AuthorityFile)
		if err := provision(statePath, st, file, log); err != nil {
			t.Fatal(err)
		}
		want, _ := terminalauth.LoadAuthority(file)
		saved, err := vcard.LoadState(statePath)
		if err != nil || !bytes.Equal(saved.TerminalAuthority, want) {
			t.Fatalf("after provisioning with %s the card trusts another key (%v)", sub, err)
		}
	}
	if err := provision(statePath, st, filepath.Join(dir, "missing.pub"), log); err == nil {
		t.Fatal("a missing authority file was accepted")
	}
}
