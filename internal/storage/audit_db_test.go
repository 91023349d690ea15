package storage_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/internal/storage/storagetest"
)

// chainOffice makes a fresh office with cases cases of its own, so that a
// test's chain is its own.
func chainOffice(t *testing.T, db *storage.DB, cases int) (string, []string) {
	t.Helper()
	ctx := context.Background()
	clerk, err := db.ClerkByLogin(ctx, "kawasaki1")
	if err != nil {
		t.Fatal(err)
	}
	office := fmt.Sprintf("audit-%d", time.Now().UnixNano())
	if _, err := db.Pool.Exec(ctx, `INSERT INTO offices (code, kind, name) VALUES ($1, 'municipality', '監査試験町')`, office); err != nil {
		t.Fatal(err)
	}
	var numbers []string
	for i := 1; i <= cases; i++ {
		n := fmt.Sprintf("%s-20261201-%06d", office, i)
		if err := db.InsertCase(ctx, storage.Case{CaseNumber: n, MunicipalityCode: office, Office: office,
			Procedure: "inperson-issuance", WorkflowID: "inperson-issuance/" + n, OpenedBy: clerk.ID}); err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, n)
	}
	return office, numbers
}

// recordFive records five events over three cases, at times with
// nanoseconds (Postgres keeps microseconds).
func recordFive(t *testing.T, db *storage.DB, cases []string) {
	t.Helper()
	at := time.Date(2026, 12, 1, 9, 30, 0, 123456789, storage.Tokyo)
	for i, e := range []struct {
		c   int
		key string
	}{{0, "identity"}, {1, "identity"}, {0, "pin"}, {2, "identity"}, {1, "cancel"}} {
		if err := db.RecordEvent(context.Background(), cases[e.c], e.key, "clerk1", "手順 "+e.key, at.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
}

func verify(t *testing.T, db *storage.DB, office string) storage.ChainReport {
	t.Helper()
	rep, err := db.VerifyAuditChain(context.Background(), office)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestAuditChainVerifies: events recorded through RecordEvent make a clean
// chain of their office, each row's hash is the migration's SQL function's
// too, a repeated key adds nothing, and an anchor of the day is checked.
func TestAuditChainVerifies(t *testing.T) {
	db := storagetest.Seeded(t)
	ctx := context.Background()
	office, cases := chainOffice(t, db, 3)
	recordFive(t, db, cases)
	// The same key again: nothing recorded, the chain unchanged.
	if err := db.RecordEvent(ctx, cases[0], "pin", "clerk2", "again", time.Now()); err != nil {
		t.Fatal(err)
	}
	rep := verify(t, db, office)
	if !rep.OK || rep.Rows != 5 || rep.HeadSeq != 5 || rep.Break != nil {
		t.Fatalf("clean chain: %+v %+v", rep, rep.Break)
	}
	var same int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM case_events WHERE office_code = $1
		AND row_hash = case_event_hash(office_code, chain_seq, prev_hash, case_number, event_key, actor, detail, at)`, office).Scan(&same); err != nil || same != 5 {
		t.Fatalf("rows whose SQL hash is the Go hash: %d, %v", same, err)
	}
	anchors, err := db.AnchorAuditChains(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range anchors {
		found = found || a.Office == office && a.Seq == 5
	}
	if !found {
		t.Fatalf("no anchor of %s at 5 in %+v", office, anchors)
	}
	again, err := db.AnchorAuditChains(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range again {
		if a.Office == office {
			t.Fatalf("a second anchor of the day: %+v", a)
		}
	}
	if rep := verify(t, db, office); !rep.OK || rep.Anchors < 1 {
		t.Fatalf("with the anchor: %+v %+v", rep, rep.Break)
	}
	// Verified intact, anchored (on a day of its own).
	reps, anchored, err := db.VerifyAndAnchor(ctx, time.Date(1990, 1, 1, 12, 0, 0, 0, storage.Tokyo), []string{office})
	// Two reports: the case events' chain, and the office's access log's (empty here).
	if err != nil || len(reps) != 2 || !reps[0].OK || !reps[1].OK || reps[1].Chain != storage.AccessLogChain || len(anchored) != 1 ||
		anchored[0].Office != office || anchored[0].Seq != 5 {
		t.Fatalf("verify and anchor: %+v, %+v, %v", reps, anchored, err)
	}
	offices, err := db.AuditChainOffices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	listed := false
	for _, o := range offices {
		listed = listed || o == office
	}
	if !listed {
		t.Errorf("%s not among %v", office, offices)
	}
}

// TestAuditChainDetectsTampering: a row changed with plain SQL (as psql
// would), a row deleted, two rows swapped, a row changed with its hash
// recomputed, and the last row deleted with the head moved back are each
// reported at the first broken link, and recorded once as an attempt.
func TestAuditChainDetectsTampering(t *testing.T) {
	db := storagetest.Seeded(t)
	for _, tc := range []struct {
		name   string
		sql    []string
		seq    int64
		reason string
		anchor bool
	}{
		{"changed", []string{`UPDATE case_events SET detail = '書き換え' WHERE office_code = $1 AND chain_seq = 3`}, 3, storage.BreakChanged, false},
		{"time changed", []string{`UPDATE case_events SET at = at + interval '1 hour' WHERE office_code = $1 AND chain_seq = 2`}, 2, storage.BreakChanged, false},
		{"deleted", []string{`DELETE FROM case_events WHERE office_code = $1 AND chain_seq = 3`}, 3, storage.BreakMissing, false},
		{"swapped", []string{
			`UPDATE case_events SET chain_seq = 1000000 WHERE office_code = $1 AND chain_seq = 2`,
			`UPDATE case_events SET chain_seq = 2 WHERE office_code = $1 AND chain_seq = 3`,
			`UPDATE case_events SET chain_seq = 3 WHERE office_code = $1 AND chain_seq = 1000000`}, 2, storage.BreakLink, false},
		{"contents swapped", []string{
			`UPDATE case_events e SET actor = o.actor, detail = o.detail, at = o.at FROM case_events o
			WHERE e.office_code = $1 AND o.office_code = $1 AND e.chain_seq + o.chain_seq = 7 AND e.chain_seq IN (3, 4)`}, 3, storage.BreakChanged, false},
		{"changed and rehashed", []string{`UPDATE case_events SET actor = 'someone',
			row_hash = case_event_hash(office_code, chain_seq, prev_hash, case_number, event_key, 'someone', detail, at)
			WHERE office_code = $1 AND chain_seq = 3`}, 4, storage.BreakLink, false},
		{"last deleted", []string{`DELETE FROM case_events WHERE office_code = $1 AND chain_seq = 5`}, 5, storage.BreakHead, false},
		{"last deleted, head moved back", []string{`DELETE FROM case_events WHERE office_code = $1 AND chain_seq = 5`,
			`UPDATE audit_chain_heads h SET last_seq = 4, last_hash = e.row_hash FROM case_events e
			WHERE h.office_code = $1 AND e.office_code = $1 AND e.chain_seq = 4`}, 5, storage.BreakAnchor, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			office, cases := chainOffice(t, db, 3)
			recordFive(t, db, cases)
			if tc.anchor {
				if _, err := db.Pool.Exec(ctx, `INSERT INTO audit_anchors (office_code, day, seq, head_hash)
					SELECT office_code, '1999-12-31', last_seq, last_hash FROM audit_chain_heads WHERE office_code = $1`, office); err != nil {
					t.Fatal(err)
				}
			}
			if rep := verify(t, db, office); !rep.OK {
				t.Fatalf("before: %+v %+v", rep, rep.Break)
			}
			for _, q := range tc.sql {
				if _, err := db.Pool.Exec(ctx, q, office); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			rep := verify(t, db, office)
			if rep.OK || rep.Break == nil || rep.Break.Seq != tc.seq || rep.Break.Reason != tc.reason {
				t.Fatalf("%+v %+v, want %s at %d", rep, rep.Break, tc.reason, tc.seq)
			}
			t.Logf("first broken link: %+v", *rep.Break)
			// Recorded as an attempt, once however often it is checked.
			for i, want := range []bool{true, false} {
				if got, err := db.RecordChainBreak(ctx, rep, "auditchain verify", time.Now()); err != nil || got != want {
					t.Fatalf("record %d: %v, %v", i, got, err)
				}
			}
			rs, err := db.Refusals(ctx, storage.RefusalFilter{Office: office, Kind: storage.RefusalAuditRowEdited})
			if err != nil || len(rs) != 1 || rs[0].Reason != tc.reason || !strings.Contains(rs[0].Subject, fmt.Sprintf("seq %d", tc.seq)) {
				t.Fatalf("recorded %+v, %v", rs, err)
			}
			// A broken chain is never anchored.
			day := time.Date(1990, 1, 1, 12, 0, 0, 0, storage.Tokyo)
			reps, anchors, err := db.VerifyAndAnchor(ctx, day, []string{office})
			if err != nil || len(reps) != 2 || reps[0].OK || len(anchors) != 0 {
				t.Fatalf("verify and anchor: %+v, %+v, %v", reps, anchors, err)
			}
		})
	}
}

// TestAuditChainConcurrentInserts: many writers of one office at once, some
// recording the same keys, make one valid chain with each key once.
func TestAuditChainConcurrentInserts(t *testing.T) {
	db := storagetest.Seeded(t)
	ctx := context.Background()
	office, cases := chainOffice(t, db, 4)
	const writers, each = 8, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				// Writers w and w+4 record the same keys.
				key := fmt.Sprintf("step-%d-%d", w%4, i)
				if err := db.RecordEvent(ctx, cases[i%len(cases)], key, fmt.Sprintf("clerk%d", w), "", time.Now()); err != nil {
					errs <- err
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rep := verify(t, db, office)
	if !rep.OK || rep.Rows != 4*each || rep.HeadSeq != 4*each {
		t.Fatalf("after concurrent inserts: %+v %+v, want %d rows", rep, rep.Break, 4*each)
	}
}
