package storage_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/fee"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/internal/storage/storagetest"
)

// freshMunicipality records a municipality of its own for one run (a code
// starting with 9, which no demo municipality has), so that the schedule
// rows the test adds are its own.
func freshMunicipality(t *testing.T, db *storage.DB) string {
	t.Helper()
	code := fmt.Sprintf("9%05d", time.Now().UnixNano()/1000%100000)
	for _, sql := range []string{`INSERT INTO municipalities (code, name) VALUES ($1, 'テスト市')`,
		`INSERT INTO offices (code, kind, name) VALUES ($1, 'municipality', 'テスト市')`} {
		if _, err := db.Pool.Exec(context.Background(), sql, code); err != nil {
			t.Fatal(err)
		}
	}
	return code
}

// TestFeeScheduleInForce: a new municipality starts with the rule in force
// (issuance free, a re-issue after a card re-issue 200 yen); the amount in
// force on a day is the row with the latest valid_from on or before it, by
// the day in Tokyo; before any row there is none, never a guess.
func TestFeeScheduleInForce(t *testing.T) {
	db := storagetest.Seeded(t)
	ctx := context.Background()
	muni := freshMunicipality(t, db)
	jst := func(y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, storage.Tokyo)
	}
	if err := db.SetFee(ctx, muni, fee.ItemReissueAfterCardReissue, 300, jst(2027, 4, 1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		item string
		at   time.Time
		want int
		from string
	}{
		{"issuance is free", fee.ItemIssuance, jst(2026, 12, 2, 10, 0), 0, "2016-01-01"},
		{"re-issue 200 yen today", fee.ItemReissueAfterCardReissue, jst(2026, 12, 2, 10, 0), 200, "2016-01-01"},
		{"the last day before the change", fee.ItemReissueAfterCardReissue, jst(2027, 3, 31, 23, 59), 200, "2016-01-01"},
		// 00:30 JST on 1 April is still 31 March in UTC: the day is Tokyo's.
		{"the change's first day, Tokyo time", fee.ItemReissueAfterCardReissue, jst(2027, 4, 1, 0, 30), 300, "2027-04-01"},
		{"after the change", fee.ItemReissueAfterCardReissue, jst(2030, 1, 1, 12, 0), 300, "2027-04-01"},
		{"issuance untouched by the change", fee.ItemIssuance, jst(2030, 1, 1, 12, 0), 0, "2016-01-01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			amount, from, err := db.FeeInForce(ctx, muni, tc.item, tc.at)
			if err != nil || amount != tc.want || from.Format(time.DateOnly) != tc.from {
				t.Errorf("FeeInForce = %d from %s, %v; want %d from %s", amount, from.Format(time.DateOnly), err, tc.want, tc.from)
			}
		})
	}
	if _, _, err := db.FeeInForce(ctx, muni, fee.ItemIssuance, jst(2015, 12, 31, 12, 0)); !errors.Is(err, storage.ErrNoFeeInForce) {
		t.Errorf("before any schedule row: %v, want ErrNoFeeInForce", err)
	}
	if _, _, err := db.FeeInForce(ctx, muni, "typed_by_hand", jst(2026, 12, 2, 10, 0)); !errors.Is(err, storage.ErrNoFeeInForce) {
		t.Errorf("unknown item: %v, want ErrNoFeeInForce", err)
	}
}

// TestFeeRecordedOnceAndRefundedOnce: a case's fee is recorded once at the
// amount in force on its day, a repeat returns the first whatever item it
// names; a paid fee is refunded once with who and why, an unpaid one not
// at all; the office's report holds its fees and refunds of the period.
func TestFeeRecordedOnceAndRefundedOnce(t *testing.T) {
	db := storagetest.Seeded(t)
	ctx := context.Background()
	muni := freshMunicipality(t, db)
	clerk := storagetest.Clerk(t, db, "kawasaki1")
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, storage.Tokyo)
	open := func() string {
		n, err := db.NextCaseNumber(ctx, muni, at)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.InsertCase(ctx, storage.Case{CaseNumber: n, MunicipalityCode: muni, Procedure: "inperson-issuance",
			WorkflowID: "inperson-issuance/" + n, OpenedBy: clerk.ID}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	reissue, first := open(), open()
	f, err := db.RecordFee(ctx, reissue, fee.ItemReissueAfterCardReissue, at)
	if err != nil || f.Item != fee.ItemReissueAfterCardReissue || f.AmountYen != 200 || f.ValidFrom.Format(time.DateOnly) != "2016-01-01" {
		t.Fatalf("RecordFee = %+v, %v", f, err)
	}
	again, err := db.RecordFee(ctx, reissue, fee.ItemIssuance, at.Add(time.Hour))
	if err != nil || again.Item != f.Item || again.AmountYen != 200 || !again.RecordedAt.Equal(f.RecordedAt) {
		t.Errorf("repeat = %+v, %v; want the first fee", again, err)
	}
	if f, err := db.RecordFee(ctx, first, fee.ItemIssuance, at); err != nil || f.AmountYen != 0 {
		t.Errorf("first issuance = %+v, %v", f, err)
	}
	if _, err := db.RecordFee(ctx, "no-such-case", fee.ItemIssuance, at); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown case: %v", err)
	}

	later := at.Add(2 * time.Hour)
	r, err := db.RecordRefund(ctx, reissue, "kawasaki1", "cancelled: 申請者の都合", later)
	if err != nil || r.AmountYen != 200 || r.Item != fee.ItemReissueAfterCardReissue || r.RefundedBy != "kawasaki1" || !r.RefundedAt.Equal(later) {
		t.Fatalf("RecordRefund = %+v, %v", r, err)
	}
	if r2, err := db.RecordRefund(ctx, reissue, "system", "failed: failed", later.Add(time.Hour)); err != nil || r2.RefundedBy != "kawasaki1" || !r2.RefundedAt.Equal(later) {
		t.Errorf("repeat refund = %+v, %v; want the first", r2, err)
	}
	if _, err := db.RecordRefund(ctx, first, "system", "failed: failed", later); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("refund of a free fee: %v, want ErrNotFound (nothing was paid)", err)
	}

	from := time.Date(2026, 12, 2, 0, 0, 0, 0, storage.Tokyo)
	rep, err := db.FeeReport(ctx, muni, from, from.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Fees) != 2 || rep.Fees[0].CaseNumber != reissue || rep.Fees[0].AmountYen != 200 || rep.Fees[1].CaseNumber != first ||
		len(rep.Refunds) != 1 || rep.Refunds[0].CaseNumber != reissue || rep.Refunds[0].AmountYen != 200 {
		t.Errorf("report = %+v", rep)
	}
	if rep, err := db.FeeReport(ctx, muni, from.AddDate(0, 0, 1), from.AddDate(0, 0, 2)); err != nil || len(rep.Fees)+len(rep.Refunds) != 0 {
		t.Errorf("next day's report = %+v, %v", rep, err)
	}
}

// TestCardHistory: the card a new card replaced is the resident's other
// card with the latest expiry; a card that held the resident's
// certificates from another case is the same card.
func TestCardHistory(t *testing.T) {
	db := storagetest.Seeded(t)
	ctx := context.Background()
	muni := freshMunicipality(t, db)
	clerk := storagetest.Clerk(t, db, "kawasaki1")
	resident := fmt.Sprintf("9%010d", time.Now().UnixNano()%10000000000)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := db.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO residents (resident_code, municipality_code, name, birth_date, sex, address, status)
		VALUES ($1, $2, '試験 太郎', '1980-01-01', 'male', 'テスト市1番', 'resident')`, resident, muni)
	old, older, current := "F"+resident+"a", "F"+resident+"b", "F"+resident+"c"
	exec(`INSERT INTO cards (card_serial, resident_code, expires_on, status) VALUES ($1, $4, '2030-05-01', 'lost'),
		($2, $4, '2020-05-01', 'expired'), ($3, $4, '2036-05-01', 'active')`, old, older, current, resident)

	h, err := db.CardHistory(ctx, resident, current, "case-x")
	if err != nil || h.HeldCertificates || h.Previous == nil || h.Previous.Serial != old || h.Previous.Status != "lost" {
		t.Fatalf("CardHistory = %+v, %v; want the lost card as previous", h, err)
	}
	if h, err := db.CardHistory(ctx, resident, older, "case-x"); err != nil || h.Previous == nil || h.Previous.Serial != current {
		t.Errorf("CardHistory of the oldest card = %+v, %v", h, err)
	}

	n, err := db.NextCaseNumber(ctx, muni, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.InsertCase(ctx, storage.Case{CaseNumber: n, MunicipalityCode: muni, Procedure: "inperson-issuance",
		WorkflowID: "inperson-issuance/" + n, OpenedBy: clerk.ID}); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordIssued(ctx, []storage.IssuedCertificate{{Serial: "fee-" + resident, Kind: "auth", CaseNumber: n,
		ResidentCode: resident, CardSerial: current, NotAfter: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)}}); err != nil {
		t.Fatal(err)
	}
	if h, err := db.CardHistory(ctx, resident, current, n); err != nil || h.HeldCertificates {
		t.Errorf("the case's own certificates: %+v, %v; want not held before", h, err)
	}
	if h, err := db.CardHistory(ctx, resident, current, "a-later-case"); err != nil || !h.HeldCertificates {
		t.Errorf("a later case on the same card: %+v, %v; want held before", h, err)
	}
}
