package workflows

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/activities"
	"github.com/madoguchi/madoguchi/internal/validity"
)

// Messages of the in-person issuance procedure.
const (
	// InPersonIssuanceStateQuery returns the procedure's State.
	InPersonIssuanceStateQuery = "state"
	// InPersonIssuanceConfirmIdentityUpdate records the clerk's check of the
	// applicant's identity documents (ConfirmIdentityInput).
	InPersonIssuanceConfirmIdentityUpdate = "confirm-identity"
)

// Steps of the procedures, as shown to clerks and in the MadoguchiStep
// search attribute.
const (
	StepReception     = "reception"
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
	StepDone          = "done"
	StepRejected      = "rejected"
	StepLapsed        = "lapsed"
)

// Final statuses of a procedure.
const (
	StatusOpen      = "open"
	StatusCompleted = "completed"
	StatusRejected  = "rejected"
	StatusLapsed    = "lapsed"
)

// IdentityDocumentTypes are the identity documents a clerk may accept in
// person (本人確認書類): a photo ID shown at the counter.
var IdentityDocumentTypes = []string{
	"individual_number_card", // 個人番号カード
	"drivers_license",        // 運転免許証
	"passport",               // 旅券
	"residence_card",         // 在留カード
	"other_photo_id",         // その他官公署発行の写真付き証明書
}

// IdentityCheckWindow is how long the procedure waits for the clerk's
// identity check before it lapses: the applicant is at the counter, so an
// unanswered check means the application was abandoned.
const IdentityCheckWindow = 8 * time.Hour

// InPersonIssuanceInput starts 第2 1(1): issuance / renewal in person.
type InPersonIssuanceInput struct {
	CaseNumber       string                 `json:"caseNumber"`
	MunicipalityCode string                 `json:"municipalityCode"`
	TerminalID       string                 `json:"terminalId"`
	Clerk            string                 `json:"clerk"` // login of the receiving clerk
	Application      activities.Application `json:"application"`
}

// InPersonIssuanceResult is the outcome of the procedure.
type InPersonIssuanceResult struct {
	Status       string                      `json:"status"`
	Certificates []CertificateSummary        `json:"certificates,omitempty"`
	Revoked      []string                    `json:"revoked,omitempty"`
	Rejection    *activities.Rejection       `json:"rejection,omitempty"`
	Fee          *activities.RecordFeeResult `json:"fee,omitempty"`
	RetainUntil  string                      `json:"retainUntil,omitempty"`
}

// ConfirmIdentityInput is the clerk's identity check (第2 1(1)ア(ウ)).
type ConfirmIdentityInput struct {
	Clerk        string `json:"clerk"`
	DocumentType string `json:"documentType"`
	// Verified is false when the documents do not prove the applicant's
	// identity; the application is then refused.
	Verified bool `json:"verified"`
}

// ConfirmIdentityResult acknowledges the identity check.
type ConfirmIdentityResult struct {
	Step string `json:"step"`
}

// CertificateSummary describes an issued certificate without personal data.
type CertificateSummary struct {
	Kind      string    `json:"kind"`
	Serial    string    `json:"serial"`
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
}

// StepRecord is one entry of the procedure's step log.
type StepRecord struct {
	Step  string    `json:"step"`
	At    time.Time `json:"at"`
	Actor string    `json:"actor,omitempty"`
}

// State is what the state query returns for the console: no personal data.
type State struct {
	CaseNumber       string                `json:"caseNumber"`
	Procedure        string                `json:"procedure"`
	MunicipalityCode string                `json:"municipalityCode"`
	TerminalID       string                `json:"terminalId"`
	Step             string                `json:"step"`
	Status           string                `json:"status"`
	WaitingFor       string                `json:"waitingFor,omitempty"`
	Renewal          bool                  `json:"renewal"`
	Kinds            []string              `json:"kinds"`
	Certificates     []CertificateSummary  `json:"certificates,omitempty"`
	Revoked          []string              `json:"revoked,omitempty"`
	Rejection        *activities.Rejection `json:"rejection,omitempty"`
	Steps            []StepRecord          `json:"steps"`
}

// InPersonIssuance is 第2 1(1) 申請者／利用者による申請に基づく電子証明書の新規発行／
// 更新（本人の場合）. Step letters after (エ) follow our reading of the manual
// (DESIGN.md §3): key generation, issuance by the Organization, writing to
// the card, revocation of the renewed certificate, fee and documents.
func InPersonIssuance(ctx workflow.Context, in InPersonIssuanceInput) (InPersonIssuanceResult, error) {
	p := &inPerson{in: in, state: State{
		CaseNumber: in.CaseNumber, Procedure: ProcedureInPersonIssuance, MunicipalityCode: in.MunicipalityCode,
		TerminalID: in.TerminalID, Status: StatusOpen, Kinds: in.Application.Kinds(), Step: StepReception,
	}}
	if err := workflow.SetQueryHandler(ctx, InPersonIssuanceStateQuery, func() (State, error) { return p.state, nil }); err != nil {
		return InPersonIssuanceResult{}, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, InPersonIssuanceConfirmIdentityUpdate, p.confirmIdentity,
		workflow.UpdateHandlerOptions{Validator: p.validateIdentity}); err != nil {
		return InPersonIssuanceResult{}, err
	}
	res, err := p.run(ctx)
	if rej, ok := activities.AsRejection(err); ok {
		return p.finish(ctx, StatusRejected, StepRejected, &rej)
	}
	return res, err
}

// inPerson is the running procedure's state.
type inPerson struct {
	in       InPersonIssuanceInput
	state    State
	identity *ConfirmIdentityInput
}

func (p *inPerson) run(ctx workflow.Context) (InPersonIssuanceResult, error) {
	app := p.in.Application
	started := workflow.GetInfo(ctx).WorkflowStartTime

	// 第2 1(1)ア(ア) 申請の受付: the application is received at the counter.
	p.enter(ctx, StepReception, p.in.Clerk)
	if len(app.Kinds()) == 0 {
		return InPersonIssuanceResult{}, activities.Reject("no_certificate_requested",
			"発行する電子証明書が選択されていません / Choose at least one certificate.")
	}

	// 第2 1(1)ア(イ) 住民基本台帳との照合: the 4 information against the register.
	p.enter(ctx, StepRegisterCheck, "")
	var reg activities.CheckRegisterResult
	if err := workflow.ExecuteLocalActivity(municipalCtx(ctx), municipal.CheckRegister, activities.CheckRegisterInput{
		CaseNumber: p.in.CaseNumber, MunicipalityCode: p.in.MunicipalityCode, Application: app, Today: started,
	}).Get(ctx, &reg); err != nil {
		return InPersonIssuanceResult{}, err
	}
	current := map[string]activities.CurrentCertificate{}
	for _, c := range reg.Current {
		current[c.Kind] = c
	}
	_, renewSign := current[activities.KindSigning]
	_, renewAuth := current[activities.KindUserAuth]
	p.state.Renewal = (app.Signing && renewSign) || (app.UserAuth && renewAuth)

	// 第2 1(1)ア(ウ) 本人確認: the clerk checks the identity documents.
	p.enter(ctx, StepIdentityCheck, "")
	p.state.WaitingFor = "clerk: identity documents"
	ok, err := workflow.AwaitWithTimeout(ctx, IdentityCheckWindow, func() bool { return p.identity != nil })
	if err != nil {
		return InPersonIssuanceResult{}, err
	}
	p.state.WaitingFor = ""
	if !ok {
		return p.finish(ctx, StatusLapsed, StepLapsed, &activities.Rejection{Code: "identity_check_timeout",
			Message: "本人確認が行われないまま受付時間を過ぎました / The identity check was not done in time."})
	}
	p.record(ctx, "identity_check", p.identity.Clerk, p.identity.DocumentType)
	if !p.identity.Verified {
		return InPersonIssuanceResult{}, activities.Reject("identity_not_verified",
			"本人確認書類により本人であることが確認できませんでした / The identity documents did not prove the applicant's identity.")
	}

	// 第2 1(1)ア(エ)A・B ICカードの確認: the card inserted in the terminal.
	p.enter(ctx, StepCardCheck, "")
	p.state.WaitingFor = "terminal: card"
	tctx := terminalCtx(ctx, p.in.TerminalID, 5*time.Minute)
	var cardRead activities.ReadCardResult
	if err := workflow.ExecuteActivity(tctx, card.ReadCard, activities.ReadCardInput{CaseNumber: p.in.CaseNumber}).Get(ctx, &cardRead); err != nil {
		return InPersonIssuanceResult{}, err
	}
	p.state.WaitingFor = ""
	var cardRec activities.CheckCardResult
	if err := workflow.ExecuteLocalActivity(municipalCtx(ctx), municipal.CheckCard, activities.CheckCardInput{
		ResidentCode: app.ResidentCode, CardSerial: cardRead.CardSerial, Today: started,
	}).Get(ctx, &cardRec); err != nil {
		return InPersonIssuanceResult{}, err
	}

	// 第2 1(1)ア(エ)C 暗証番号の指定: the applicant chooses the PINs on the
	// touch panel. On renewal the card keeps its PIN (the manual tells the
	// applicant to use the current one), so only new kinds get a PIN.
	var pinKinds []string
	for _, k := range app.Kinds() {
		if _, renewing := current[k]; !renewing {
			pinKinds = append(pinKinds, k)
		}
	}
	if len(pinKinds) > 0 {
		p.enter(ctx, StepPINSetting, "applicant")
		p.state.WaitingFor = "applicant: touch panel"
		if err := workflow.ExecuteActivity(terminalCtx(ctx, p.in.TerminalID, 30*time.Minute), card.SetPINs, activities.SetPINsInput{
			CaseNumber: p.in.CaseNumber, CardSerial: cardRead.CardSerial, Kinds: pinKinds,
		}).Get(ctx, nil); err != nil {
			return InPersonIssuanceResult{}, err
		}
		p.state.WaitingFor = ""
	}

	// Validity (規則 13, 49) is fixed before the keys are made so that a
	// card too close to its expiry is refused before anything is written.
	periods, err := p.validity(workflow.Now(ctx), started, reg, cardRec, current)
	if err != nil {
		return InPersonIssuanceResult{}, err
	}

	// 第2 1(1)ア(オ) 鍵ペアの生成: RSA-2048 key pairs generated on the card.
	p.enter(ctx, StepKeyGeneration, "")
	var keys activities.GenerateKeysResult
	if err := workflow.ExecuteActivity(terminalCtx(ctx, p.in.TerminalID, 2*time.Minute), card.GenerateKeys, activities.GenerateKeysInput{
		CaseNumber: p.in.CaseNumber, CardSerial: cardRead.CardSerial, Kinds: app.Kinds(),
	}).Get(ctx, &keys); err != nil {
		return InPersonIssuanceResult{}, err
	}

	// 第2 1(1)ア(カ) 電子証明書の発行: the Organization issues the certificates.
	p.enter(ctx, StepIssuance, "")
	issueIn := activities.IssueCertificatesInput{CaseNumber: p.in.CaseNumber}
	for _, k := range keys.Keys {
		req := activities.CertificateRequest{
			RequestID: p.in.CaseNumber + "/" + k.Kind, Kind: k.Kind, MunicipalityCode: p.in.MunicipalityCode,
			ResidentCode: app.ResidentCode, SPKIDER: k.SPKIDER, NotAfter: periods[k.Kind].NotAfter,
		}
		if k.Kind == activities.KindSigning {
			person := reg.Person
			req.Person = &person
		}
		issueIn.Requests = append(issueIn.Requests, req)
	}
	var issued activities.IssueCertificatesResult
	if err := workflow.ExecuteActivity(caCtx(ctx), ca.IssueCertificates, issueIn).Get(ctx, &issued); err != nil {
		return InPersonIssuanceResult{}, err
	}
	for _, c := range issued.Certificates {
		p.state.Certificates = append(p.state.Certificates, CertificateSummary{Kind: c.Kind, Serial: c.Serial, NotBefore: c.NotBefore, NotAfter: c.NotAfter})
	}

	// 第2 1(1)ア(キ) ICカードへの記録: the certificates are written to the card.
	p.enter(ctx, StepCardWrite, "")
	if err := workflow.ExecuteActivity(cardWriteCtx(ctx, p.in.TerminalID), card.WriteCertificates, activities.WriteCertificatesInput{
		CaseNumber: p.in.CaseNumber, CardSerial: cardRead.CardSerial, Certificates: issued.Certificates,
	}).Get(ctx, nil); err != nil {
		return InPersonIssuanceResult{}, err
	}

	// 更新: once the new certificate is on the card, the old one is revoked
	// as superseded (第1 4(2)オ; reason 更新のための失効).
	var superseded []string
	for _, k := range app.Kinds() {
		if c, ok := current[k]; ok {
			superseded = append(superseded, c.Serial)
		}
	}
	if len(superseded) > 0 {
		p.enter(ctx, StepRevokeOld, "")
		for _, serial := range superseded {
			var rr activities.RevokeCertificateResult
			if err := workflow.ExecuteActivity(caCtx(ctx), ca.RevokeCertificate, activities.RevokeCertificateInput{
				RequestID: p.in.CaseNumber + "/revoke/" + serial, Serial: serial, Reason: "superseded", At: workflow.Now(ctx),
			}).Get(ctx, &rr); err != nil {
				return InPersonIssuanceResult{}, err
			}
			p.state.Revoked = append(p.state.Revoked, serial)
		}
	}
	if err := workflow.ExecuteLocalActivity(municipalCtx(ctx), municipal.RecordIssued, activities.RecordIssuedInput{
		CaseNumber: p.in.CaseNumber, ResidentCode: app.ResidentCode, CardSerial: cardRead.CardSerial,
		Certificates: stripDER(issued.Certificates), Superseded: superseded,
	}).Get(ctx, nil); err != nil {
		return InPersonIssuanceResult{}, err
	}

	// 第3 5 電子証明書発行手数料管理: the fee, at the municipality's schedule.
	p.enter(ctx, StepFee, "")
	var fee activities.RecordFeeResult
	if err := workflow.ExecuteLocalActivity(municipalCtx(ctx), municipal.RecordFee, activities.RecordFeeInput{
		CaseNumber: p.in.CaseNumber, Item: "certificate_issuance",
	}).Get(ctx, &fee); err != nil {
		return InPersonIssuanceResult{}, err
	}

	// 第3 3 申請書等の保存: the application documents with their retention date.
	p.enter(ctx, StepDocuments, "")
	var docs activities.RegisterDocumentsResult
	if err := workflow.ExecuteLocalActivity(municipalCtx(ctx), municipal.RegisterDocuments, activities.RegisterDocumentsInput{
		CaseNumber: p.in.CaseNumber, DocTypes: []string{"application_form", "identity_check_record"},
	}).Get(ctx, &docs); err != nil {
		return InPersonIssuanceResult{}, err
	}

	res, err := p.finish(ctx, StatusCompleted, StepDone, nil)
	res.Fee = &fee
	res.RetainUntil = docs.RetainUntil
	return res, err
}

// validity computes each requested certificate's period from the register's
// birth date, the card's expiry and the current certificates.
func (p *inPerson) validity(now, applied time.Time, reg activities.CheckRegisterResult, cardRec activities.CheckCardResult,
	current map[string]activities.CurrentCertificate) (map[string]validity.Period, error) {
	birth, err := validity.ParseDate(reg.Person.BirthDate)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError("register birth date is malformed", activities.ErrTypeInvalid, err)
	}
	expiry, err := validity.ParseDate(cardRec.Expiry)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError("card expiry is malformed", activities.ErrTypeInvalid, err)
	}
	base := validity.Input{IssueDate: now, ApplicationDate: applied, BirthDate: birth, CardExpiry: expiry}
	out := map[string]validity.Period{}
	if p.in.Application.UserAuth {
		in := base
		if c, ok := current[activities.KindUserAuth]; ok {
			in.Renewal, in.CurrentNotAfter = true, c.NotAfter
		}
		per, err := validity.UserAuth(in)
		if err != nil {
			return nil, validityRejection(err)
		}
		out[activities.KindUserAuth] = per
	}
	if p.in.Application.Signing {
		in := base
		if c, ok := current[activities.KindSigning]; ok {
			in.Renewal, in.CurrentNotAfter = true, c.NotAfter
		}
		// The signing certificate is capped by the user-authentication one:
		// the new one when issued together, else the one the card holds.
		if per, ok := out[activities.KindUserAuth]; ok {
			na := per.NotAfter
			in.UserAuthNotAfter = &na
		} else if c, ok := current[activities.KindUserAuth]; ok {
			na := c.NotAfter
			in.UserAuthNotAfter = &na
		}
		per, err := validity.Signing(in)
		if err != nil {
			return nil, validityRejection(err)
		}
		out[activities.KindSigning] = per
	}
	return out, nil
}

func validityRejection(err error) error {
	switch {
	case errors.Is(err, validity.ErrCardExpired):
		return activities.Reject("card_expires_too_soon", "カードの有効期限が近いため電子証明書を発行できません / The card expires too soon to carry a certificate.")
	case errors.Is(err, validity.ErrUserAuthExpired):
		return activities.Reject("user_auth_expired", "利用者証明用電子証明書の有効期限が切れています / The user-authentication certificate has expired; renew it together.")
	}
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf("validity: %v", err), activities.ErrTypeInvalid, err)
}

func (p *inPerson) validateIdentity(ctx workflow.Context, in ConfirmIdentityInput) error {
	// The clerk may check the documents while the register check runs, so
	// the check is accepted from reception until it has been recorded.
	early := p.state.Step == StepReception || p.state.Step == StepRegisterCheck
	if !(early || p.state.Step == StepIdentityCheck) || p.identity != nil {
		return fmt.Errorf("本人確認を受け付ける段階ではありません（現在: %s） / The procedure is not waiting for an identity check (now at %s)", p.state.Step, p.state.Step)
	}
	if in.Clerk == "" {
		return errors.New("確認した職員が不明です / The clerk is missing")
	}
	if !slices.Contains(IdentityDocumentTypes, in.DocumentType) {
		return fmt.Errorf("本人確認書類の種類が不明です / Unknown identity document type %q", in.DocumentType)
	}
	return nil
}

func (p *inPerson) confirmIdentity(ctx workflow.Context, in ConfirmIdentityInput) (ConfirmIdentityResult, error) {
	p.identity = &in
	return ConfirmIdentityResult{Step: StepIdentityCheck}, nil
}

// enter moves the procedure to a step, for the query and the step log.
func (p *inPerson) enter(ctx workflow.Context, step, actor string) {
	p.state.Step = step
	p.state.Steps = append(p.state.Steps, StepRecord{Step: step, At: workflow.Now(ctx), Actor: actor})
	upsertStep(ctx, step)
}

// record writes a human step to the case's audit trail.
func (p *inPerson) record(ctx workflow.Context, key, actor, detail string) {
	_ = workflow.ExecuteLocalActivity(municipalCtx(ctx), municipal.RecordEvent, activities.RecordEventInput{
		CaseNumber: p.in.CaseNumber, Key: key, Actor: actor, Detail: detail, At: workflow.Now(ctx),
	}).Get(ctx, nil)
}

// finish closes the case with a final status.
func (p *inPerson) finish(ctx workflow.Context, status, step string, rej *activities.Rejection) (InPersonIssuanceResult, error) {
	p.state.Status = status
	p.state.Rejection = rej
	p.state.WaitingFor = ""
	p.enter(ctx, step, "")
	if err := workflow.ExecuteLocalActivity(municipalCtx(ctx), municipal.CloseCase, activities.CloseCaseInput{
		CaseNumber: p.in.CaseNumber, Status: status, At: workflow.Now(ctx),
	}).Get(ctx, nil); err != nil {
		return InPersonIssuanceResult{}, err
	}
	return InPersonIssuanceResult{Status: status, Certificates: p.state.Certificates, Revoked: p.state.Revoked, Rejection: rej}, nil
}

// stripDER drops certificate bodies the municipal record does not need.
func stripDER(certs []activities.IssuedCertificate) []activities.IssuedCertificate {
	out := make([]activities.IssuedCertificate, len(certs))
	for i, c := range certs {
		c.DER, c.CADER = nil, nil
		out[i] = c
	}
	return out
}
