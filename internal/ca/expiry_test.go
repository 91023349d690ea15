package ca

import (
	"errors"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/reasons"
	"github.com/madoguchi/madoguchi/internal/renewal"
)

// TestNoticeDue: the selection rule at an injected time — due from just
// after now up to the same wall time 3 months on in Japan, never when
// expired, revoked, superseded or already noticed; the month end rolls
// forward as Go's calendar does.
func TestNoticeDue(t *testing.T) {
	now := jst(2026, 12, 2, 1, 0, 0)
	for _, tc := range []struct {
		name string
		f    ExpiryFacts
		at   time.Time
		want bool
	}{
		{"in a month", ExpiryFacts{NotAfter: jst(2027, 1, 2, 23, 59, 59)}, now, true},
		{"exactly 3 months on", ExpiryFacts{NotAfter: jst(2027, 3, 2, 1, 0, 0)}, now, true},
		{"a second after 3 months", ExpiryFacts{NotAfter: jst(2027, 3, 2, 1, 0, 1)}, now, false},
		{"in a year", ExpiryFacts{NotAfter: jst(2027, 12, 2, 0, 0, 0)}, now, false},
		{"expires now", ExpiryFacts{NotAfter: now}, now, false},
		{"expired", ExpiryFacts{NotAfter: now.Add(-time.Hour)}, now, false},
		{"revoked", ExpiryFacts{NotAfter: jst(2027, 1, 2, 0, 0, 0), Revoked: true}, now, false},
		{"superseded by a renewal", ExpiryFacts{NotAfter: jst(2027, 1, 2, 0, 0, 0), Superseded: true}, now, false},
		{"already noticed", ExpiryFacts{NotAfter: jst(2027, 1, 2, 0, 0, 0), Noticed: true}, now, false},
		{"30 November sees to 2 March", ExpiryFacts{NotAfter: jst(2027, 3, 2, 0, 0, 0)}, jst(2026, 11, 30, 0, 0, 0), true},
		{"30 November, 3 March", ExpiryFacts{NotAfter: jst(2027, 3, 3, 0, 0, 0)}, jst(2026, 11, 30, 0, 0, 0), false},
		// 00:30 on 1 December in Japan is still 30 November in UTC, whose
		// 3 months on would roll to 2 March.
		{"the months are Japan's", ExpiryFacts{NotAfter: jst(2027, 3, 2, 0, 0, 0)}, time.Date(2026, 11, 30, 15, 30, 0, 0, time.UTC), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := NoticeDue(tc.f, tc.at); got != tc.want {
				t.Errorf("NoticeDue(%+v, %s) = %v, want %v", tc.f, tc.at, got, tc.want)
			}
		})
	}
}

// TestExpiryNoticesStore, on the real database and token: the selection
// is NoticeDue in SQL (within the window, not revoked, not superseded,
// without a notice) in serial order by chunks; a certificate's notice is
// recorded once; its renewal code finds the holder, is used once by one
// case (the same case again is the same answer), not after the
// certificate's expiry, and its use wipes the letter.
func TestExpiryNoticesStore(t *testing.T) {
	e := newEnv(t)
	now := e.clock.now() // 2026-04-01 10:02 JST
	soon, later := jst(2026, 6, 1, 23, 59, 59), jst(2026, 8, 1, 23, 59, 59)
	issue := func(id, resident string, notAfter time.Time) IssueResult {
		t.Helper()
		r := authRequest(t, e, id)
		r.ResidentCode, r.NotAfter = resident, notAfter
		res, err := e.ca.Issue(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	due1 := issue("exp/due1", "10000000001", soon)
	due2 := issue("exp/due2", "10000000002", soon)
	issue("exp/later", "10000000003", later)
	old := issue("exp/old", "10000000004", soon)
	revoked := issue("exp/revoked", "10000000005", soon)
	if _, err := e.ca.Revoke(ctx, RevokeRequest{RequestID: "exp/revoke", Serial: revoked.Serial, Reason: reasons.CessationOfOperation}); err != nil {
		t.Fatal(err)
	}
	e.clock.add(time.Hour)
	issue("exp/renewed", "10000000004", jst(2031, 1, 2, 23, 59, 59)) // supersedes old
	want := map[string]bool{due1.Serial: true, due2.Serial: true}

	var got []string
	after := ""
	for range 4 {
		chunk, err := e.ca.ExpiringCertificates(ctx, now, after, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(chunk) == 0 {
			break
		}
		if chunk[0].ResidentCode == "" || !chunk[0].NotAfter.Equal(soon) || chunk[0].Kind != KindAuth {
			t.Errorf("selected %+v", chunk[0])
		}
		got, after = append(got, chunk[0].Serial), chunk[0].Serial
	}
	if len(got) != 2 || !want[got[0]] || !want[got[1]] || got[0] >= got[1] {
		t.Fatalf("selected %v (in chunks of 1), want %s and %s in serial order; not %s (later), %s (superseded), %s (revoked)",
			got, due1.Serial, due2.Serial, "", old.Serial, revoked.Serial)
	}

	code := "ABCD-EFGH-JKLM-NPQR"
	n := ExpiryNotice{Serial: due1.Serial, RunID: "expiry-notices/daily-x", CodeHash: renewal.Hash(code), CodeExpiresAt: soon,
		PDF: []byte("%PDF-1.7 test"), ProducedAt: now}
	for i, wantCreated := range []bool{true, false} {
		again := n
		if i == 1 {
			again.CodeHash, again.RunID = renewal.Hash("ZZZZ-ZZZZ-ZZZZ-ZZZZ"), "expiry-notices/daily-y"
		}
		created, err := e.ca.RecordExpiryNotice(ctx, again)
		if err != nil || created != wantCreated {
			t.Fatalf("record %d: created %v, %v; want %v", i, created, err, wantCreated)
		}
	}
	stored, err := e.ca.ExpiryNoticeOf(ctx, due1.Serial)
	if err != nil || stored.RunID != n.RunID || stored.CodeHash != n.CodeHash || stored.NoticeNumber != ExpiryNoticeNumber(due1.Serial) {
		t.Fatalf("stored %+v, %v; want the first", stored, err)
	}
	if left, _ := e.ca.ExpiringCertificates(ctx, now, "", 10); len(left) != 1 || left[0].Serial != due2.Serial {
		t.Errorf("after the notice, selected %+v; want only %s", left, due2.Serial)
	}

	h, err := e.ca.RenewalCode(ctx, renewal.Hash("abcd efgh jklm nprq"))
	if !errors.Is(err, ErrUnknownRenewalCode) {
		t.Errorf("another code found %+v, %v", h, err)
	}
	h, err = e.ca.RenewalCode(ctx, renewal.Hash("abcd-efgh-jklm-npqr"))
	if err != nil || h.ResidentCode != "10000000001" || h.Serial != due1.Serial || h.UsedByCase != "" {
		t.Fatalf("code opens %+v, %v", h, err)
	}
	at := now.Add(2 * time.Hour)
	for range 2 {
		h, err = e.ca.RedeemRenewalCode(ctx, n.CodeHash, "131016-20260401-000009", "131016", at)
		if err != nil || h.UsedByCase != "131016-20260401-000009" {
			t.Fatalf("redeem: %+v, %v", h, err)
		}
	}
	if _, err := e.ca.RedeemRenewalCode(ctx, n.CodeHash, "131016-20260401-000010", "131016", at); !errors.Is(err, ErrRenewalCodeUsed) || !IsPermanent(err) {
		t.Errorf("a second case used the code: %v", err)
	}
	if stored, _ = e.ca.ExpiryNoticeOf(ctx, due1.Serial); stored.PDF != nil || stored.UsedByOffice != "131016" || !stored.UsedAt.Equal(at) {
		t.Errorf("after use: %+v; want the letter wiped and the use recorded", stored)
	}
	code2 := renewal.Hash("BCDE-FGHJ-KLMN-PQRS")
	if _, err := e.ca.RecordExpiryNotice(ctx, ExpiryNotice{Serial: due2.Serial, RunID: "r", CodeHash: code2, CodeExpiresAt: soon, PDF: []byte("x"), ProducedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ca.RedeemRenewalCode(ctx, code2, "131016-20260601-000001", "131016", soon); !errors.Is(err, ErrRenewalCodeExpired) {
		t.Errorf("a code used at its certificate's expiry: %v", err)
	}
	if _, err := e.ca.RedeemRenewalCode(ctx, renewal.Hash("CDEF-GHJK-LMNP-QRST"), "c", "131016", at); !errors.Is(err, ErrUnknownRenewalCode) {
		t.Errorf("an unknown code: %v", err)
	}

	// The mail room: due1's letter was wiped by the code's use, due2's
	// waits; marked mailed once (a repeat keeps the first), it is wiped.
	queue, err := e.ca.UnmailedExpiryNotices(ctx, 10)
	if err != nil || len(queue) != 1 || queue[0].Serial != due2.Serial || string(queue[0].PDF) != "x" {
		t.Fatalf("mail room queue %+v, %v; want due2's letter", queue, err)
	}
	number := ExpiryNoticeNumber(due2.Serial)
	for i, when := range []time.Time{at, at.Add(time.Hour)} {
		m, err := e.ca.MarkExpiryNoticeMailed(ctx, number, []string{"mailroom1", "mailroom2"}[i], when)
		if err != nil || !m.MailedAt.Equal(at) || m.MailedBy != "mailroom1" || m.PDF != nil {
			t.Errorf("mark mailed %d: %+v, %v; want the first time and clerk, the letter wiped", i, m, err)
		}
	}
	if queue, _ = e.ca.UnmailedExpiryNotices(ctx, 10); len(queue) != 0 {
		t.Errorf("after mailing the queue holds %+v", queue)
	}
	if _, err := e.ca.MarkExpiryNoticeMailed(ctx, "EN-000000000000", "mailroom1", at); !errors.Is(err, ErrUnknownLetter) {
		t.Errorf("an unknown notice marked: %v", err)
	}
}
