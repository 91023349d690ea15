// Package storagetest opens the municipal test database for tests that run
// against the real Postgres (MADOGUCHI_DB_DSN, set by scripts/test.sh).
package storagetest

import (
	"context"
	"os"
	"testing"

	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/internal/storage"
)

// Open connects to the test database and applies the migrations; it skips
// the test when MADOGUCHI_DB_DSN is unset.
func Open(t testing.TB) *storage.DB {
	t.Helper()
	dsn := os.Getenv("MADOGUCHI_DB_DSN")
	if dsn == "" {
		t.Skip("MADOGUCHI_DB_DSN is not set: this test needs the real Postgres (scripts/test.sh sets it)")
	}
	ctx := context.Background()
	db, err := storage.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// Seeded is Open with the demo data loaded.
func Seeded(t testing.TB) *storage.DB {
	t.Helper()
	db := Open(t)
	if err := demo.Seed(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return db
}
