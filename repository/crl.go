package repository

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/crl"
)

// NewCRLSource returns the CRL publisher's stored lists (package
// internal/crl) as a CRLSource. The full CRL's partition, "full" in the
// address /crl/<kind>/full.crl, is "" there; crl.ErrNotFound becomes
// ErrNotFound.
func NewCRLSource(pool *pgxpool.Pool) CRLSource { return crlSource{pool: pool} }

type crlSource struct{ pool *pgxpool.Pool }

func (s crlSource) Latest(ctx context.Context, kind ca.Kind, partition string) ([]byte, time.Time, time.Time, error) {
	if partition == FullPartition {
		partition = ""
	}
	der, thisUpdate, nextUpdate, err := crl.Latest(ctx, s.pool, kind, partition)
	return der, thisUpdate, nextUpdate, notFound(err)
}

func (s crlSource) DailyFile(ctx context.Context, kind ca.Kind, day time.Time) ([]byte, error) {
	b, err := crl.DailyFile(ctx, s.pool, kind, day)
	return b, notFound(err)
}

func notFound(err error) error {
	if errors.Is(err, crl.ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}
