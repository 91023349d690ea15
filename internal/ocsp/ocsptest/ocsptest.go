// Package ocsptest gives repository and OCSP tests the real parts they run
// on: a throw-away schema in the Organization's Postgres database
// (MADOGUCHI_JLIS_DSN), a throw-away SoftHSM2 token (SOFTHSM2_CONF), a
// migrated and bootstrapped CA, and certificates issued by it. Without those
// variables the tests skip; the project's test script sets them.
package ocsptest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/ca/dbtest"
	"github.com/madoguchi/madoguchi/internal/ca/hsm"
	"github.com/madoguchi/madoguchi/internal/ca/hsmtest"
)

// EnvDSN names the Organization's database DSN.
const EnvDSN = "MADOGUCHI_JLIS_DSN"

// DB gives the test its own schema and a pool whose search_path is it; the
// schema is dropped when the test ends.
func DB(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, _ := dbtest.Schema(t, "ocsp_test", 16)
	return pool
}

// Env is a bootstrapped CA on its own schema and token.
type Env struct {
	Pool   *pgxpool.Pool
	HSM    *hsm.HSM
	CA     *ca.CA
	PEMDir string // sign-ca.pem, auth-ca.pem
	seq    atomic.Int64
}

// New makes a fresh schema, token and CA (RepositoryURL repoURL, or a dummy
// when empty). It skips without MADOGUCHI_JLIS_DSN / SoftHSM2.
func New(t testing.TB, repoURL string) *Env {
	t.Helper()
	if !hsmtest.Enabled() {
		t.Skip("SoftHSM2 not configured: set SOFTHSM2_CONF or MADOGUCHI_PKCS11_PIN (the project's test script does)")
	}
	pool := DB(t)
	h, _ := hsmtest.Open(t)
	ctx := context.Background()
	if err := ca.Migrate(ctx, pool); err != nil {
		t.Fatalf("ca.Migrate: %v", err)
	}
	if repoURL == "" {
		repoURL = "http://repo.test:8090"
	}
	dir := t.TempDir()
	c, err := ca.Bootstrap(ctx, pool, h, dir, ca.Options{RepositoryURL: repoURL, Logger: Logger(t)})
	if err != nil {
		t.Fatalf("ca.Bootstrap: %v", err)
	}
	return &Env{Pool: pool, HSM: h, CA: c, PEMDir: dir}
}

// Logger sends warnings and errors to the test log, and drops the rest.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// Key returns a fresh RSA-2048 key and its SubjectPublicKeyInfo.
func Key(t testing.TB) (*rsa.PrivateKey, []byte) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return k, der
}

// Pair is a signing and a user-authentication certificate issued together.
type Pair struct {
	Sign, Auth *x509.Certificate
	Result     ca.PairResult
}

// IssuePair issues a counterpart pair for a new resident of municipality
// 131016, valid for about four years.
func (e *Env) IssuePair(t testing.TB) Pair {
	t.Helper()
	_, signKey := Key(t)
	_, authKey := Key(t)
	return e.IssuePairWithKeys(t, signKey, authKey)
}

// IssuePairWithKeys is IssuePair with given SubjectPublicKeyInfos.
func (e *Env) IssuePairWithKeys(t testing.TB, signSPKI, authSPKI []byte) Pair {
	t.Helper()
	n := e.seq.Add(1)
	id := fmt.Sprintf("ocsptest-%d-%d", time.Now().UnixNano(), n)
	resident := fmt.Sprintf("%011d", time.Now().UnixNano()%1e11)
	notAfter := time.Now().AddDate(4, 0, 0).UTC().Truncate(time.Second)
	sign := ca.IssueRequest{RequestID: id + "/sign", Kind: ca.KindSign, MunicipalityCode: "131016",
		ResidentCode: resident, PublicKeyDER: signSPKI, NotAfter: notAfter, Personal: &ca.PersonalInfo{
			Name: "山田　太郎", DateOfBirth: "1980-05-06", Sex: ca.SexMale, Address: "東京都千代田区千代田1番1号"}}
	auth := ca.IssueRequest{RequestID: id + "/auth", Kind: ca.KindAuth, MunicipalityCode: "131016",
		ResidentCode: resident, PublicKeyDER: authSPKI, NotAfter: notAfter}
	res, err := e.CA.IssuePair(context.Background(), sign, auth)
	if err != nil {
		t.Fatalf("IssuePair: %v", err)
	}
	p := Pair{Result: res}
	if p.Sign, err = x509.ParseCertificate(res.Sign.CertificateDER); err != nil {
		t.Fatal(err)
	}
	if p.Auth, err = x509.ParseCertificate(res.Auth.CertificateDER); err != nil {
		t.Fatal(err)
	}
	return p
}

// Issuer returns the issuing CA certificate of kind.
func (e *Env) Issuer(t testing.TB, kind ca.Kind) *x509.Certificate {
	t.Helper()
	c, err := e.CA.IssuerCertificate(kind)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
