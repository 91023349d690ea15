package storage

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/madoguchi/madoguchi/internal/inquiry"
)

// Inquiry statuses.
const (
	InquiryPrepared = "prepared" // the letter exists, not yet mailed
	InquiryMailed   = "mailed"   // mailed; waiting for the reply
	InquiryAnswered = "answered" // the right code was entered: the reply is accepted
	InquiryLocked   = "locked"   // too many wrong codes: the code no longer opens it
	InquiryLapsed   = "lapsed"   // the deadline passed without a reply
)

// DefaultMaxAttempts is how many wrong reply codes lock an inquiry.
const DefaultMaxAttempts = 5

// Errors of the inquiry functions, for callers to map.
var (
	// ErrInquiryNotMailed: a reply code was entered for a letter not yet
	// recorded as mailed, so it cannot have come from the registered address.
	ErrInquiryNotMailed = errors.New("storage: the inquiry letter has not been mailed")
	// ErrInquiryClosed: the inquiry was answered, locked or lapsed, so it
	// can no longer be mailed.
	ErrInquiryClosed = errors.New("storage: the inquiry is closed")
	// ErrInquiryAnswered: a lapse was asked for an inquiry already answered.
	ErrInquiryAnswered = errors.New("storage: the inquiry has been answered")
	// ErrInquiryPDFWiped: the printable letter (with the code) is deleted
	// once the letter is mailed or the inquiry ends; see InquiryArchivedPDF.
	ErrInquiryPDFWiped = errors.New("storage: the printable letter has been wiped")
)

// NewInquiry is an inquiry to create: the code's hash and salt (never the
// code), the deadline, and the letter twice: printable and archived.
type NewInquiry struct {
	CaseNumber  string
	CodeHash    []byte
	Salt        []byte
	Deadline    time.Time
	MaxAttempts int // 0 means DefaultMaxAttempts
	Pages       int
	PDF         []byte // printable, with the code
	ArchivedPDF []byte // the code masked
	CreatedAt   time.Time
}

// Inquiry is an inquiry's state, without the code's hash or the letters.
type Inquiry struct {
	CaseNumber  string
	Status      string
	Deadline    time.Time
	Attempts    int
	MaxAttempts int
	Pages       int
	CreatedAt   time.Time
	MailedAt    time.Time // zero until mailed
	MailedBy    string
	AnsweredAt  time.Time
	LockedAt    time.Time
	LapsedAt    time.Time
	// Printable tells whether the printable letter is still kept.
	Printable bool
}

// ReplyCheck is the outcome of entering a reply code.
type ReplyCheck struct {
	// OK: the code was right and this check answered the inquiry.
	OK bool
	// AttemptsLeft is how many wrong codes may still be entered.
	AttemptsLeft int
	// Expired: the deadline has passed (or the inquiry lapsed); the code
	// was not checked and no attempt was counted.
	Expired bool
	// Locked: the inquiry is locked, by this wrong code or earlier ones.
	Locked bool
	// AlreadyAnswered: the inquiry had been answered before this check;
	// OK is false and no attempt was counted.
	AlreadyAnswered bool
	// CodeMatches: the code is the right one. With AlreadyAnswered it lets a
	// retried activity recognise the answer its first attempt recorded.
	CodeMatches bool
}

// CreateInquiry stores a new inquiry once per case: when the case already
// has one (a retried activity), nothing changes and created is false, so a
// retry never makes a second code.
func (db *DB) CreateInquiry(ctx context.Context, in NewInquiry) (created bool, err error) {
	if in.MaxAttempts == 0 {
		in.MaxAttempts = DefaultMaxAttempts
	}
	if in.Pages == 0 {
		in.Pages = 1
	}
	if in.CreatedAt.IsZero() {
		in.CreatedAt = time.Now()
	}
	tag, err := db.Pool.Exec(ctx, `INSERT INTO inquiries (case_number, code_hash, salt, deadline, max_attempts, pages, pdf, archived_pdf, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (case_number) DO NOTHING`,
		in.CaseNumber, in.CodeHash, in.Salt, in.Deadline, in.MaxAttempts, in.Pages, in.PDF, in.ArchivedPDF, in.CreatedAt)
	if err != nil {
		return false, fmt.Errorf("storage: create inquiry: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

const inquiryColumns = `case_number, status, deadline, attempts, max_attempts, pages, created_at,
	mailed_at, COALESCE(mailed_by, ''), answered_at, locked_at, lapsed_at, pdf IS NOT NULL`

func scanInquiry(row pgx.Row) (Inquiry, error) {
	var q Inquiry
	var mailed, answered, locked, lapsed *time.Time
	err := row.Scan(&q.CaseNumber, &q.Status, &q.Deadline, &q.Attempts, &q.MaxAttempts, &q.Pages, &q.CreatedAt,
		&mailed, &q.MailedBy, &answered, &locked, &lapsed, &q.Printable)
	for _, p := range []struct {
		src *time.Time
		dst *time.Time
	}{{mailed, &q.MailedAt}, {answered, &q.AnsweredAt}, {locked, &q.LockedAt}, {lapsed, &q.LapsedAt}} {
		if p.src != nil {
			*p.dst = *p.src
		}
	}
	return q, err
}

// Inquiry returns the inquiry of a case.
func (db *DB) Inquiry(ctx context.Context, caseNumber string) (Inquiry, error) {
	q, err := scanInquiry(db.Pool.QueryRow(ctx, `SELECT `+inquiryColumns+` FROM inquiries WHERE case_number = $1`, caseNumber))
	if errors.Is(err, pgx.ErrNoRows) {
		return Inquiry{}, ErrNotFound
	}
	if err != nil {
		return Inquiry{}, fmt.Errorf("storage: inquiry: %w", err)
	}
	return q, nil
}

// Inquiries lists a municipality's inquiries in the given statuses (all
// when none is given), soonest deadline first: the replies it waits for,
// or the lapsed and locked ones a manager looks at.
func (db *DB) Inquiries(ctx context.Context, municipality string, statuses ...string) ([]Inquiry, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+inquiryColumns+` FROM inquiries
		WHERE case_number IN (SELECT case_number FROM cases WHERE municipality_code = $1)
		AND (COALESCE(cardinality($2::text[]), 0) = 0 OR status = ANY($2))
		ORDER BY deadline, case_number`, municipality, statuses)
	if err != nil {
		return nil, fmt.Errorf("storage: inquiries: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Inquiry, error) { return scanInquiry(r) })
	if err != nil {
		return nil, fmt.Errorf("storage: inquiries: %w", err)
	}
	return list, nil
}

// MarkInquiryMailed records that the letter was mailed, by whom, and wipes
// the printable letter: from now on the code exists only on paper. Marking
// a mailed inquiry again keeps the first record.
func (db *DB) MarkInquiryMailed(ctx context.Context, caseNumber, clerk string, at time.Time) error {
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var status string
		var mailed *time.Time
		err := tx.QueryRow(ctx, `SELECT status, mailed_at FROM inquiries WHERE case_number = $1 FOR UPDATE`, caseNumber).Scan(&status, &mailed)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("storage: mark inquiry mailed: %w", err)
		}
		switch {
		case mailed != nil:
			return nil // a retry, or mailed and since answered / locked / lapsed
		case status != InquiryPrepared:
			return fmt.Errorf("%w (%s)", ErrInquiryClosed, status)
		}
		if _, err := tx.Exec(ctx, `UPDATE inquiries SET status = 'mailed', mailed_at = $2, mailed_by = $3, pdf = NULL
			WHERE case_number = $1`, caseNumber, at, clerk); err != nil {
			return fmt.Errorf("storage: mark inquiry mailed: %w", err)
		}
		return nil
	})
}

// CheckReplyCode checks a reply code the clerk entered, in one transaction
// holding the inquiry's row, so concurrent entries cannot both pass or
// both escape the count. In order: an answered inquiry reports
// AlreadyAnswered; a locked one Locked; a lapsed one, or any after its
// deadline, Expired (no attempt counted); one not yet mailed is
// ErrInquiryNotMailed. Otherwise the right code answers the inquiry (OK,
// once) and a wrong one counts an attempt, locking it at the limit.
func (db *DB) CheckReplyCode(ctx context.Context, caseNumber, code string, now time.Time) (ReplyCheck, error) {
	var res ReplyCheck
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		res = ReplyCheck{}
		var status string
		var hash, salt []byte
		var deadline time.Time
		var attempts, maxAttempts int
		err := tx.QueryRow(ctx, `SELECT status, code_hash, salt, deadline, attempts, max_attempts FROM inquiries
			WHERE case_number = $1 FOR UPDATE`, caseNumber).Scan(&status, &hash, &salt, &deadline, &attempts, &maxAttempts)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		res.AttemptsLeft = max(0, maxAttempts-attempts)
		matches := func() bool {
			return subtle.ConstantTimeCompare(inquiry.Hash(caseNumber, code, salt), hash) == 1
		}
		switch {
		case status == InquiryAnswered:
			res.AlreadyAnswered = true
			res.CodeMatches = matches()
			return nil
		case status == InquiryLocked:
			// The code is not checked: a locked inquiry tells nothing more.
			res.Locked, res.AttemptsLeft = true, 0
			return nil
		case status == InquiryLapsed || now.After(deadline):
			res.Expired = true
			return nil
		case status == InquiryPrepared:
			return ErrInquiryNotMailed
		}
		if matches() {
			res.OK, res.CodeMatches = true, true
			_, err := tx.Exec(ctx, `UPDATE inquiries SET status = 'answered', answered_at = $2 WHERE case_number = $1`, caseNumber, now)
			return err
		}
		attempts++
		res.AttemptsLeft = max(0, maxAttempts-attempts)
		if attempts >= maxAttempts {
			res.Locked = true
			_, err := tx.Exec(ctx, `UPDATE inquiries SET attempts = $2, status = 'locked', locked_at = $3 WHERE case_number = $1`, caseNumber, attempts, now)
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE inquiries SET attempts = $2 WHERE case_number = $1`, caseNumber, attempts)
		return err
	})
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrInquiryNotMailed) {
		return ReplyCheck{}, err
	}
	if err != nil {
		return ReplyCheck{}, fmt.Errorf("storage: check reply code: %w", err)
	}
	return res, nil
}

// InquiryPDF returns the printable letter, with the code, while the
// inquiry is prepared; ErrInquiryPDFWiped once it was mailed or ended.
func (db *DB) InquiryPDF(ctx context.Context, caseNumber string) ([]byte, error) {
	var pdf []byte
	err := db.Pool.QueryRow(ctx, `SELECT pdf FROM inquiries WHERE case_number = $1`, caseNumber).Scan(&pdf)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("storage: inquiry pdf: %w", err)
	}
	if pdf == nil {
		return nil, ErrInquiryPDFWiped
	}
	return pdf, nil
}

// InquiryArchivedPDF returns the letter as sent with the code masked: the
// record a manager or auditor reads.
func (db *DB) InquiryArchivedPDF(ctx context.Context, caseNumber string) ([]byte, error) {
	var pdf []byte
	err := db.Pool.QueryRow(ctx, `SELECT archived_pdf FROM inquiries WHERE case_number = $1`, caseNumber).Scan(&pdf)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("storage: inquiry archived pdf: %w", err)
	}
	return pdf, nil
}

// LapseInquiry records that the deadline passed without a reply and wipes
// the printable letter. A lapsed or locked inquiry is left as it is; an
// answered one is ErrInquiryAnswered (the reply came first).
func (db *DB) LapseInquiry(ctx context.Context, caseNumber string, at time.Time) error {
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var status string
		err := tx.QueryRow(ctx, `SELECT status FROM inquiries WHERE case_number = $1 FOR UPDATE`, caseNumber).Scan(&status)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("storage: lapse inquiry: %w", err)
		}
		switch status {
		case InquiryAnswered:
			return ErrInquiryAnswered
		case InquiryLapsed, InquiryLocked:
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE inquiries SET status = 'lapsed', lapsed_at = $2, pdf = NULL WHERE case_number = $1`, caseNumber, at); err != nil {
			return fmt.Errorf("storage: lapse inquiry: %w", err)
		}
		return nil
	})
}

// MunicipalityName returns a municipality's name (e.g. 東京都千代田区), the
// sender of its letters.
func (db *DB) MunicipalityName(ctx context.Context, code string) (string, error) {
	var name string
	err := db.Pool.QueryRow(ctx, `SELECT name FROM municipalities WHERE code = $1`, code).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("storage: municipality: %w", err)
	}
	return name, nil
}
