package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/madoguchi/madoguchi/internal/sealing"
)

// SealingKeyOverlap is how long a replaced sealing key still opens notices
// after the next key becomes current: long enough for a notice sealed at the
// relay municipality just before a rotation to reach the address
// municipality and be opened at its counter.
const SealingKeyOverlap = 30 * 24 * time.Hour

// ErrSealingKeyConflict is returned when a key id is registered again with
// another public key, or a retired key is registered again.
var ErrSealingKeyConflict = errors.New("storage: sealing key id already used")

// The municipal DB is the registry sealing.Rotate and sealing.Prune use.
var _ sealing.Registry = (*DB)(nil)

// SealingKey is one row of the registry.
type SealingKey struct {
	Public    sealing.PublicKey
	CreatedAt time.Time
	// RetireAfter is zero for the current key.
	RetireAfter time.Time
}

// RegisterSealingKey makes pub its municipality's current sealing key, as of
// now; the previous current key gets retire_after = now + SealingKeyOverlap.
// Registering the current key again is a no-op, so a retried call is safe.
// An unknown municipality is ErrNotFound.
func (db *DB) RegisterSealingKey(ctx context.Context, pub sealing.PublicKey, now time.Time) error {
	if err := pub.Validate(); err != nil {
		return fmt.Errorf("storage: register sealing key: %w", err)
	}
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		// Serialise the registrations of one municipality, so that two
		// rotations at once cannot both retire the same key.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('madoguchi.sealing_keys'), hashtext($1))`, pub.Municipality); err != nil {
			return err
		}
		var (
			key     []byte
			retired *time.Time
		)
		err := tx.QueryRow(ctx, `SELECT public_key, retire_after FROM sealing_keys WHERE municipality_code = $1 AND key_id = $2`,
			pub.Municipality, pub.KeyID).Scan(&key, &retired)
		switch {
		case err == nil:
			if bytes.Equal(key, pub.Key) && retired == nil {
				return nil
			}
			return fmt.Errorf("%w: %s/%s", ErrSealingKeyConflict, pub.Municipality, pub.KeyID)
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE sealing_keys SET retire_after = $2 WHERE municipality_code = $1 AND retire_after IS NULL`,
			pub.Municipality, now.Add(SealingKeyOverlap)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO sealing_keys (municipality_code, key_id, public_key, created_at) VALUES ($1, $2, $3, $4)`,
			pub.Municipality, pub.KeyID, pub.Key, now)
		return err
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" { // foreign_key_violation
		return fmt.Errorf("storage: register sealing key: municipality %s: %w", pub.Municipality, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("storage: register sealing key: %w", err)
	}
	return nil
}

// CurrentSealingKey returns the key a relay municipality seals to for
// municipality; ErrNotFound when it has none.
func (db *DB) CurrentSealingKey(ctx context.Context, municipality string) (sealing.PublicKey, error) {
	pub := sealing.PublicKey{Municipality: municipality}
	err := db.Pool.QueryRow(ctx, `SELECT key_id, public_key FROM sealing_keys WHERE municipality_code = $1 AND retire_after IS NULL`,
		municipality).Scan(&pub.KeyID, &pub.Key)
	if errors.Is(err, pgx.ErrNoRows) {
		return sealing.PublicKey{}, ErrNotFound
	}
	if err != nil {
		return sealing.PublicKey{}, fmt.Errorf("storage: current sealing key: %w", err)
	}
	return pub, nil
}

// RetiredSealingKeys lists the ids of municipality's keys whose overlap ended
// at or before now, oldest first: their private key files may be deleted.
func (db *DB) RetiredSealingKeys(ctx context.Context, municipality string, now time.Time) ([]string, error) {
	rows, err := db.Pool.Query(ctx, `SELECT key_id FROM sealing_keys WHERE municipality_code = $1 AND retire_after <= $2
		ORDER BY retire_after, key_id`, municipality, now)
	if err != nil {
		return nil, fmt.Errorf("storage: retired sealing keys: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("storage: retired sealing keys: %w", err)
	}
	return ids, nil
}

// SealingKeys lists all of municipality's registered keys, newest first.
func (db *DB) SealingKeys(ctx context.Context, municipality string) ([]SealingKey, error) {
	rows, err := db.Pool.Query(ctx, `SELECT key_id, public_key, created_at, retire_after FROM sealing_keys
		WHERE municipality_code = $1 ORDER BY created_at DESC, key_id`, municipality)
	if err != nil {
		return nil, fmt.Errorf("storage: sealing keys: %w", err)
	}
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SealingKey, error) {
		k := SealingKey{Public: sealing.PublicKey{Municipality: municipality}}
		var retire *time.Time
		if err := r.Scan(&k.Public.KeyID, &k.Public.Key, &k.CreatedAt, &retire); err != nil {
			return SealingKey{}, err
		}
		if retire != nil {
			k.RetireAfter = *retire
		}
		return k, nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: sealing keys: %w", err)
	}
	return keys, nil
}
