package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/internal/storage/storagetest"
)

// TestRefusalRegister: refused attempts are recorded with who, what and
// when; an office's list holds only its own, the newest first, filtered by
// kind and period; the schema refuses an unknown kind and an empty actor.
func TestRefusalRegister(t *testing.T) {
	db := storagetest.Seeded(t)
	ctx := context.Background()
	office, other := storagetest.FreshOffice(t, db), storagetest.FreshOffice(t, db)
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, storage.Tokyo)
	for i, r := range []storage.Refusal{
		{Office: office, Kind: storage.RefusalApprovalOfOwnList, Actor: "chiyoda-mgr", Subject: "2026-12-01", Reason: "own_list"},
		{Office: office, Kind: storage.RefusalFeeTypedByHand, Actor: "clerk1", Subject: "13101-2026-000001", Reason: "fee_not_typed"},
		{Office: other, Kind: storage.RefusalFeeTypedByHand, Actor: "clerk9", Reason: "fee_not_typed"},
	} {
		r.At = at.Add(time.Duration(i) * time.Hour)
		if _, err := db.RecordRefusal(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	all, err := db.Refusals(ctx, storage.RefusalFilter{Office: office})
	if err != nil || len(all) != 2 || all[0].Kind != storage.RefusalFeeTypedByHand || all[1].Kind != storage.RefusalApprovalOfOwnList ||
		all[1].Actor != "chiyoda-mgr" || all[1].Subject != "2026-12-01" || !all[1].At.Equal(at) {
		t.Fatalf("office's refusals: %+v, %v", all, err)
	}
	cases := []struct {
		name string
		f    storage.RefusalFilter
		want int
	}{
		{"by kind", storage.RefusalFilter{Office: office, Kind: storage.RefusalApprovalOfOwnList}, 1},
		{"from the second hour", storage.RefusalFilter{Office: office, From: at.Add(time.Hour)}, 1},
		{"before the first", storage.RefusalFilter{Office: office, To: at}, 0},
		{"the other office", storage.RefusalFilter{Office: other}, 1},
	}
	for _, c := range cases {
		got, err := db.Refusals(ctx, c.f)
		if err != nil || len(got) != c.want {
			t.Errorf("%s: %d refusals, %v; want %d", c.name, len(got), err, c.want)
		}
	}
	for _, bad := range []storage.Refusal{
		{Office: office, Kind: "anything", Actor: "clerk1", Reason: "x", At: at},
		{Office: office, Kind: storage.RefusalFeeTypedByHand, Actor: " ", Reason: "x", At: at},
	} {
		if _, err := db.RecordRefusal(ctx, bad); err == nil {
			t.Errorf("recorded %+v", bad)
		}
	}
}
