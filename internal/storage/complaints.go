package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrComplaintAnswered: the complaint was already answered (or closed).
var ErrComplaintAnswered = errors.New("storage: complaint already answered")

// ComplaintCategories are the register's categories (第3 7), in the
// order the console lists them.
var ComplaintCategories = []string{"procedure", "pin", "card", "personal_data", "other"}

// ComplaintDueDays is the default period for an answer: our choice, as
// 第3 7 sets none.
const ComplaintDueDays = 14

// Complaint is one complaint or inquiry of the register. It holds no
// names: CaseNumber links a case of the office, Summary is free text that
// the clerk is told to keep free of personal data.
type Complaint struct {
	ID         int64
	Office     string
	Category   string
	CaseNumber string
	Summary    string
	ReceivedAt time.Time
	// DueOn is a date at midnight UTC, as Postgres dates are read.
	DueOn      time.Time
	Status     string
	Response   string
	RecordedBy int64
	RecordedAt time.Time
	AnsweredBy int64
	AnsweredAt *time.Time
}

// ComplaintFilter narrows the office's register: Status ("" any), and
// Overdue (open with a due date before Today).
type ComplaintFilter struct {
	Office  string
	Status  string
	Overdue bool
	Today   time.Time
}

const complaintColumns = `id, office_code, category, COALESCE(case_number, ''), summary, received_at, due_on, status,
	COALESCE(response, ''), recorded_by, recorded_at, COALESCE(answered_by, 0), answered_at FROM complaints`

func scanComplaint(row pgx.Row) (Complaint, error) {
	var k Complaint
	err := row.Scan(&k.ID, &k.Office, &k.Category, &k.CaseNumber, &k.Summary, &k.ReceivedAt, &k.DueOn, &k.Status,
		&k.Response, &k.RecordedBy, &k.RecordedAt, &k.AnsweredBy, &k.AnsweredAt)
	return k, err
}

// RecordComplaint records a complaint of the register as open. The
// caller has checked its category, summary and case.
func (db *DB) RecordComplaint(ctx context.Context, k Complaint) (int64, error) {
	var id int64
	var cs *string
	if k.CaseNumber != "" {
		cs = &k.CaseNumber
	}
	err := db.Pool.QueryRow(ctx, `INSERT INTO complaints (office_code, category, case_number, summary, received_at, due_on, recorded_by, recorded_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		k.Office, k.Category, cs, k.Summary, k.ReceivedAt, k.DueOn, k.RecordedBy, k.RecordedAt).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("storage: record complaint: %w", err)
	}
	return id, nil
}

// Complaint returns one complaint.
func (db *DB) Complaint(ctx context.Context, id int64) (Complaint, error) {
	k, err := scanComplaint(db.Pool.QueryRow(ctx, `SELECT `+complaintColumns+` WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Complaint{}, ErrNotFound
	}
	if err != nil {
		return Complaint{}, fmt.Errorf("storage: complaint: %w", err)
	}
	return k, nil
}

// Complaints returns an office's complaints, the earliest due first.
func (db *DB) Complaints(ctx context.Context, f ComplaintFilter) ([]Complaint, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+complaintColumns+` WHERE office_code = $1
		AND ($2 = '' OR status = $2) AND (NOT $3 OR (status = 'open' AND due_on < $4::date))
		ORDER BY due_on, id`, f.Office, f.Status, f.Overdue, f.Today)
	if err != nil {
		return nil, fmt.Errorf("storage: complaints: %w", err)
	}
	defer rows.Close()
	out := []Complaint{}
	for rows.Next() {
		k, err := scanComplaint(rows)
		if err != nil {
			return nil, fmt.Errorf("storage: complaints: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: complaints: %w", err)
	}
	return out, nil
}

// AnswerComplaint records the answer to an open complaint, once
// (ErrComplaintAnswered).
func (db *DB) AnswerComplaint(ctx context.Context, id int64, response string, actor int64, at time.Time) error {
	tag, err := db.Pool.Exec(ctx, `UPDATE complaints SET status = 'answered', response = $2, answered_by = $3, answered_at = $4
		WHERE id = $1 AND status = 'open'`, id, response, actor, at)
	if err != nil {
		return fmt.Errorf("storage: answer complaint: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrComplaintAnswered
	}
	return nil
}
