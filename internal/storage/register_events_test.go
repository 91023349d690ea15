package storage_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/internal/storage/storagetest"
)

// TestRegisterChangesRecordedOnce: a change recorded twice is one row and
// one case; the same change id for another change is refused; a batch
// recorded twice is one batch, and a change already received alone stays
// with its first case; completing marks the resident's active records
// written before the change's day ended, once.
func TestRegisterChangesRecordedOnce(t *testing.T) {
	db := storagetest.Seeded(t)
	ctx := context.Background()
	clerk, err := db.ClerkByLogin(ctx, "manager1")
	if err != nil {
		t.Fatal(err)
	}
	run := time.Now().UnixNano()
	day := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	newCase := func(proc string) storage.Case {
		n, err := db.NextCaseNumber(ctx, "131016", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return storage.Case{CaseNumber: n, MunicipalityCode: "131016", Procedure: proc, WorkflowID: proc + "/" + n, OpenedBy: clerk.ID}
	}
	ev := storage.RegisterEvent{MunicipalityCode: "131016", ChangeID: fmt.Sprintf("S-%d", run), ResidentCode: "00000000011", Kind: "death", Date: day}
	c1 := newCase("exofficio-revocation")
	first, created, err := db.RecordRegisterChange(ctx, c1, ev)
	if err != nil || !created || first.CaseNumber != c1.CaseNumber || first.ID == 0 {
		t.Fatalf("first: %+v %v %v", first, created, err)
	}
	again, created, err := db.RecordRegisterChange(ctx, newCase("exofficio-revocation"), ev)
	if err != nil || created || again.ID != first.ID || again.CaseNumber != c1.CaseNumber {
		t.Fatalf("again: %+v %v %v", again, created, err)
	}
	other := ev
	other.Kind = "name_change"
	if _, _, err := db.RecordRegisterChange(ctx, newCase("exofficio-revocation"), other); !errors.Is(err, storage.ErrChangeReused) {
		t.Fatalf("reused change id: %v", err)
	}

	batch := []storage.RegisterEvent{ev,
		{ChangeID: fmt.Sprintf("B1-%d", run), ResidentCode: "00000000028", Kind: "address_change", Date: day},
		{ChangeID: fmt.Sprintf("B2-%d", run), ResidentCode: "00000000036", Kind: "moved_out", Date: day}}
	bc := newCase("exofficio-revocation-batch")
	b, created, err := db.RecordRegisterBatch(ctx, bc, fmt.Sprintf("M-%d", run), batch)
	if err != nil || !created || b.Changes != 2 {
		t.Fatalf("batch: %+v %v %v (want the 2 changes not received before)", b, created, err)
	}
	b2, created, err := db.RecordRegisterBatch(ctx, newCase("exofficio-revocation-batch"), fmt.Sprintf("M-%d", run), batch)
	if err != nil || created || b2.CaseNumber != bc.CaseNumber {
		t.Fatalf("batch again: %+v %v %v", b2, created, err)
	}
	evs, total, err := db.RegisterEventsOfCase(ctx, bc.CaseNumber, 0, 1)
	if err != nil || total != 2 || len(evs) != 1 {
		t.Fatalf("first chunk: %d of %d (%v)", len(evs), total, err)
	}
	rest, _, err := db.RegisterEventsOfCase(ctx, bc.CaseNumber, evs[0].ID, 10)
	if err != nil || len(rest) != 1 || rest[0].ResidentCode != "00000000036" {
		t.Fatalf("next chunk: %+v %v", rest, err)
	}
	unknown, err := db.UnknownResidents(ctx, "131016", []string{"00000000011", "99999999999", "00000000060"})
	if err != nil || len(unknown) != 2 || unknown[0] != 1 || unknown[1] != 2 {
		t.Fatalf("unknown residents: %v %v (want positions 1 and 2: not in the register, another municipality's)", unknown, err)
	}

	// A record written before the change's day ended is marked; one
	// written after it is not.
	ic := newCase("inperson-issuance")
	if err := db.InsertCase(ctx, ic); err != nil {
		t.Fatal(err)
	}
	serial := fmt.Sprintf("e%x", run)
	if err := db.RecordIssued(ctx, []storage.IssuedCertificate{{Serial: serial, Kind: "sign", CaseNumber: ic.CaseNumber,
		ResidentCode: "00000000028", CardSerial: "C131016000002", NotAfter: time.Now().AddDate(4, 0, 0)}}); err != nil {
		t.Fatal(err)
	}
	revs := []storage.CertificateRevocation{{ResidentCode: "00000000028", Kind: "sign", Day: day}}
	if n, err := db.CompleteRegisterEvents(ctx, []int64{evs[0].ID}, revs, time.Now()); err != nil || n != 0 {
		t.Fatalf("a record written after the change's day: %d marked (%v)", n, err)
	}
	today, _ := time.Parse(time.DateOnly, time.Now().In(storage.Tokyo).Format(time.DateOnly))
	revs[0].Day = today
	if n, err := db.CompleteRegisterEvents(ctx, []int64{evs[0].ID}, revs, time.Now()); err != nil || n != 1 {
		t.Fatalf("%d marked (%v), want 1", n, err)
	}
	if n, err := db.CompleteRegisterEvents(ctx, []int64{evs[0].ID}, revs, time.Now()); err != nil || n != 0 {
		t.Fatalf("again: %d marked (%v), want 0", n, err)
	}
	done, err := db.RegisterEventsByID(ctx, []int64{evs[0].ID})
	if err != nil || len(done) != 1 || done[0].CompletedAt == nil {
		t.Fatalf("event not completed: %+v %v", done, err)
	}
}
