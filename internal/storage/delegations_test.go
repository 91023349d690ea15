package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/internal/storage/storagetest"
)

// TestDelegationRecords: a delegation is recorded with its "delegated"
// event; one of the same two offices overlapping it is refused while one
// after it is not; its notice and end are recorded once each, with their
// days; it applies from its first day until the day before its end.
func TestDelegationRecords(t *testing.T) {
	db := storagetest.Seeded(t)
	ctx := context.Background()
	manager := storagetest.Clerk(t, db, "kawasaki1")
	// A fresh office per run, so that the test's delegations are its own.
	office := storagetest.FreshOffice(t, db)
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	end := day("2027-04-01")
	id, err := db.CreateDelegation(ctx, storage.Delegation{Municipality: demo.Kawasaki, Office: office,
		Procedures: []string{"inperson-issuance"}, StartsOn: day("2026-04-01"), EndsOn: &end}, manager.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		start string
		end   *time.Time
	}{{"2026-10-01", nil}, {"2025-01-01", &end}, {"2027-03-31", nil}} {
		if _, err := db.CreateDelegation(ctx, storage.Delegation{Municipality: demo.Kawasaki, Office: office,
			Procedures: []string{"inperson-issuance"}, StartsOn: day(tc.start), EndsOn: tc.end}, manager.ID, time.Now()); !errors.Is(err, storage.ErrDelegationOverlap) {
			t.Errorf("from %s: %v, want an overlap", tc.start, err)
		}
	}
	if _, err := db.CreateDelegation(ctx, storage.Delegation{Municipality: demo.Kawasaki, Office: office,
		Procedures: []string{"inperson-issuance"}, StartsOn: end}, manager.ID, time.Now()); err != nil {
		t.Errorf("a delegation from the day the other ends: %v", err)
	}

	d, err := db.Delegation(ctx, id)
	if err != nil || d.OfficeKind != "post_office" || d.Ended || d.NotifiedOn != nil || !d.ActiveOn(day("2026-04-01")) || d.ActiveOn(end) || d.ActiveOn(day("2026-03-31")) {
		t.Fatalf("recorded %+v, %v", d, err)
	}
	if err := db.NotifyDelegation(ctx, id, day("2026-03-20"), manager.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := db.NotifyDelegation(ctx, id, day("2026-03-21"), manager.ID, time.Now()); !errors.Is(err, storage.ErrDelegationRecorded) {
		t.Errorf("second notice: %v", err)
	}
	if err := db.EndDelegation(ctx, id, day("2026-12-01"), manager.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := db.EndDelegation(ctx, id, day("2026-11-01"), manager.ID, time.Now()); !errors.Is(err, storage.ErrDelegationRecorded) {
		t.Errorf("second end: %v", err)
	}
	d, err = db.Delegation(ctx, id)
	if err != nil || !d.Ended || d.EndsOn == nil || !d.EndsOn.Equal(day("2026-12-01")) || d.NotifiedOn == nil || d.ActiveOn(day("2026-12-01")) || !d.ActiveOn(day("2026-11-30")) {
		t.Fatalf("after notice and end: %+v, %v", d, err)
	}
	var events int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM delegation_events WHERE delegation_id = $1`, id).Scan(&events); err != nil || events != 3 {
		t.Errorf("%d events, want delegated, notified, ended (%v)", events, err)
	}
	between, err := db.DelegationsBetween(ctx, demo.Kawasaki, office)
	if err != nil || len(between) != 2 {
		t.Errorf("between: %d, %v", len(between), err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO delegations (municipality_code, delegate_office, procedures, starts_on, ends_on, recorded_by)
		VALUES ($1, $2, '{inperson-issuance}', '2028-01-02', '2028-01-01', $3)`, demo.Kawasaki, office, manager.ID); err == nil {
		t.Error("the schema took a delegation that ends before it starts")
	}
}

// TestCaseRecordsActingOffice: a case done by a post office keeps its
// municipality and records the office that acted.
func TestCaseRecordsActingOffice(t *testing.T) {
	db := storagetest.Seeded(t)
	ctx := context.Background()
	post, err := db.ClerkByLogin(ctx, "post1")
	if err != nil || post.OfficeKind != "post_office" || post.MunicipalityCode != demo.PostOffice {
		t.Fatalf("post1: %+v, %v", post, err)
	}
	number, err := db.NextCaseNumber(ctx, demo.Chiyoda, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.InsertCase(ctx, storage.Case{CaseNumber: number, MunicipalityCode: demo.Chiyoda, Office: demo.PostOffice,
		Procedure: "inperson-issuance", WorkflowID: "inperson-issuance/" + number, OpenedBy: post.ID}); err != nil {
		t.Fatal(err)
	}
	c, err := db.Case(ctx, number)
	if err != nil || c.MunicipalityCode != demo.Chiyoda || c.Office != demo.PostOffice {
		t.Fatalf("case %+v, %v", c, err)
	}
	term, err := db.Terminal(ctx, "P0001")
	if err != nil || term.MunicipalityCode != demo.PostOffice {
		t.Fatalf("the post office's terminal: %+v, %v", term, err)
	}
	ds, err := db.Delegations(ctx, demo.PostOffice)
	if err != nil || len(ds) == 0 || ds[len(ds)-1].Municipality != demo.Chiyoda {
		t.Fatalf("the post office's delegations: %+v, %v", ds, err)
	}
}
