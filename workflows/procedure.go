package workflows

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/validity"
)

// Messages shared by the issuance procedures. Each procedure registers the
// ones it uses; their names are the same everywhere so the gateway can send
// a clerk's step to any procedure.
const (
	// StateQuery returns the procedure's State.
	StateQuery = "state"
	// ConfirmIdentityUpdate records the clerk's check of identity documents
	// (ConfirmIdentityInput).
	ConfirmIdentityUpdate = "confirm-identity"
	// DeclarePINEntryUpdate records that a clerk will type the PINs for an
	// applicant who cannot operate the touch panel (DeclarePINEntryInput).
	DeclarePINEntryUpdate = "declare-pin-entry"
	// ConfirmIntentUpdate is the second clerk's confirmation that the
	// applicant decided the PIN a clerk enters for them (ConfirmIntentInput).
	ConfirmIntentUpdate = "confirm-applicant-intent"
)

// DeclarePINEntryInput says which clerk will type the applicant's PINs.
type DeclarePINEntryInput struct {
	Clerk  string `json:"clerk"`
	Reason string `json:"reason,omitempty"`
}

// DeclarePINEntryResult acknowledges the declaration.
type DeclarePINEntryResult struct {
	Step string `json:"step"`
}

// ConfirmIntentInput is the second clerk's confirmation (令和4年改正: 入力を
// 代行する職員以外の職員が本人の意思を確認する).
type ConfirmIntentInput struct {
	Clerk string `json:"clerk"`
	Note  string `json:"note,omitempty"`
}

// ConfirmIntentResult acknowledges the confirmation.
type ConfirmIntentResult struct {
	EnteredBy   string `json:"enteredBy"`
	ConfirmedBy string `json:"confirmedBy"`
}

// procedure is what every issuance procedure shares: its state for the
// query, the step log, the clerk's identity check and the second-clerk
// confirmation of a PIN typed on an applicant's behalf.
type procedure struct {
	caseNumber   string
	municipality string
	state        State
	identity     *ConfirmIdentityInput
	// identitySteps are the steps at which the identity check is accepted.
	identitySteps []string
	// pinEnterer is the clerk who types the PINs for the applicant; empty
	// when the applicant types them.
	pinEnterer string
	confirmer  string
	// awaitingIntent is true while the procedure waits for the confirmation.
	awaitingIntent bool
}

func newProcedure(name, caseNumber, municipality, terminal string, kinds []string) *procedure {
	return &procedure{caseNumber: caseNumber, municipality: municipality, state: State{
		CaseNumber: caseNumber, Procedure: name, MunicipalityCode: municipality,
		TerminalID: terminal, Status: StatusOpen, Kinds: kinds, Step: StepReception,
	}}
}

// register installs the state query and the human-step updates.
func (p *procedure) register(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, StateQuery, func() (State, error) { return p.state, nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ConfirmIdentityUpdate, p.confirmIdentity,
		workflow.UpdateHandlerOptions{Validator: p.validateIdentity}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, DeclarePINEntryUpdate, p.declarePINEntry,
		workflow.UpdateHandlerOptions{Validator: p.validatePINEntry}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, ConfirmIntentUpdate, p.confirmIntent,
		workflow.UpdateHandlerOptions{Validator: p.validateIntent})
}

func (p *procedure) validateIdentity(ctx workflow.Context, in ConfirmIdentityInput) error {
	if !slices.Contains(p.identitySteps, p.state.Step) || p.identity != nil {
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

func (p *procedure) confirmIdentity(ctx workflow.Context, in ConfirmIdentityInput) (ConfirmIdentityResult, error) {
	p.identity = &in
	return ConfirmIdentityResult{Step: StepIdentityCheck}, nil
}

func (p *procedure) validatePINEntry(ctx workflow.Context, in DeclarePINEntryInput) error {
	if in.Clerk == "" {
		return errors.New("入力を代行する職員が不明です / The clerk is missing")
	}
	if p.pinEnterer != "" {
		return fmt.Errorf("暗証番号の代行入力は既に %s が申し出ています / %s already declared the PIN entry", p.pinEnterer, p.pinEnterer)
	}
	switch p.state.Step {
	case StepReception, StepRegisterCheck, StepIdentityCheck, StepCardCheck:
		return nil
	}
	return fmt.Errorf("暗証番号の代行入力を申し出る段階ではありません（現在: %s） / Too late to declare a PIN entry by a clerk (now at %s)", p.state.Step, p.state.Step)
}

func (p *procedure) declarePINEntry(ctx workflow.Context, in DeclarePINEntryInput) (DeclarePINEntryResult, error) {
	p.pinEnterer = in.Clerk
	return DeclarePINEntryResult{Step: p.state.Step}, nil
}

func (p *procedure) validateIntent(ctx workflow.Context, in ConfirmIntentInput) error {
	if !p.awaitingIntent {
		return fmt.Errorf("本人の意思確認を受け付ける段階ではありません（現在: %s） / The procedure is not waiting for a confirmation (now at %s)", p.state.Step, p.state.Step)
	}
	if in.Clerk == "" {
		return errors.New("確認した職員が不明です / The clerk is missing")
	}
	if in.Clerk == p.pinEnterer {
		return errors.New("暗証番号を代行入力する職員とは別の職員が本人の意思を確認してください / A clerk other than the one entering the PIN must confirm the applicant's intent")
	}
	return nil
}

func (p *procedure) confirmIntent(ctx workflow.Context, in ConfirmIntentInput) (ConfirmIntentResult, error) {
	p.confirmer = in.Clerk
	p.awaitingIntent = false
	return ConfirmIntentResult{EnteredBy: p.pinEnterer, ConfirmedBy: in.Clerk}, nil
}

// awaitIdentity waits for the clerk's identity check (第2 1(1)ア(ウ)); false
// means the window passed.
func (p *procedure) awaitIdentity(ctx workflow.Context, window time.Duration, what string) (bool, error) {
	p.enter(ctx, StepIdentityCheck, "")
	p.state.WaitingFor = what
	ok, err := workflow.AwaitWithTimeout(ctx, window, func() bool { return p.identity != nil })
	p.state.WaitingFor = ""
	if err != nil || !ok {
		return ok, err
	}
	p.record(ctx, "identity_check", p.identity.Clerk, p.identity.DocumentType)
	if !p.identity.Verified {
		return true, contract.Reject("identity_not_verified",
			"本人確認書類により本人であることが確認できませんでした / The identity documents did not prove the applicant's identity.")
	}
	return true, nil
}

// awaitIntent stops the procedure until a clerk other than the one entering
// the PIN confirms that the applicant decided it (令和4年改正).
func (p *procedure) awaitIntent(ctx workflow.Context, window time.Duration) (bool, error) {
	p.enter(ctx, StepPINConfirmation, p.pinEnterer)
	p.state.WaitingFor = "second clerk: applicant's intent"
	p.state.PINEnteredBy = p.pinEnterer
	p.awaitingIntent = true
	ok, err := workflow.AwaitWithTimeout(ctx, window, func() bool { return !p.awaitingIntent })
	p.state.WaitingFor = ""
	if err != nil || !ok {
		return ok, err
	}
	p.state.PINConfirmedBy = p.confirmer
	p.record(ctx, "pin_entry_confirmed", p.confirmer, "entered by "+p.pinEnterer)
	return true, nil
}

// enter moves the procedure to a step, for the query and the step log.
func (p *procedure) enter(ctx workflow.Context, step, actor string) {
	p.state.Step = step
	p.state.Steps = append(p.state.Steps, StepRecord{Step: step, At: workflow.Now(ctx), Actor: actor})
	upsertStep(ctx, step)
}

// record writes a human step to the case's audit trail.
func (p *procedure) record(ctx workflow.Context, key, actor, detail string) {
	_ = workflow.ExecuteLocalActivity(municipalCtx(ctx), contract.RecordEvent.Name, contract.RecordEventInput{
		CaseNumber: p.caseNumber, Key: key, Actor: actor, Detail: detail, At: workflow.Now(ctx),
	}).Get(ctx, nil)
}

// finish closes the case with a final status.
func (p *procedure) finish(ctx workflow.Context, status, step string, rej *contract.Rejection) error {
	p.state.Status = status
	p.state.Rejection = rej
	p.state.WaitingFor = ""
	p.enter(ctx, step, "")
	return workflow.ExecuteLocalActivity(municipalCtx(ctx), contract.CloseCase.Name, contract.CloseCaseInput{
		CaseNumber: p.caseNumber, Status: status, At: workflow.Now(ctx),
	}).Get(ctx, nil)
}

// checkRegister runs the register check (第2 1(1)ア(イ)) and notes whether
// it is a renewal.
func (p *procedure) checkRegister(ctx workflow.Context, app contract.Application, today time.Time) (contract.CheckRegisterResult, error) {
	p.enter(ctx, StepRegisterCheck, "")
	var reg contract.CheckRegisterResult
	if err := workflow.ExecuteLocalActivity(municipalCtx(ctx), contract.CheckRegister.Name, contract.CheckRegisterInput{
		CaseNumber: p.caseNumber, MunicipalityCode: p.municipality, Application: app, Today: today,
	}).Get(ctx, &reg); err != nil {
		return reg, err
	}
	for _, c := range reg.Current {
		if (c.Kind == contract.KindSigning && app.Signing) || (c.Kind == contract.KindUserAuth && app.UserAuth) {
			p.state.Renewal = true
		}
	}
	return reg, nil
}

// feeAndDocuments records the fee (第3 5) and registers the application
// documents with their retention date (第3 3).
func (p *procedure) feeAndDocuments(ctx workflow.Context, docTypes []string) (contract.RecordFeeResult, contract.RegisterDocumentsResult, error) {
	p.enter(ctx, StepFee, "")
	var fee contract.RecordFeeResult
	if err := workflow.ExecuteLocalActivity(municipalCtx(ctx), contract.RecordFee.Name, contract.RecordFeeInput{
		CaseNumber: p.caseNumber, Item: "certificate_issuance",
	}).Get(ctx, &fee); err != nil {
		return fee, contract.RegisterDocumentsResult{}, err
	}
	p.enter(ctx, StepDocuments, "")
	var docs contract.RegisterDocumentsResult
	err := workflow.ExecuteLocalActivity(municipalCtx(ctx), contract.RegisterDocuments.Name, contract.RegisterDocumentsInput{
		CaseNumber: p.caseNumber, DocTypes: docTypes,
	}).Get(ctx, &docs)
	return fee, docs, err
}

// periods computes each requested certificate's validity from the
// register's birth date, the card's expiry and the current certificates.
func periods(now, applied time.Time, kinds []string, reg contract.CheckRegisterResult, cardExpiry string,
	current map[string]contract.CurrentCertificate) (map[string]validity.Period, error) {
	birth, err := validity.ParseDate(reg.Person.BirthDate)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError("register birth date is malformed", contract.ErrTypeInvalid, err)
	}
	expiry, err := validity.ParseDate(cardExpiry)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError("card expiry is malformed", contract.ErrTypeInvalid, err)
	}
	base := validity.Input{IssueDate: now, ApplicationDate: applied, BirthDate: birth, CardExpiry: expiry}
	out := map[string]validity.Period{}
	if slices.Contains(kinds, contract.KindUserAuth) {
		in := base
		if c, ok := current[contract.KindUserAuth]; ok {
			in.Renewal, in.CurrentNotAfter = true, c.NotAfter
		}
		per, err := validity.UserAuth(in)
		if err != nil {
			return nil, validityRejection(err)
		}
		out[contract.KindUserAuth] = per
	}
	if slices.Contains(kinds, contract.KindSigning) {
		in := base
		if c, ok := current[contract.KindSigning]; ok {
			in.Renewal, in.CurrentNotAfter = true, c.NotAfter
		}
		// The signing certificate is capped by the user-authentication one:
		// the new one when issued together, else the one the card holds.
		if per, ok := out[contract.KindUserAuth]; ok {
			na := per.NotAfter
			in.UserAuthNotAfter = &na
		} else if c, ok := current[contract.KindUserAuth]; ok {
			na := c.NotAfter
			in.UserAuthNotAfter = &na
		}
		per, err := validity.Signing(in)
		if err != nil {
			return nil, validityRejection(err)
		}
		out[contract.KindSigning] = per
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
