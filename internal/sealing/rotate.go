package sealing

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Registry is where a municipality's public keys are published; *storage.DB
// implements it (the municipal table sealing_keys). Defined here so that
// sealing does not import storage.
type Registry interface {
	// RegisterSealingKey makes pub its municipality's current key; the
	// previous current key stays usable until now plus the overlap.
	RegisterSealingKey(ctx context.Context, pub PublicKey, now time.Time) error
	// RetiredSealingKeys lists the key ids of municipality whose overlap
	// ended at or before now.
	RetiredSealingKeys(ctx context.Context, municipality string, now time.Time) ([]string, error)
}

// Rotate makes a new key for municipality in dir and registers it as the
// current key, so relay terminals seal to it from now on; notices already
// sealed to the previous key still open during the overlap, as long as its
// file stays in dir. The first call for a municipality makes its first key.
// If registration fails the new key file is removed again.
func Rotate(ctx context.Context, dir, municipality string, reg Registry) (PublicKey, error) {
	pub, err := GenerateKey(dir, municipality)
	if err != nil {
		return PublicKey{}, err
	}
	if err := reg.RegisterSealingKey(ctx, pub, time.Now()); err != nil {
		// An unregistered key is never sealed to: do not leave it behind.
		if rmErr := os.Remove(filepath.Join(dir, pub.KeyID+".key")); rmErr != nil {
			err = errors.Join(err, rmErr)
		}
		return PublicKey{}, fmt.Errorf("sealing: register key %s of %s: %w", pub.KeyID, municipality, err)
	}
	return pub, nil
}

// Prune deletes from dir the private key files of municipality's keys whose
// overlap has ended by now, according to the registry, and returns the ids
// it deleted. Notices sealed to them no longer open (ErrUnknownKey). The
// current key is never retired, so never pruned.
func Prune(ctx context.Context, dir, municipality string, reg Registry, now time.Time) ([]string, error) {
	ids, err := reg.RetiredSealingKeys(ctx, municipality, now)
	if err != nil {
		return nil, fmt.Errorf("sealing: retired keys of %s: %w", municipality, err)
	}
	var removed []string
	for _, id := range ids {
		if !ValidKeyID(id) {
			return removed, fmt.Errorf("%w: registry returned key id %q", ErrInvalidKey, id)
		}
		err := os.Remove(filepath.Join(dir, id+".key"))
		if errors.Is(err, fs.ErrNotExist) {
			continue // pruned before, or never on this terminal
		}
		if err != nil {
			return removed, fmt.Errorf("sealing: prune key %s: %w", id, err)
		}
		removed = append(removed, id)
	}
	if len(removed) > 0 {
		if err := syncDir(dir); err != nil {
			return removed, err
		}
	}
	return removed, nil
}
