package crl

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"io"
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

const envDSN = "MADOGUCHI_JLIS_DSN"

var ctx = context.Background()

// testDB gives the test its own schema in the Organization's database and
// a pool whose search_path points at it; the schema is dropped afterwards.
func testDB(t testing.TB) (*pgxpool.Pool, string) {
	t.Helper()
	return dbtest.Schema(t, "crl_test", 8)
}

func schemaPool(t testing.TB, dsn, schema string) *pgxpool.Pool {
	return dbtest.Pool(t, dsn, schema, 8)
}

// clock is a settable clock shared by the CA and the publisher.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock    { c := &clock{}; c.set(t); return c }
func (c *clock) set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }
func jst(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, time.FixedZone("JST", 9*3600))
}

type env struct {
	ca     *ca.CA
	pool   *pgxpool.Pool
	schema string
	hsm    hsm.Config
	h      *hsm.HSM
	clock  *clock
	pub    *Publisher
	pem    string
}

const testRepo = "http://repo.test:8090"

// newEnv makes a fresh token, schema, bootstrapped CA and publisher, on a
// test clock starting 2026-04-01 09:00 JST.
func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvAt(t, jst(2026, 4, 1, 9, 0))
}

func newEnvAt(t testing.TB, start time.Time) *env {
	t.Helper()
	if !hsmtest.Enabled() {
		t.Skip("SoftHSM2 not configured: set SOFTHSM2_CONF or MADOGUCHI_PKCS11_PIN (the project's test script does)")
	}
	pool, schema := testDB(t)
	h, hcfg := hsmtest.Open(t)
	if err := ca.Migrate(ctx, pool); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	clk := newClock(start)
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := ca.Bootstrap(ctx, pool, h, dir, ca.Options{RepositoryURL: testRepo, Now: clk.now, Logger: quiet})
	if err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	return &env{ca: c, pool: pool, schema: schema, hsm: hcfg, h: h, clock: clk, pem: dir, pub: NewPublisher(c, pool, Options{Now: clk.now, Logger: quiet})}
}

var reqSeq atomic.Int64

// issue issues a certificate of kind in a municipality, valid until notAfter.
func (e *env) issue(t testing.TB, kind ca.Kind, muni string, notAfter time.Time) ca.IssueResult {
	t.Helper()
	r, err := e.ca.Issue(ctx, e.request(t, kind, muni, notAfter))
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return r
}

// signRequest is a signing certificate's request with a fresh key.
func (e *env) signRequest(t testing.TB, muni string, notAfter time.Time) ca.IssueRequest {
	t.Helper()
	return e.request(t, ca.KindSign, muni, notAfter)
}

func (e *env) request(t testing.TB, kind ca.Kind, muni string, notAfter time.Time) ca.IssueRequest {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	req := ca.IssueRequest{
		RequestID: fmt.Sprintf("case-%06d/%s", reqSeq.Add(1), kind),
		Kind:      kind, MunicipalityCode: muni, ResidentCode: "12345678901", PublicKeyDER: spki, NotAfter: notAfter,
	}
	if kind == ca.KindSign {
		req.Personal = &ca.PersonalInfo{Name: "山田　花子", DateOfBirth: "1990-01-02", Sex: ca.SexFemale, Address: "東京都千代田区霞が関二丁目1番2号"}
	}
	return req
}
