package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/madoguchi/madoguchi/internal/cardproto"
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
