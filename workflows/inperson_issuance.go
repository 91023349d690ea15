package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
)

// Steps of the procedures, as shown to clerks and in the MadoguchiStep
// search attribute.
const (
	StepReception       = "reception"
	StepRegisterCheck   = "register_check"
	StepIdentityCheck   = "identity_check"
	StepCardCheck       = "card_check"
	StepPINConfirmation = "pin_confirmation"
	StepPINSetting      = "pin_setting"
	StepKeyGeneration   = "key_generation"
	StepIssuance        = "issuance"
	StepCardWrite       = "card_write"
	StepRevokeOld       = "revoke_old"
	StepFee             = "fee"
	StepDocuments       = "documents"
	StepDone            = "done"
	StepRejected        = "rejected"
	StepLapsed          = "lapsed"
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
	CaseNumber       string               `json:"caseNumber"`
	MunicipalityCode string               `json:"municipalityCode"`
	TerminalID       string               `json:"terminalId"`
	Clerk            string               `json:"clerk"` // login of the receiving clerk
	Application      contract.Application `json:"application"`
}

// InPersonIssuanceResult is the outcome of the procedure.
type InPersonIssuanceResult struct {
	Status       string                    `json:"status"`
	Certificates []CertificateSummary      `json:"certificates,omitempty"`
	Revoked      []string                  `json:"revoked,omitempty"`
	Rejection    *contract.Rejection       `json:"rejection,omitempty"`
	Fee          *contract.RecordFeeResult `json:"fee,omitempty"`
	RetainUntil  string                    `json:"retainUntil,omitempty"`
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
	CaseNumber       string               `json:"caseNumber"`
	Procedure        string               `json:"procedure"`
	MunicipalityCode string               `json:"municipalityCode"`
	TerminalID       string               `json:"terminalId"`
	Step             string               `json:"step"`
	Status           string               `json:"status"`
	WaitingFor       string               `json:"waitingFor,omitempty"`
	Renewal          bool                 `json:"renewal"`
	Kinds            []string             `json:"kinds"`
	Certificates     []CertificateSummary `json:"certificates,omitempty"`
	Revoked          []string             `json:"revoked,omitempty"`
	Rejection        *contract.Rejection  `json:"rejection,omitempty"`
	// PINEnteredBy and PINConfirmedBy name the clerk who typed the PIN for
	// the applicant and the other clerk who confirmed the applicant's intent.
	PINEnteredBy   string       `json:"pinEnteredBy,omitempty"`
	PINConfirmedBy string       `json:"pinConfirmedBy,omitempty"`
	Steps          []StepRecord `json:"steps"`
	// Detail holds what only some procedures have (proxy, relay).
	Detail map[string]string `json:"detail,omitempty"`
}

// InPersonIssuance is 第2 1(1) 申請者／利用者による申請に基づく電子証明書の新規発行／
// 更新（本人の場合）. Step letters after (エ) follow our reading of the manual
// (DESIGN.md §3): key generation, issuance by the Organization, writing to
// the card, revocation of the renewed certificate, fee and documents.
func InPersonIssuance(ctx workflow.Context, in InPersonIssuanceInput) (InPersonIssuanceResult, error) {
	p := newProcedure(ProcedureInPersonIssuance, in.CaseNumber, in.MunicipalityCode, in.TerminalID, in.Application.Kinds())
	// The clerk may check the documents while the register check runs.
	p.identitySteps = []string{StepReception, StepRegisterCheck, StepIdentityCheck}
	if err := p.register(ctx); err != nil {
		return InPersonIssuanceResult{}, err
	}
	res, err := runInPerson(ctx, p, in)
	return p.settle(ctx, res, err)
}

func runInPerson(ctx workflow.Context, p *procedure, in InPersonIssuanceInput) (InPersonIssuanceResult, error) {
	app := in.Application
	started := workflow.GetInfo(ctx).WorkflowStartTime

	// 第2 1(1)ア(ア) 申請の受付: the application is received at the counter.
	p.enter(ctx, StepReception, in.Clerk)
	if len(app.Kinds()) == 0 {
		return InPersonIssuanceResult{}, rejectNoCertificate()
	}

	// 第2 1(1)ア(イ) 住民基本台帳との照合: the 4 information against the register.
	reg, err := p.checkRegister(ctx, app, started)
	if err != nil {
		return InPersonIssuanceResult{}, err
	}

	// 第2 1(1)ア(ウ) 本人確認: the clerk checks the identity documents.
	ok, err := p.awaitIdentity(ctx, IdentityCheckWindow, "clerk: identity documents")
	if err != nil {
		return InPersonIssuanceResult{}, err
	}
	if !ok {
		return p.lapseIdentity(ctx)
	}

	// 第2 1(1)ア(エ)–(キ): card, PIN, keys, issuance, writing, renewal.
	cs, err := p.issueOnCard(ctx, cardStepsInput{TerminalID: in.TerminalID, ResidentCode: app.ResidentCode,
		Kinds: app.Kinds(), Register: reg, AppliedAt: started})
	if err != nil {
		return InPersonIssuanceResult{}, err
	}
	if cs.Lapsed {
		return p.lapseIntent(ctx)
	}

	fee, docs, err := p.feeAndDocuments(ctx, []string{"application_form", "identity_check_record"})
	if err != nil {
		return InPersonIssuanceResult{}, err
	}
	if err := p.finish(ctx, StatusCompleted, StepDone, nil); err != nil {
		return InPersonIssuanceResult{}, err
	}
	res := p.result()
	res.Fee = &fee
	res.RetainUntil = docs.RetainUntil
	return res, nil
}

// settle ends a procedure whose run was refused by a rule as rejected, so
// the refusal is its result rather than a workflow failure.
func (p *procedure) settle(ctx workflow.Context, res InPersonIssuanceResult, err error) (InPersonIssuanceResult, error) {
	rej, ok := contract.AsRejection(err)
	if !ok {
		return res, err
	}
	if err := p.finish(ctx, StatusRejected, StepRejected, &rej); err != nil {
		return InPersonIssuanceResult{}, err
	}
	return p.result(), nil
}

// rejectNoCertificate refuses an application that asks for nothing.
func rejectNoCertificate() error {
	return contract.Reject("no_certificate_requested", "発行する電子証明書が選択されていません / Choose at least one certificate.")
}

// lapseIdentity ends a procedure whose identity check never came.
func (p *procedure) lapseIdentity(ctx workflow.Context) (InPersonIssuanceResult, error) {
	return p.lapse(ctx, "identity_check_timeout", "本人確認が行われないまま受付時間を過ぎました / The identity check was not done in time.")
}

// lapseIntent ends a procedure whose second-clerk confirmation never came.
func (p *procedure) lapseIntent(ctx workflow.Context) (InPersonIssuanceResult, error) {
	return p.lapse(ctx, "intent_not_confirmed", "本人の意思確認が行われないまま受付時間を過ぎました / No second clerk confirmed the applicant's intent in time.")
}

// lapse ends a procedure whose human step never came.
func (p *procedure) lapse(ctx workflow.Context, code, msg string) (InPersonIssuanceResult, error) {
	if err := p.finish(ctx, StatusLapsed, StepLapsed, &contract.Rejection{Code: code, Message: msg}); err != nil {
		return InPersonIssuanceResult{}, err
	}
	return p.result(), nil
}

// result is the procedure's outcome.
func (p *procedure) result() InPersonIssuanceResult {
	return InPersonIssuanceResult{Status: p.state.Status, Certificates: p.state.Certificates, Revoked: p.state.Revoked, Rejection: p.state.Rejection}
}
