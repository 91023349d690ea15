//go:build !madoguchi_faults

package ca

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestProductionHasNoFaultHold: in a production build (no madoguchi_faults
// tag) the crash test's switches are ignored: Issue never holds, whatever
// the environment says.
func TestProductionHasNoFaultHold(t *testing.T) {
	c := &CA{opts: Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	mark := filepath.Join(t.TempDir(), "mark")
	for _, p := range []faultPoint{faultReserved, faultSigned} {
		t.Run(string(p), func(t *testing.T) {
			t.Setenv("MADOGUCHI_FAULT_CA_HOLD", string(p))
			t.Setenv("MADOGUCHI_FAULT_CA_MARK", mark)
			done := make(chan struct{})
			go func() {
				c.holdAt(context.Background(), p, &certRow{RequestID: "131016-20260401-000001/auth", Kind: KindAuth})
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatalf("a production build holds Issue at %q", p)
			}
			if _, err := os.Stat(mark); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a production build wrote the fault mark: %v", err)
			}
		})
	}
}
