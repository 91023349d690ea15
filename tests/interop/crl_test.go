package interop

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/ca/hsmtest"
	"github.com/madoguchi/madoguchi/internal/crl"
	"github.com/madoguchi/madoguchi/internal/reasons"
)

// TestOpenSSLVerifyWithOurCRLs checks our CRLs the way a verifier using
// OpenSSL would: `openssl verify -crl_check` accepts a valid certificate and
// rejects a revoked (or held) one, with the municipality's partition CRL and
// with the CA's full CRL; a partition CRL is refused for a certificate of
// another municipality (its issuingDistributionPoint does not match the
// certificate's CRL distribution point).
func TestOpenSSLVerifyWithOurCRLs(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl not found: install the openssl package (scripts/install.sh)")
	}
	ctx := context.Background()
	pool := crlTestSchema(t)
	if !hsmtest.Enabled() {
		t.Skip("SoftHSM2 not configured: set SOFTHSM2_CONF or MADOGUCHI_PKCS11_PIN (the project's test script does)")
	}
	h, _ := hsmtest.Open(t)
	if err := ca.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	authority, err := ca.Bootstrap(ctx, pool, h, dir, ca.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	issue := func(name string, kind ca.Kind, muni string) string {
		t.Helper()
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		spki, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
		req := ca.IssueRequest{RequestID: "interop-crl/" + name, Kind: kind, MunicipalityCode: muni,
			ResidentCode: "12345678901", PublicKeyDER: spki, NotAfter: time.Now().AddDate(1, 0, 0)}
		if kind == ca.KindSign {
			req.Personal = &ca.PersonalInfo{Name: "山田　花子", DateOfBirth: "1990-01-02", Sex: ca.SexFemale, Address: "東京都千代田区霞が関二丁目1番2号"}
		}
		r, err := authority.Issue(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		crlWritePEM(t, filepath.Join(dir, name+".pem"), "CERTIFICATE", r.CertificateDER)
		return r.Serial
	}
	issue("good", ca.KindSign, "131016")
	revoked := issue("revoked", ca.KindSign, "131016")
	issue("other", ca.KindSign, "271004")
	held := issue("held", ca.KindAuth, "131016")
	authGood := issue("auth-good", ca.KindAuth, "131016")
	partitionOf := func(serial string) string {
		t.Helper()
		var p string
		if err := pool.QueryRow(ctx, "SELECT crl_partition FROM ca_certificates WHERE serial = $1", serial).Scan(&p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := authority.Revoke(ctx, ca.RevokeRequest{RequestID: "interop-crl/revoke", Serial: revoked, Reason: reasons.KeyCompromise}); err != nil {
		t.Fatal(err)
	}
	if _, err := authority.Hold(ctx, ca.HoldRequest{RequestID: "interop-crl/hold", Serial: held}); err != nil {
		t.Fatal(err)
	}
	pub := crl.NewPublisher(authority, pool, crl.Options{Logger: quiet})
	for _, kind := range []ca.Kind{ca.KindSign, ca.KindAuth} {
		if _, err := pub.Publish(ctx, kind, "interop-run", nil); err != nil {
			t.Fatal(err)
		}
		// Signing partitions are municipalities; user-authentication
		// ones serial shards, named here after the certificate they hold.
		parts := map[string]string{"full": "", "131016": "131016", "271004": "271004"}
		if kind == ca.KindAuth {
			parts = map[string]string{"full": "", "held": partitionOf(held), "good": partitionOf(authGood)}
		}
		for name, part := range parts {
			der, _, _, err := crl.Latest(ctx, pool, kind, part)
			if err != nil {
				t.Fatal(err)
			}
			crlWritePEM(t, filepath.Join(dir, fmt.Sprintf("crl-%s-%s.pem", kind, name)), "X509 CRL", der)
		}
	}

	verify := func(caFile, crlFile, cert string) (bool, string) {
		cmd := exec.Command(openssl, "verify", "-crl_check", "-CAfile", filepath.Join(dir, caFile),
			"-CRLfile", filepath.Join(dir, crlFile), filepath.Join(dir, cert))
		out, err := cmd.CombinedOutput()
		return err == nil, string(out)
	}
	for _, c := range []struct {
		caFile, crlFile, cert string
		ok                    bool
		says                  string
	}{
		{"sign-ca.pem", "crl-sign-131016.pem", "good.pem", true, "good.pem: OK"},
		{"sign-ca.pem", "crl-sign-131016.pem", "revoked.pem", false, "certificate revoked"},
		{"sign-ca.pem", "crl-sign-full.pem", "good.pem", true, "good.pem: OK"},
		{"sign-ca.pem", "crl-sign-full.pem", "revoked.pem", false, "certificate revoked"},
		{"sign-ca.pem", "crl-sign-full.pem", "other.pem", true, "other.pem: OK"},
		{"sign-ca.pem", "crl-sign-271004.pem", "other.pem", true, "other.pem: OK"},
		// Another municipality's partition does not cover this certificate.
		{"sign-ca.pem", "crl-sign-131016.pem", "other.pem", false, "different CRL scope"},
		{"auth-ca.pem", "crl-auth-good.pem", "auth-good.pem", true, "auth-good.pem: OK"},
		{"auth-ca.pem", "crl-auth-held.pem", "held.pem", false, "certificate revoked"},
		{"auth-ca.pem", "crl-auth-full.pem", "held.pem", false, "certificate revoked"},
		// The other CA's CRL is not this certificate's.
		{"sign-ca.pem", "crl-auth-held.pem", "good.pem", false, "unable to get certificate CRL"},
	} {
		ok, out := verify(c.caFile, c.crlFile, c.cert)
		if ok != c.ok || !strings.Contains(out, c.says) {
			t.Errorf("openssl verify -crl_check %s with %s: ok=%v, want %v and %q:\n%s", c.cert, c.crlFile, ok, c.ok, c.says, out)
		}
	}

	// openssl reads the extensions as we mean them.
	out, err := exec.Command(openssl, "crl", "-in", filepath.Join(dir, "crl-auth-held.pem"), "-noout", "-text").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl crl: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{"Version 2", "sha256WithRSAEncryption", "X509v3 CRL Number:", "X509v3 Authority Key Identifier:",
		"X509v3 Issuing Distribution Point: critical", "Only User Certificates", "/crl/auth/" + partitionOf(held) + ".crl",
		"Certificate Hold", strings.ToUpper(crlEvenHex(held))} {
		if !strings.Contains(text, want) {
			t.Errorf("openssl crl -text lacks %q:\n%s", want, text)
		}
	}
}

func crlWritePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// crlEvenHex pads a serial to whole octets, as openssl prints it.
func crlEvenHex(s string) string {
	if len(s)%2 == 1 {
		return "0" + s
	}
	return s
}

// crlTestSchema gives the test its own schema of the Organization's
// database; it skips without MADOGUCHI_JLIS_DSN.
func crlTestSchema(t *testing.T) *pgxpool.Pool {
	t.Helper()
	dsn := os.Getenv("MADOGUCHI_JLIS_DSN")
	if dsn == "" {
		t.Skip("MADOGUCHI_JLIS_DSN not set: this test needs the real Postgres (the project's test script sets it)")
	}
	ctx := context.Background()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "interop_crl_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pool.Close()
		_, _ = admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close(context.Background())
	})
	return pool
}
