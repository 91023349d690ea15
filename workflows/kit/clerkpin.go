package kit

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"
)

// Messages of the clerk-typed PIN module.
const (
	// DeclarePINEntryUpdate: a clerk will type the PINs for an applicant who
	// cannot operate the touch panel (DeclarePINEntryInput).
	DeclarePINEntryUpdate = "declare-pin-entry"
	// ConfirmIntentUpdate: the second clerk confirms the applicant decided
	// the PIN a clerk enters for them (ConfirmIntentInput).
	ConfirmIntentUpdate = "confirm-applicant-intent"
)

// StepPINConfirmation is the wait for the second clerk.
const StepPINConfirmation = "pin_confirmation"

// IntentConfirmationWindow bounds the wait for the second clerk.
const IntentConfirmationWindow = 8 * time.Hour

// DeclarePINEntryInput says which clerk will type the applicant's PINs.
type DeclarePINEntryInput struct {
	Clerk  string `json:"clerk"`
	Reason string `json:"reason,omitempty"`
}

// SetClerk implements Actor.
func (in *DeclarePINEntryInput) SetClerk(l string) { in.Clerk = l }

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

// SetClerk implements Actor.
func (in *ConfirmIntentInput) SetClerk(l string) { in.Clerk = l }

// ConfirmIntentResult acknowledges the confirmation.
type ConfirmIntentResult struct {
	EnteredBy   string `json:"enteredBy"`
	ConfirmedBy string `json:"confirmedBy"`
}

// ClerkPIN is the module of a PIN typed by a clerk for the applicant, with
// the second clerk's confirmation of the applicant's own intent first.
type ClerkPIN struct {
	c         *Case
	declareAt []string
	enterer   string
	confirmer string
	awaiting  bool
}

// UseClerkPIN opts the case into clerk-typed PINs. declareAt are the steps
// at which a clerk may declare they will type (in person, when the
// applicant cannot use the panel); none means the procedure assigns the
// clerk itself (Assign), and the declare update is not registered.
func UseClerkPIN(ctx workflow.Context, c *Case, declareAt ...string) (*ClerkPIN, error) {
	p := &ClerkPIN{c: c, declareAt: declareAt}
	if len(declareAt) > 0 {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, DeclarePINEntryUpdate, p.declare,
			workflow.UpdateHandlerOptions{Validator: p.validateDeclare}); err != nil {
			return nil, err
		}
	}
	return p, workflow.SetUpdateHandlerWithOptions(ctx, ConfirmIntentUpdate, p.confirm,
		workflow.UpdateHandlerOptions{Validator: p.validateConfirm})
}

// Enterer is the clerk who types the PINs, or "" for the applicant.
func (p *ClerkPIN) Enterer() string { return p.enterer }

// Assign names the clerk who types the PINs (the one who took a proxy's
// reply, the one who reviewed a relay notice).
func (p *ClerkPIN) Assign(clerk string) { p.enterer = clerk }

func (p *ClerkPIN) validateDeclare(ctx workflow.Context, in DeclarePINEntryInput) error {
	if err := p.c.Accepting(); err != nil {
		return err
	}
	if in.Clerk == "" {
		return errors.New("入力を代行する職員が不明です / The clerk is missing")
	}
	if p.enterer != "" {
		return fmt.Errorf("暗証番号の代行入力は既に %s が申し出ています / %s already declared the PIN entry", p.enterer, p.enterer)
	}
	if !slices.Contains(p.declareAt, p.c.Step()) {
		return fmt.Errorf("暗証番号の代行入力を申し出る段階ではありません（現在: %s） / Too late to declare a PIN entry by a clerk (now at %s)", p.c.Step(), p.c.Step())
	}
	return nil
}

func (p *ClerkPIN) declare(ctx workflow.Context, in DeclarePINEntryInput) (DeclarePINEntryResult, error) {
	p.enterer = in.Clerk
	return DeclarePINEntryResult{Step: p.c.Step()}, nil
}

func (p *ClerkPIN) validateConfirm(ctx workflow.Context, in ConfirmIntentInput) error {
	if err := p.c.Accepting(); err != nil {
		return err
	}
	if !p.awaiting {
		return fmt.Errorf("本人の意思確認を受け付ける段階ではありません（現在: %s） / The procedure is not waiting for a confirmation (now at %s)", p.c.Step(), p.c.Step())
	}
	if in.Clerk == "" {
		return errors.New("確認した職員が不明です / The clerk is missing")
	}
	if in.Clerk == p.enterer {
		return errors.New("暗証番号を代行入力する職員とは別の職員が本人の意思を確認してください / A clerk other than the one entering the PIN must confirm the applicant's intent")
	}
	return nil
}

func (p *ClerkPIN) confirm(ctx workflow.Context, in ConfirmIntentInput) (ConfirmIntentResult, error) {
	p.confirmer = in.Clerk
	p.awaiting = false
	return ConfirmIntentResult{EnteredBy: p.enterer, ConfirmedBy: in.Clerk}, nil
}

// AwaitIntent stops the case until a clerk other than the one entering the
// PIN confirms that the applicant decided it (令和4年改正), and returns the
// PIN source for the card steps.
func (p *ClerkPIN) AwaitIntent(ctx workflow.Context) error {
	p.c.Enter(ctx, StepPINConfirmation, p.enterer)
	p.c.st.PINEnteredBy = p.enterer
	p.awaiting = true
	if err := p.c.Await(ctx, IntentConfirmationWindow, "second_clerk", "second clerk: applicant's intent",
		Lapse{"intent_not_confirmed", "本人の意思確認が行われないまま受付時間を過ぎました / No second clerk confirmed the applicant's intent in time."},
		func() bool { return !p.awaiting }); err != nil {
		return err
	}
	p.c.st.PINConfirmedBy = p.confirmer
	return p.c.Record(ctx, "pin_entry_confirmed", p.confirmer, "entered by "+p.enterer)
}
