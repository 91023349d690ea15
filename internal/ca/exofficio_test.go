package ca

import (
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/reasons"
)

// TestRevokeForRegisterChanges on the real database and token: a death
// revokes both certificates of the resident (the one on hold for good), an
// address change only the signing one; a certificate issued after the
// change's day, another resident's and one revoked before are left alone;
// the same chunk again revokes nothing more and reports the earlier
// revocations as replayed.
func TestRevokeForRegisterChanges(t *testing.T) {
	e := newEnv(t)
	dead, err := e.ca.IssuePair(ctx, signRequest(t, e, "x/dead/sign"), authRequest(t, e, "x/dead/auth"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ca.Hold(ctx, HoldRequest{RequestID: "x/hold", Serial: dead.Auth.Serial}); err != nil {
		t.Fatal(err)
	}
	moved := func(id string, kind Kind) IssueRequest {
		r := signRequest(t, e, id)
		if kind == KindAuth {
			r = authRequest(t, e, id)
		}
		r.ResidentCode = "22222222222"
		return r
	}
	mp, err := e.ca.IssuePair(ctx, moved("x/moved/sign", KindSign), moved("x/moved/auth", KindAuth))
	if err != nil {
		t.Fatal(err)
	}
	// Revoked before as superseded: not revoked again.
	old := moved("x/old/sign", KindSign)
	oldRes, err := e.ca.Issue(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ca.Revoke(ctx, RevokeRequest{RequestID: "x/old/revoke", Serial: oldRes.Serial, Reason: reasons.Superseded}); err != nil {
		t.Fatal(err)
	}
	changeDay := e.clock.now() // all issued on the change's day, before it ended
	e.clock.add(48 * time.Hour)
	// Issued two days later from the new record: it stays.
	later, err := e.ca.Issue(ctx, moved("x/later/sign", KindSign))
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.ca.Issue(ctx, func() IssueRequest { r := signRequest(t, e, "x/other"); r.ResidentCode = "33333333333"; return r }())
	if err != nil {
		t.Fatal(err)
	}
	end := time.Date(changeDay.Year(), changeDay.Month(), changeDay.Day()+1, 0, 0, 0, 0, time.UTC)
	chunk := []RegisterRevocation{
		{RequestID: "register-change/131016/1", ResidentCode: "12345678901", IssuedBefore: end,
			Reasons: map[Kind]reasons.Reason{KindSign: reasons.AffiliationChanged, KindAuth: reasons.CessationOfOperation}},
		{RequestID: "register-change/131016/2", ResidentCode: "22222222222", IssuedBefore: end,
			Reasons: map[Kind]reasons.Reason{KindSign: reasons.AffiliationChanged}},
	}
	res, err := e.ca.RevokeForRegisterChanges(ctx, chunk, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if res.New != 3 || res.Replayed != 0 || res.AlreadyRevoked != 1 || len(res.Revoked) != 3 {
		t.Fatalf("result %+v", res)
	}
	want := map[string]reasons.Reason{
		dead.Sign.Serial: reasons.AffiliationChanged, dead.Auth.Serial: reasons.CessationOfOperation,
		mp.Sign.Serial: reasons.AffiliationChanged, mp.Auth.Serial: "",
		oldRes.Serial: reasons.Superseded, later.Serial: "", other.Serial: "",
	}
	check := func() {
		t.Helper()
		for serial, r := range want {
			st, err := e.ca.Status(ctx, serial)
			if err != nil {
				t.Fatal(err)
			}
			if (r == "") != (st.State == StateGood) || st.Reason != r {
				t.Errorf("%s: %s %q, want %q", serial, st.State, st.Reason, r)
			}
		}
	}
	check()
	var events int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM ca_status_events WHERE request_id LIKE 'register-change/%'`).Scan(&events); err != nil || events != 3 {
		t.Fatalf("%d events (%v), want 3", events, err)
	}
	again, err := e.ca.RevokeForRegisterChanges(ctx, chunk, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if again.New != 0 || again.Replayed != 3 || len(again.Revoked) != 3 {
		t.Fatalf("again: %+v", again)
	}
	check()
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM ca_status_events WHERE request_id LIKE 'register-change/%'`).Scan(&events); err != nil || events != 3 {
		t.Fatalf("after the repeat %d events (%v), want 3", events, err)
	}
	// Malformed input changes nothing.
	for _, bad := range [][]RegisterRevocation{
		{{RequestID: "", ResidentCode: "12345678901", IssuedBefore: end, Reasons: map[Kind]reasons.Reason{KindSign: reasons.AffiliationChanged}}},
		{{RequestID: "r", ResidentCode: "123", IssuedBefore: end, Reasons: map[Kind]reasons.Reason{KindSign: reasons.AffiliationChanged}}},
		{{RequestID: "r", ResidentCode: "33333333333", IssuedBefore: end.Add(72 * time.Hour), Reasons: map[Kind]reasons.Reason{KindSign: reasons.CertificateHold}}},
		{{RequestID: "r", ResidentCode: "33333333333", Reasons: map[Kind]reasons.Reason{KindSign: reasons.AffiliationChanged}}},
	} {
		if _, err := e.ca.RevokeForRegisterChanges(ctx, bad, time.Time{}); !IsPermanent(err) {
			t.Errorf("%+v: %v, want a validation error", bad, err)
		}
	}
	check()
}
