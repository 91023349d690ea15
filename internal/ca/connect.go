package ca

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/madoguchi/madoguchi/internal/ca/hsm"
)

// Conn is what every process of the Organization runs on: the jlis database
// and one logged-in HSM session, opened once and shared.
type Conn struct {
	Pool *pgxpool.Pool
	HSM  *hsm.HSM
}

// Connect opens the jlis database and the HSM named by the environment
// (MADOGUCHI_PKCS11_*, SOFTHSM2_CONF). Every process of the Organization (CA
// worker, repository, setup) comes here, and so through hsm.OpenContext,
// which retries the transient failures of processes opening one SoftHSM
// token at once (issue 14), logging each retry, until ctx ends.
func Connect(ctx context.Context, jlisDSN string) (*Conn, error) {
	pool, err := pgxpool.New(ctx, jlisDSN)
	if err != nil {
		return nil, fmt.Errorf("ca: jlis database: %w", err)
	}
	hcfg, err := hsm.ConfigFromEnv()
	if err != nil {
		pool.Close()
		return nil, err
	}
	h, err := hsm.OpenContext(ctx, hcfg)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &Conn{Pool: pool, HSM: h}, nil
}

// Close ends the HSM session and the pool.
func (c *Conn) Close() {
	_ = c.HSM.Close()
	c.Pool.Close()
}

// Load loads the bootstrapped CA over this connection.
func (c *Conn) Load(ctx context.Context, opts Options) (*CA, error) {
	return Load(ctx, c.Pool, c.HSM, opts)
}
