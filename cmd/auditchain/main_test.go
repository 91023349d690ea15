package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/internal/storage/storagetest"
)

// TestVerifyCommand: `auditchain verify -office X` says ok for a clean
// chain and, after a row is changed in SQL, names the first broken row and
// fails; `anchor` records the day's anchor once.
func TestVerifyCommand(t *testing.T) {
	db := storagetest.Seeded(t)
	ctx := context.Background()
	clerk, err := db.ClerkByLogin(ctx, "kawasaki1")
	if err != nil {
		t.Fatal(err)
	}
	office := fmt.Sprintf("auditcmd-%d", time.Now().UnixNano())
	if _, err := db.Pool.Exec(ctx, `INSERT INTO offices (code, kind, name) VALUES ($1, 'municipality', '監査試験町')`, office); err != nil {
		t.Fatal(err)
	}
	number := office + "-20261201-000001"
	if err := db.InsertCase(ctx, storage.Case{CaseNumber: number, MunicipalityCode: office, Procedure: "inperson-issuance",
		WorkflowID: "inperson-issuance/" + number, OpenedBy: clerk.ID}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"identity", "pin", "handover"} {
		if err := db.RecordEvent(ctx, number, key, "clerk1", "", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	var out strings.Builder
	if err := run(ctx, []string{"verify", "-office", office}, &out); err != nil || !strings.Contains(out.String(), office+": ok, 3 rows") {
		t.Fatalf("clean: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"anchor", "-day", "2026-01-01"}, &out); err != nil || !strings.Contains(out.String(), "anchored "+office+" on 2026-01-01: head 3") {
		t.Fatalf("anchor: %v\n%s", err, out.String())
	}
	// verify -anchor anchors today's head of the intact chain.
	out.Reset()
	if err := run(ctx, []string{"verify", "-office", office, "-anchor"}, &out); err != nil {
		t.Fatalf("verify -anchor: %v\n%s", err, out.String())
	}
	var today int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_anchors WHERE office_code = $1 AND day = $2 AND seq = 3`,
		office, time.Now().In(storage.Tokyo).Format(time.DateOnly)).Scan(&today); err != nil || today != 1 {
		t.Fatalf("today's anchors of %s: %d, %v\n%s", office, today, err, out.String())
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE case_events SET actor = 'someone' WHERE case_number = $1 AND event_key = 'pin'`, number); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = run(ctx, []string{"verify", "-office", office}, &out)
	if !errors.Is(err, errBroken) || !strings.Contains(out.String(), office+": BROKEN at row 2 (case "+number+", event pin): row_changed") {
		t.Fatalf("changed: %v\n%s", err, out.String())
	}
	if err := run(ctx, []string{"verify", "-office", office, "-anchor"}, &out); !errors.Is(err, errBroken) {
		t.Errorf("-anchor of a broken chain: %v\n%s", err, out.String())
	}
}
