package ca

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/madoguchi/madoguchi/internal/ca/dbtest"
	"github.com/madoguchi/madoguchi/internal/ca/hsm"
	"github.com/madoguchi/madoguchi/internal/ca/hsmtest"
)

const envDSN = "MADOGUCHI_JLIS_DSN"

// testDB gives the test its own schema in the Organization's database and a
// pool whose search_path points at it; the schema is dropped afterwards.
func testDB(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, _ := dbtest.Schema(t, "ca_test", 12)
	return pool
}

// clock is a settable test clock.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func (c *clock) set(t time.Time)  { c.ns.Store(t.UnixNano()) }
func (c *clock) now() time.Time   { return time.Unix(0, c.ns.Load()) }
func (c *clock) add(d time.Duration) {
	c.ns.Add(int64(d))
}

type env struct {
	ca    *CA
	pool  *pgxpool.Pool
	hsm   *hsm.HSM
	clock *clock
	pem   string
	logs  *syncBuffer
}

// syncBuffer collects the CA's log lines, written from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newEnv makes a fresh token, schema and bootstrapped CA.
func newEnv(t *testing.T) *env {
	t.Helper()
	if !hsmtest.Enabled() {
		t.Skip("SoftHSM2 not configured: set SOFTHSM2_CONF or MADOGUCHI_PKCS11_PIN (the project's test script does)")
	}
	pool := testDB(t)
	h, _ := hsmtest.Open(t)
	ctx := context.Background()
	if err := Migrate(ctx, pool); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	clk := newClock(time.Date(2026, 4, 1, 1, 2, 3, 0, time.UTC))
	dir := t.TempDir()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	c, err := Bootstrap(ctx, pool, h, dir, Options{RepositoryURL: "http://repo.test:8090", Now: clk.now, Logger: logger})
	if err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	return &env{ca: c, pool: pool, hsm: h, clock: clk, pem: dir, logs: logs}
}

// newKey returns a fresh RSA-2048 subject key and its SubjectPublicKeyInfo.
// Each call gives a new key, as the CA refuses to certify a key twice.
func newKey(t *testing.T) (*rsa.PrivateKey, []byte) {
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

func testPersonal() *PersonalInfo {
	return &PersonalInfo{
		Name:           "山田　花子",
		NameSubstitute: "山田　花〓",
		DateOfBirth:    "1990-01-02",
		Sex:            SexFemale,
		Address:        "東京都千代田区霞が関二丁目1番2号",
		FormerSurname:  "鈴木",
		Alias:          "ヤマダ・ハナ",
	}
}

// jst makes a wall time in Japan.
func jst(y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, time.FixedZone("JST", 9*3600))
}

// ecKeyDER is a P-256 SubjectPublicKeyInfo: a key the CA must refuse.
func ecKeyDER(t *testing.T) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// rsaKeyDER is an RSA SubjectPublicKeyInfo of the given size and exponent.
func rsaKeyDER(t *testing.T, bits, e int) []byte {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	pub := &rsa.PublicKey{N: k.N, E: e}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
