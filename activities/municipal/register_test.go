package municipal

import (
	"context"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/storage"
)

// registerStore is the register part of MunicipalStore in memory: the
// CheckRegister rules are tested without a database.
type registerStore struct {
	MunicipalStore
	resident storage.Resident
	certs    map[string]storage.IssuedCertificate // by kind
	cards    map[string]storage.Card
}

func (s *registerStore) Resident(_ context.Context, code string) (storage.Resident, error) {
	if code != s.resident.ResidentCode {
		return storage.Resident{}, storage.ErrNotFound
	}
	return s.resident, nil
}

func (s *registerStore) ActiveCertificate(_ context.Context, residentCode, kind string) (storage.IssuedCertificate, error) {
	c, ok := s.certs[kind]
	if !ok || residentCode != s.resident.ResidentCode {
		return storage.IssuedCertificate{}, storage.ErrNotFound
	}
	return c, nil
}

func (s *registerStore) Card(_ context.Context, serial string) (storage.Card, error) {
	c, ok := s.cards[serial]
	if !ok {
		return storage.Card{}, storage.ErrNotFound
	}
	return c, nil
}

// TestCheckRegisterCurrentCertificates: an expired certificate is never
// current, so it is neither renewed nor revoked as superseded (issue 7 item
// 10); one still valid later on the application day is; each current one
// carries the status of the card it is on.
func TestCheckRegisterCurrentCertificates(t *testing.T) {
	today := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC) // 10:00 JST
	endOfToday := time.Date(2026, 11, 26, 14, 59, 59, 0, time.UTC)
	rec := storage.Resident{ResidentCode: "00000000011", MunicipalityCode: "131016", Name: "山田 太郎",
		BirthDate: time.Date(1980, 4, 1, 0, 0, 0, 0, time.UTC), Sex: "male", Address: "東京都千代田区千代田1番1号", Status: "resident"}
	app := contract.Application{ResidentCode: rec.ResidentCode, Name: rec.Name, BirthDate: "1980-04-01", Sex: "male",
		Address: rec.Address, Signing: true, UserAuth: true}
	cards := map[string]storage.Card{"C0": {Serial: "C0", ResidentCode: rec.ResidentCode, Status: "lost"}}
	for _, tc := range []struct {
		name     string
		notAfter time.Time
		card     string
		current  bool
		status   string
	}{
		{"expired yesterday", today.Add(-24 * time.Hour), "C0", false, ""},
		{"expires at this instant", today, "C0", false, ""},
		{"valid until the end of today", endOfToday, "C0", true, "lost"},
		{"valid next year", today.AddDate(1, 0, 0), "C0", true, "lost"},
		{"on a card with no record", today.AddDate(1, 0, 0), "C9", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &registerStore{resident: rec, cards: cards, certs: map[string]storage.IssuedCertificate{
				contract.KindUserAuth: {Serial: "auth-1", Kind: contract.KindUserAuth, ResidentCode: rec.ResidentCode, CardSerial: tc.card, NotAfter: tc.notAfter},
			}}
			m := &Municipal{Store: st}
			res, err := m.CheckRegister(context.Background(), contract.CheckRegisterInput{
				CaseNumber: "131016-20261126-000001", MunicipalityCode: "131016", Application: app, Today: today})
			if err != nil {
				t.Fatal(err)
			}
			if !tc.current {
				if len(res.Current) != 0 {
					t.Fatalf("Current = %+v, want none: the certificate is expired", res.Current)
				}
				return
			}
			want := contract.CurrentCertificate{Kind: contract.KindUserAuth, Serial: "auth-1", NotAfter: tc.notAfter, Card: tc.card, CardStatus: tc.status}
			if len(res.Current) != 1 || res.Current[0] != want {
				t.Fatalf("Current = %+v, want [%+v]", res.Current, want)
			}
			if res.Person.Name != rec.Name || res.Person.BirthDate != "1980-04-01" {
				t.Errorf("Person = %+v, from the register", res.Person)
			}
		})
	}
}

// TestCheckRegisterSigningBarredIsAFact: an adult ward applying for both
// certificates is not refused by the register check; the bar is returned
// for the issuance procedure to apply (the user-authentication certificate
// for the legal representative), and a person not in the register is.
func TestCheckRegisterSigningBarredIsAFact(t *testing.T) {
	today := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
	rec := storage.Resident{ResidentCode: "00000000012", MunicipalityCode: "131016", Name: "山田 次郎",
		BirthDate: time.Date(1970, 4, 1, 0, 0, 0, 0, time.UTC), Sex: "male", Address: "東京都千代田区千代田1番1号", Status: "resident", AdultWard: true}
	app := contract.Application{ResidentCode: rec.ResidentCode, Name: rec.Name, BirthDate: "1970-04-01", Sex: "male",
		Address: rec.Address, Signing: true, UserAuth: true}
	m := &Municipal{Store: &registerStore{resident: rec}}
	res, err := m.CheckRegister(context.Background(), contract.CheckRegisterInput{MunicipalityCode: "131016", Application: app, Today: today})
	if err != nil {
		t.Fatal(err)
	}
	if res.SigningBarred != "adult_ward_signing" || res.SigningBarredMessage == "" {
		t.Errorf("SigningBarred = %q (%q), want adult_ward_signing with a message", res.SigningBarred, res.SigningBarredMessage)
	}
	app.ResidentCode = "99999999999"
	_, err = m.CheckRegister(context.Background(), contract.CheckRegisterInput{MunicipalityCode: "131016", Application: app, Today: today})
	if r, ok := contract.AsRejection(err); !ok || r.Code != "not_in_register" {
		t.Errorf("unknown resident: %v, want the rejection not_in_register", err)
	}
}
