package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/madoguchi/madoguchi/internal/register"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/internal/validity"
)

// MunicipalStore is what the municipal activities need of the database.
type MunicipalStore interface {
	Resident(ctx context.Context, code string) (storage.Resident, error)
	Card(ctx context.Context, serial string) (storage.Card, error)
	ActiveCertificate(ctx context.Context, residentCode, kind string) (storage.IssuedCertificate, error)
	RecordIssued(ctx context.Context, certs []storage.IssuedCertificate) error
	MarkCertificate(ctx context.Context, serial, status string) error
	RecordFee(ctx context.Context, number, item string, at time.Time) (int, error)
	RegisterDocuments(ctx context.Context, number string, docTypes []string, at time.Time) (time.Time, error)
	RecordEvent(ctx context.Context, number, key, actor, detail string, at time.Time) error
	CloseCase(ctx context.Context, number, status string, at time.Time) error
}

// Municipal holds the municipal worker's activities.
type Municipal struct {
	Store MunicipalStore
	// Now is the clock; injected so time rules can be tested.
	Now func() time.Time
}

func (m *Municipal) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// CheckRegisterInput asks whether an application matches the register.
type CheckRegisterInput struct {
	CaseNumber       string      `json:"caseNumber"`
	MunicipalityCode string      `json:"municipalityCode"`
	Application      Application `json:"application"`
	// Today is the application date (Asia/Tokyo), taken from workflow time.
	Today time.Time `json:"today"`
}

// CheckRegisterResult is the register's record of the applicant and the
// certificates the municipality already wrote for them.
type CheckRegisterResult struct {
	Person  PersonalInfo         `json:"person"`
	Current []CurrentCertificate `json:"current,omitempty"`
}

// CheckRegister checks the application against the resident register
// (第2 1(1)ア(イ)): the 4 information must match, the person must be a
// resident of this municipality, and the signing certificate has age and
// capacity conditions. A failed check is a Rejection the clerk reads out.
func (m *Municipal) CheckRegister(ctx context.Context, in CheckRegisterInput) (CheckRegisterResult, error) {
	rec, err := m.Store.Resident(ctx, in.Application.ResidentCode)
	if errors.Is(err, storage.ErrNotFound) {
		return CheckRegisterResult{}, Reject("not_in_register",
			"住民基本台帳に該当する住民票コードがありません / No resident with this resident code is in the register.")
	}
	if err != nil {
		return CheckRegisterResult{}, err
	}
	if err := checkAgainstRegister(rec, in.Application, in.MunicipalityCode, in.Today); err != nil {
		return CheckRegisterResult{}, err
	}
	res := CheckRegisterResult{Person: PersonalInfo{
		Name: rec.Name, NameKana: rec.NameKana, FormerSurname: rec.FormerSurname, Alias: rec.Alias,
		BirthDate: rec.BirthDate.Format(time.DateOnly), Sex: rec.Sex, Address: rec.Address,
	}}
	for _, kind := range []string{KindSigning, KindUserAuth} {
		c, err := m.Store.ActiveCertificate(ctx, rec.ResidentCode, kind)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return CheckRegisterResult{}, err
		}
		res.Current = append(res.Current, CurrentCertificate{Kind: kind, Serial: c.Serial, NotAfter: c.NotAfter, Card: c.CardSerial})
	}
	return res, nil
}

// CheckCardInput asks whether the inserted card is the applicant's.
type CheckCardInput struct {
	ResidentCode string    `json:"residentCode"`
	CardSerial   string    `json:"cardSerial"`
	Today        time.Time `json:"today"`
}

// CheckCardResult is the municipality's record of the card.
type CheckCardResult struct {
	Expiry string `json:"expiry"` // YYYY-MM-DD, the card's last valid day
}

// CheckCard checks the inserted card against the municipality's card
// records (第2 1(1)ア(エ)A): it must be the applicant's and still valid.
func (m *Municipal) CheckCard(ctx context.Context, in CheckCardInput) (CheckCardResult, error) {
	c, err := m.Store.Card(ctx, in.CardSerial)
	if errors.Is(err, storage.ErrNotFound) {
		return CheckCardResult{}, Reject("card_unknown", "挿入されたカードは登録されていません / The inserted card is not registered.")
	}
	if err != nil {
		return CheckCardResult{}, err
	}
	if c.ResidentCode != in.ResidentCode {
		return CheckCardResult{}, Reject("card_not_applicants", "挿入されたカードは申請者のものではありません / The inserted card is not the applicant's.")
	}
	today := in.Today.In(storage.Tokyo).Format(time.DateOnly)
	expiry := c.ExpiresOn.Format(time.DateOnly)
	if expiry <= today {
		return CheckCardResult{}, Reject("card_expired", "カードの有効期限が切れています / The card has expired.")
	}
	return CheckCardResult{Expiry: expiry}, nil
}

// RecordIssuedInput records certificates written to the applicant's card.
type RecordIssuedInput struct {
	CaseNumber   string              `json:"caseNumber"`
	ResidentCode string              `json:"residentCode"`
	CardSerial   string              `json:"cardSerial"`
	Certificates []IssuedCertificate `json:"certificates"`
	// Superseded are serials this procedure replaced (renewal).
	Superseded []string `json:"superseded,omitempty"`
}

// RecordIssuedResult is empty; the activity is idempotent.
type RecordIssuedResult struct{}

// RecordIssued keeps the municipality's record of the certificates on the
// card and marks the ones they replaced.
func (m *Municipal) RecordIssued(ctx context.Context, in RecordIssuedInput) (RecordIssuedResult, error) {
	rows := make([]storage.IssuedCertificate, 0, len(in.Certificates))
	for _, c := range in.Certificates {
		rows = append(rows, storage.IssuedCertificate{Serial: c.Serial, Kind: c.Kind, CaseNumber: in.CaseNumber,
			ResidentCode: in.ResidentCode, CardSerial: in.CardSerial, NotAfter: c.NotAfter})
	}
	if err := m.Store.RecordIssued(ctx, rows); err != nil {
		return RecordIssuedResult{}, err
	}
	for _, s := range in.Superseded {
		if err := m.Store.MarkCertificate(ctx, s, "superseded"); err != nil {
			return RecordIssuedResult{}, err
		}
	}
	return RecordIssuedResult{}, nil
}

// RecordFeeInput records the issuance fee of a case (第3 5).
type RecordFeeInput struct {
	CaseNumber string `json:"caseNumber"`
	Item       string `json:"item"`
}

// RecordFeeResult is the amount recorded, from the municipality's schedule.
type RecordFeeResult struct {
	AmountYen int `json:"amountYen"`
}

// RecordFee records the fee at the scheduled amount, once per case and item.
func (m *Municipal) RecordFee(ctx context.Context, in RecordFeeInput) (RecordFeeResult, error) {
	amount, err := m.Store.RecordFee(ctx, in.CaseNumber, in.Item, m.now())
	if err != nil {
		return RecordFeeResult{}, fmt.Errorf("record fee: %w", err)
	}
	return RecordFeeResult{AmountYen: amount}, nil
}

// RegisterDocumentsInput registers the application documents (第3 3).
type RegisterDocumentsInput struct {
	CaseNumber string   `json:"caseNumber"`
	DocTypes   []string `json:"docTypes"`
}

// RegisterDocumentsResult is the date the documents may be disposed of.
type RegisterDocumentsResult struct {
	RetainUntil string `json:"retainUntil"`
}

// RegisterDocuments registers the documents with their retention date.
func (m *Municipal) RegisterDocuments(ctx context.Context, in RegisterDocumentsInput) (RegisterDocumentsResult, error) {
	until, err := m.Store.RegisterDocuments(ctx, in.CaseNumber, in.DocTypes, m.now())
	if err != nil {
		return RegisterDocumentsResult{}, fmt.Errorf("register documents: %w", err)
	}
	return RegisterDocumentsResult{RetainUntil: until.Format(time.DateOnly)}, nil
}

// RecordEventInput is one audit-trail entry of a case.
type RecordEventInput struct {
	CaseNumber string    `json:"caseNumber"`
	Key        string    `json:"key"`
	Actor      string    `json:"actor"`
	Detail     string    `json:"detail"`
	At         time.Time `json:"at"`
}

// RecordEventResult is empty.
type RecordEventResult struct{}

// RecordEvent appends to the case's audit trail (idempotent by key).
func (m *Municipal) RecordEvent(ctx context.Context, in RecordEventInput) (RecordEventResult, error) {
	return RecordEventResult{}, m.Store.RecordEvent(ctx, in.CaseNumber, in.Key, in.Actor, in.Detail, in.At)
}

// CloseCaseInput closes a case with its final status.
type CloseCaseInput struct {
	CaseNumber string    `json:"caseNumber"`
	Status     string    `json:"status"`
	At         time.Time `json:"at"`
}

// CloseCaseResult is empty.
type CloseCaseResult struct{}

// CloseCase marks the case finished.
func (m *Municipal) CloseCase(ctx context.Context, in CloseCaseInput) (CloseCaseResult, error) {
	return CloseCaseResult{}, m.Store.CloseCase(ctx, in.CaseNumber, in.Status, in.At)
}

// checkAgainstRegister applies the register rules (internal/register) and
// turns a rule failure into a Rejection for the clerk.
func checkAgainstRegister(rec storage.Resident, app Application, municipality string, today time.Time) error {
	err := register.Check(register.Record{
		ResidentCode: rec.ResidentCode, MunicipalityCode: rec.MunicipalityCode, Name: rec.Name, NameKana: rec.NameKana,
		FormerSurname: rec.FormerSurname, Alias: rec.Alias, BirthDate: rec.BirthDate.Format(time.DateOnly),
		Sex: rec.Sex, Address: rec.Address, Status: rec.Status, AdultWard: rec.AdultWard,
	}, register.Application{
		Name: app.Name, BirthDate: app.BirthDate, Sex: app.Sex, Address: app.Address,
		FormerSurname: app.FormerSurname, Alias: app.Alias, WantSigning: app.Signing, WantUserAuth: app.UserAuth,
	}, municipality, validity.DateOf(today))
	var rej *register.RejectionError
	if errors.As(err, &rej) {
		return Reject(rej.Code, rej.Message)
	}
	if err != nil {
		return temporal.NewNonRetryableApplicationError("register record cannot be checked", ErrTypeInvalid, err)
	}
	return nil
}
