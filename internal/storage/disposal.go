package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Retention and disposal (issue 12 item 1, 第3 3; migration 015). A day's
// list is drawn up from what is due, submitted by a manager, approved by
// another, and only then disposed of, each disposal recorded with the
// approval. A document or issuance record of a resident who has an open
// disclosure or correction request is held: listed, never disposed.

// Statuses of a day's disposal list.
const (
	DisposalDrawnUp   = "drawn_up"
	DisposalSubmitted = "submitted"
	DisposalApproved  = "approved"
	DisposalDisposed  = "disposed"
	// DisposalNothingDue: a list with nothing to dispose of (none due, or
	// every item held) ends without an approval.
	DisposalNothingDue = "nothing_due"
	DisposalLapsed     = "lapsed"
	DisposalCancelled  = "cancelled"
)

// Kinds of item a list holds.
const (
	ItemDocument       = "document"
	ItemIssuanceRecord = "issuance_record"
)

// IssuanceRecordYears is how long an issuance record is kept after the
// day after its certificate's expiry (令第2条).
const IssuanceRecordYears = 10

// Errors of the disposal lists.
var (
	// ErrDisposalNotApproved: a disposal asked of a list no manager approved.
	ErrDisposalNotApproved = errors.New("storage: the disposal list is not approved")
	// ErrOwnDisposalList: an approval by the manager who submitted the list.
	ErrOwnDisposalList = errors.New("storage: a manager cannot approve a list they submitted")
	// ErrDisposalListState: a step the list's status does not allow.
	ErrDisposalListState = errors.New("storage: the disposal list's status does not allow this")
)

// IssuanceRecordDisposableOn is the first day an issuance record may be
// disposed of: it is kept until 10 years have passed counting from the
// day after the certificate's expiry (its last valid day in Asia/Tokyo),
// our reading of 令第2条 with 民法第143条. A day after expiry of 29
// February has no anniversary; the period then ends on 28 February and
// the record may go on 1 March.
func IssuanceRecordDisposableOn(notAfter time.Time) time.Time {
	y, m, d := notAfter.In(Tokyo).Date()
	from := time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
	// AddDate normalises 29 February of a common year to 1 March.
	return from.AddDate(IssuanceRecordYears, 0, 0)
}

// DisposalProcedure is the day's disposal case's procedure
// (contract.ProcRetentionDisposal).
const DisposalProcedure = "retention-disposal"

// DisposalList is a municipality's list of one day, with its items.
type DisposalList struct {
	Office      string
	Day         time.Time
	CaseNumber  string
	WorkflowID  string
	Status      string
	DrawnUpAt   time.Time
	SubmittedBy string
	SubmittedAt *time.Time
	ApprovedBy  string
	ApprovedAt  *time.Time
	ClosedAt    *time.Time
	Items       []DisposalItem
}

// DisposalItem is one document or issuance record of a list.
type DisposalItem struct {
	Kind       string
	CaseNumber string
	// Item is the document's type or the certificate's serial.
	Item  string
	DueOn time.Time
	// HeldBy is the open disclosure or correction request holding it.
	HeldBy     string
	DisposedAt *time.Time
}

// Due counts the items not held.
func (l DisposalList) Due() int {
	n := 0
	for _, it := range l.Items {
		if it.HeldBy == "" {
			n++
		}
	}
	return n
}

// SetRetentionPeriod sets a municipality's period for a document type;
// documents registered from then on are kept that long.
func (db *DB) SetRetentionPeriod(ctx context.Context, municipality, docType string, years int) error {
	if _, err := db.Pool.Exec(ctx, `INSERT INTO retention_periods (municipality_code, doc_type, years) VALUES ($1, $2, $3)
		ON CONFLICT (municipality_code, doc_type) DO UPDATE SET years = EXCLUDED.years`, municipality, docType, years); err != nil {
		return fmt.Errorf("storage: retention period: %w", err)
	}
	return nil
}

// RecordCaseResident records whom a case is about, for the holds; a
// repeat changes nothing.
func (db *DB) RecordCaseResident(ctx context.Context, caseNumber, residentCode string) error {
	if _, err := db.Pool.Exec(ctx, `INSERT INTO case_residents (case_number, resident_code) VALUES ($1, $2)
		ON CONFLICT (case_number) DO NOTHING`, caseNumber, residentCode); err != nil {
		return fmt.Errorf("storage: case resident: %w", err)
	}
	return nil
}

// DisposalOffices are the municipalities a day's lists are drawn up for.
func (db *DB) DisposalOffices(ctx context.Context) ([]string, error) {
	rows, err := db.Pool.Query(ctx, `SELECT code FROM municipalities ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("storage: disposal offices: %w", err)
	}
	codes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("storage: disposal offices: %w", err)
	}
	return codes, nil
}

// subjects is whom each case is about: the resident a request named, the
// holder of the certificates an issuance case wrote, or the resident of a
// register change.
const subjects = `(SELECT case_number, resident_code FROM case_residents
	UNION SELECT case_number, resident_code FROM issued_certificates
	UNION SELECT case_number, resident_code FROM register_events)`

// holds maps each case number given to the open disclosure or correction
// request (of the procedures named) about the same resident, if any.
func holds(ctx context.Context, q pgx.Tx, cases []string, recordsProcedures []string) (map[string]string, error) {
	rows, err := q.Query(ctx, `SELECT s.case_number, min(h.case_number) FROM `+subjects+` s
		JOIN case_residents hr ON hr.resident_code = s.resident_code
		JOIN cases h ON h.case_number = hr.case_number AND h.status = 'open' AND h.procedure = ANY($2)
		WHERE s.case_number = ANY($1) GROUP BY s.case_number`, cases, recordsProcedures)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	var c, h string
	_, err = pgx.ForEachRow(rows, []any{&c, &h}, func() error { out[c] = h; return nil })
	return out, err
}

// DrawUpDisposalList opens the day's disposal case (opened by the
// Schedule, no clerk) and draws up the municipality's list of the day:
// every document whose retention date has come and every issuance record
// whose period has passed, not yet disposed of, each marked held when an
// open request of recordsProcedures is about its resident. Drawing up a
// day already drawn up returns that list unchanged.
func (db *DB) DrawUpDisposalList(ctx context.Context, office string, day time.Time, caseNumber, workflowID string, recordsProcedures []string, at time.Time) (DisposalList, error) {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO cases (case_number, municipality_code, procedure, workflow_id, opened_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (case_number) DO NOTHING`, caseNumber, office, DisposalProcedure, workflowID, at); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO disposal_lists (office_code, day, case_number, workflow_id, drawn_up_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (office_code, day) DO NOTHING`, office, day, caseNumber, workflowID, at)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		var items []DisposalItem
		rows, err := tx.Query(ctx, `SELECT d.case_number, d.doc_type, d.retain_until FROM documents d
			JOIN cases c ON c.case_number = d.case_number
			WHERE c.municipality_code = $1 AND d.disposed_at IS NULL AND d.retain_until <= $2`, office, day)
		if err != nil {
			return err
		}
		var it DisposalItem
		if _, err := pgx.ForEachRow(rows, []any{&it.CaseNumber, &it.Item, &it.DueOn}, func() error {
			it.Kind = ItemDocument
			items = append(items, it)
			return nil
		}); err != nil {
			return err
		}
		// Candidates by SQL (a day of slack either way), the rule in Go.
		rows, err = tx.Query(ctx, `SELECT ic.case_number, ic.serial, ic.not_after FROM issued_certificates ic
			JOIN cases c ON c.case_number = ic.case_number
			WHERE c.municipality_code = $1 AND ic.disposed_at IS NULL AND ic.not_after < $2::date - make_interval(years => $3) + interval '2 days'`,
			office, day, IssuanceRecordYears)
		if err != nil {
			return err
		}
		var notAfter time.Time
		if _, err := pgx.ForEachRow(rows, []any{&it.CaseNumber, &it.Item, &notAfter}, func() error {
			if on := IssuanceRecordDisposableOn(notAfter); !on.After(day) {
				it.Kind, it.DueOn = ItemIssuanceRecord, on
				items = append(items, it)
			}
			return nil
		}); err != nil {
			return err
		}
		var cases []string
		for _, it := range items {
			cases = append(cases, it.CaseNumber)
		}
		held, err := holds(ctx, tx, cases, recordsProcedures)
		if err != nil {
			return err
		}
		for _, it := range items {
			if _, err := tx.Exec(ctx, `INSERT INTO disposal_list_items (office_code, day, kind, case_number, item, due_on, held_by)
				VALUES ($1, $2, $3, $4, $5, $6, NULLIF($7, ''))`, office, day, it.Kind, it.CaseNumber, it.Item, it.DueOn, held[it.CaseNumber]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return DisposalList{}, fmt.Errorf("storage: draw up disposal list: %w", err)
	}
	return db.DisposalList(ctx, office, day)
}

// DisposalList returns the municipality's list of the day, or ErrNotFound.
func (db *DB) DisposalList(ctx context.Context, office string, day time.Time) (DisposalList, error) {
	l := DisposalList{Office: office}
	err := db.Pool.QueryRow(ctx, `SELECT day, case_number, workflow_id, status, drawn_up_at, COALESCE(submitted_by, ''), submitted_at,
		COALESCE(approved_by, ''), approved_at, closed_at FROM disposal_lists WHERE office_code = $1 AND day = $2`, office, day).
		Scan(&l.Day, &l.CaseNumber, &l.WorkflowID, &l.Status, &l.DrawnUpAt, &l.SubmittedBy, &l.SubmittedAt, &l.ApprovedBy, &l.ApprovedAt, &l.ClosedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return DisposalList{}, ErrNotFound
	}
	if err != nil {
		return DisposalList{}, fmt.Errorf("storage: disposal list: %w", err)
	}
	rows, err := db.Pool.Query(ctx, `SELECT i.kind, i.case_number, i.item, i.due_on, COALESCE(i.held_by, ''), d.disposed_at
		FROM disposal_list_items i LEFT JOIN disposals d ON d.kind = i.kind AND d.case_number = i.case_number AND d.item = i.item
		WHERE i.office_code = $1 AND i.day = $2 ORDER BY i.kind, i.case_number, i.item`, office, day)
	if err != nil {
		return DisposalList{}, fmt.Errorf("storage: disposal items: %w", err)
	}
	var it DisposalItem
	if _, err := pgx.ForEachRow(rows, []any{&it.Kind, &it.CaseNumber, &it.Item, &it.DueOn, &it.HeldBy, &it.DisposedAt}, func() error {
		l.Items = append(l.Items, it)
		return nil
	}); err != nil {
		return DisposalList{}, fmt.Errorf("storage: disposal items: %w", err)
	}
	return l, nil
}

// SubmitDisposalList records the manager who submits the day's list for
// approval, as an event of the day's case in the audit chain; the same
// manager submitting again changes nothing.
func (db *DB) SubmitDisposalList(ctx context.Context, office string, day time.Time, by string, at time.Time) error {
	var done bool
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var number string
		err := tx.QueryRow(ctx, `UPDATE disposal_lists SET status = 'submitted', submitted_by = $3, submitted_at = $4
			WHERE office_code = $1 AND day = $2 AND status = 'drawn_up' RETURNING case_number`, office, day, by, at).Scan(&number)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		done = true
		return recordChainedEvent(ctx, tx, number, "disposal_submitted", by, "", at)
	})
	if err != nil {
		return fmt.Errorf("storage: submit disposal list: %w", err)
	}
	if done {
		return nil
	}
	l, err := db.DisposalList(ctx, office, day)
	if err != nil {
		return err
	}
	if l.SubmittedBy == by {
		return nil
	}
	return ErrDisposalListState
}

// ApproveDisposalList records a manager's approval of the submitted list,
// as an event of the day's case in the audit chain: never the manager who
// submitted it (ErrOwnDisposalList). The same approval again changes
// nothing.
func (db *DB) ApproveDisposalList(ctx context.Context, office string, day time.Time, by string, at time.Time) error {
	var done bool
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var number string
		err := tx.QueryRow(ctx, `UPDATE disposal_lists SET status = 'approved', approved_by = $3, approved_at = $4
			WHERE office_code = $1 AND day = $2 AND status = 'submitted' AND submitted_by <> $3 RETURNING case_number`, office, day, by, at).Scan(&number)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		done = true
		return recordChainedEvent(ctx, tx, number, "disposal_approved", by, "", at)
	})
	if err != nil {
		return fmt.Errorf("storage: approve disposal list: %w", err)
	}
	if done {
		return nil
	}
	l, err := db.DisposalList(ctx, office, day)
	switch {
	case err != nil:
		return err
	case l.ApprovedBy == by:
		return nil
	case l.Status == DisposalSubmitted && l.SubmittedBy == by:
		return ErrOwnDisposalList
	}
	return ErrDisposalListState
}

// DisposeList disposes of the approved list's items not held, each
// recorded once with the approval; an item whose resident has opened a
// request since the list was drawn up is held now, not disposed. It
// returns the list as it ends. A list not approved is refused
// (ErrDisposalNotApproved) and nothing changes.
func (db *DB) DisposeList(ctx context.Context, office string, day time.Time, recordsProcedures []string, at time.Time) (DisposalList, error) {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var number, status, approvedBy string
		var approvedAt *time.Time
		err := tx.QueryRow(ctx, `SELECT case_number, status, COALESCE(approved_by, ''), approved_at FROM disposal_lists
			WHERE office_code = $1 AND day = $2 FOR UPDATE`, office, day).Scan(&number, &status, &approvedBy, &approvedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if status == DisposalDisposed {
			return nil
		}
		if status != DisposalApproved || approvedAt == nil {
			return ErrDisposalNotApproved
		}
		var cases []string
		rows, err := tx.Query(ctx, `SELECT DISTINCT case_number FROM disposal_list_items WHERE office_code = $1 AND day = $2 AND held_by IS NULL`, office, day)
		if err != nil {
			return err
		}
		if cases, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		held, err := holds(ctx, tx, cases, recordsProcedures)
		if err != nil {
			return err
		}
		for c, h := range held {
			if _, err := tx.Exec(ctx, `UPDATE disposal_list_items SET held_by = $4 WHERE office_code = $1 AND day = $2 AND case_number = $3 AND held_by IS NULL`,
				office, day, c, h); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `INSERT INTO disposals (kind, case_number, item, office_code, day, disposed_at, approved_by, approved_at)
			SELECT kind, case_number, item, office_code, day, $3, $4, $5 FROM disposal_list_items
			WHERE office_code = $1 AND day = $2 AND held_by IS NULL
			ON CONFLICT (kind, case_number, item) DO NOTHING`, office, day, at, approvedBy, approvedAt)
		if err != nil {
			return err
		}
		// The audit chain keeps the act and its count; the items are above.
		if err := recordChainedEvent(ctx, tx, number, "disposed", approvedBy, fmt.Sprintf("disposed=%d", tag.RowsAffected()), at); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE documents d SET disposed_at = $3 FROM disposal_list_items i
			WHERE i.office_code = $1 AND i.day = $2 AND i.held_by IS NULL AND i.kind = 'document'
			AND d.case_number = i.case_number AND d.doc_type = i.item AND d.disposed_at IS NULL`, office, day, at); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE issued_certificates ic SET disposed_at = $3 FROM disposal_list_items i
			WHERE i.office_code = $1 AND i.day = $2 AND i.held_by IS NULL AND i.kind = 'issuance_record'
			AND ic.serial = i.item AND ic.disposed_at IS NULL`, office, day, at); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE disposal_lists SET status = 'disposed', closed_at = $3 WHERE office_code = $1 AND day = $2`, office, day, at)
		return err
	})
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrDisposalNotApproved) {
		return DisposalList{}, err
	}
	if err != nil {
		return DisposalList{}, fmt.Errorf("storage: dispose: %w", err)
	}
	return db.DisposalList(ctx, office, day)
}

// CloseDisposalList ends a list that was never approved (lapsed,
// cancelled, or with nothing due): nothing of it is disposed of, and the
// next day's list takes its items up again. A list already ended keeps its
// status.
func (db *DB) CloseDisposalList(ctx context.Context, office string, day time.Time, status string, at time.Time) error {
	if status != DisposalLapsed && status != DisposalCancelled && status != DisposalNothingDue {
		return fmt.Errorf("storage: close disposal list as %q: %w", status, ErrDisposalListState)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE disposal_lists SET status = $3, closed_at = $4
		WHERE office_code = $1 AND day = $2 AND status IN ('drawn_up', 'submitted')`, office, day, status, at); err != nil {
		return fmt.Errorf("storage: close disposal list: %w", err)
	}
	return nil
}

// RetentionPeriod is a municipality's period for one document type.
type RetentionPeriod struct {
	DocType string
	Years   int
}

// RetentionSettings are a municipality's retention periods: its default,
// the types it set, and the types its documents have been registered as.
type RetentionSettings struct {
	DefaultYears  int
	Periods       []RetentionPeriod
	DocumentTypes []string
}

// RetentionPeriods returns a municipality's retention settings, or
// ErrNotFound for an office that is no municipality.
func (db *DB) RetentionPeriods(ctx context.Context, municipality string) (RetentionSettings, error) {
	var s RetentionSettings
	err := db.Pool.QueryRow(ctx, `SELECT document_retention_years FROM municipalities WHERE code = $1`, municipality).Scan(&s.DefaultYears)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, ErrNotFound
	}
	if err != nil {
		return s, fmt.Errorf("storage: retention periods: %w", err)
	}
	rows, err := db.Pool.Query(ctx, `SELECT doc_type, years FROM retention_periods WHERE municipality_code = $1 ORDER BY doc_type`, municipality)
	if err != nil {
		return s, fmt.Errorf("storage: retention periods: %w", err)
	}
	if s.Periods, err = pgx.CollectRows(rows, pgx.RowToStructByPos[RetentionPeriod]); err != nil {
		return s, fmt.Errorf("storage: retention periods: %w", err)
	}
	rows, err = db.Pool.Query(ctx, `SELECT DISTINCT d.doc_type FROM documents d JOIN cases c ON c.case_number = d.case_number
		WHERE c.municipality_code = $1 ORDER BY d.doc_type`, municipality)
	if err != nil {
		return s, fmt.Errorf("storage: document types: %w", err)
	}
	if s.DocumentTypes, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return s, fmt.Errorf("storage: document types: %w", err)
	}
	return s, nil
}
