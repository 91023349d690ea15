// Package dbtest gives tests of the Organization's packages (internal/ca,
// internal/crl, internal/ocsp, repository) a throw-away schema in the jlis
// database (MADOGUCHI_JLIS_DSN): each test sees only its own tables. Without
// the variable the test skips; the project's test script sets it.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// EnvDSN names the Organization's database DSN.
const EnvDSN = "MADOGUCHI_JLIS_DSN"

// Schema makes a schema named prefix_<random> and returns a pool whose
// search_path is it, with at most maxConns connections; the schema is
// dropped when the test ends.
func Schema(t testing.TB, prefix string, maxConns int32) (*pgxpool.Pool, string) {
	t.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		t.Skip(EnvDSN + " not set: these tests need the real Postgres (the project's test script sets it)")
	}
	ctx := context.Background()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := prefix + "_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect %s: %v", EnvDSN, err)
	}
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	pool := Pool(t, dsn, schema, maxConns)
	t.Cleanup(func() {
		pool.Close()
		if _, err := admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
		_ = admin.Close(context.Background())
	})
	return pool, schema
}

// Pool opens a pool on an existing schema; the caller closes it.
func Pool(t testing.TB, dsn, schema string, maxConns int32) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.MaxConns = maxConns
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return pool
}
