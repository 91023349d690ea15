package storage

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// ReportCase is one case of an office opened in a period, for the audit
// report: no personal data.
type ReportCase struct {
	CaseNumber, Procedure, Status, Reason string
}

// ReportCases lists the cases of a municipality (its own, and those done on
// its behalf) opened in [from, to), by case number.
func (db *DB) ReportCases(ctx context.Context, municipality string, from, to time.Time) ([]ReportCase, error) {
	rows, err := db.Pool.Query(ctx, `SELECT case_number, procedure, status, reason_code FROM cases
		WHERE municipality_code = $1 AND opened_at >= $2 AND opened_at < $3 ORDER BY case_number`, municipality, from, to)
	if err != nil {
		return nil, fmt.Errorf("storage: report cases: %w", err)
	}
	defer rows.Close()
	var out []ReportCase
	for rows.Next() {
		var c ReportCase
		if err := rows.Scan(&c.CaseNumber, &c.Procedure, &c.Status, &c.Reason); err != nil {
			return nil, fmt.Errorf("storage: report cases: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// PINConfirmation is the record of a second clerk's confirmation of a
// clerk-typed PIN (the case event pin_entry_confirmed, workflows/kit).
type PINConfirmation struct {
	CaseNumber, EnteredBy, ConfirmedBy string
	At                                 time.Time
}

// pinConfirmedKey is the case event of the confirmation; its detail is
// "entered by <login>".
const pinConfirmedKey = "pin_entry_confirmed"

// PINConfirmations lists the confirmations recorded for the cases of a
// municipality opened in [from, to), by case number.
func (db *DB) PINConfirmations(ctx context.Context, municipality string, from, to time.Time) ([]PINConfirmation, error) {
	rows, err := db.Pool.Query(ctx, `SELECT e.case_number, e.actor, e.detail, e.at FROM case_events e JOIN cases c ON c.case_number = e.case_number
		WHERE c.municipality_code = $1 AND c.opened_at >= $2 AND c.opened_at < $3 AND e.event_key = $4 ORDER BY e.case_number`,
		municipality, from, to, pinConfirmedKey)
	if err != nil {
		return nil, fmt.Errorf("storage: PIN confirmations: %w", err)
	}
	defer rows.Close()
	var out []PINConfirmation
	for rows.Next() {
		var p PINConfirmation
		var detail string
		if err := rows.Scan(&p.CaseNumber, &p.ConfirmedBy, &detail, &p.At); err != nil {
			return nil, fmt.Errorf("storage: PIN confirmations: %w", err)
		}
		p.EnteredBy = strings.TrimSpace(strings.TrimPrefix(detail, "entered by"))
		out = append(out, p)
	}
	return out, rows.Err()
}

// ReportDisposal is one disposal of a document or an issuance record.
type ReportDisposal struct {
	CaseNumber string
	// Item is the kind and the item disposed of ("document:<type>",
	// "issuance_record:<serial>").
	Item       string
	ApprovedBy string
	At         time.Time
}

// ReportDisposals lists the disposals of an office in [from, to), oldest
// first; recorded is false while the disposals table (retention and
// disposal, issue 12 item 1) does not exist in this database.
func (db *DB) ReportDisposals(ctx context.Context, office string, from, to time.Time) (out []ReportDisposal, recorded bool, err error) {
	if err := db.Pool.QueryRow(ctx, `SELECT to_regclass('disposals') IS NOT NULL`).Scan(&recorded); err != nil {
		return nil, false, fmt.Errorf("storage: report disposals: %w", err)
	}
	if !recorded {
		return nil, false, nil
	}
	rows, err := db.Pool.Query(ctx, `SELECT case_number, kind || ':' || item, approved_by, disposed_at FROM disposals
		WHERE office_code = $1 AND disposed_at >= $2 AND disposed_at < $3 ORDER BY disposed_at, case_number, item`, office, from, to)
	if err != nil {
		return nil, true, fmt.Errorf("storage: report disposals: %w", err)
	}
	defer rows.Close()
	out = []ReportDisposal{}
	for rows.Next() {
		var d ReportDisposal
		if err := rows.Scan(&d.CaseNumber, &d.Item, &d.ApprovedBy, &d.At); err != nil {
			return nil, true, fmt.Errorf("storage: report disposals: %w", err)
		}
		out = append(out, d)
	}
	return out, true, rows.Err()
}
