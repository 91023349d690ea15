package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Errors of the delegation records.
var (
	// ErrDelegationOverlap: the municipality already delegates to the same
	// office for part of the period.
	ErrDelegationOverlap = errors.New("storage: delegation overlaps another of the same offices")
	// ErrDelegationRecorded: the notice or the end of a delegation was
	// already recorded.
	ErrDelegationRecorded = errors.New("storage: already recorded for this delegation")
)

// Delegation is one delegation of a municipality's work to another office:
// a post office (第2 6) or another municipality's head (第2 5). Dates are
// days in Asia/Tokyo; it applies from StartsOn until the day before EndsOn.
type Delegation struct {
	ID int64
	// Municipality is the delegating municipality (the residents' address).
	Municipality string
	// Office is the delegate office's code, OfficeKind its kind
	// (post_office or municipality) and OfficeName its name.
	Office     string
	OfficeKind string
	OfficeName string
	Procedures []string
	StartsOn   time.Time
	// EndsOn is the first day the delegation no longer applies; nil while
	// no end is set.
	EndsOn *time.Time
	// NotifiedOn is the day of the notice to the Organization (規則66).
	NotifiedOn *time.Time
	// Ended says the end (規則68) was recorded, not only planned.
	Ended      bool
	RecordedBy int64
}

// ActiveOn reports whether the delegation applies on the day (a date at
// midnight UTC, as Postgres dates are read).
func (d Delegation) ActiveOn(day time.Time) bool {
	return !day.Before(d.StartsOn) && (d.EndsOn == nil || day.Before(*d.EndsOn))
}

// Day is the Asia/Tokyo calendar day of t, as a date at midnight UTC: the
// form in which Postgres dates are read and compared.
func Day(t time.Time) time.Time {
	y, m, d := t.In(Tokyo).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

const delegationColumns = `d.id, d.municipality_code, d.delegate_office, o.kind, o.name, d.procedures, d.starts_on, d.ends_on, d.notified_on,
	EXISTS (SELECT 1 FROM delegation_events e WHERE e.delegation_id = d.id AND e.event = 'ended'), d.recorded_by
	FROM delegations d JOIN offices o ON o.code = d.delegate_office`

func scanDelegation(row pgx.Row) (Delegation, error) {
	var d Delegation
	err := row.Scan(&d.ID, &d.Municipality, &d.Office, &d.OfficeKind, &d.OfficeName, &d.Procedures, &d.StartsOn, &d.EndsOn, &d.NotifiedOn, &d.Ended, &d.RecordedBy)
	return d, err
}

func (db *DB) delegations(ctx context.Context, where string, args ...any) ([]Delegation, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+delegationColumns+` WHERE `+where+` ORDER BY d.starts_on DESC, d.id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: delegations: %w", err)
	}
	defer rows.Close()
	out := []Delegation{}
	for rows.Next() {
		d, err := scanDelegation(rows)
		if err != nil {
			return nil, fmt.Errorf("storage: delegations: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: delegations: %w", err)
	}
	return out, nil
}

// Delegations returns the delegations an office is party to, as the
// delegating municipality or as the delegate, newest first.
func (db *DB) Delegations(ctx context.Context, office string) ([]Delegation, error) {
	return db.delegations(ctx, `d.municipality_code = $1 OR d.delegate_office = $1`, office)
}

// DelegationsBetween returns a municipality's delegations to one office,
// newest first.
func (db *DB) DelegationsBetween(ctx context.Context, municipality, office string) ([]Delegation, error) {
	return db.delegations(ctx, `d.municipality_code = $1 AND d.delegate_office = $2`, municipality, office)
}

// Delegation returns one delegation.
func (db *DB) Delegation(ctx context.Context, id int64) (Delegation, error) {
	d, err := scanDelegation(db.Pool.QueryRow(ctx, `SELECT `+delegationColumns+` WHERE d.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Delegation{}, ErrNotFound
	}
	if err != nil {
		return Delegation{}, fmt.Errorf("storage: delegation: %w", err)
	}
	return d, nil
}

// Office returns an office's kind and name.
func (db *DB) Office(ctx context.Context, code string) (kind, name string, err error) {
	err = db.Pool.QueryRow(ctx, `SELECT kind, name FROM offices WHERE code = $1`, code).Scan(&kind, &name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", ErrNotFound
	}
	if err != nil {
		return "", "", fmt.Errorf("storage: office: %w", err)
	}
	return kind, name, nil
}

// CreateDelegation records a delegation (規則65, 郵便局事務取扱法第2条) and its
// "delegated" event, unless it overlaps another delegation of the same
// municipality to the same office (ErrDelegationOverlap). The caller has
// checked the dates and procedures.
func (db *DB) CreateDelegation(ctx context.Context, d Delegation, actor int64, at time.Time) (int64, error) {
	var id int64
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		// One writer per delegating municipality, so two overlapping
		// delegations cannot both pass the check.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM municipalities WHERE code = $1 FOR UPDATE`, d.Municipality); err != nil {
			return err
		}
		var overlap bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM delegations WHERE municipality_code = $1 AND delegate_office = $2
			AND starts_on < COALESCE($4::date, 'infinity'::date) AND $3::date < COALESCE(ends_on, 'infinity'::date)
			AND starts_on < COALESCE(ends_on, 'infinity'::date))`,
			d.Municipality, d.Office, d.StartsOn, d.EndsOn).Scan(&overlap); err != nil {
			return err
		}
		if overlap {
			return ErrDelegationOverlap
		}
		if err := tx.QueryRow(ctx, `INSERT INTO delegations (municipality_code, delegate_office, procedures, starts_on, ends_on, recorded_by, recorded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, d.Municipality, d.Office, d.Procedures, d.StartsOn, d.EndsOn, actor, at).Scan(&id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO delegation_events (delegation_id, event, on_date, actor, at) VALUES ($1, 'delegated', $2, $3, $4)`, id, d.StartsOn, actor, at)
		return err
	})
	if errors.Is(err, ErrDelegationOverlap) {
		return 0, err
	}
	if err != nil {
		return 0, fmt.Errorf("storage: create delegation: %w", err)
	}
	return id, nil
}

// NotifyDelegation records the notice of a delegation to the Organization
// (規則66) on the day given, once (ErrDelegationRecorded).
func (db *DB) NotifyDelegation(ctx context.Context, id int64, on time.Time, actor int64, at time.Time) error {
	return db.delegationEvent(ctx, id, "notified", `UPDATE delegations SET notified_on = $2 WHERE id = $1 AND notified_on IS NULL`, on, actor, at)
}

// EndDelegation records the end of a delegation (規則68): from the day on
// no new case starts under it. It is recorded once (ErrDelegationRecorded).
func (db *DB) EndDelegation(ctx context.Context, id int64, on time.Time, actor int64, at time.Time) error {
	return db.delegationEvent(ctx, id, "ended", `UPDATE delegations SET ends_on = $2 WHERE id = $1
		AND NOT EXISTS (SELECT 1 FROM delegation_events WHERE delegation_id = $1 AND event = 'ended')`, on, actor, at)
}

func (db *DB) delegationEvent(ctx context.Context, id int64, event, update string, on time.Time, actor int64, at time.Time) error {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, update, id, on)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrDelegationRecorded
		}
		_, err = tx.Exec(ctx, `INSERT INTO delegation_events (delegation_id, event, on_date, actor, at) VALUES ($1, $2, $3, $4, $5)`, id, event, on, actor, at)
		return err
	})
	if errors.Is(err, ErrDelegationRecorded) {
		return err
	}
	if err != nil {
		return fmt.Errorf("storage: delegation %s: %w", event, err)
	}
	return nil
}
