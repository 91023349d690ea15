package ca

import (
	"testing"

	"github.com/madoguchi/madoguchi/internal/reasons"
)

// TestCardCertificates: the certificates linked to a card are found by its
// serial alone, with their status (a hold shows as certificateHold);
// linking twice is harmless, and an unknown card has none.
func TestCardCertificates(t *testing.T) {
	e := newEnv(t)
	sign, err := e.ca.Issue(ctx, signRequest(t, e, "card/sign"))
	if err != nil {
		t.Fatal(err)
	}
	auth, err := e.ca.Issue(ctx, authRequest(t, e, "card/auth"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := e.ca.LinkCard(ctx, "C1", sign.Serial, auth.Serial); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.ca.Hold(ctx, HoldRequest{RequestID: "card/hold", Serial: auth.Serial}); err != nil {
		t.Fatal(err)
	}
	got, err := e.ca.CardCertificates(ctx, "C1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d certificates for the card, want 2: %+v", len(got), got)
	}
	states := map[string]CertStatus{}
	for _, s := range got {
		states[s.Serial] = s
	}
	if s := states[auth.Serial]; s.State != StateRevoked || s.Reason != reasons.CertificateHold || s.Kind != KindAuth {
		t.Errorf("held certificate: %+v", s)
	}
	if s := states[sign.Serial]; s.State != StateGood || s.Kind != KindSign {
		t.Errorf("signing certificate: %+v", s)
	}
	if none, err := e.ca.CardCertificates(ctx, "C404"); err != nil || len(none) != 0 {
		t.Errorf("unknown card: %v, %v", none, err)
	}
}

// TestRecordsOf: a disclosure compiles every certificate issued to the
// person, revoked ones with their reason, and the counterpart; another
// person has none.
func TestRecordsOf(t *testing.T) {
	e := newEnv(t)
	sr, ar := signRequest(t, e, "disc/sign"), authRequest(t, e, "disc/auth")
	pair, err := e.ca.IssuePair(ctx, sr, ar)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ca.Revoke(ctx, RevokeRequest{RequestID: "disc/rev", Serial: pair.Sign.Serial, Reason: reasons.KeyCompromise}); err != nil {
		t.Fatal(err)
	}
	recs, err := e.ca.RecordsOf(ctx, sr.ResidentCode)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	by := map[Kind]Record{}
	for _, r := range recs {
		by[r.Kind] = r
	}
	if s := by[KindSign]; s.Serial != pair.Sign.Serial || s.Status.State != StateRevoked || s.Status.Reason != reasons.KeyCompromise || s.CounterpartSerial != pair.Auth.Serial {
		t.Errorf("signing record: %v %+v", s, s.Status)
	}
	if a := by[KindAuth]; a.Serial != pair.Auth.Serial || a.Status.State != StateGood || a.MunicipalityCode != "131016" {
		t.Errorf("user-authentication record: %v", a)
	}
	if none, err := e.ca.RecordsOf(ctx, "99999999999"); err != nil || len(none) != 0 {
		t.Errorf("a person with no records: %v, %v", none, err)
	}
}
