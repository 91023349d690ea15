package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/internal/storage/storagetest"
)

// TestAccessChainDetectsTampering: the access log is a chain per office:
// five reads verify; a read changed with SQL, deleted, or two swapped is
// reported at the first broken link; an intact chain is anchored with the
// case events' ones, a broken one never; the break is recorded as an
// attempt once.
func TestAccessChainDetectsTampering(t *testing.T) {
	db := storagetest.Seeded(t)
	reader := storagetest.Clerk(t, db, "manager1")
	for _, tc := range []struct {
		name   string
		sql    []string
		seq    int64
		reason string
	}{
		{"changed", []string{`UPDATE history_access_log SET clerk_login = 'someone' WHERE municipality_code = $1 AND chain_seq = 3`}, 3, storage.BreakChanged},
		{"deleted", []string{`DELETE FROM history_access_log WHERE municipality_code = $1 AND chain_seq = 2`}, 2, storage.BreakMissing},
		{"swapped", []string{
			`UPDATE history_access_log SET chain_seq = 1000000 WHERE municipality_code = $1 AND chain_seq = 2`,
			`UPDATE history_access_log SET chain_seq = 2 WHERE municipality_code = $1 AND chain_seq = 3`,
			`UPDATE history_access_log SET chain_seq = 3 WHERE municipality_code = $1 AND chain_seq = 1000000`}, 2, storage.BreakLink},
		{"last deleted", []string{`DELETE FROM history_access_log WHERE municipality_code = $1 AND chain_seq = 5`}, 5, storage.BreakHead},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			office := storagetest.FreshOffice(t, db)
			at := time.Date(2026, 12, 2, 9, 0, 0, 123456789, storage.Tokyo)
			for i := range 5 {
				kind := []string{storage.AccessHistory, storage.AccessRegisterRecord, storage.AccessDisclosure}[i%3]
				if err := db.RecordHistoryAccess(ctx, storage.HistoryAccess{ClerkID: reader.ID, ClerkLogin: reader.Login, Office: reader.MunicipalityCode,
					Kind: kind, Reference: fmt.Sprintf("ref-%d", i), Municipality: office, At: at.Add(time.Duration(i) * time.Second)}); err != nil {
					t.Fatal(err)
				}
			}
			rep, err := db.VerifyAccessChain(ctx, office)
			if err != nil || !rep.OK || rep.Rows != 5 || rep.HeadSeq != 5 || rep.Chain != storage.AccessLogChain {
				t.Fatalf("before: %+v %v", rep, err)
			}
			for _, q := range tc.sql {
				if _, err := db.Pool.Exec(ctx, q, office); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			rep, err = db.VerifyAccessChain(ctx, office)
			if err != nil || rep.OK || rep.Break == nil || rep.Break.Seq != tc.seq || rep.Break.Reason != tc.reason {
				t.Fatalf("after: %+v %+v %v, want %s at %d", rep, rep.Break, err, tc.reason, tc.seq)
			}
			reps, anchors, err := db.VerifyAndAnchor(ctx, time.Date(1990, 1, 1, 12, 0, 0, 0, storage.Tokyo), []string{office})
			if err != nil || len(reps) != 2 || len(anchors) != 0 {
				t.Fatalf("verify and anchor a broken one: %+v %+v %v", reps, anchors, err)
			}
			if got, err := db.RecordChainBreak(ctx, rep, "test", time.Now()); err != nil || !got {
				t.Fatalf("record: %v %v", got, err)
			}
		})
	}
	// An intact chain is anchored, as the access log's.
	ctx := context.Background()
	office := storagetest.FreshOffice(t, db)
	if err := db.RecordHistoryAccess(ctx, storage.HistoryAccess{ClerkID: reader.ID, ClerkLogin: reader.Login, Office: reader.MunicipalityCode,
		Kind: storage.AccessHistory, Municipality: office, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	_, anchors, err := db.VerifyAndAnchor(ctx, time.Date(1990, 1, 2, 12, 0, 0, 0, storage.Tokyo), []string{office})
	if err != nil || len(anchors) != 1 || anchors[0].Chain != storage.AccessLogChain || anchors[0].Seq != 1 {
		t.Fatalf("anchors %+v %v", anchors, err)
	}
	if rep, err := db.VerifyAccessChain(ctx, office); err != nil || !rep.OK || rep.Anchors != 1 {
		t.Errorf("with its anchor: %+v %v", rep, err)
	}
}
