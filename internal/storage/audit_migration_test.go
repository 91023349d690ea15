package storage

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestMigrationChainsExistingRows: 009_audit_chain chains the rows recorded
// before it, per office, in the order of time, case number and event key,
// so that they verify, and RecordEvent carries each chain on. It runs the
// migrations in a schema of its own on the real Postgres.
func TestMigrationChainsExistingRows(t *testing.T) {
	dsn := os.Getenv("MADOGUCHI_DB_DSN")
	if dsn == "" {
		t.Skip("MADOGUCHI_DB_DSN is not set: this test needs the real Postgres (scripts/test.sh sets it)")
	}
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	schema := fmt.Sprintf("audit_migration_%d", time.Now().UnixNano())
	if _, err := admin.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = admin.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`) }()
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	apply := func(upTo string, after bool) {
		t.Helper()
		for _, n := range names {
			if (n < upTo) == after {
				continue
			}
			sql, _ := migrations.ReadFile(n)
			if _, err := pool.Exec(ctx, string(sql)); err != nil {
				t.Fatalf("%s: %v", n, err)
			}
		}
	}
	const chain = "migrations/009_audit_chain.sql"
	apply(chain, false) // 001 … 008
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		for _, q := range []string{
			`INSERT INTO municipalities (code, name) VALUES ('131016', '千代田区'), ('141305', '川崎市')`,
			`INSERT INTO offices (code, kind, name) VALUES ('131016', 'municipality', '千代田区'), ('141305', 'municipality', '川崎市')`,
			`INSERT INTO clerks (id, municipality_code, login, display_name, role, password_hash) VALUES (1, '131016', 'c', 'c', 'clerk', 'x')`,
			`INSERT INTO cases (case_number, municipality_code, procedure, workflow_id, opened_by) VALUES
				('131016-1', '131016', 'p', 'w1', 1), ('131016-2', '131016', 'p', 'w2', 1), ('141305-1', '141305', 'p', 'w3', 1)`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		// Inserted out of order; two rows at the same time.
		for _, e := range []struct {
			c, key string
			min    int
		}{{"131016-2", "b", 2}, {"131016-1", "a", 1}, {"141305-1", "a", 0}, {"131016-2", "a", 2}, {"131016-1", "b", 5}} {
			if _, err := tx.Exec(ctx, `INSERT INTO case_events (case_number, event_key, actor, detail, at) VALUES ($1, $2, 'clerk', '詳細', $3)`,
				e.c, e.key, at.Add(time.Duration(e.min)*time.Minute)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	apply(chain, true) // 009 on
	db := &DB{Pool: pool}
	for office, want := range map[string][]string{"131016": {"131016-1/a", "131016-2/a", "131016-2/b", "131016-1/b"}, "141305": {"141305-1/a"}} {
		rep, err := db.VerifyAuditChain(ctx, office)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK || rep.Rows != int64(len(want)) || rep.HeadSeq != int64(len(want)) {
			t.Fatalf("%s after the migration: %+v %+v", office, rep, rep.Break)
		}
		rows, err := pool.Query(ctx, `SELECT case_number || '/' || event_key FROM case_events WHERE office_code = $1 ORDER BY chain_seq`, office)
		if err != nil {
			t.Fatal(err)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s chained %v, want %v (%v)", office, got, want, err)
		}
	}
	// The SQL function of the migration is the Go encoding: multi-byte
	// text, empty fields, a time before 1970, microseconds.
	for _, tc := range []struct {
		office, number, key, actor, detail string
		at                                 time.Time
	}{
		{"131016", "131016-1", "本人確認", "窓口 一郎", "", time.Date(1969, 7, 20, 20, 17, 40, 999999000, time.UTC)},
		{"jlis", "", "", "", "詳細\n改行", time.Date(2026, 12, 1, 23, 59, 59, 1000, Tokyo)},
	} {
		prev := CaseEventHash("x", 9, GenesisHash, "", "", "", "", tc.at)
		var sqlHash []byte
		if err := pool.QueryRow(ctx, `SELECT case_event_hash($1, 7, $2, $3, $4, $5, $6, $7)`,
			tc.office, prev, tc.number, tc.key, tc.actor, tc.detail, tc.at).Scan(&sqlHash); err != nil {
			t.Fatal(err)
		}
		if got := CaseEventHash(tc.office, 7, prev, tc.number, tc.key, tc.actor, tc.detail, tc.at); !bytes.Equal(got, sqlHash) {
			t.Errorf("%+v: Go %x, SQL %x", tc, got, sqlHash)
		}
	}
	if err := db.RecordEvent(ctx, "131016-1", "c", "clerk", "", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if rep, err := db.VerifyAuditChain(ctx, "131016"); err != nil || !rep.OK || rep.HeadSeq != 5 {
		t.Fatalf("after a new event: %+v, %v", rep, err)
	}
}
