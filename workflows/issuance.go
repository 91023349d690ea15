package workflows

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/fee"
	"github.com/madoguchi/madoguchi/internal/reasons"
	"github.com/madoguchi/madoguchi/internal/validity"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// Steps of the issuance family (第2 1), as shown to clerks.
const (
	StepRegisterCheck = "register_check"
	StepIdentityCheck = "identity_check"
	StepCardCheck     = "card_check"
	StepPINSetting    = "pin_setting"
	StepKeyGeneration = "key_generation"
	StepIssuance      = "issuance"
	StepCardWrite     = "card_write"
	StepRevokeOld     = "revoke_old"
	StepFee           = "fee"
	StepDocuments     = "documents"
)

// IssuanceResult is the detail of an issuance procedure's outcome.
type IssuanceResult struct {
	Certificates []kit.CertificateSummary  `json:"certificates,omitempty"`
	Revoked      []string                  `json:"revoked,omitempty"`
	Fee          *contract.RecordFeeResult `json:"fee,omitempty"`
	// Refund is the fee refunded because the case did not complete.
	Refund      *contract.RefundFeeResult `json:"refund,omitempty"`
	RetainUntil string                    `json:"retainUntil,omitempty"`
}

// issuance holds the steps every issuance procedure shares (第2 1(1)ア(イ),
// (エ)–(キ)), each a kit step, so a procedure reads as the manual's list.
type issuance struct {
	c       *kit.Case
	app     contract.Application
	kinds   []string
	applied time.Time
	// legalRep is set when the person may not apply alone (under 15, adult
	// ward): the legal representative (法定代理人) applies.
	legalRep bool
	// card and renewal are the card step's facts the fee is computed from:
	// the card written on, and whether certificates on it were renewed.
	card    string
	renewal bool
}

func newIssuance(c *kit.Case, app contract.Application, applied time.Time) *issuance {
	f := &issuance{c: c, app: app, kinds: app.Kinds(), applied: applied}
	c.State().Issuance = &kit.IssuanceState{Kinds: f.kinds}
	return f
}

// rejectNoCertificate refuses an application that asks for nothing.
func rejectNoCertificate() error {
	return contract.Reject("no_certificate_requested", "発行する電子証明書が選択されていません / Choose at least one certificate.")
}

// checkRegister is 住民基本台帳との照合 (第2 1(1)ア(イ)): the 4 information
// against the register. A person under 15 or an adult ward gets no signing
// certificate: asked for both, they get the user-authentication one, which
// their legal representative applies for; asked for the signing one only,
// the application is refused.
func (f *issuance) checkRegister(ctx workflow.Context) (contract.CheckRegisterResult, error) {
	f.c.Enter(ctx, StepRegisterCheck, "")
	reg, err := kit.Local(ctx, contract.CheckRegister, contract.CheckRegisterInput{
		CaseNumber: f.c.Number(), MunicipalityCode: f.c.Office(), Application: f.app, Today: f.applied})
	if err != nil {
		return reg, err
	}
	if reg.SigningBarred != "" {
		f.legalRep = true
		if slices.Contains(f.kinds, contract.KindSigning) {
			if !slices.Contains(f.kinds, contract.KindUserAuth) {
				return reg, contract.Reject(reg.SigningBarred, reg.SigningBarredMessage)
			}
			f.kinds = []string{contract.KindUserAuth}
			st := f.c.State().Issuance
			st.Kinds = f.kinds
			st.Note = "signing certificate not issued: " + reg.SigningBarred
		}
	}
	st := f.c.State().Issuance
	st.Renewal = false
	for _, cur := range reg.Current {
		if slices.Contains(f.kinds, cur.Kind) {
			st.Renewal = true
		}
	}
	return reg, nil
}

// identityPerson is whose documents the clerk checks at the counter.
func (f *issuance) identityPerson(otherwise string) string {
	if f.legalRep {
		return kit.PersonLegalRepresentative
	}
	return otherwise
}

// onCard runs the card and CA steps (第2 1(1)ア(エ)–(キ)): the card check,
// the validity check, the PINs (from pins, after the second clerk's
// confirmation when a clerk sets them), on-card keys, issuance, writing,
// and the revocation of what the new certificates replace.
func (f *issuance) onCard(ctx workflow.Context, term *kit.Terminal, reg contract.CheckRegisterResult, pins kit.PINSource, clerkPIN *kit.ClerkPIN) (IssuanceResult, error) {
	var res IssuanceResult
	// 第2 1(1)ア(エ)A・B ICカードの確認.
	f.c.Enter(ctx, StepCardCheck, "")
	f.c.Waiting(ctx, "applicant", "terminal: insert the card")
	read, err := term.ReadCard(ctx)
	f.c.Done(ctx)
	if err != nil {
		return res, err
	}
	card, err := kit.Local(ctx, contract.CheckCard, contract.CheckCardInput{
		ResidentCode: f.app.ResidentCode, CardSerial: read.CardSerial, Today: f.applied})
	if err != nil {
		return res, err
	}
	// The current certificates on this card are renewed; those on another
	// card (lost, returned, expired) go with it: a new card gets new PINs
	// and a new issuance.
	renewing := map[string]contract.CurrentCertificate{}
	var replaced []contract.CurrentCertificate
	for _, cur := range reg.Current {
		switch {
		case cur.Card != read.CardSerial:
			replaced = append(replaced, cur)
		case slices.Contains(f.kinds, cur.Kind):
			renewing[cur.Kind] = cur
		}
	}
	// The register check could only guess; only this card's certificates
	// are renewed.
	f.c.State().Issuance.Renewal = len(renewing) > 0
	f.card, f.renewal = read.CardSerial, len(renewing) > 0
	// Validity (規則 13, 49) is fixed before anything is written, so a card
	// too close to its expiry is refused before its PINs are set.
	per, err := f.periods(workflow.Now(ctx), reg, card.Expiry, renewing, read.CardSerial)
	if err != nil {
		return res, err
	}

	// 第2 1(1)ア(エ)C 暗証番号の指定. A renewed kind keeps its PIN (the manual
	// tells the applicant to use the current one).
	var pinKinds []string
	for _, k := range f.kinds {
		if _, ok := renewing[k]; !ok {
			pinKinds = append(pinKinds, k)
		}
	}
	if len(pinKinds) > 0 || pins.Notice != nil {
		if pins.Clerk == "" && pins.Notice == nil && clerkPIN != nil && clerkPIN.Enterer() != "" {
			// A clerk declared during the card check that they will type.
			pins = kit.FromClerk(clerkPIN.Enterer())
		}
		if pins.Clerk != "" {
			// A clerk sets the PIN for the applicant: another clerk confirms
			// the applicant's own intent first (令和4年1月31日改正).
			if err := clerkPIN.AwaitIntent(ctx); err != nil {
				return res, err
			}
		}
		f.c.Enter(ctx, StepPINSetting, actorOf(pins))
		if err := term.SetPINs(ctx, pins, read.CardSerial, pinKinds); err != nil {
			return res, err
		}
	}

	// 第2 1(1)ア(オ) 鍵ペアの生成: RSA-2048 key pairs generated on the card.
	f.c.Enter(ctx, StepKeyGeneration, "")
	keys, err := term.GenerateKeys(ctx, read.CardSerial, f.kinds)
	if err != nil {
		return res, err
	}

	// 第2 1(1)ア(カ) 電子証明書の発行.
	f.c.Enter(ctx, StepIssuance, "")
	var reqs []contract.CertificateRequest
	for _, k := range keys.Keys {
		req := contract.CertificateRequest{RequestID: f.c.Number() + "/" + k.Kind, Kind: k.Kind, MunicipalityCode: f.c.Office(),
			ResidentCode: f.app.ResidentCode, SPKIDER: k.SPKIDER, NotAfter: per[k.Kind].NotAfter, CardSerial: read.CardSerial}
		if k.Kind == contract.KindSigning {
			person := reg.Person
			req.Person = &person
		}
		if len(keys.Keys) == 1 {
			// The counterpart (対応証明書) is the other kind kept on this card.
			for _, cur := range reg.Current {
				if cur.Card == read.CardSerial && cur.Kind != k.Kind {
					req.CounterpartSerial = cur.Serial
				}
			}
		}
		reqs = append(reqs, req)
	}
	issued, onCard, err := kit.Issue(ctx, f.c, reqs)
	if err != nil {
		return res, err
	}

	// 第2 1(1)ア(キ) ICカードへの記録.
	f.c.Enter(ctx, StepCardWrite, "")
	if err := term.Write(ctx, read.CardSerial, issued); err != nil {
		return res, err
	}
	onCard()

	// 更新 / 再交付: once the new certificates are on the card, the ones they
	// replace are revoked: renewed ones as superseded (第1 4(2)オ), those of a
	// lost card as compromised, those of a card no longer used as ceased.
	var superseded []string
	if len(renewing) > 0 || len(replaced) > 0 {
		f.c.Enter(ctx, StepRevokeOld, "")
	}
	for _, k := range f.kinds {
		if cur, ok := renewing[k]; ok {
			if _, err := kit.Revoke(ctx, f.c, cur.Serial, reasons.Superseded); err != nil {
				return res, err
			}
			superseded = append(superseded, cur.Serial)
		}
	}
	for _, cur := range replaced {
		reason := reasons.CessationOfOperation
		if cur.CardStatus == "lost" {
			reason = reasons.KeyCompromise
		}
		if _, err := kit.Revoke(ctx, f.c, cur.Serial, reason); err != nil {
			return res, err
		}
		superseded = append(superseded, cur.Serial)
	}
	if _, err := kit.Local(ctx, contract.RecordIssued, contract.RecordIssuedInput{
		CaseNumber: f.c.Number(), ResidentCode: f.app.ResidentCode, CardSerial: read.CardSerial,
		Certificates: stripDER(issued), Superseded: superseded,
	}); err != nil {
		return res, err
	}
	st := f.c.State().Issuance
	res.Certificates, res.Revoked = st.Certificates, st.Revoked
	return res, nil
}

// feeFromFacts is the change id of the fee computed from the case's facts
// (issue 12 item 2): cases started before it recorded the fixed item.
const feeFromFacts = "fee-from-facts"

// feeAndDocuments records the fee (第3 5) and registers the application
// documents with their retention date (第3 3).
func (f *issuance) feeAndDocuments(ctx workflow.Context, res *IssuanceResult, docTypes ...string) error {
	f.c.Enter(ctx, StepFee, "")
	in := contract.RecordFeeInput{CaseNumber: f.c.Number(), Item: fee.ItemIssuance}
	if workflow.GetVersion(ctx, feeFromFacts, workflow.DefaultVersion, 1) >= 1 {
		// The facts, never an amount or an item: the activity applies the
		// rule and the schedule.
		in = contract.RecordFeeInput{CaseNumber: f.c.Number(), ResidentCode: f.app.ResidentCode, CardSerial: f.card, Renewal: f.renewal}
		// Pushed before the fee is recorded, so a case cancelled while it is
		// being recorded still refunds it; a case with no paid fee has
		// nothing to refund, which the activity answers.
		f.c.Compensate("refund the fee", func(ctx workflow.Context) error {
			e := f.c.Ended()
			_, err := kit.Local(ctx, contract.RefundFee, contract.RefundFeeInput{CaseNumber: f.c.Number(), By: e.By, Reason: e.Reason, At: workflow.Now(ctx)})
			return err
		})
	}
	recorded, err := kit.Local(ctx, contract.RecordFee, in)
	if err != nil {
		return err
	}
	res.Fee = &recorded
	f.c.State().Issuance.Fee = &recorded
	f.c.Enter(ctx, StepDocuments, "")
	if f.legalRep {
		docTypes = append(docTypes, "legal_representative_identity_check_record")
	}
	docs, err := kit.Local(ctx, contract.RegisterDocuments, contract.RegisterDocumentsInput{CaseNumber: f.c.Number(), DocTypes: docTypes})
	if err != nil {
		return err
	}
	res.RetainUntil = docs.RetainUntil
	return nil
}

func actorOf(p kit.PINSource) string {
	if p.Clerk != "" {
		return p.Clerk
	}
	return "applicant"
}

// periods computes each certificate's validity with validity.Together,
// from the register's birth date, the card's expiry and the certificates
// renewed on this card (a new card's certificates are new issuances).
func (f *issuance) periods(now time.Time, reg contract.CheckRegisterResult, cardExpiry string,
	renewing map[string]contract.CurrentCertificate, card string) (map[string]validity.Period, error) {
	birth, err := validity.ParseDate(reg.Person.BirthDate)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError("register birth date is malformed", contract.ErrTypeInvalid, err)
	}
	expiry, err := validity.ParseDate(cardExpiry)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError("card expiry is malformed", contract.ErrTypeInvalid, err)
	}
	in := validity.Input{IssueDate: now, ApplicationDate: f.applied, BirthDate: birth, CardExpiry: expiry}
	renew := func(in validity.Input, kind string) validity.Input {
		if cur, ok := renewing[kind]; ok {
			in.Renewal, in.CurrentNotAfter = true, cur.NotAfter
		}
		return in
	}
	out := map[string]validity.Period{}
	signing, userAuth := slices.Contains(f.kinds, contract.KindSigning), slices.Contains(f.kinds, contract.KindUserAuth)
	switch {
	case signing && userAuth:
		// Issued together: the user-authentication one first, the signing
		// one capped by it (validity.Together).
		s, u, err := validity.Together(renew(in, contract.KindUserAuth))
		if err != nil {
			return nil, validityRejection(err)
		}
		out[contract.KindSigning], out[contract.KindUserAuth] = s, u
	case userAuth:
		u, err := validity.UserAuth(renew(in, contract.KindUserAuth))
		if err != nil {
			return nil, validityRejection(err)
		}
		out[contract.KindUserAuth] = u
	case signing:
		// Capped by the user-authentication certificate the card keeps.
		in = renew(in, contract.KindSigning)
		for _, cur := range reg.Current {
			if cur.Kind == contract.KindUserAuth && cur.Card == card {
				na := cur.NotAfter
				in.UserAuthNotAfter = &na
			}
		}
		s, err := validity.Signing(in)
		if err != nil {
			return nil, validityRejection(err)
		}
		out[contract.KindSigning] = s
	}
	return out, nil
}

func validityRejection(err error) error {
	switch {
	case errors.Is(err, validity.ErrCardExpired):
		return contract.Reject("card_expires_too_soon", "カードの有効期限が近いため電子証明書を発行できません / The card expires too soon to carry a certificate.")
	case errors.Is(err, validity.ErrUserAuthExpired):
		return contract.Reject("user_auth_expired", "利用者証明用電子証明書の有効期限が切れています / The user-authentication certificate has expired; renew it together.")
	}
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf("validity: %v", err), contract.ErrTypeInvalid, err)
}

// stripDER drops certificate bodies the municipal record does not need.
func stripDER(certs []contract.IssuedCertificate) []contract.IssuedCertificate {
	out := make([]contract.IssuedCertificate, len(certs))
	for i, c := range certs {
		c.DER, c.CADER = nil, nil
		out[i] = c
	}
	return out
}
