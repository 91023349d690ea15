package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
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

const terminalColumns = `id, municipality_code, reader_name, pin_reset, status, COALESCE(status_changed_by, 0), status_changed_at FROM terminals`

func scanTerminal(row pgx.Row) (Terminal, error) {
	var t Terminal
	err := row.Scan(&t.ID, &t.MunicipalityCode, &t.ReaderName, &t.PINReset, &t.Status, &t.StatusChangedBy, &t.StatusChangedAt)
	return t, err
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
