package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Case is one procedure's row.
type Case struct {
	CaseNumber       string
	MunicipalityCode string
	// Office is the code of the office that acted: the municipality itself,
	// or a post office or another municipality under a delegation ("" for
	// the cases recorded before offices acted for others).
	Office     string
	Procedure  string
	WorkflowID string
	OpenedBy   int64
	OpenedAt   time.Time
	Status     string
	// TerminalID is the terminal the case was started on ("" for none).
	TerminalID string
	// Resident is whom the case is about, when its request names a
	// resident; recorded (InsertCase) for the disposal holds (disposal.go),
	// never read back with the case.
	Resident string
}

// NextCaseNumber allocates the next case number of a municipality for the
// given day: "<municipality code>-<yyyymmdd>-<sequence>". Case numbers carry
// no personal data, so they can name workflows and appear in search attributes.
func (db *DB) NextCaseNumber(ctx context.Context, municipality string, now time.Time) (string, error) {
	day := now.In(Tokyo)
	var n int
	err := db.Pool.QueryRow(ctx, `INSERT INTO case_counters (municipality_code, day, last) VALUES ($1, $2, 1)
		ON CONFLICT (municipality_code, day) DO UPDATE SET last = case_counters.last + 1 RETURNING last`,
		municipality, day.Format(time.DateOnly)).Scan(&n)
	if err != nil {
		return "", fmt.Errorf("storage: case number: %w", err)
	}
	return fmt.Sprintf("%s-%s-%06d", municipality, day.Format("20060102"), n), nil
}

// InsertCase records a new case, and whom it is about when named.
func (db *DB) InsertCase(ctx context.Context, c Case) error {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO cases (case_number, municipality_code, office_code, procedure, workflow_id, opened_by, terminal_id)
			VALUES ($1, $2, NULLIF($3, ''), $4, $5, $6, NULLIF($7, '')) ON CONFLICT (case_number) DO NOTHING`,
			c.CaseNumber, c.MunicipalityCode, c.Office, c.Procedure, c.WorkflowID, c.OpenedBy, c.TerminalID); err != nil {
			return err
		}
		if c.Resident == "" {
			return nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO case_residents (case_number, resident_code) VALUES ($1, $2)
			ON CONFLICT (case_number) DO NOTHING`, c.CaseNumber, c.Resident)
		return err
	})
	if err != nil {
		return fmt.Errorf("storage: insert case: %w", err)
	}
	return nil
}

// Case returns one case.
func (db *DB) Case(ctx context.Context, number string) (Case, error) {
	var c Case
	err := db.Pool.QueryRow(ctx, `SELECT case_number, municipality_code, COALESCE(office_code, ''), procedure, workflow_id, COALESCE(opened_by, 0), opened_at, status
		FROM cases WHERE case_number = $1`, number).
		Scan(&c.CaseNumber, &c.MunicipalityCode, &c.Office, &c.Procedure, &c.WorkflowID, &c.OpenedBy, &c.OpenedAt, &c.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return Case{}, ErrNotFound
	}
	if err != nil {
		return Case{}, fmt.Errorf("storage: case: %w", err)
	}
	return c, nil
}

// CloseCase marks a case finished with the given status and the code of
// why it did not complete ("" when it did); repeating it is harmless.
func (db *DB) CloseCase(ctx context.Context, number, status, reason string, at time.Time) error {
	_, err := db.Pool.Exec(ctx, `UPDATE cases SET status = $2, reason_code = $4, closed_at = COALESCE(closed_at, $3) WHERE case_number = $1`, number, status, at, reason)
	if err != nil {
		return fmt.Errorf("storage: close case: %w", err)
	}
	return nil
}

// RecordEvent appends an audit event once per key, as the next link of its
// case's office's hash chain (audit.go): a repeat of the key changes nothing.
func (db *DB) RecordEvent(ctx context.Context, number, key, actor, detail string, at time.Time) error {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		return recordChainedEvent(ctx, tx, number, key, actor, detail, at)
	})
	if err != nil {
		return fmt.Errorf("storage: event: %w", err)
	}
	return nil
}

// RegisterDocuments records the application documents of a case, each kept
// until the municipality's retention period for its type (or, for a type it
// did not set, its default) has passed, and returns the latest such date.
func (db *DB) RegisterDocuments(ctx context.Context, number string, docTypes []string, at time.Time) (time.Time, error) {
	var latest time.Time
	for _, t := range docTypes {
		var years int
		if err := db.Pool.QueryRow(ctx, `SELECT COALESCE(rp.years, m.document_retention_years) FROM cases c
			JOIN municipalities m ON m.code = c.municipality_code
			LEFT JOIN retention_periods rp ON rp.municipality_code = m.code AND rp.doc_type = $2
			WHERE c.case_number = $1`, number, t).Scan(&years); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return time.Time{}, ErrNotFound
			}
			return time.Time{}, fmt.Errorf("storage: retention: %w", err)
		}
		// Kept until the same calendar date `years` later (Asia/Tokyo); the
		// period is the municipality's own setting (第3 3).
		d := at.In(Tokyo)
		until := time.Date(d.Year()+years, d.Month(), d.Day(), 0, 0, 0, 0, Tokyo)
		if until.After(latest) {
			latest = until
		}
		if _, err := db.Pool.Exec(ctx, `INSERT INTO documents (case_number, doc_type, registered_at, retain_until) VALUES ($1, $2, $3, $4)
			ON CONFLICT (case_number, doc_type) DO NOTHING`, number, t, at, until.Format(time.DateOnly)); err != nil {
			return time.Time{}, fmt.Errorf("storage: document: %w", err)
		}
	}
	return latest, nil
}

// IssuedCertificate is the municipality's record of a certificate on a card.
type IssuedCertificate struct {
	Serial       string
	Kind         string
	CaseNumber   string
	ResidentCode string
	CardSerial   string
	NotAfter     time.Time
	Status       string
}

// RecordIssued stores certificates written to a card; repeating is harmless.
func (db *DB) RecordIssued(ctx context.Context, certs []IssuedCertificate) error {
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		for _, c := range certs {
			if _, err := tx.Exec(ctx, `INSERT INTO issued_certificates (serial, kind, case_number, resident_code, card_serial, not_after)
				VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (serial) DO NOTHING`,
				c.Serial, c.Kind, c.CaseNumber, c.ResidentCode, c.CardSerial, c.NotAfter); err != nil {
				return fmt.Errorf("storage: record issued: %w", err)
			}
		}
		return nil
	})
}

// ActiveCertificate returns the resident's active certificate of a kind.
func (db *DB) ActiveCertificate(ctx context.Context, residentCode, kind string) (IssuedCertificate, error) {
	var c IssuedCertificate
	err := db.Pool.QueryRow(ctx, `SELECT serial, kind, case_number, resident_code, card_serial, not_after, status
		FROM issued_certificates WHERE resident_code = $1 AND kind = $2 AND status = 'active' ORDER BY not_after DESC LIMIT 1`,
		residentCode, kind).Scan(&c.Serial, &c.Kind, &c.CaseNumber, &c.ResidentCode, &c.CardSerial, &c.NotAfter, &c.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return IssuedCertificate{}, ErrNotFound
	}
	if err != nil {
		return IssuedCertificate{}, fmt.Errorf("storage: active certificate: %w", err)
	}
	return c, nil
}

// MarkCertificate sets the status of a recorded certificate.
func (db *DB) MarkCertificate(ctx context.Context, serial, status string) error {
	_, err := db.Pool.Exec(ctx, `UPDATE issued_certificates SET status = $2 WHERE serial = $1`, serial, status)
	if err != nil {
		return fmt.Errorf("storage: mark certificate: %w", err)
	}
	return nil
}

// Certificate returns the municipality's record of one certificate, in
// whatever status.
func (db *DB) Certificate(ctx context.Context, serial string) (IssuedCertificate, error) {
	var c IssuedCertificate
	err := db.Pool.QueryRow(ctx, `SELECT serial, kind, case_number, resident_code, card_serial, not_after, status
		FROM issued_certificates WHERE serial = $1`, serial).
		Scan(&c.Serial, &c.Kind, &c.CaseNumber, &c.ResidentCode, &c.CardSerial, &c.NotAfter, &c.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return IssuedCertificate{}, ErrNotFound
	}
	if err != nil {
		return IssuedCertificate{}, fmt.Errorf("storage: certificate: %w", err)
	}
	return c, nil
}

// Certificates returns every certificate the municipality recorded for a
// resident, newest first, in whatever status.
func (db *DB) Certificates(ctx context.Context, residentCode string) ([]IssuedCertificate, error) {
	rows, err := db.Pool.Query(ctx, `SELECT serial, kind, case_number, resident_code, card_serial, not_after, status
		FROM issued_certificates WHERE resident_code = $1 ORDER BY not_after DESC, serial`, residentCode)
	if err != nil {
		return nil, fmt.Errorf("storage: certificates: %w", err)
	}
	defer rows.Close()
	var out []IssuedCertificate
	for rows.Next() {
		var c IssuedCertificate
		if err := rows.Scan(&c.Serial, &c.Kind, &c.CaseNumber, &c.ResidentCode, &c.CardSerial, &c.NotAfter, &c.Status); err != nil {
			return nil, fmt.Errorf("storage: certificates: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SetCaseTerminal records the terminal a case's card steps run on, when
// a later step than the start names it (a relay notice's review).
func (db *DB) SetCaseTerminal(ctx context.Context, number, terminal string) error {
	if _, err := db.Pool.Exec(ctx, `UPDATE cases SET terminal_id = $2 WHERE case_number = $1`, number, terminal); err != nil {
		return fmt.Errorf("storage: case terminal: %w", err)
	}
	return nil
}
