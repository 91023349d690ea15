package storage

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"testing"
	"time"
)

// testChain builds a valid chain of n rows of an office.
func testChain(office string, n int) []ChainRow {
	prev := GenesisHash
	at := time.Date(2026, 12, 1, 9, 0, 0, 123456000, Tokyo)
	var out []ChainRow
	for i := 1; i <= n; i++ {
		r := ChainRow{Office: office, Seq: int64(i), PrevHash: prev, CaseNumber: fmt.Sprintf("%s-20261201-%06d", office, i),
			EventKey: "step", Actor: "clerk1", Detail: "受付", At: at.Add(time.Duration(i) * time.Minute)}
		r.RowHash = r.Hash()
		prev = r.RowHash
		out = append(out, r)
	}
	return out
}

func check(office string, rows []ChainRow, headSeq int64, headHash []byte, anchors []AuditAnchor) ChainReport {
	k := NewChainChecker(office, anchors)
	for _, r := range rows {
		k.Add(r)
	}
	return k.Finish(headSeq, headHash)
}

// TestCaseEventHashEncoding: the encoding is length-prefixed (moving a byte
// from one field to the next changes the hash), covers every field, and is
// stable (a known answer, which the migration's SQL function must give too).
func TestCaseEventHashEncoding(t *testing.T) {
	at := time.Date(2026, 12, 1, 0, 0, 0, 1000, time.UTC)
	base := CaseEventHash("131016", 1, GenesisHash, "131016-20261201-000001", "ab", "c", "", at)
	for name, h := range map[string][]byte{
		"field boundary": CaseEventHash("131016", 1, GenesisHash, "131016-20261201-000001", "a", "bc", "", at),
		"office":         CaseEventHash("131017", 1, GenesisHash, "131016-20261201-000001", "ab", "c", "", at),
		"seq":            CaseEventHash("131016", 2, GenesisHash, "131016-20261201-000001", "ab", "c", "", at),
		"prev":           CaseEventHash("131016", 1, bytes.Repeat([]byte{1}, 32), "131016-20261201-000001", "ab", "c", "", at),
		"detail":         CaseEventHash("131016", 1, GenesisHash, "131016-20261201-000001", "ab", "c", " ", at),
		"time":           CaseEventHash("131016", 1, GenesisHash, "131016-20261201-000001", "ab", "c", "", at.Add(time.Microsecond)),
	} {
		if bytes.Equal(h, base) {
			t.Errorf("%s: same hash", name)
		}
	}
	// The same instant in another zone is the same row.
	if !bytes.Equal(base, CaseEventHash("131016", 1, GenesisHash, "131016-20261201-000001", "ab", "c", "", at.In(Tokyo))) {
		t.Error("the zone changed the hash")
	}
	if len(base) != 32 {
		t.Fatalf("%d bytes", len(base))
	}
	t.Logf("known answer %s", hex.EncodeToString(base))
}

// TestChainChecker: a clean chain verifies; an edited, a deleted, a swapped
// row, a cut end and a rewritten chain are each reported at the first
// broken place with its reason.
func TestChainChecker(t *testing.T) {
	const office = "131016"
	clean := testChain(office, 5)
	head := clean[4]
	anchors := []AuditAnchor{{Office: office, Day: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Seq: 3, Hash: clean[2].RowHash}}
	if rep := check(office, clean, 5, head.RowHash, anchors); !rep.OK || rep.Rows != 5 || rep.Anchors != 1 || rep.Break != nil {
		t.Fatalf("clean chain: %+v", rep)
	}
	if rep := check(office, nil, 0, nil, nil); !rep.OK {
		t.Fatalf("empty chain: %+v", rep)
	}

	copyChain := func() []ChainRow { return append([]ChainRow(nil), testChain(office, 5)...) }
	edited := copyChain()
	edited[2].Detail = "書き換え"
	deleted := append(copyChain()[:1], copyChain()[2:]...)
	swapped := copyChain()
	swapped[1], swapped[2] = swapped[2], swapped[1]
	swapped[1].Seq, swapped[2].Seq = 2, 3
	// An edit whose hash was recomputed: the next row no longer follows.
	rehashed := copyChain()
	rehashed[3].Actor = "someone"
	rehashed[3].RowHash = rehashed[3].Hash()
	// The whole chain rewritten from row 2 on: only the anchor tells.
	rewritten := copyChain()
	rewritten[1].Detail = "書き換え"
	for i := 1; i < len(rewritten); i++ {
		rewritten[i].PrevHash = rewritten[i-1].RowHash
		rewritten[i].RowHash = rewritten[i].Hash()
	}
	for _, tc := range []struct {
		name     string
		rows     []ChainRow
		headSeq  int64
		headHash []byte
		seq      int64
		reason   string
	}{
		{"edited", edited, 5, head.RowHash, 3, BreakChanged},
		{"deleted", deleted, 5, head.RowHash, 2, BreakMissing},
		{"swapped", swapped, 5, head.RowHash, 2, BreakLink},
		{"rehashed", rehashed, 5, head.RowHash, 5, BreakLink},
		{"end cut", copyChain()[:4], 5, head.RowHash, 5, BreakHead},
		{"end cut, head moved back", copyChain()[:2], 2, clean[1].RowHash, 3, BreakAnchor},
		{"rewritten", rewritten, 5, rewritten[4].RowHash, 3, BreakAnchor},
		{"another office's row", append(copyChain()[:1], testChain("141305", 2)[1]), 2, nil, 2, BreakLink},
	} {
		rep := check(office, tc.rows, tc.headSeq, tc.headHash, anchors)
		if rep.OK || rep.Break == nil || rep.Break.Seq != tc.seq || rep.Break.Reason != tc.reason {
			t.Errorf("%s: %+v %+v, want %s at %d", tc.name, rep, rep.Break, tc.reason, tc.seq)
		}
	}
}
