// Package storagetest opens the municipal test database for tests that run
// against the real Postgres (MADOGUCHI_DB_DSN, set by scripts/test.sh).
package storagetest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

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

// Clerk returns a demo clerk by login.
func Clerk(t testing.TB, db *storage.DB, login string) storage.Clerk {
	t.Helper()
	c, err := db.ClerkByLogin(context.Background(), login)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// FreshOffice records a post office of its own for one test run, so that
// what the test records there is its own, and returns its code.
func FreshOffice(t testing.TB, db *storage.DB) string {
	t.Helper()
	office := fmt.Sprintf("jp-test-%d", time.Now().UnixNano())
	if _, err := db.Pool.Exec(context.Background(), `INSERT INTO offices (code, kind, name) VALUES ($1, 'post_office', 'テスト郵便局')`, office); err != nil {
		t.Fatal(err)
	}
	return office
}
