//go:build !madoguchi_faults

package config_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// weakeningSwitches are the environment variables that weaken a rule for the
// tests: the proxy inquiry's earliest reply and reply window, and the crash test's fault
// points. Only a build with the madoguchi_faults tag may know them.
var weakeningSwitches = []string{"MADOGUCHI_INQUIRY_EARLIEST_REPLY", "MADOGUCHI_INQUIRY_REPLY_WINDOW", "MADOGUCHI_FAULT_"}

// TestProductionBinariesHaveNoWeakeningSwitch builds every command as
// production does (no build tags) and checks that none of them contains the
// name of a switch that weakens a rule: a binary that never names the
// variable cannot read it.
func TestProductionBinariesHaveNoWeakeningSwitch(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every command; skipped with -short")
	}
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	out := t.TempDir()
	build := exec.Command("go", "build", "-o", out+string(filepath.Separator), "./cmd/...")
	build.Dir = root
	build.Env = append(os.Environ(), "GOFLAGS=") // no -tags from the caller's environment
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/...: %v\n%s", err, b)
	}
	bins, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(bins) < 3 {
		t.Fatalf("built %d commands, want every command under cmd/", len(bins))
	}
	for _, e := range bins {
		b, err := os.ReadFile(filepath.Join(out, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range weakeningSwitches {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("the production build of %s names %s", e.Name(), s)
			}
		}
	}
}
