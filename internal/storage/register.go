package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Resident is a resident register record.
type Resident struct {
	ResidentCode     string
	MunicipalityCode string
	Name             string
	NameKana         string
	FormerSurname    string
	Alias            string
	BirthDate        time.Time
	Sex              string
	Address          string
	Status           string
	AdultWard        bool
}

// Resident returns the register record with the given resident code.
func (db *DB) Resident(ctx context.Context, code string) (Resident, error) {
	var r Resident
	err := db.Pool.QueryRow(ctx, `SELECT resident_code, municipality_code, name, name_kana, former_surname, alias,
		birth_date, sex, address, status, adult_ward FROM residents WHERE resident_code = $1`, code).Scan(
		&r.ResidentCode, &r.MunicipalityCode, &r.Name, &r.NameKana, &r.FormerSurname, &r.Alias,
		&r.BirthDate, &r.Sex, &r.Address, &r.Status, &r.AdultWard)
	if errors.Is(err, pgx.ErrNoRows) {
		return Resident{}, ErrNotFound
	}
	if err != nil {
		return Resident{}, fmt.Errorf("storage: resident: %w", err)
	}
	return r, nil
}

// Card is an IC card known to the municipality.
type Card struct {
	Serial       string
	ResidentCode string
	ExpiresOn    time.Time
	// Status is active, lost, returned or expired.
	Status string
}

// Card returns the card with the given serial number.
func (db *DB) Card(ctx context.Context, serial string) (Card, error) {
	var c Card
	err := db.Pool.QueryRow(ctx, `SELECT card_serial, resident_code, expires_on, status FROM cards WHERE card_serial = $1`, serial).
		Scan(&c.Serial, &c.ResidentCode, &c.ExpiresOn, &c.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return Card{}, ErrNotFound
	}
	if err != nil {
		return Card{}, fmt.Errorf("storage: card: %w", err)
	}
	return c, nil
}

// Terminal is a counter terminal.
type Terminal struct {
	ID               string
	MunicipalityCode string
	ReaderName       string
	// PINReset is set for a terminal authorised to reset PINs.
	PINReset bool
	// Status is active, suspended or decommissioned (migration 012);
	// StatusChangedBy and StatusChangedAt say who changed it last.
	Status          string
	StatusChangedBy int64
	StatusChangedAt *time.Time
	// AgentIdentity is the card agent's worker identity (migration 017);
	// RegisteredBy and RegisteredAt say who registered the terminal, when
	// (zero for the terminals set up before registration existed).
	AgentIdentity string
	RegisteredBy  int64
	RegisteredAt  *time.Time
	// HoldsSealingKeys: the terminal holds its office's sealing private
	// keys (a municipality's terminal; a post office's does not).
	HoldsSealingKeys bool
}

// The statuses of a terminal.
const (
	TerminalActive         = "active"
	TerminalSuspended      = "suspended"
	TerminalDecommissioned = "decommissioned"
)

// ErrTerminalStatus: the terminal's status does not allow the change (it
// is not in one of the statuses the change is from).
var ErrTerminalStatus = errors.New("storage: the terminal's status does not allow this")

const terminalColumns = `id, municipality_code, reader_name, pin_reset, status, COALESCE(status_changed_by, 0), status_changed_at,
	COALESCE(agent_identity, ''), COALESCE(registered_by, 0), registered_at, holds_sealing_keys FROM terminals`

func scanTerminal(row pgx.Row) (Terminal, error) {
	var t Terminal
	err := row.Scan(&t.ID, &t.MunicipalityCode, &t.ReaderName, &t.PINReset, &t.Status, &t.StatusChangedBy, &t.StatusChangedAt,
		&t.AgentIdentity, &t.RegisteredBy, &t.RegisteredAt, &t.HoldsSealingKeys)
	return t, err
}

// ErrTerminalExists: a terminal with that id, or a terminal of that card
// agent's identity, is registered already.
var ErrTerminalExists = errors.New("storage: the terminal is registered already")

// RegisterTerminal records a new active terminal of an office, with its
// reader and its card agent's identity. The same id or agent identity
// registered again is ErrTerminalExists; an unknown office ErrNotFound.
func (db *DB) RegisterTerminal(ctx context.Context, t Terminal) error {
	_, err := db.Pool.Exec(ctx, `INSERT INTO terminals (id, municipality_code, reader_name, agent_identity, registered_by, registered_at, holds_sealing_keys)
		VALUES ($1, $2, $3, NULLIF($4, ''), $5, $6, $7)`, t.ID, t.MunicipalityCode, t.ReaderName, t.AgentIdentity, t.RegisteredBy, t.RegisteredAt, t.HoldsSealingKeys)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "23505":
		return ErrTerminalExists
	case errors.As(err, &pgErr) && pgErr.Code == "23503":
		return ErrNotFound
	case err != nil:
		return fmt.Errorf("storage: register terminal: %w", err)
	}
	return nil
}

// SetPINResetAuthority grants (or withdraws) a terminal's authority to
// reset PINs (第3 1 初期化), the Organization's to give; who and when are
// kept. An unknown terminal is ErrNotFound.
func (db *DB) SetPINResetAuthority(ctx context.Context, id string, grant bool, actor int64, at time.Time) error {
	tag, err := db.Pool.Exec(ctx, `UPDATE terminals SET pin_reset = $2, pin_reset_changed_by = $3, pin_reset_changed_at = $4
		WHERE id = $1 AND status <> 'decommissioned'`, id, grant, actor, at)
	if err != nil {
		return fmt.Errorf("storage: PIN-reset authority: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// Decommissioned is what decommissioning a terminal did beside its status.
type Decommissioned struct {
	// OpenCases are the open cases started on the terminal, to be ended.
	OpenCases []string
	// RetiredSealingKey is the id of the office's sealing key retired with
	// it ("" when the office had none).
	RetiredSealingKey string
}

// DecommissionTerminal decommissions a terminal (from one of the statuses
// from, ErrTerminalStatus otherwise) and, in the same transaction, retires
// its office's current sealing key when the terminal held the private key
// files (HoldsSealingKeys): so no relay municipality may seal to that key any more (notices
// already sealed to it still open during the usual overlap, on the
// remaining terminals, until a new key is made there). It returns the open
// cases started on the terminal, which the caller ends.
func (db *DB) DecommissionTerminal(ctx context.Context, id string, from []string, actor int64, at time.Time) (Decommissioned, error) {
	var out Decommissioned
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var office string
		var holds bool
		err := tx.QueryRow(ctx, `UPDATE terminals SET status = 'decommissioned', status_changed_by = $3, status_changed_at = $4
			WHERE id = $1 AND status = ANY($2) RETURNING municipality_code, holds_sealing_keys`, id, from, actor, at).Scan(&office, &holds)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrTerminalStatus
		}
		if err != nil {
			return err
		}
		if holds {
			err = tx.QueryRow(ctx, `UPDATE sealing_keys SET retire_after = $2 WHERE municipality_code = $1 AND retire_after IS NULL
				RETURNING key_id`, office, at.Add(SealingKeyOverlap)).Scan(&out.RetiredSealingKey)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		rows, err := tx.Query(ctx, `SELECT case_number FROM cases WHERE terminal_id = $1 AND status = 'open' ORDER BY case_number`, id)
		if err != nil {
			return err
		}
		out.OpenCases, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if errors.Is(err, ErrTerminalStatus) {
		return Decommissioned{}, err
	}
	if err != nil {
		return Decommissioned{}, fmt.Errorf("storage: decommission terminal: %w", err)
	}
	return out, nil
}

// Terminals returns an office's terminals, by id.
func (db *DB) Terminals(ctx context.Context, office string) ([]Terminal, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+terminalColumns+` WHERE municipality_code = $1 ORDER BY id`, office)
	if err != nil {
		return nil, fmt.Errorf("storage: terminals: %w", err)
	}
	defer rows.Close()
	out := []Terminal{}
	for rows.Next() {
		t, err := scanTerminal(rows)
		if err != nil {
			return nil, fmt.Errorf("storage: terminals: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: terminals: %w", err)
	}
	return out, nil
}

// SetTerminalStatus changes a terminal's status to to, only from one of
// the statuses from (ErrTerminalStatus otherwise, or for an unknown one).
func (db *DB) SetTerminalStatus(ctx context.Context, id string, from []string, to string, actor int64, at time.Time) error {
	tag, err := db.Pool.Exec(ctx, `UPDATE terminals SET status = $3, status_changed_by = $4, status_changed_at = $5
		WHERE id = $1 AND status = ANY($2)`, id, from, to, actor, at)
	if err != nil {
		return fmt.Errorf("storage: terminal status: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrTerminalStatus
	}
	return nil
}

// Terminal returns the terminal with the given id.
func (db *DB) Terminal(ctx context.Context, id string) (Terminal, error) {
	t, err := scanTerminal(db.Pool.QueryRow(ctx, `SELECT `+terminalColumns+` WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Terminal{}, ErrNotFound
	}
	if err != nil {
		return Terminal{}, fmt.Errorf("storage: terminal: %w", err)
	}
	return t, nil
}

// MarkCard sets a card's status (active, lost, returned, expired).
func (db *DB) MarkCard(ctx context.Context, serial, status string) error {
	_, err := db.Pool.Exec(ctx, `UPDATE cards SET status = $2 WHERE card_serial = $1`, serial, status)
	if err != nil {
		return fmt.Errorf("storage: mark card: %w", err)
	}
	return nil
}
