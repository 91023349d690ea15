package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// RegisterEvent is one recorded change of the resident register (異動).
type RegisterEvent struct {
	ID               int64
	MunicipalityCode string
	ChangeID         string
	ResidentCode     string
	Kind             string
	Date             time.Time
	CaseNumber       string
	CompletedAt      *time.Time
}

// ErrChangeReused is a change id recorded before with other content.
var ErrChangeReused = errors.New("storage: register change id already used for another change")

// RecordRegisterChange records a register change with the case that will
// process it, in one transaction. A change id recorded before returns the
// earlier row and created false (the case is not recorded again), or
// ErrChangeReused when the earlier row says something else.
func (db *DB) RecordRegisterChange(ctx context.Context, c Case, ev RegisterEvent) (RegisterEvent, bool, error) {
	var out RegisterEvent
	created := false
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1 || '/' || $2))`, ev.MunicipalityCode, ev.ChangeID); err != nil {
			return err
		}
		prev, err := registerEvent(ctx, tx, ev.MunicipalityCode, ev.ChangeID)
		if err == nil {
			if prev.ResidentCode != ev.ResidentCode || prev.Kind != ev.Kind || !prev.Date.Equal(ev.Date) {
				return ErrChangeReused
			}
			out = prev
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO cases (case_number, municipality_code, procedure, workflow_id, opened_by)
			VALUES ($1, $2, $3, $4, $5)`, c.CaseNumber, c.MunicipalityCode, c.Procedure, c.WorkflowID, c.OpenedBy); err != nil {
			return fmt.Errorf("insert case: %w", err)
		}
		ev.CaseNumber = c.CaseNumber
		if err := tx.QueryRow(ctx, `INSERT INTO register_events (municipality_code, change_id, resident_code, kind, change_date, case_number)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, ev.MunicipalityCode, ev.ChangeID, ev.ResidentCode, ev.Kind,
			ev.Date.Format(time.DateOnly), ev.CaseNumber).Scan(&ev.ID); err != nil {
			return fmt.Errorf("insert register event: %w", err)
		}
		out, created = ev, true
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrChangeReused) {
			return RegisterEvent{}, false, err
		}
		return RegisterEvent{}, false, fmt.Errorf("storage: record register change: %w", err)
	}
	return out, created, nil
}

func registerEvent(ctx context.Context, q pgx.Tx, municipality, changeID string) (RegisterEvent, error) {
	var e RegisterEvent
	err := q.QueryRow(ctx, `SELECT id, municipality_code, change_id, resident_code, kind, change_date, case_number, completed_at
		FROM register_events WHERE municipality_code = $1 AND change_id = $2`, municipality, changeID).
		Scan(&e.ID, &e.MunicipalityCode, &e.ChangeID, &e.ResidentCode, &e.Kind, &e.Date, &e.CaseNumber, &e.CompletedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return RegisterEvent{}, ErrNotFound
	}
	if err != nil {
		return RegisterEvent{}, fmt.Errorf("register event: %w", err)
	}
	return e, nil
}

// UnknownResidents returns the positions of the resident codes that are not
// in the municipality's register.
func (db *DB) UnknownResidents(ctx context.Context, municipality string, codes []string) ([]int, error) {
	rows, err := db.Pool.Query(ctx, `SELECT u.i - 1 FROM unnest($1::char(11)[]) WITH ORDINALITY AS u(code, i)
		WHERE NOT EXISTS (SELECT 1 FROM residents r WHERE r.resident_code = u.code AND r.municipality_code = $2)
		ORDER BY u.i`, codes, municipality)
	if err != nil {
		return nil, fmt.Errorf("storage: unknown residents: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("storage: unknown residents: %w", err)
	}
	return out, nil
}

// RegisterBatch is a batch of register changes with its case.
type RegisterBatch struct {
	CaseNumber string
	BatchID    string
	Changes    int
}

// RecordRegisterBatch records a batch and its changes with the case that
// processes them, in one transaction: the changes are copied in and
// inserted with ON CONFLICT DO NOTHING, so a change already recorded (sent
// alone before, or in an earlier batch) stays with its first case. A batch
// id recorded before returns the earlier batch and created false.
func (db *DB) RecordRegisterBatch(ctx context.Context, c Case, batchID string, evs []RegisterEvent) (RegisterBatch, bool, error) {
	var out RegisterBatch
	created := false
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1 || '/batch/' || $2))`, c.MunicipalityCode, batchID); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT case_number, batch_id, changes FROM register_batches WHERE municipality_code = $1 AND batch_id = $2`,
			c.MunicipalityCode, batchID).Scan(&out.CaseNumber, &out.BatchID, &out.Changes)
		if err == nil {
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO cases (case_number, municipality_code, procedure, workflow_id, opened_by)
			VALUES ($1, $2, $3, $4, $5)`, c.CaseNumber, c.MunicipalityCode, c.Procedure, c.WorkflowID, c.OpenedBy); err != nil {
			return fmt.Errorf("insert case: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE register_batch_in (change_id text, resident_code char(11), kind text, change_date date) ON COMMIT DROP`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"register_batch_in"}, []string{"change_id", "resident_code", "kind", "change_date"},
			pgx.CopyFromSlice(len(evs), func(i int) ([]any, error) {
				return []any{evs[i].ChangeID, evs[i].ResidentCode, evs[i].Kind, evs[i].Date.Format(time.DateOnly)}, nil
			})); err != nil {
			return fmt.Errorf("copy register batch: %w", err)
		}
		tag, err := tx.Exec(ctx, `INSERT INTO register_events (municipality_code, change_id, resident_code, kind, change_date, case_number)
			SELECT $1, change_id, resident_code, kind, change_date, $2 FROM register_batch_in
			ON CONFLICT (municipality_code, change_id) DO NOTHING`, c.MunicipalityCode, c.CaseNumber)
		if err != nil {
			return fmt.Errorf("insert register batch: %w", err)
		}
		out = RegisterBatch{CaseNumber: c.CaseNumber, BatchID: batchID, Changes: int(tag.RowsAffected())}
		if _, err := tx.Exec(ctx, `INSERT INTO register_batches (case_number, municipality_code, batch_id, changes) VALUES ($1, $2, $3, $4)`,
			c.CaseNumber, c.MunicipalityCode, batchID, out.Changes); err != nil {
			return fmt.Errorf("insert register batch row: %w", err)
		}
		created = true
		return nil
	})
	if err != nil {
		return RegisterBatch{}, false, fmt.Errorf("storage: record register batch: %w", err)
	}
	return out, created, nil
}

// RegisterEventsOfCase returns up to limit events of a case with ids after
// after, in id order, and, for the first chunk (after 0), the case's number
// of events (0 for the next ones: counting a large batch per chunk costs).
func (db *DB) RegisterEventsOfCase(ctx context.Context, caseNumber string, after int64, limit int) ([]RegisterEvent, int, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, municipality_code, change_id, resident_code, kind, change_date, case_number, completed_at
		FROM register_events WHERE case_number = $1 AND id > $2 ORDER BY id LIMIT $3`, caseNumber, after, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("storage: register events: %w", err)
	}
	evs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (RegisterEvent, error) {
		var e RegisterEvent
		err := r.Scan(&e.ID, &e.MunicipalityCode, &e.ChangeID, &e.ResidentCode, &e.Kind, &e.Date, &e.CaseNumber, &e.CompletedAt)
		return e, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("storage: register events: %w", err)
	}
	var total int
	if after > 0 {
		return evs, 0, nil
	}
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM register_events WHERE case_number = $1`, caseNumber).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("storage: register events: %w", err)
	}
	return evs, total, nil
}

// CertificateRevocation marks the municipality's record of a resident's
// certificates of a kind revoked, for those written before the end of day.
type CertificateRevocation struct {
	ResidentCode string
	Kind         string
	Day          time.Time
}

// CompleteRegisterEvents marks the municipality's records of the revoked
// certificates and the events done, in one transaction; repeating it is
// harmless. It returns the number of certificate records marked.
func (db *DB) CompleteRegisterEvents(ctx context.Context, ids []int64, revs []CertificateRevocation, at time.Time) (int, error) {
	residents := make([]string, len(revs))
	kinds := make([]string, len(revs))
	days := make([]string, len(revs))
	for i, r := range revs {
		residents[i], kinds[i], days[i] = r.ResidentCode, r.Kind, r.Day.Format(time.DateOnly)
	}
	var marked int
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		// Each change looks up its resident's active records through the
		// partial index (LATERAL) and each record's case by its key, so no
		// plan scans a table per change; the records are then updated by
		// primary key.
		rows, err := tx.Query(ctx, `SELECT x.serial FROM unnest($1::char(11)[], $2::text[], $3::date[]) AS u(resident_code, kind, day)
			CROSS JOIN LATERAL (SELECT ic.serial FROM issued_certificates ic
				WHERE ic.resident_code = u.resident_code AND ic.kind = u.kind AND ic.status = 'active'
				  AND (SELECT c.opened_at FROM cases c WHERE c.case_number = ic.case_number)
				      < ((u.day + 1)::timestamp AT TIME ZONE 'Asia/Tokyo')) x`,
			residents, kinds, days)
		if err != nil {
			return err
		}
		serials, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE issued_certificates SET status = 'revoked' WHERE serial = ANY($1) AND status = 'active'`, serials)
		if err != nil {
			return err
		}
		marked = int(tag.RowsAffected())
		_, err = tx.Exec(ctx, `UPDATE register_events SET completed_at = COALESCE(completed_at, $2) WHERE id = ANY($1)`, ids, at)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("storage: complete register events: %w", err)
	}
	return marked, nil
}

// RegisterEventsByID returns the events with the given ids, in id order.
func (db *DB) RegisterEventsByID(ctx context.Context, ids []int64) ([]RegisterEvent, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, municipality_code, change_id, resident_code, kind, change_date, case_number, completed_at
		FROM register_events WHERE id = ANY($1) ORDER BY id`, ids)
	if err != nil {
		return nil, fmt.Errorf("storage: register events: %w", err)
	}
	evs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (RegisterEvent, error) {
		var e RegisterEvent
		err := r.Scan(&e.ID, &e.MunicipalityCode, &e.ChangeID, &e.ResidentCode, &e.Kind, &e.Date, &e.CaseNumber, &e.CompletedAt)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("storage: register events: %w", err)
	}
	return evs, nil
}
