package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoFeeInForce is returned when a municipality's schedule has no amount
// for an item on a day: the fee is never guessed.
var ErrNoFeeInForce = errors.New("storage: no fee in force for this item on this day")

// Fee is a case's recorded fee (第3 5).
type Fee struct {
	CaseNumber string
	Item       string
	AmountYen  int
	// ValidFrom is the day the schedule's amount took effect (zero for
	// fees recorded before the schedule had dates).
	ValidFrom  time.Time
	RecordedAt time.Time
}

// Refund is the refund of a case's fee, once per case.
type Refund struct {
	CaseNumber string
	Item       string
	AmountYen  int
	// RefundedBy is a clerk's login, or "system" for a case that failed.
	RefundedBy string
	// Reason is why: the case's ending and its reason.
	Reason     string
	RefundedAt time.Time
}

// tokyoDay is the date of t in Asia/Tokyo, as Postgres takes a date.
func tokyoDay(t time.Time) string { return t.In(Tokyo).Format(time.DateOnly) }

// FeeInForce is a municipality's amount for an item on a day (Asia/Tokyo):
// the schedule's row with the latest valid_from on or before that day.
func (db *DB) FeeInForce(ctx context.Context, municipality, item string, day time.Time) (amount int, validFrom time.Time, err error) {
	err = db.Pool.QueryRow(ctx, `SELECT amount_yen, valid_from FROM fee_schedule
		WHERE municipality_code = $1 AND item = $2 AND valid_from <= $3::date
		ORDER BY valid_from DESC LIMIT 1`, municipality, item, tokyoDay(day)).Scan(&amount, &validFrom)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, time.Time{}, fmt.Errorf("%w: %s %s on %s", ErrNoFeeInForce, municipality, item, tokyoDay(day))
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("storage: fee in force: %w", err)
	}
	return amount, validFrom, nil
}

// SetFee records a schedule row: the amount of an item from a day on.
func (db *DB) SetFee(ctx context.Context, municipality, item string, amountYen int, validFrom time.Time) error {
	if _, err := db.Pool.Exec(ctx, `INSERT INTO fee_schedule (municipality_code, item, amount_yen, valid_from) VALUES ($1, $2, $3, $4::date)
		ON CONFLICT (municipality_code, item, valid_from) DO UPDATE SET amount_yen = EXCLUDED.amount_yen`,
		municipality, item, amountYen, tokyoDay(validFrom)); err != nil {
		return fmt.Errorf("storage: set fee: %w", err)
	}
	return nil
}

// RecordFee records a case's fee once: the item the rule picked, at the
// amount in force for the case's municipality on the day of at (the day
// the certificates are issued, when the fee is paid). A repeat returns the
// fee first recorded, whatever item it is asked for.
func (db *DB) RecordFee(ctx context.Context, number, item string, at time.Time) (Fee, error) {
	var f Fee
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var muni string
		if err := tx.QueryRow(ctx, `SELECT municipality_code FROM cases WHERE case_number = $1`, number).Scan(&muni); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM fees WHERE case_number = $1)`, number).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			var amount int
			var from time.Time
			err := tx.QueryRow(ctx, `SELECT amount_yen, valid_from FROM fee_schedule
				WHERE municipality_code = $1 AND item = $2 AND valid_from <= $3::date
				ORDER BY valid_from DESC LIMIT 1`, muni, item, tokyoDay(at)).Scan(&amount, &from)
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("%w: %s %s on %s", ErrNoFeeInForce, muni, item, tokyoDay(at))
			}
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO fees (case_number, item, amount_yen, recorded_at, valid_from) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (case_number) DO NOTHING`, number, item, amount, at, from); err != nil {
				return err
			}
		}
		var from *time.Time
		if err := tx.QueryRow(ctx, `SELECT case_number, item, amount_yen, valid_from, recorded_at FROM fees WHERE case_number = $1`, number).
			Scan(&f.CaseNumber, &f.Item, &f.AmountYen, &from, &f.RecordedAt); err != nil {
			return err
		}
		if from != nil {
			f.ValidFrom = *from
		}
		return nil
	})
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrNoFeeInForce) {
		return Fee{}, err
	}
	if err != nil {
		return Fee{}, fmt.Errorf("storage: fee: %w", err)
	}
	return f, nil
}

// RecordRefund records the refund of a case's whole fee once and returns
// the refund recorded (the first, on a repeat). A case with no fee has
// nothing to refund: ErrNotFound.
func (db *DB) RecordRefund(ctx context.Context, number, by, reason string, at time.Time) (Refund, error) {
	var r Refund
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO fee_refunds (case_number, item, amount_yen, refunded_by, reason, refunded_at)
			SELECT case_number, item, amount_yen, $2, $3, $4 FROM fees WHERE case_number = $1 AND amount_yen > 0
			ON CONFLICT (case_number) DO NOTHING`, number, by, reason, at); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT case_number, item, amount_yen, refunded_by, reason, refunded_at FROM fee_refunds WHERE case_number = $1`, number).
			Scan(&r.CaseNumber, &r.Item, &r.AmountYen, &r.RefundedBy, &r.Reason, &r.RefundedAt)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return Refund{}, ErrNotFound
	}
	if err != nil {
		return Refund{}, fmt.Errorf("storage: refund: %w", err)
	}
	return r, nil
}

// CardHistory is what the fee rule reads of a resident's cards.
type CardHistory struct {
	// HeldCertificates: the card carried this resident's certificates
	// recorded by another case before (a renewal, or issued again on the
	// same card).
	HeldCertificates bool
	// Previous is the resident's other card with the latest expiry, the
	// one this card replaced; nil when the resident has no other card.
	Previous *Card
}

// CardHistory reads a card's history for the fee of case number.
func (db *DB) CardHistory(ctx context.Context, resident, card, number string) (CardHistory, error) {
	var h CardHistory
	if err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM issued_certificates
		WHERE card_serial = $1 AND resident_code = $2 AND case_number <> $3)`, card, resident, number).Scan(&h.HeldCertificates); err != nil {
		return CardHistory{}, fmt.Errorf("storage: card history: %w", err)
	}
	var c Card
	err := db.Pool.QueryRow(ctx, `SELECT card_serial, resident_code, expires_on, status FROM cards
		WHERE resident_code = $1 AND card_serial <> $2 ORDER BY expires_on DESC, card_serial DESC LIMIT 1`, resident, card).
		Scan(&c.Serial, &c.ResidentCode, &c.ExpiresOn, &c.Status)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return CardHistory{}, fmt.Errorf("storage: card history: %w", err)
	default:
		h.Previous = &c
	}
	return h, nil
}

// FeeReportLine is one fee or refund of a report: case numbers and amounts
// only.
type FeeReportLine struct {
	CaseNumber string
	Item       string
	AmountYen  int
	At         time.Time
}

// FeeReport is an office's fees recorded and refunds made in a period.
type FeeReport struct {
	Fees    []FeeReportLine
	Refunds []FeeReportLine
}

// FeeReport lists the fees recorded and the refunds made in [from, to) for
// the cases of an office: those of its municipality, or those it acted on
// under a delegation.
func (db *DB) FeeReport(ctx context.Context, office string, from, to time.Time) (FeeReport, error) {
	var rep FeeReport
	for _, q := range []struct {
		sql string
		out *[]FeeReportLine
	}{
		{`SELECT f.case_number, f.item, f.amount_yen, f.recorded_at FROM fees f JOIN cases c ON c.case_number = f.case_number
			WHERE (c.municipality_code = $1 OR c.office_code = $1) AND f.recorded_at >= $2 AND f.recorded_at < $3
			ORDER BY f.recorded_at, f.case_number`, &rep.Fees},
		{`SELECT r.case_number, r.item, r.amount_yen, r.refunded_at FROM fee_refunds r JOIN cases c ON c.case_number = r.case_number
			WHERE (c.municipality_code = $1 OR c.office_code = $1) AND r.refunded_at >= $2 AND r.refunded_at < $3
			ORDER BY r.refunded_at, r.case_number`, &rep.Refunds},
	} {
		rows, err := db.Pool.Query(ctx, q.sql, office, from, to)
		if err != nil {
			return FeeReport{}, fmt.Errorf("storage: fee report: %w", err)
		}
		lines, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (FeeReportLine, error) {
			var l FeeReportLine
			err := r.Scan(&l.CaseNumber, &l.Item, &l.AmountYen, &l.At)
			return l, err
		})
		if err != nil {
			return FeeReport{}, fmt.Errorf("storage: fee report: %w", err)
		}
		*q.out = lines
	}
	return rep, nil
}
