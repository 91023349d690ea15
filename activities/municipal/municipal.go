package municipal

import (
	"github.com/madoguchi/madoguchi/contract"

	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/madoguchi/madoguchi/internal/fee"
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
	Certificate(ctx context.Context, serial string) (storage.IssuedCertificate, error)
	Certificates(ctx context.Context, residentCode string) ([]storage.IssuedCertificate, error)
	MarkCard(ctx context.Context, serial, status string) error
	RecordFee(ctx context.Context, number, item string, at time.Time) (storage.Fee, error)
	CardHistory(ctx context.Context, resident, card, number string) (storage.CardHistory, error)
	RecordRefund(ctx context.Context, number, by, reason string, at time.Time) (storage.Refund, error)
	RegisterDocuments(ctx context.Context, number string, docTypes []string, at time.Time) (time.Time, error)
	RecordEvent(ctx context.Context, number, key, actor, detail string, at time.Time) error
	CloseCase(ctx context.Context, number, status, reason string, at time.Time) error
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

// CheckRegister checks the application against the resident register
// (第2 1(1)ア(イ)): the 4 information must match, the person must be a
// resident of this municipality, and the signing certificate has age and
// capacity conditions. A failed check is a contract.Rejection the clerk reads out.
func (m *Municipal) CheckRegister(ctx context.Context, in contract.CheckRegisterInput) (contract.CheckRegisterResult, error) {
	rec, err := m.Store.Resident(ctx, in.Application.ResidentCode)
	if errors.Is(err, storage.ErrNotFound) {
		return contract.CheckRegisterResult{}, contract.Reject("not_in_register",
			"住民基本台帳に該当する住民票コードがありません / No resident with this resident code is in the register.")
	}
	if err != nil {
		return contract.CheckRegisterResult{}, err
	}
	barred, err := checkAgainstRegister(rec, in.Application, in.MunicipalityCode, in.Today)
	if err != nil {
		return contract.CheckRegisterResult{}, err
	}
	res := contract.CheckRegisterResult{Person: contract.PersonalInfo{
		Name: rec.Name, NameKana: rec.NameKana, FormerSurname: rec.FormerSurname, Alias: rec.Alias,
		BirthDate: rec.BirthDate.Format(time.DateOnly), Sex: rec.Sex, Address: rec.Address,
	}}
	if barred != nil {
		res.SigningBarred, res.SigningBarredMessage = barred.Code, barred.Message
	}
	for _, kind := range []string{contract.KindSigning, contract.KindUserAuth} {
		c, err := m.Store.ActiveCertificate(ctx, rec.ResidentCode, kind)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return contract.CheckRegisterResult{}, err
		}
		// An expired certificate is never current: it is not renewed and
		// never revoked as superseded.
		if !c.NotAfter.After(in.Today) {
			continue
		}
		status := ""
		if card, err := m.Store.Card(ctx, c.CardSerial); err == nil {
			status = card.Status
		} else if !errors.Is(err, storage.ErrNotFound) {
			return contract.CheckRegisterResult{}, err
		}
		res.Current = append(res.Current, contract.CurrentCertificate{Kind: kind, Serial: c.Serial, NotAfter: c.NotAfter, Card: c.CardSerial, CardStatus: status})
	}
	return res, nil
}

// CheckCard checks the inserted card against the municipality's card
// records (第2 1(1)ア(エ)A): it must be the applicant's and still valid.
func (m *Municipal) CheckCard(ctx context.Context, in contract.CheckCardInput) (contract.CheckCardResult, error) {
	c, err := m.Store.Card(ctx, in.CardSerial)
	if errors.Is(err, storage.ErrNotFound) {
		return contract.CheckCardResult{}, contract.Reject("card_unknown", "挿入されたカードは登録されていません / The inserted card is not registered.")
	}
	if err != nil {
		return contract.CheckCardResult{}, err
	}
	if c.ResidentCode != in.ResidentCode {
		return contract.CheckCardResult{}, contract.Reject("card_not_applicants", "挿入されたカードは申請者のものではありません / The inserted card is not the applicant's.")
	}
	today := in.Today.In(storage.Tokyo).Format(time.DateOnly)
	expiry := c.ExpiresOn.Format(time.DateOnly)
	if expiry <= today {
		return contract.CheckCardResult{}, contract.Reject("card_expired", "カードの有効期限が切れています / The card has expired.")
	}
	return contract.CheckCardResult{Expiry: expiry}, nil
}

// RecordIssued keeps the municipality's record of the certificates on the
// card and marks the ones they replaced.
func (m *Municipal) RecordIssued(ctx context.Context, in contract.RecordIssuedInput) (contract.RecordIssuedResult, error) {
	rows := make([]storage.IssuedCertificate, 0, len(in.Certificates))
	for _, c := range in.Certificates {
		rows = append(rows, storage.IssuedCertificate{Serial: c.Serial, Kind: c.Kind, CaseNumber: in.CaseNumber,
			ResidentCode: in.ResidentCode, CardSerial: in.CardSerial, NotAfter: c.NotAfter})
	}
	if err := m.Store.RecordIssued(ctx, rows); err != nil {
		return contract.RecordIssuedResult{}, err
	}
	for _, s := range in.Superseded {
		if err := m.Store.MarkCertificate(ctx, s, "superseded"); err != nil {
			return contract.RecordIssuedResult{}, err
		}
	}
	return contract.RecordIssuedResult{}, nil
}

// RecordFee records the case's fee once (第3 5): the item the rule picks
// from the case's facts and the applicant's card records (internal/fee),
// at the amount in force today in the municipality's schedule. A case
// recorded before the facts were passed names its item.
func (m *Municipal) RecordFee(ctx context.Context, in contract.RecordFeeInput) (contract.RecordFeeResult, error) {
	now := m.now()
	item := in.Item
	if in.CardSerial != "" {
		if in.ResidentCode == "" {
			return contract.RecordFeeResult{}, temporal.NewNonRetryableApplicationError("record fee: the resident code is missing", contract.ErrTypeInvalid, nil)
		}
		h, err := m.Store.CardHistory(ctx, in.ResidentCode, in.CardSerial, in.CaseNumber)
		if err != nil {
			return contract.RecordFeeResult{}, fmt.Errorf("record fee: %w", err)
		}
		item = fee.ItemFor(factsOf(now, in.Renewal, h))
	}
	if item == "" {
		item = fee.ItemIssuance
	}
	f, err := m.Store.RecordFee(ctx, in.CaseNumber, item, now)
	if err != nil {
		return contract.RecordFeeResult{}, fmt.Errorf("record fee: %w", err)
	}
	return contract.RecordFeeResult{Item: f.Item, AmountYen: f.AmountYen}, nil
}

// factsOf are the fee rule's facts: a card that held the applicant's
// certificates before is the same card (no card re-issue), whatever card
// came before it.
func factsOf(now time.Time, renewal bool, h storage.CardHistory) fee.Facts {
	f := fee.Facts{Day: now.In(storage.Tokyo), Renewal: renewal || h.HeldCertificates}
	if h.Previous != nil && !f.Renewal {
		f.Previous = &fee.PreviousCard{Status: h.Previous.Status, ExpiresOn: h.Previous.ExpiresOn}
	}
	return f
}

// RefundFee records the refund of a case's fee once, when the case ended
// cancelled or failed after its fee was recorded.
func (m *Municipal) RefundFee(ctx context.Context, in contract.RefundFeeInput) (contract.RefundFeeResult, error) {
	if in.By == "" || in.Reason == "" {
		return contract.RefundFeeResult{}, temporal.NewNonRetryableApplicationError("refund fee: who and why are required", contract.ErrTypeInvalid, nil)
	}
	at := in.At
	if at.IsZero() {
		at = m.now()
	}
	r, err := m.Store.RecordRefund(ctx, in.CaseNumber, in.By, in.Reason, at)
	if errors.Is(err, storage.ErrNotFound) {
		// No fee was recorded: nothing to refund.
		return contract.RefundFeeResult{}, nil
	}
	if err != nil {
		return contract.RefundFeeResult{}, fmt.Errorf("refund fee: %w", err)
	}
	return contract.RefundFeeResult{Item: r.Item, AmountYen: r.AmountYen}, nil
}

// RegisterDocuments registers the documents with their retention date.
func (m *Municipal) RegisterDocuments(ctx context.Context, in contract.RegisterDocumentsInput) (contract.RegisterDocumentsResult, error) {
	until, err := m.Store.RegisterDocuments(ctx, in.CaseNumber, in.DocTypes, m.now())
	if err != nil {
		return contract.RegisterDocumentsResult{}, fmt.Errorf("register documents: %w", err)
	}
	return contract.RegisterDocumentsResult{RetainUntil: until.Format(time.DateOnly)}, nil
}

// RecordEvent appends to the case's audit trail (idempotent by key).
func (m *Municipal) RecordEvent(ctx context.Context, in contract.RecordEventInput) (contract.RecordEventResult, error) {
	return contract.RecordEventResult{}, m.Store.RecordEvent(ctx, in.CaseNumber, in.Key, in.Actor, in.Detail, in.At)
}

// CloseCase marks the case finished.
func (m *Municipal) CloseCase(ctx context.Context, in contract.CloseCaseInput) (contract.CloseCaseResult, error) {
	return contract.CloseCaseResult{}, m.Store.CloseCase(ctx, in.CaseNumber, in.Status, in.Reason, in.At)
}

// checkAgainstRegister applies the register rules (internal/register) that
// every procedure shares: the person is this municipality's resident and the
// application's 4 information matches. A failure is a contract.Rejection for
// the clerk. Whether the person may hold a signing certificate (under 15,
// adult ward) is returned as a fact for the issuance procedures to apply, so
// that a revocation reusing this check never refuses an adult ward.
func checkAgainstRegister(rec storage.Resident, app contract.Application, municipality string, today time.Time) (barred *register.RejectionError, err error) {
	r := register.Record{
		ResidentCode: rec.ResidentCode, MunicipalityCode: rec.MunicipalityCode, Name: rec.Name, NameKana: rec.NameKana,
		FormerSurname: rec.FormerSurname, Alias: rec.Alias, BirthDate: rec.BirthDate.Format(time.DateOnly),
		Sex: rec.Sex, Address: rec.Address, Status: rec.Status, AdultWard: rec.AdultWard,
	}
	a := register.Application{
		Name: app.Name, BirthDate: app.BirthDate, Sex: app.Sex, Address: app.Address,
		FormerSurname: app.FormerSurname, Alias: app.Alias, WantSigning: app.Signing, WantUserAuth: app.UserAuth,
	}
	rs, err := register.CheckAll(r, a, municipality, validity.DateOf(today))
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError("register record cannot be checked", contract.ErrTypeInvalid, err)
	}
	for _, rej := range rs {
		switch rej.Code {
		case register.CodeUnder15Signing, register.CodeAdultWardSigning:
			if barred == nil {
				barred = rej
			}
		default:
			return nil, contract.Reject(rej.Code, rej.Message)
		}
	}
	if barred == nil && (register.Age(mustDate(r.BirthDate), validity.DateOf(today)) < register.SigningMinAge || rec.AdultWard) {
		// Not asked for a signing certificate, but the fact still matters
		// to a procedure (a legal representative applies).
		code := register.CodeUnder15Signing
		if rec.AdultWard {
			code = register.CodeAdultWardSigning
		}
		barred = &register.RejectionError{Code: code, Message: register.Message(code)}
	}
	return barred, nil
}

func mustDate(s string) validity.Date {
	d, _ := validity.ParseDate(s)
	return d
}
