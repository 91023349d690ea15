package storage

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/crypto/bcrypt"
)

// Sign-in throttling (issue 13 item 7): failures are counted per account
// and per address over LoginWindow. An account with LoginAccountLimit
// failures in the window is locked until a manager of its office unlocks
// it; an address with LoginAddressLimit failures is refused until the
// window has passed.
const (
	LoginWindow       = 15 * time.Minute
	LoginAccountLimit = 5
	LoginAddressLimit = 20
)

// ErrAccountExists: a staff account with that login exists already.
var ErrAccountExists = errors.New("storage: the login is taken")

// Account is a staff account as its office's managers see it.
type Account struct {
	Login       string
	DisplayName string
	Role        string
	Office      string
	Disabled    bool
	Locked      bool
	Demo        bool
}

// AccountEvent is one recorded change to an account.
type AccountEvent struct {
	Office, Login, Action, Detail, Actor string
	At                                   time.Time
}

// SignInState is what decides a sign-in beside the password: the account
// is disabled or locked, or the address has failed too often.
type SignInState struct {
	Disabled, Locked, AddressThrottled bool
}

// SignInCheck reads an account's state (absent: all false) and whether the
// address is throttled at now.
func (db *DB) SignInCheck(ctx context.Context, login, address string, now time.Time) (SignInState, error) {
	var st SignInState
	err := db.Pool.QueryRow(ctx, `SELECT
			COALESCE((SELECT disabled_at IS NOT NULL FROM clerks WHERE login = $1), false),
			COALESCE((SELECT locked_at IS NOT NULL FROM clerks WHERE login = $1), false),
			(SELECT count(*) FROM login_failures WHERE address = $2 AND at > $3) >= $4`,
		login, address, now.Add(-LoginWindow), LoginAddressLimit).Scan(&st.Disabled, &st.Locked, &st.AddressThrottled)
	if err != nil {
		return SignInState{}, fmt.Errorf("storage: sign-in check: %w", err)
	}
	return st, nil
}

// LoginFailed records a failed sign-in and locks the account (when the
// login names one) at its LoginAccountLimit-th failure in the window; it
// tells whether the account is locked now. Failures older than the window
// are pruned.
func (db *DB) LoginFailed(ctx context.Context, login, address string, now time.Time) (bool, error) {
	locked := false
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM login_failures WHERE at <= $1`, now.Add(-LoginWindow)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO login_failures (login, address, at) VALUES ($1, $2, $3)`, login, address, now); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `WITH n AS (SELECT count(*) AS c FROM login_failures WHERE login = $1 AND at > $2)
			UPDATE clerks SET locked_at = COALESCE(locked_at, $3) WHERE login = $1 AND (SELECT c FROM n) >= $4
			RETURNING true`, login, now.Add(-LoginWindow), now, LoginAccountLimit).Scan(&locked)
		if errors.Is(err, pgx.ErrNoRows) {
			// Not (yet) locked, or no such account: the failure stays recorded.
			return nil
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("storage: login failed: %w", err)
	}
	return locked, nil
}

// LoginSucceeded forgets an account's failures.
func (db *DB) LoginSucceeded(ctx context.Context, login string) error {
	if _, err := db.Pool.Exec(ctx, `DELETE FROM login_failures WHERE login = $1`, login); err != nil {
		return fmt.Errorf("storage: login succeeded: %w", err)
	}
	return nil
}

// Accounts lists an office's staff accounts by login.
func (db *DB) Accounts(ctx context.Context, office string) ([]Account, error) {
	rows, err := db.Pool.Query(ctx, `SELECT login, display_name, role, municipality_code, disabled_at IS NOT NULL, locked_at IS NOT NULL, demo
		FROM clerks WHERE municipality_code = $1 ORDER BY login`, office)
	if err != nil {
		return nil, fmt.Errorf("storage: accounts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Account, error) {
		var a Account
		err := r.Scan(&a.Login, &a.DisplayName, &a.Role, &a.Office, &a.Disabled, &a.Locked, &a.Demo)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("storage: accounts: %w", err)
	}
	return out, nil
}

// Account returns one account.
func (db *DB) Account(ctx context.Context, login string) (Account, error) {
	var a Account
	err := db.Pool.QueryRow(ctx, `SELECT login, display_name, role, municipality_code, disabled_at IS NOT NULL, locked_at IS NOT NULL, demo
		FROM clerks WHERE login = $1`, login).Scan(&a.Login, &a.DisplayName, &a.Role, &a.Office, &a.Disabled, &a.Locked, &a.Demo)
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, ErrNotFound
	}
	if err != nil {
		return Account{}, fmt.Errorf("storage: account: %w", err)
	}
	return a, nil
}

// CreateAccount records a new account with its password's hash.
func (db *DB) CreateAccount(ctx context.Context, a Account, passwordHash string, e AccountEvent) error {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO clerks (login, display_name, role, municipality_code, password_hash) VALUES ($1, $2, $3, $4, $5)`,
			a.Login, a.DisplayName, a.Role, a.Office, passwordHash); err != nil {
			return err
		}
		return recordAccountEvent(ctx, tx, e)
	})
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "23505":
		return ErrAccountExists
	case errors.As(err, &pgErr) && pgErr.Code == "23503":
		return ErrNotFound
	case err != nil:
		return fmt.Errorf("storage: create account: %w", err)
	}
	return nil
}

// AccountChange is one change a manager makes to an account.
type AccountChange struct {
	// Disabled: true disables (and ends every session), false enables.
	Disabled *bool
	// PasswordHash, when set, replaces the password (the account is no
	// longer the demo's) and ends every session.
	PasswordHash string
	// Role, when set, is the account's new role.
	Role string
	// Unlock clears the lock and the counted failures.
	Unlock bool
	// EndSessions ends every session of the account.
	EndSessions bool
}

// ChangeAccount applies a change to an account of office (ErrNotFound for
// another office's or an unknown one) and records the event, in one
// transaction.
func (db *DB) ChangeAccount(ctx context.Context, office, login string, ch AccountChange, e AccountEvent) error {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `SELECT id FROM clerks WHERE login = $1 AND municipality_code = $2 FOR UPDATE`, login, office).Scan(&id); err != nil {
			return err
		}
		endSessions := ch.EndSessions
		if ch.Disabled != nil {
			if _, err := tx.Exec(ctx, `UPDATE clerks SET disabled_at = CASE WHEN $2 THEN COALESCE(disabled_at, $3) END WHERE id = $1`,
				id, *ch.Disabled, e.At); err != nil {
				return err
			}
			endSessions = endSessions || *ch.Disabled
		}
		if ch.PasswordHash != "" {
			if _, err := tx.Exec(ctx, `UPDATE clerks SET password_hash = $2, demo = false WHERE id = $1`, id, ch.PasswordHash); err != nil {
				return err
			}
			endSessions = true
		}
		if ch.Role != "" {
			if _, err := tx.Exec(ctx, `UPDATE clerks SET role = $2 WHERE id = $1`, id, ch.Role); err != nil {
				return err
			}
			endSessions = true
		}
		if ch.Unlock {
			if _, err := tx.Exec(ctx, `UPDATE clerks SET locked_at = NULL WHERE id = $1`, id); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `DELETE FROM login_failures WHERE login = $1`, login); err != nil {
				return err
			}
		}
		if endSessions {
			if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE clerk_id = $1`, id); err != nil {
				return err
			}
		}
		return recordAccountEvent(ctx, tx, e)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("storage: change account: %w", err)
	}
	return nil
}

func recordAccountEvent(ctx context.Context, tx pgx.Tx, e AccountEvent) error {
	_, err := tx.Exec(ctx, `INSERT INTO account_events (office_code, login, action, detail, actor, at) VALUES ($1, $2, $3, $4, $5, $6)`,
		e.Office, e.Login, e.Action, e.Detail, e.Actor, e.At)
	return err
}

// DemoAccounts lists the logins of the accounts the demo seeded that still
// have its password.
func (db *DB) DemoAccounts(ctx context.Context) ([]string, error) {
	rows, err := db.Pool.Query(ctx, `SELECT login FROM clerks WHERE demo ORDER BY login`)
	if err != nil {
		return nil, fmt.Errorf("storage: demo accounts: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("storage: demo accounts: %w", err)
	}
	return out, nil
}

// NewOneTimePassword makes a password to hand to a person once (16
// characters from an alphabet without look-alikes, about 90 bits) and its
// bcrypt hash to store.
func NewOneTimePassword() (password, hash string, err error) {
	const alphabet = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY34679"
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	h, err := bcrypt.GenerateFromPassword(b, bcrypt.DefaultCost)
	if err != nil {
		return "", "", err
	}
	return string(b), string(h), nil
}
