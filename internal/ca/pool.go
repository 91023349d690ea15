package ca

import "github.com/jackc/pgx/v5/pgxpool"

// Pool returns the Organization's database pool the CA was loaded with, so
// that the CRL publisher (internal/crl), which reads the same tables, can be
// wired from the CA alone (caworker.Register).
func (c *CA) Pool() *pgxpool.Pool { return c.pool }
