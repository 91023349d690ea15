package storage_test

import (
	"context"
	"fmt"
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
