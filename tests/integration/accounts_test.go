package integration

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestProductionStartRefusesDemoAccounts: the gateway started as in
// production (MADOGUCHI_DEMO unset) on this database, which holds the
// demo's accounts, refuses to serve and says why.
func TestProductionStartRefusesDemoAccounts(t *testing.T) {
	beginTest(t)
	cmd := exec.Command(filepath.Join(cfg.Bin, "gateway"))
	cmd.Env = append(cmd.Environ(), "MADOGUCHI_DEMO=0", "MADOGUCHI_GATEWAY_ADDR=127.0.0.1:18099", "MADOGUCHI_METRICS_ADDR=")
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the production gateway kept running with demo accounts in the database")
	}
	if err == nil || !strings.Contains(string(out), "demo accounts") || !strings.Contains(string(out), "clerk1") {
		t.Fatalf("exit %v, output:\n%s", err, out)
	}
	if res, err := http.Get("http://127.0.0.1:18099/healthz"); err == nil {
		res.Body.Close()
		t.Fatal("it served")
	}
}
