// Package hsmtest makes throw-away SoftHSM2 tokens for tests, so that every
// test signs with keys in a real PKCS#11 token of its own and no test can see
// another's keys.
package hsmtest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/miekg/pkcs11"

	"github.com/madoguchi/madoguchi/internal/ca/hsm"
)

// Enabled reports whether the environment says SoftHSM2 is available: the
// project's test script sets SOFTHSM2_CONF and MADOGUCHI_PKCS11_PIN.
func Enabled() bool {
	return os.Getenv(hsm.EnvSoftHSMConf) != "" || os.Getenv(hsm.EnvPIN) != ""
}

// NewToken initializes a fresh SoftHSM2 token in t.TempDir(), points
// SOFTHSM2_CONF at it for the rest of the test (so the test cannot run in
// parallel, which also keeps the process-wide PKCS#11 module state simple) and
// returns the configuration to open it. It skips the test when SoftHSM2 is
// not configured in the environment.
func NewToken(t testing.TB) hsm.Config {
	t.Helper()
	if !Enabled() {
		t.Skip("SoftHSM2 not configured: set SOFTHSM2_CONF or MADOGUCHI_PKCS11_PIN (the project's test script does)")
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	body := "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	label := "t-" + randHex(t, 6)
	pin := randHex(t, 8)
	so := randHex(t, 8)
	cmd := exec.Command("softhsm2-util", "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", so)
	cmd.Env = append(os.Environ(), hsm.EnvSoftHSMConf+"="+conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("softhsm2-util --init-token: %v: %s", err, out)
	}
	t.Setenv(hsm.EnvSoftHSMConf, conf)
	return hsm.Config{Module: module(), TokenLabel: label, PIN: pin, SoftHSMConf: conf}
}

func module() string {
	if m := os.Getenv(hsm.EnvModule); m != "" {
		return m
	}
	return hsm.DefaultModule
}

// CloseAllSessions makes the token labelled label forget every session of
// this process, as a token restart does, so that tests can check that
// signers reopen it: it loads the module a second time (the library and its
// state are shared within the process) and calls C_CloseAllSessions.
func CloseAllSessions(t testing.TB, label string) {
	t.Helper()
	p := pkcs11.New(module())
	if p == nil {
		t.Fatalf("load %s", module())
	}
	defer p.Destroy() // not Finalize: the HSM under test still uses the library
	if err := p.Initialize(); err != nil && !errors.Is(err, pkcs11.Error(pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
		t.Fatal(err)
	}
	slots, err := p.GetSlotList(true)
	if err != nil {
		t.Fatal(err)
	}
	for _, slot := range slots {
		info, err := p.GetTokenInfo(slot)
		if err != nil {
			t.Fatal(err)
		}
		if info.Label == label {
			if err := p.CloseAllSessions(slot); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("token %q not found", label)
}

// Open makes a token with NewToken, opens it (through hsm.Open, which
// retries a transient failure and logs each retry to the test log) and
// closes it when the test ends.
func Open(t testing.TB) (*hsm.HSM, hsm.Config) {
	t.Helper()
	cfg := NewToken(t)
	cfg.Retry.Logger = Logger(t)
	h, err := hsm.Open(cfg)
	if err != nil {
		t.Fatalf("hsm.Open: %v", err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h, cfg
}

// Logger sends the HSM's retries and reopens (warnings, information) to the
// test log.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, nil))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func randHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
