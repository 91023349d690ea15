package storage_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/internal/storage/storagetest"
)

// TestComplaintRegister: complaints are recorded open with their case link
// and due date; the office's list filters by status and by overdue (open
// past due), and holds no other office's; an answer is recorded once, with
// who and when; the schema refuses an unknown category, an empty summary,
// an unknown case and an answered complaint without its answer.
func TestComplaintRegister(t *testing.T) {
	db := storagetest.Seeded(t)
	ctx := context.Background()
	manager := storagetest.Clerk(t, db, "kawasaki1")
	// A fresh office per run, so that the test's complaints are its own.
	office := storagetest.FreshOffice(t, db)
	number, err := db.NextCaseNumber(ctx, demo.Kawasaki, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.InsertCase(ctx, storage.Case{CaseNumber: number, MunicipalityCode: demo.Kawasaki, Office: office,
		Procedure: "inperson-issuance", WorkflowID: "inperson-issuance/" + number, OpenedBy: manager.ID}); err != nil {
		t.Fatal(err)
	}
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, storage.Tokyo)
	today := storage.Day(now)
	var ids []int64
	for _, k := range []storage.Complaint{
		{Category: "pin", CaseNumber: number, Summary: "暗証番号の再設定", DueOn: day("2026-11-30")},
		{Category: "other", Summary: "受付時間", DueOn: today.AddDate(0, 0, storage.ComplaintDueDays)},
		{Category: "card", Summary: "カードの受取", DueOn: day("2026-11-01")},
	} {
		k.Office, k.ReceivedAt, k.RecordedBy, k.RecordedAt = office, now, manager.ID, now
		id, err := db.RecordComplaint(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	k, err := db.Complaint(ctx, ids[0])
	if err != nil || k.Office != office || k.CaseNumber != number || k.Status != "open" || !k.DueOn.Equal(day("2026-11-30")) ||
		!k.ReceivedAt.Equal(now) || k.AnsweredAt != nil || k.AnsweredBy != 0 || k.Response != "" {
		t.Fatalf("recorded %+v, %v", k, err)
	}
	if _, err := db.Complaint(ctx, -1); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown complaint: %v", err)
	}

	if err := db.AnswerComplaint(ctx, ids[2], "受取日をご案内しました", manager.ID, now); err != nil {
		t.Fatal(err)
	}
	if err := db.AnswerComplaint(ctx, ids[2], "再回答", manager.ID, now); !errors.Is(err, storage.ErrComplaintAnswered) {
		t.Errorf("second answer: %v", err)
	}
	k, err = db.Complaint(ctx, ids[2])
	if err != nil || k.Status != "answered" || k.Response != "受取日をご案内しました" || k.AnsweredBy != manager.ID || k.AnsweredAt == nil || !k.AnsweredAt.Equal(now) {
		t.Fatalf("answered %+v, %v", k, err)
	}

	list := func(f storage.ComplaintFilter) []int64 {
		t.Helper()
		f.Office, f.Today = office, today
		ks, err := db.Complaints(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, k := range ks {
			out = append(out, k.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    storage.ComplaintFilter
		want []int64
	}{
		{"all, earliest due first", storage.ComplaintFilter{}, []int64{ids[2], ids[0], ids[1]}},
		{"open", storage.ComplaintFilter{Status: "open"}, []int64{ids[0], ids[1]}},
		{"answered", storage.ComplaintFilter{Status: "answered"}, []int64{ids[2]}},
		{"overdue: open past due", storage.ComplaintFilter{Overdue: true}, []int64{ids[0]}},
		{"closed", storage.ComplaintFilter{Status: "closed"}, nil},
	} {
		if got := list(tc.f); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if ks, err := db.Complaints(ctx, storage.ComplaintFilter{Office: demo.PostOffice, Today: today}); err != nil {
		t.Fatal(err)
	} else {
		for _, k := range ks {
			if k.Office != demo.PostOffice {
				t.Errorf("another office's complaint listed: %+v", k)
			}
		}
	}

	for name, q := range map[string]string{
		"unknown category": `INSERT INTO complaints (office_code, category, summary, received_at, due_on, recorded_by) VALUES ($1, 'weather', '雨', now(), '2027-01-01', $2)`,
		"empty summary":    `INSERT INTO complaints (office_code, category, summary, received_at, due_on, recorded_by) VALUES ($1, 'other', '  ', now(), '2027-01-01', $2)`,
		"unknown case":     `INSERT INTO complaints (office_code, category, case_number, summary, received_at, due_on, recorded_by) VALUES ($1, 'other', 'no-such-case', '問合せ', now(), '2027-01-01', $2)`,
		"answered without an answer": `INSERT INTO complaints (office_code, category, summary, received_at, due_on, recorded_by, status, answered_at)
			VALUES ($1, 'other', '問合せ', now(), '2027-01-01', $2, 'answered', now())`,
	} {
		if _, err := db.Pool.Exec(ctx, q, office, manager.ID); err == nil {
			t.Errorf("the schema took a complaint with an %s", name)
		}
	}
}
