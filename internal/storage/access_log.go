package storage

import (
	"context"
	"fmt"
	"time"
)

// HistoryAccess is one opening of a case's history: who read whose record,
// when, from which office.
type HistoryAccess struct {
	ID         int64  `json:"id"`
	ClerkID    int64  `json:"clerkId"`
	ClerkLogin string `json:"clerk"`
	Office     string `json:"office"`
	CaseNumber string `json:"caseNumber"`
	// Municipality is the case's municipality, whose auditors and managers search the log.
	Municipality string    `json:"municipality"`
	At           time.Time `json:"at"`
}

// AccessFilter narrows a search of the access log: the municipality's
// entries, of one case and one clerk's login when set, at or after From and
// before To when set; at most Limit, newest first, after skipping Offset
// (a page of the search).
type AccessFilter struct {
	Municipality, CaseNumber, ClerkLogin string
	From, To                             time.Time
	Limit, Offset                        int
}

// RecordHistoryAccess appends an opening of a case's history.
func (db *DB) RecordHistoryAccess(ctx context.Context, a HistoryAccess) error {
	_, err := db.Pool.Exec(ctx, `INSERT INTO history_access_log (clerk_id, clerk_login, office_code, case_number, municipality_code, at)
		VALUES ($1, $2, $3, $4, $5, $6)`, a.ClerkID, a.ClerkLogin, a.Office, a.CaseNumber, a.Municipality, a.At)
	if err != nil {
		return fmt.Errorf("storage: record history access: %w", err)
	}
	return nil
}

// HistoryAccesses searches the access log.
func (db *DB) HistoryAccesses(ctx context.Context, f AccessFilter) ([]HistoryAccess, error) {
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
	rows, err := db.Pool.Query(ctx, `SELECT id, clerk_id, clerk_login, office_code, case_number, municipality_code, at
		FROM history_access_log
		WHERE municipality_code = $1 AND ($2 = '' OR case_number = $2) AND ($3 = '' OR clerk_login = $3)
		  AND ($4::timestamptz IS NULL OR at >= $4) AND ($5::timestamptz IS NULL OR at < $5)
		ORDER BY at DESC, id DESC LIMIT $6 OFFSET $7`, f.Municipality, f.CaseNumber, f.ClerkLogin, from, to, f.Limit, max(f.Offset, 0))
	if err != nil {
		return nil, fmt.Errorf("storage: history accesses: %w", err)
	}
	defer rows.Close()
	out := []HistoryAccess{}
	for rows.Next() {
		var a HistoryAccess
		if err := rows.Scan(&a.ID, &a.ClerkID, &a.ClerkLogin, &a.Office, &a.CaseNumber, &a.Municipality, &a.At); err != nil {
			return nil, fmt.Errorf("storage: history accesses: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
