package ca

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLockKey serializes concurrent Migrate calls (several CA workers
// starting at once) on one database; the value is arbitrary but fixed.
const migrationLockKey = 0x6d61646f_63610001 // "mado" "ca" 0001

// migrationPrefix namespaces this package's versions in schema_migrations,
// which other components of the Organization's database may share.
const migrationPrefix = "ca/"

// Migrate applies the embedded SQL migrations (internal/ca/migrations/*.sql,
// in file-name order) that are not yet recorded in schema_migrations, each in
// the same transaction as its record, under an advisory lock. Running it
// again is a no-op. Tables are created unqualified, in the first schema of
// the connection's search_path.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("ca: list migrations: %w", err)
	}
	sort.Strings(names)
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLockKey)); err != nil {
			return fmt.Errorf("ca: migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    text        PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("ca: create schema_migrations: %w", err)
		}
		for _, name := range names {
			version := migrationPrefix + strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql")
			var done bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)", version).Scan(&done); err != nil {
				return fmt.Errorf("ca: check migration %s: %w", version, err)
			}
			if done {
				continue
			}
			body, err := migrationFS.ReadFile(name)
			if err != nil {
				return fmt.Errorf("ca: read migration %s: %w", version, err)
			}
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return fmt.Errorf("ca: apply migration %s: %w", version, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", version); err != nil {
				return fmt.Errorf("ca: record migration %s: %w", version, err)
			}
		}
		return nil
	})
}
