package interop

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/ocsp"
	"github.com/madoguchi/madoguchi/internal/ocsp/ocsptest"
	"github.com/madoguchi/madoguchi/internal/reasons"
	"github.com/madoguchi/madoguchi/internal/verifier"
	"github.com/madoguchi/madoguchi/repository"
)

// TestOpenSSLOCSPClientReadsOurAnswers runs `openssl ocsp` as a verifier
// would against the repository server (real Postgres, CA and responder keys
// in SoftHSM): good, revoked with reason, held, and the error statuses.
func TestOpenSSLOCSPClientReadsOurAnswers(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl not found: install the openssl package (scripts/install.sh)")
	}
	env := ocsptest.New(t, "")
	ctx := context.Background()
	good := env.IssuePair(t)
	bad := env.IssuePair(t)
	resp, err := ocsp.New(ctx, env.Pool, env.HSM, env.CA, ocsp.Options{Logger: ocsptest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := verifier.NewRegistry(ctx, env.Pool, ocsptest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = resp.Run(runCtx) }()
	srv, err := repository.New(repository.Config{Pool: env.Pool, OCSP: resp, Verifiers: reg, Logger: ocsptest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()

	_, bothKey, err := verifier.Register(ctx, env.Pool, verifier.Registration{Name: "interop both",
		Category: verifier.CategoryAccreditedCA, Roles: []verifier.Role{verifier.RoleSignature, verifier.RoleUserAuth}})
	if err != nil {
		t.Fatal(err)
	}
	_, authKey, err := verifier.Register(ctx, env.Pool, verifier.Registration{Name: "interop auth only",
		Category: verifier.CategoryDesignated, Roles: []verifier.Role{verifier.RoleUserAuth}})
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Reload(ctx); err != nil {
		t.Fatal(err)
	}

	if _, err := env.CA.Revoke(ctx, ca.RevokeRequest{RequestID: "interop/revoke", Serial: bad.Result.Sign.Serial,
		Reason: reasons.KeyCompromise}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.CA.Hold(ctx, ca.HoldRequest{RequestID: "interop/hold", Serial: bad.Result.Auth.Serial}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	files := map[string]*x509.Certificate{"good-sign.pem": good.Sign, "good-auth.pem": good.Auth, "bad-sign.pem": bad.Sign, "bad-auth.pem": bad.Auth}
	for name, c := range files {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	caFile := map[ca.Kind]string{ca.KindSign: filepath.Join(env.PEMDir, ca.PEMFileName(ca.KindSign)),
		ca.KindAuth: filepath.Join(env.PEMDir, ca.PEMFileName(ca.KindAuth))}

	run := func(kind ca.Kind, certFile, key string) (string, error) {
		t.Helper()
		args := []string{"ocsp", "-issuer", caFile[kind], "-cert", filepath.Join(dir, certFile),
			"-url", hs.URL + "/ocsp", "-CAfile", caFile[kind]}
		if key != "" {
			args = append(args, "-header", verifier.HeaderName+"="+key)
		}
		out, err := exec.Command(openssl, args...).CombinedOutput()
		return string(out), err
	}

	tests := []struct {
		name     string
		kind     ca.Kind
		cert     string
		key      string
		want     []string
		verifyOK bool
	}{
		{"good signing", ca.KindSign, "good-sign.pem", bothKey, []string{"good-sign.pem: good"}, true},
		{"good user authentication", ca.KindAuth, "good-auth.pem", authKey, []string{"good-auth.pem: good"}, true},
		{"revoked signing", ca.KindSign, "bad-sign.pem", bothKey, []string{"bad-sign.pem: revoked", "Reason: keyCompromise", "Revocation Time:"}, true},
		{"held user authentication", ca.KindAuth, "bad-auth.pem", bothKey, []string{"bad-auth.pem: revoked", "Reason: certificateHold"}, true},
		{"unregistered caller", ca.KindSign, "good-sign.pem", "", []string{"Responder Error: unauthorized (6)"}, false},
		{"user-auth verifier asks about a signing certificate", ca.KindSign, "good-sign.pem", authKey, []string{"Responder Error: unauthorized (6)"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(tc.kind, tc.cert, tc.key)
			// openssl exits 0 when the answer verified, 1 for an error status.
			if (err == nil) != tc.verifyOK {
				t.Errorf("openssl exit: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("openssl output lacks %q:\n%s", w, out)
				}
			}
			if got := strings.Contains(out, "Response verify OK"); got != tc.verifyOK {
				t.Errorf("Response verify OK = %v, want %v:\n%s", got, tc.verifyOK, out)
			}
			// The answer's validity window is what openssl prints back.
			if tc.verifyOK && !regexp.MustCompile(`This Update: .+\n\s+Next Update: .+`).MatchString(out) {
				t.Errorf("no This/Next Update:\n%s", out)
			}
		})
	}
}
