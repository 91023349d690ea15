package storage_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/sealing"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/internal/storage/storagetest"
)

// openDB connects to the test database named by MADOGUCHI_DB_DSN and applies
// the migrations; it skips when the variable is unset.
func openDB(t *testing.T) *storage.DB {
	t.Helper()
	return storagetest.Open(t)
}

// testMunicipality inserts a throw-away municipality (never a demo one, whose
// keys other tests may be using) and removes it and its keys afterwards.
func testMunicipality(t *testing.T, db *storage.DB) string {
	t.Helper()
	ctx := context.Background()
	n, err := rand.Int(rand.Reader, big.NewInt(10000))
	if err != nil {
		t.Fatal(err)
	}
	code := fmt.Sprintf("99%04d", n.Int64())
	if _, err := db.Pool.Exec(ctx, `INSERT INTO municipalities (code, name) VALUES ($1, 'sealing test') ON CONFLICT DO NOTHING`, code); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		db.Pool.Exec(ctx, `DELETE FROM sealing_keys WHERE municipality_code = $1`, code)
		db.Pool.Exec(ctx, `DELETE FROM municipalities WHERE code = $1 AND name = 'sealing test'`, code)
	})
	// A leftover from an interrupted run would disturb the assertions.
	if _, err := db.Pool.Exec(ctx, `DELETE FROM sealing_keys WHERE municipality_code = $1`, code); err != nil {
		t.Fatal(err)
	}
	return code
}

func genKey(t *testing.T, dir, municipality string) sealing.PublicKey {
	t.Helper()
	pub, err := sealing.GenerateKey(dir, municipality)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func TestSealingKeyRegistry(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	m := testMunicipality(t, db)
	dir := t.TempDir()

	if _, err := db.CurrentSealingKey(ctx, m); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("CurrentSealingKey with no key: %v, want ErrNotFound", err)
	}

	t0 := time.Date(2026, 4, 1, 9, 0, 0, 0, storage.Tokyo)
	t1 := t0.Add(90 * 24 * time.Hour)
	t2 := t1.Add(10 * 24 * time.Hour)
	k1, k2, k3 := genKey(t, dir, m), genKey(t, dir, m), genKey(t, dir, m)

	if err := db.RegisterSealingKey(ctx, k1, t0); err != nil {
		t.Fatalf("register k1: %v", err)
	}
	cur, err := db.CurrentSealingKey(ctx, m)
	if err != nil || cur.KeyID != k1.KeyID || !bytes.Equal(cur.Key, k1.Key) || cur.Municipality != m {
		t.Fatalf("current after k1: %+v, %v", cur.KeyID, err)
	}
	if err := db.RegisterSealingKey(ctx, k2, t1); err != nil {
		t.Fatalf("register k2: %v", err)
	}
	if err := db.RegisterSealingKey(ctx, k3, t2); err != nil {
		t.Fatalf("register k3: %v", err)
	}
	cur, err = db.CurrentSealingKey(ctx, m)
	if err != nil || cur.KeyID != k3.KeyID || !bytes.Equal(cur.Key, k3.Key) {
		t.Fatalf("current after k3: %s, %v; want %s", cur.KeyID, err, k3.KeyID)
	}

	keys, err := db.SealingKeys(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	retire := map[string]time.Time{}
	for _, k := range keys {
		retire[k.Public.KeyID] = k.RetireAfter
	}
	for _, tc := range []struct {
		name string
		id   string
		want time.Time
	}{
		{"k1 retires one overlap after k2 arrived, and k3 does not move it", k1.KeyID, t1.Add(storage.SealingKeyOverlap)},
		{"k2 retires one overlap after k3 arrived", k2.KeyID, t2.Add(storage.SealingKeyOverlap)},
		{"k3 is current", k3.KeyID, time.Time{}},
	} {
		if got := retire[tc.id]; !got.Equal(tc.want) {
			t.Errorf("%s: retire_after %v, want %v", tc.name, got, tc.want)
		}
	}
	if len(keys) != 3 || keys[0].Public.KeyID != k3.KeyID || !keys[0].CreatedAt.Equal(t2) {
		t.Errorf("SealingKeys: %d keys, newest first expected k3 created at t2", len(keys))
	}

	for _, tc := range []struct {
		name string
		now  time.Time
		want []string
	}{
		{"before k1's overlap ends", t1.Add(storage.SealingKeyOverlap - time.Second), nil},
		{"when k1's overlap ends", t1.Add(storage.SealingKeyOverlap), []string{k1.KeyID}},
		{"after both overlaps", t2.Add(storage.SealingKeyOverlap + time.Hour), []string{k1.KeyID, k2.KeyID}},
	} {
		got, err := db.RetiredSealingKeys(ctx, m, tc.now)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("RetiredSealingKeys %s: %v, want %v", tc.name, got, tc.want)
		}
	}

	// Registering the current key again is a no-op (a retried call).
	if err := db.RegisterSealingKey(ctx, k3, t2.Add(time.Hour)); err != nil {
		t.Fatalf("re-register current key: %v", err)
	}
	if cur, _ := db.CurrentSealingKey(ctx, m); cur.KeyID != k3.KeyID {
		t.Fatalf("re-registering changed the current key to %s", cur.KeyID)
	}
	// A retired key cannot come back, nor an id with another key.
	if err := db.RegisterSealingKey(ctx, k1, t2.Add(time.Hour)); !errors.Is(err, storage.ErrSealingKeyConflict) {
		t.Fatalf("re-register retired key: %v, want ErrSealingKeyConflict", err)
	}
	forged := sealing.PublicKey{Municipality: m, KeyID: k3.KeyID, Key: k2.Key}
	if err := db.RegisterSealingKey(ctx, forged, t2.Add(time.Hour)); !errors.Is(err, storage.ErrSealingKeyConflict) {
		t.Fatalf("register k3's id with another key: %v, want ErrSealingKeyConflict", err)
	}
	if cur, _ := db.CurrentSealingKey(ctx, m); cur.KeyID != k3.KeyID || !bytes.Equal(cur.Key, k3.Key) {
		t.Fatal("a refused registration changed the current key")
	}

	// Malformed keys and unknown municipalities are refused.
	if err := db.RegisterSealingKey(ctx, sealing.PublicKey{Municipality: m, KeyID: "abc", Key: k1.Key}, t2); !errors.Is(err, sealing.ErrInvalidKey) {
		t.Fatalf("register a malformed key id: %v, want sealing.ErrInvalidKey", err)
	}
	stranger := genKey(t, t.TempDir(), "000000")
	if err := db.RegisterSealingKey(ctx, stranger, t2); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("register for an unknown municipality: %v, want ErrNotFound", err)
	}
}

func TestSealingKeyConcurrentRegistration(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	m := testMunicipality(t, db)
	dir := t.TempDir()
	keys := []sealing.PublicKey{genKey(t, dir, m), genKey(t, dir, m), genKey(t, dir, m), genKey(t, dir, m)}
	now := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, len(keys))
	for i, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.RegisterSealingKey(ctx, k, now)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("registration %d: %v", i, err)
		}
	}
	var current int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM sealing_keys WHERE municipality_code = $1 AND retire_after IS NULL`, m).Scan(&current); err != nil {
		t.Fatal(err)
	}
	if current != 1 {
		t.Fatalf("%d current keys after concurrent registrations, want 1", current)
	}
	retired, err := db.RetiredSealingKeys(ctx, m, now.Add(storage.SealingKeyOverlap))
	if err != nil {
		t.Fatal(err)
	}
	if len(retired) != len(keys)-1 {
		t.Fatalf("%d keys retired, want %d", len(retired), len(keys)-1)
	}
}

// TestSealingRotationWithRegistry drives sealing.Rotate and sealing.Prune
// with the real registry: a notice sealed to the old key opens during the
// overlap and is ErrUnknownKey once the key is pruned.
func TestSealingRotationWithRegistry(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	m := testMunicipality(t, db)
	dir := filepath.Join(t.TempDir(), "sealing", m)
	caseNo := m + "-20260401-000001"

	if _, err := sealing.Rotate(ctx, dir, m, db); err != nil {
		t.Fatalf("first key: %v", err)
	}
	old, err := db.CurrentSealingKey(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	notice, err := sealing.Seal(old, caseNo, map[string][]byte{"sign": []byte("RELAY42"), "auth": []byte("4242")})
	if err != nil {
		t.Fatal(err)
	}
	kr, err := sealing.LoadKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}

	pub, err := sealing.Rotate(ctx, dir, m, db)
	if err != nil {
		t.Fatalf("rotate: %v", err)
	}
	if cur, err := db.CurrentSealingKey(ctx, m); err != nil || cur.KeyID != pub.KeyID || cur.KeyID == old.KeyID {
		t.Fatalf("current after rotation: %s, %v", cur.KeyID, err)
	}
	if pins, err := kr.Open(notice, caseNo); err != nil || string(pins["sign"]) != "RELAY42" {
		t.Fatalf("old notice during the overlap: %v", err)
	}
	if removed, err := sealing.Prune(ctx, dir, m, db, time.Now()); err != nil || len(removed) != 0 {
		t.Fatalf("prune during the overlap removed %v (%v)", removed, err)
	}
	removed, err := sealing.Prune(ctx, dir, m, db, time.Now().Add(storage.SealingKeyOverlap+time.Minute))
	if err != nil || !slices.Equal(removed, []string{old.KeyID}) {
		t.Fatalf("prune after the overlap removed %v (%v), want [%s]", removed, err, old.KeyID)
	}
	if _, err := kr.Open(notice, caseNo); !errors.Is(err, sealing.ErrUnknownKey) {
		t.Fatalf("old notice after prune: %v, want ErrUnknownKey", err)
	}
	// The registry keeps the retired key's row (the record of what was used).
	keys, err := db.SealingKeys(ctx, m)
	if err != nil || len(keys) != 2 {
		t.Fatalf("SealingKeys after prune: %d rows (%v), want 2", len(keys), err)
	}
}
