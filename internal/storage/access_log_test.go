package storage_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/internal/storage/storagetest"
)

// TestHistoryAccessLog: each opening of a case's history is recorded; the
// log is searched by municipality, case, clerk and time, newest first.
func TestHistoryAccessLog(t *testing.T) {
	db := storagetest.Seeded(t)
	ctx := context.Background()
	manager, err := db.ClerkByLogin(ctx, "manager1")
	if err != nil {
		t.Fatal(err)
	}
	auditor, err := db.ClerkByLogin(ctx, "auditor1")
	if err != nil {
		t.Fatal(err)
	}
	// A case of this run's own, so that the entries are the test's.
	number := fmt.Sprintf("%s-29991231-%06d", demo.Chiyoda, time.Now().UnixNano()%1000000)
	if err := db.InsertCase(ctx, storage.Case{CaseNumber: number, MunicipalityCode: demo.Chiyoda, Office: demo.Chiyoda,
		Procedure: "inperson-issuance", WorkflowID: "inperson-issuance/" + number, OpenedBy: manager.ID}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, storage.Tokyo)
	for i, c := range []storage.Clerk{manager, auditor, manager} {
		if err := db.RecordHistoryAccess(ctx, storage.HistoryAccess{ClerkID: c.ID, ClerkLogin: c.Login, Office: c.MunicipalityCode,
			CaseNumber: number, Municipality: demo.Chiyoda, At: at.Add(time.Duration(i) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := db.HistoryAccesses(ctx, storage.AccessFilter{Municipality: demo.Chiyoda, CaseNumber: number})
	if err != nil || len(all) != 3 || !all[0].At.Equal(at.Add(2*time.Hour)) || all[1].ClerkLogin != "auditor1" || all[2].Office != demo.Chiyoda {
		t.Fatalf("all: %+v, %v", all, err)
	}
	byClerk, _ := db.HistoryAccesses(ctx, storage.AccessFilter{Municipality: demo.Chiyoda, CaseNumber: number, ClerkLogin: "manager1"})
	between, _ := db.HistoryAccesses(ctx, storage.AccessFilter{Municipality: demo.Chiyoda, CaseNumber: number, From: at.Add(30 * time.Minute), To: at.Add(90 * time.Minute)})
	other, _ := db.HistoryAccesses(ctx, storage.AccessFilter{Municipality: demo.Yokohama, CaseNumber: number})
	if len(byClerk) != 2 || len(between) != 1 || between[0].ClerkLogin != "auditor1" || len(other) != 0 {
		t.Errorf("by clerk %+v, between %+v, another municipality's %+v", byClerk, between, other)
	}
	// Pages: two, then the one left, in the same order.
	first, _ := db.HistoryAccesses(ctx, storage.AccessFilter{Municipality: demo.Chiyoda, CaseNumber: number, Limit: 2})
	second, _ := db.HistoryAccesses(ctx, storage.AccessFilter{Municipality: demo.Chiyoda, CaseNumber: number, Limit: 2, Offset: 2})
	if len(first) != 2 || first[0].ID != all[0].ID || first[1].ID != all[1].ID || len(second) != 1 || second[0].ID != all[2].ID {
		t.Errorf("pages %+v then %+v, of %+v", first, second, all)
	}
}

// TestAccessLogKindsAndSummary: a register record read, a disclosure read
// and a history opening are each logged with their kind and reference; a
// refused start's read has no case; the search filters by kind and staff,
// includes the office's staff's reads of another office's records, and the
// summary counts per staff login and kind; an unknown kind is refused.
func TestAccessLogKindsAndSummary(t *testing.T) {
	db := storagetest.Seeded(t)
	ctx := context.Background()
	clerk := storagetest.Clerk(t, db, "clerk1")
	manager := storagetest.Clerk(t, db, "manager1")
	// An office of this run's own, so that the log's entries are the test's.
	office := storagetest.FreshOffice(t, db)
	number := fmt.Sprintf("%s-29991230-%06d", demo.Chiyoda, time.Now().UnixNano()%1000000)
	if err := db.InsertCase(ctx, storage.Case{CaseNumber: number, MunicipalityCode: office, Office: office,
		Procedure: "inperson-revocation", WorkflowID: "inperson-revocation/" + number, OpenedBy: clerk.ID}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, storage.Tokyo)
	for i, a := range []storage.HistoryAccess{
		{ClerkID: clerk.ID, ClerkLogin: clerk.Login, Office: office, Kind: storage.AccessRegisterRecord, CaseNumber: number, Reference: "start_check", Municipality: office},
		{ClerkID: clerk.ID, ClerkLogin: clerk.Login, Office: office, Kind: storage.AccessRegisterRecord, Reference: "start:inperson-revocation:not_holder", Municipality: office},
		{ClerkID: manager.ID, ClerkLogin: manager.Login, Office: office, CaseNumber: number, Municipality: office},
		// A read by the office's staff of another office's record.
		{ClerkID: clerk.ID, ClerkLogin: clerk.Login, Office: office, Kind: storage.AccessDisclosure, Reference: "disclosure_case:jlis-x", Municipality: "jlis"},
	} {
		a.At = at.Add(time.Duration(i) * time.Minute)
		if err := db.RecordHistoryAccess(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.RecordHistoryAccess(ctx, storage.HistoryAccess{ClerkID: clerk.ID, ClerkLogin: clerk.Login, Office: office, Kind: "gossip", Municipality: office, At: at}); !errors.Is(err, storage.ErrBadAccessKind) {
		t.Errorf("an unknown kind: %v", err)
	}
	own, err := db.HistoryAccesses(ctx, storage.AccessFilter{Municipality: office})
	if err != nil || len(own) != 3 || own[0].Kind != storage.AccessHistory || own[1].CaseNumber != "" || own[1].Reference != "start:inperson-revocation:not_holder" {
		t.Fatalf("own records' reads: %+v, %v", own, err)
	}
	withStaff, _ := db.HistoryAccesses(ctx, storage.AccessFilter{Municipality: office, Staff: true})
	registers, _ := db.HistoryAccesses(ctx, storage.AccessFilter{Municipality: office, Kind: storage.AccessRegisterRecord, ClerkLogin: clerk.Login})
	disclosures, _ := db.HistoryAccesses(ctx, storage.AccessFilter{Municipality: office, Staff: true, Kind: storage.AccessDisclosure})
	if len(withStaff) != 4 || len(registers) != 2 || len(disclosures) != 1 || disclosures[0].Municipality != "jlis" {
		t.Errorf("with staff %+v, register reads %+v, disclosure reads %+v", withStaff, registers, disclosures)
	}
	if _, err := db.HistoryAccesses(ctx, storage.AccessFilter{Municipality: office, Kind: "gossip"}); !errors.Is(err, storage.ErrBadAccessKind) {
		t.Errorf("a search of an unknown kind: %v", err)
	}
	sum, err := db.AccessSummary(ctx, office, at, at.Add(time.Hour))
	want := []storage.AccessCount{{ClerkLogin: clerk.Login, Kind: storage.AccessDisclosure, Count: 1}, {ClerkLogin: clerk.Login, Kind: storage.AccessRegisterRecord, Count: 2},
		{ClerkLogin: manager.Login, Kind: storage.AccessHistory, Count: 1}}
	if err != nil || !slices.Equal(sum, want) {
		t.Errorf("summary %+v, %v; want %+v", sum, err, want)
	}
}

// TestReportQueries: the audit report's cases are the municipality's
// opened in the period, with the reason code CloseCase kept; its PIN
// confirmations are the pin_entry_confirmed events of those cases, with
// who typed and who confirmed.
func TestReportQueries(t *testing.T) {
	db := storagetest.Seeded(t)
	ctx := context.Background()
	clerk := storagetest.Clerk(t, db, "clerk1")
	office := storagetest.FreshOffice(t, db)
	now := time.Now()
	var numbers []string
	for i, p := range []string{"inperson-pin-change", "inperson-pin-change", "inperson-revocation"} {
		n := fmt.Sprintf("%s-%d-%d", office, now.UnixNano(), i)
		numbers = append(numbers, n)
		if err := db.InsertCase(ctx, storage.Case{CaseNumber: n, MunicipalityCode: office, Office: office, Procedure: p, WorkflowID: p + "/" + n, OpenedBy: clerk.ID}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.CloseCase(ctx, numbers[0], "completed", "", now); err != nil {
		t.Fatal(err)
	}
	if err := db.CloseCase(ctx, numbers[1], "lapsed", "intent_not_confirmed", now); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordEvent(ctx, numbers[0], "pin_entry_confirmed", "clerk2", "entered by clerk1", now); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordEvent(ctx, numbers[0], "identity_checked", "clerk1", "license", now); err != nil {
		t.Fatal(err)
	}
	cases, err := db.ReportCases(ctx, office, now.Add(-time.Hour), now.Add(time.Hour))
	want := []storage.ReportCase{{numbers[0], "inperson-pin-change", "completed", ""}, {numbers[1], "inperson-pin-change", "lapsed", "intent_not_confirmed"},
		{numbers[2], "inperson-revocation", "open", ""}}
	if err != nil || !slices.Equal(cases, want) {
		t.Errorf("cases %+v, %v; want %+v", cases, err, want)
	}
	if later, _ := db.ReportCases(ctx, office, now.Add(time.Hour), now.Add(2*time.Hour)); len(later) != 0 {
		t.Errorf("another period's cases: %+v", later)
	}
	pins, err := db.PINConfirmations(ctx, office, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil || len(pins) != 1 || pins[0].CaseNumber != numbers[0] || pins[0].EnteredBy != "clerk1" || pins[0].ConfirmedBy != "clerk2" {
		t.Errorf("PIN confirmations %+v, %v", pins, err)
	}
	// Disposals are read once the disposals table exists (migration 015);
	// the fresh office has none.
	var exists bool
	if err := db.Pool.QueryRow(ctx, `SELECT to_regclass('disposals') IS NOT NULL`).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	disposals, recorded, err := db.ReportDisposals(ctx, office, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil || recorded != exists || len(disposals) != 0 {
		t.Errorf("disposals %+v, recorded %v (table exists %v), %v", disposals, recorded, exists, err)
	}
}
