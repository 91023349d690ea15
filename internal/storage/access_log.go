package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// The kinds of read in the access log (第3 8 秘密の保持): every read of
// personal data through the gateway or the console.
const (
	// AccessHistory: a case's decoded Temporal history opened.
	AccessHistory = "history"
	// AccessRegisterRecord: a resident's register record read, for a start's
	// register check or a letter printed from it (a revocation notice, an
	// inquiry letter).
	AccessRegisterRecord = "register_record"
	// AccessDisclosure: what a disclosure disclosed to a person, asked of
	// the disclosure's case (a correction request's check).
	AccessDisclosure = "disclosure"
)

// AccessKinds lists the kinds.
var AccessKinds = []string{AccessHistory, AccessRegisterRecord, AccessDisclosure}

// ErrBadAccessKind is an access-log entry or filter of no known kind.
var ErrBadAccessKind = errors.New("storage: unknown access kind")

// HistoryAccess is one read of personal data: who read what, when, from
// which office. It holds no personal data itself: what was read is a kind,
// a case number and a reference (a letter's name, a refused start's
// procedure and code), never a resident code or a name.
type HistoryAccess struct {
	ID         int64  `json:"id"`
	ClerkID    int64  `json:"clerkId"`
	ClerkLogin string `json:"clerk"`
	Office     string `json:"office"`
	// Kind is one of AccessKinds ("" is AccessHistory).
	Kind string `json:"kind"`
	// CaseNumber is the case read, or "" for a start refused before a case
	// existed.
	CaseNumber string `json:"caseNumber,omitempty"`
	Reference  string `json:"reference,omitempty"`
	// Municipality is the office whose record was read (the case's), whose
	// auditors search the log.
	Municipality string    `json:"municipality"`
	At           time.Time `json:"at"`
}

// AccessFilter narrows a search of the access log: the entries of a
// municipality's records, and those its staff (Office) made of others'
// when Staff is set; of one kind, case and clerk's login when set; at or
// after From and before To when set; at most Limit, newest first, after
// skipping Offset (a page of the search).
type AccessFilter struct {
	Municipality, CaseNumber, ClerkLogin, Kind string
	// Staff adds the reads the municipality's own staff made of another
	// office's records.
	Staff         bool
	From, To      time.Time
	Limit, Offset int
}

// RecordHistoryAccess appends a read to the access log.
func (db *DB) RecordHistoryAccess(ctx context.Context, a HistoryAccess) error {
	if a.Kind == "" {
		a.Kind = AccessHistory
	}
	if !slices.Contains(AccessKinds, a.Kind) {
		return fmt.Errorf("%w: %q", ErrBadAccessKind, a.Kind)
	}
	// Chained (access_chain.go): the office's head locked, the row's place
	// and hash written with it, the head moved on, in one transaction.
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO access_chain_heads (office_code) VALUES ($1) ON CONFLICT DO NOTHING`, a.Municipality); err != nil {
			return err
		}
		var seq int64
		var prev []byte
		if err := tx.QueryRow(ctx, `SELECT last_seq, last_hash FROM access_chain_heads WHERE office_code = $1 FOR UPDATE`, a.Municipality).Scan(&seq, &prev); err != nil {
			return err
		}
		seq++
		at := a.At.Truncate(time.Microsecond) // as Postgres keeps it
		hash := AccessEventHash(a.Municipality, seq, prev, a.ClerkLogin, a.ClerkID, a.Office, a.Kind, a.CaseNumber, a.Reference, at)
		if _, err := tx.Exec(ctx, `INSERT INTO history_access_log (clerk_id, clerk_login, office_code, kind, case_number, reference, municipality_code, at,
				chain_seq, prev_hash, row_hash)
			VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6, $7, $8, $9, $10, $11)`, a.ClerkID, a.ClerkLogin, a.Office, a.Kind, a.CaseNumber, a.Reference,
			a.Municipality, at, seq, prev, hash); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE access_chain_heads SET last_seq = $2, last_hash = $3 WHERE office_code = $1`, a.Municipality, seq, hash)
		return err
	})
	if err != nil {
		return fmt.Errorf("storage: record access: %w", err)
	}
	return nil
}

// HistoryAccesses searches the access log.
func (db *DB) HistoryAccesses(ctx context.Context, f AccessFilter) ([]HistoryAccess, error) {
	if f.Kind != "" && !slices.Contains(AccessKinds, f.Kind) {
		return nil, fmt.Errorf("%w: %q", ErrBadAccessKind, f.Kind)
	}
	if f.Limit <= 0 {
		f.Limit = 500
	}
	var from, to *time.Time
	if !f.From.IsZero() {
		from = &f.From
	}
	if !f.To.IsZero() {
		to = &f.To
	}
	rows, err := db.Pool.Query(ctx, `SELECT id, clerk_id, clerk_login, office_code, kind, COALESCE(case_number, ''), reference, municipality_code, at
		FROM history_access_log
		WHERE (municipality_code = $1 OR ($7 AND office_code = $1)) AND ($2 = '' OR case_number = $2) AND ($3 = '' OR clerk_login = $3)
		  AND ($4::timestamptz IS NULL OR at >= $4) AND ($5::timestamptz IS NULL OR at < $5) AND ($8 = '' OR kind = $8)
		ORDER BY at DESC, id DESC LIMIT $6 OFFSET $9`, f.Municipality, f.CaseNumber, f.ClerkLogin, from, to, f.Limit, f.Staff, f.Kind, max(f.Offset, 0))
	if err != nil {
		return nil, fmt.Errorf("storage: accesses: %w", err)
	}
	defer rows.Close()
	out := []HistoryAccess{}
	for rows.Next() {
		var a HistoryAccess
		if err := rows.Scan(&a.ID, &a.ClerkID, &a.ClerkLogin, &a.Office, &a.Kind, &a.CaseNumber, &a.Reference, &a.Municipality, &a.At); err != nil {
			return nil, fmt.Errorf("storage: accesses: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AccessCount is the number of reads one staff member made of one kind.
type AccessCount struct {
	ClerkLogin string `json:"clerk"`
	Kind       string `json:"kind"`
	Count      int    `json:"count"`
}

// AccessSummary counts the reads of a municipality's records, and those its
// staff made of others', in [from, to), per staff login and kind.
func (db *DB) AccessSummary(ctx context.Context, municipality string, from, to time.Time) ([]AccessCount, error) {
	rows, err := db.Pool.Query(ctx, `SELECT clerk_login, kind, count(*) FROM history_access_log
		WHERE (municipality_code = $1 OR office_code = $1) AND at >= $2 AND at < $3
		GROUP BY clerk_login, kind ORDER BY clerk_login, kind`, municipality, from, to)
	if err != nil {
		return nil, fmt.Errorf("storage: access summary: %w", err)
	}
	defer rows.Close()
	var out []AccessCount
	for rows.Next() {
		var a AccessCount
		if err := rows.Scan(&a.ClerkLogin, &a.Kind, &a.Count); err != nil {
			return nil, fmt.Errorf("storage: access summary: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
