package storage

import (
	"context"
	"fmt"
	"time"
)

// The kinds of refused attempt (issue 12 item 8): acts the rules forbid,
// refused and recorded as attempts for the compliance audit (第3 10).
const (
	// RefusalDisposalWithoutApproval: documents disposed of before a
	// manager approved the day's list.
	RefusalDisposalWithoutApproval = "disposal_without_approval"
	// RefusalApprovalOfOwnList: a manager approving a list they drew up.
	RefusalApprovalOfOwnList = "approval_of_own_list"
	// RefusalFeeTypedByHand: a fee amount typed in, when the fee is
	// computed from the case's facts.
	RefusalFeeTypedByHand = "fee_typed_by_hand"
	// RefusalAuditRowEdited: the chain check found a row edited, deleted
	// or moved.
	RefusalAuditRowEdited = "audit_row_edited"
)

// Refusal is one refused attempt. It holds no personal data: Subject is a
// case number, a list's day or a chain link; Reason is the refusal's code.
type Refusal struct {
	ID      int64
	Office  string
	Kind    string
	Actor   string
	Subject string
	Reason  string
	At      time.Time
}

// RecordRefusal records a refused attempt and returns its id.
func (db *DB) RecordRefusal(ctx context.Context, r Refusal) (int64, error) {
	var id int64
	if err := db.Pool.QueryRow(ctx, `INSERT INTO refused_attempts (office_code, kind, actor, subject, reason, at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, r.Office, r.Kind, r.Actor, r.Subject, r.Reason, r.At).Scan(&id); err != nil {
		return 0, fmt.Errorf("storage: record refusal: %w", err)
	}
	return id, nil
}

// RefusalFilter narrows an office's refused attempts: Kind ("" any), and
// the period [From, To) (zero: open).
type RefusalFilter struct {
	Office   string
	Kind     string
	From, To time.Time
	Limit    int
}

// Refusals lists an office's refused attempts, the newest first (at most
// Limit, default 200).
func (db *DB) Refusals(ctx context.Context, f RefusalFilter) ([]Refusal, error) {
	if f.Limit <= 0 {
		f.Limit = 200
	}
	var from, to *time.Time
	if !f.From.IsZero() {
		from = &f.From
	}
	if !f.To.IsZero() {
		to = &f.To
	}
	rows, err := db.Pool.Query(ctx, `SELECT id, office_code, kind, actor, subject, reason, at FROM refused_attempts
		WHERE office_code = $1 AND ($2 = '' OR kind = $2) AND ($3::timestamptz IS NULL OR at >= $3)
		  AND ($4::timestamptz IS NULL OR at < $4)
		ORDER BY at DESC, id DESC LIMIT $5`, f.Office, f.Kind, from, to, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("storage: refusals: %w", err)
	}
	defer rows.Close()
	var out []Refusal
	for rows.Next() {
		var r Refusal
		if err := rows.Scan(&r.ID, &r.Office, &r.Kind, &r.Actor, &r.Subject, &r.Reason, &r.At); err != nil {
			return nil, fmt.Errorf("storage: refusals: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: refusals: %w", err)
	}
	return out, nil
}

// RecordChainBreak records a broken audit chain as an attempt
// (RefusalAuditRowEdited): a row edited, deleted or moved outside the
// program, found by the chain check. The same break of an office (its
// place and reason) is recorded once however often the check runs; it
// reports whether this call recorded it. A report without a break records
// nothing.
func (db *DB) RecordChainBreak(ctx context.Context, rep ChainReport, actor string, at time.Time) (bool, error) {
	if rep.Break == nil {
		return false, nil
	}
	subject := fmt.Sprintf("chain seq %d", rep.Break.Seq)
	if rep.Chain == AccessLogChain {
		subject = fmt.Sprintf("access log chain seq %d", rep.Break.Seq)
	}
	if rep.Break.CaseNumber != "" {
		subject += " (" + rep.Break.CaseNumber + ")"
	}
	tag, err := db.Pool.Exec(ctx, `INSERT INTO refused_attempts (office_code, kind, actor, subject, reason, at)
		SELECT $1, $2, $3, $4, $5, $6
		WHERE NOT EXISTS (SELECT 1 FROM refused_attempts WHERE office_code = $1 AND kind = $2 AND subject = $4 AND reason = $5)`,
		rep.Office, RefusalAuditRowEdited, actor, subject, rep.Break.Reason, at)
	if err != nil {
		return false, fmt.Errorf("storage: record chain break: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}
