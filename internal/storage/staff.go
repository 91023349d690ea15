package storage

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Clerk is a staff account.
type Clerk struct {
	ID int64
	// MunicipalityCode is the code of the clerk's office: a municipality's
	// 6-digit code, or the Organization's ("jlis").
	MunicipalityCode string
	// OfficeKind is the office's kind: municipality, post_office or
	// organization.
	OfficeKind   string
	Login        string
	DisplayName  string
	Role         string
	PasswordHash string
}

// ClerkByLogin returns the account with the given login name.
func (db *DB) ClerkByLogin(ctx context.Context, login string) (Clerk, error) {
	return db.clerk(ctx, `login = $1`, login)
}

// ClerkByID returns the account with the given id.
func (db *DB) ClerkByID(ctx context.Context, id int64) (Clerk, error) {
	return db.clerk(ctx, `id = $1`, id)
}

func (db *DB) clerk(ctx context.Context, where string, arg any) (Clerk, error) {
	var c Clerk
	err := db.Pool.QueryRow(ctx, `SELECT c.id, c.municipality_code, o.kind, c.login, c.display_name, c.role, c.password_hash
		FROM clerks c JOIN offices o ON o.code = c.municipality_code WHERE c.`+where, arg).
		Scan(&c.ID, &c.MunicipalityCode, &c.OfficeKind, &c.Login, &c.DisplayName, &c.Role, &c.PasswordHash)
	if errors.Is(err, pgx.ErrNoRows) {
		return Clerk{}, ErrNotFound
	}
	if err != nil {
		return Clerk{}, fmt.Errorf("storage: clerk: %w", err)
	}
	return c, nil
}

// CreateSession stores the hash of a bearer token for a clerk.
func (db *DB) CreateSession(ctx context.Context, token []byte, clerkID int64, expires time.Time) error {
	h := sha256.Sum256(token)
	_, err := db.Pool.Exec(ctx, `INSERT INTO sessions (token_hash, clerk_id, expires_at) VALUES ($1, $2, $3)`, h[:], clerkID, expires)
	if err != nil {
		return fmt.Errorf("storage: session: %w", err)
	}
	return nil
}

// EndSession ends a session (sign-out): its token is no longer live.
func (db *DB) EndSession(ctx context.Context, token []byte) error {
	h := sha256.Sum256(token)
	if _, err := db.Pool.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, h[:]); err != nil {
		return fmt.Errorf("storage: end session: %w", err)
	}
	return nil
}

// SessionClerk returns the clerk of a live session token.
func (db *DB) SessionClerk(ctx context.Context, token []byte, now time.Time) (Clerk, error) {
	h := sha256.Sum256(token)
	var id int64
	// A disabled account's sessions are ended when it is disabled; the join
	// also refuses one left by a direct change of the table.
	err := db.Pool.QueryRow(ctx, `SELECT s.clerk_id FROM sessions s JOIN clerks c ON c.id = s.clerk_id
		WHERE s.token_hash = $1 AND s.expires_at > $2 AND c.disabled_at IS NULL`, h[:], now).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Clerk{}, ErrNotFound
	}
	if err != nil {
		return Clerk{}, fmt.Errorf("storage: session: %w", err)
	}
	return db.ClerkByID(ctx, id)
}
