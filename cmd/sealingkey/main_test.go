package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/madoguchi/madoguchi/internal/config"
	"github.com/madoguchi/madoguchi/internal/sealing"
	"github.com/madoguchi/madoguchi/internal/storage"
)

func TestSealingKeyCommand(t *testing.T) {
	dsn := os.Getenv("MADOGUCHI_DB_DSN")
	if dsn == "" {
		t.Skip("MADOGUCHI_DB_DSN is not set: this test needs the real Postgres (scripts/test.sh sets it)")
	}
	ctx := context.Background()
	db, err := storage.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// A throw-away municipality: the demo ones' keys belong to the running stack.
	n, _ := rand.Int(rand.Reader, big.NewInt(10000))
	m := fmt.Sprintf("98%04d", n.Int64())
	if _, err := db.Pool.Exec(ctx, `INSERT INTO municipalities (code, name) VALUES ($1, 'sealingkey test') ON CONFLICT DO NOTHING`, m); err != nil {
		t.Fatal(err)
	}
	db.Pool.Exec(ctx, `DELETE FROM sealing_keys WHERE municipality_code = $1`, m)
	t.Cleanup(func() {
		db.Pool.Exec(ctx, `DELETE FROM sealing_keys WHERE municipality_code = $1`, m)
		db.Pool.Exec(ctx, `DELETE FROM municipalities WHERE code = $1 AND name = 'sealingkey test'`, m)
	})

	cfg := config.Config{State: t.TempDir(), DBDSN: dsn}
	dir := filepath.Join(cfg.State, "sealing", m) // the default -dir
	cmd := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"-municipality", m}, args...), &out, cfg)
		return out.String(), err
	}
	ids := func() []string {
		ids, err := sealing.KeyIDs(dir)
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}

	out, err := cmd()
	if err != nil {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	first, err := db.CurrentSealingKey(ctx, m)
	if err != nil {
		t.Fatalf("no current key after the first run: %v", err)
	}
	if got := ids(); !slices.Equal(got, []string{first.KeyID}) {
		t.Fatalf("key files %v, want [%s]", got, first.KeyID)
	}

	// Idempotent: a second plain run keeps the key.
	if out, err := cmd(); err != nil || !strings.Contains(out, "is current and present") {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	if cur, _ := db.CurrentSealingKey(ctx, m); cur.KeyID != first.KeyID || len(ids()) != 1 {
		t.Fatal("a plain second run changed the keys")
	}

	if out, err := cmd("-rotate", "-prune"); err != nil {
		t.Fatalf("-rotate -prune: %v\n%s", err, out)
	}
	second, _ := db.CurrentSealingKey(ctx, m)
	if second.KeyID == first.KeyID || len(ids()) != 2 {
		t.Fatalf("after -rotate: current %s, files %v", second.KeyID, ids())
	}
	kr, err := sealing.LoadKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	if pub, err := kr.PublicKey(second.KeyID); err != nil || !bytes.Equal(pub.Key, second.Key) {
		t.Fatalf("the registered key does not match its file: %v", err)
	}

	// Once the overlap has passed (moved into the past here), -prune deletes the old file.
	if _, err := db.Pool.Exec(ctx, `UPDATE sealing_keys SET retire_after = now() - interval '1 second' WHERE municipality_code = $1 AND key_id = $2`, m, first.KeyID); err != nil {
		t.Fatal(err)
	}
	if out, err := cmd("-prune"); err != nil || !strings.Contains(out, first.KeyID) {
		t.Fatalf("-prune: %v\n%s", err, out)
	}
	if got := ids(); !slices.Equal(got, []string{second.KeyID}) {
		t.Fatalf("after -prune: files %v, want [%s]", got, second.KeyID)
	}

	// The current key's file missing is an error, not a silent new key.
	if err := os.Remove(filepath.Join(dir, second.KeyID+".key")); err != nil {
		t.Fatal(err)
	}
	if out, err := cmd(); err == nil || !strings.Contains(err.Error(), second.KeyID) {
		t.Fatalf("run with the current key's file missing: %v\n%s", err, out)
	}
	if cur, _ := db.CurrentSealingKey(ctx, m); cur.KeyID != second.KeyID {
		t.Fatal("the failed run changed the current key")
	}

	if err := run(ctx, []string{"-municipality", "13101"}, &bytes.Buffer{}, cfg); err == nil {
		t.Fatal("a 5-digit municipality code was accepted")
	}
}
