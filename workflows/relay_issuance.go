package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
)

// Messages between the two sides of a relay application and their clerks.
const (
	// RelayApplicationSignal carries the forwarded application and sealed
	// notice (contract.RelayApplication) into the address procedure.
	RelayApplicationSignal = "relay-application"
	// RelayStatusSignal tells the relay procedure how the address
	// municipality's procedure stands (RelayStatus): its status only.
	RelayStatusSignal = "relay-status"
	// HandedOverSignal tells the address procedure that the relay
	// municipality handed the card over.
	HandedOverSignal = "handed-over"
	// ReviewRelayUpdate is the address municipality's clerk reviewing the
	// forwarded application (ReviewRelayInput).
	ReviewRelayUpdate = "review-relay-application"
	// HandOverUpdate records that a clerk handed the card to the applicant.
	HandOverUpdate = "hand-over"
)

// Steps of the relay procedures.
const (
	StepNotice      = "pin_notice"   // the applicant's PINs are sealed at the relay
	StepForwarded   = "forwarded"    // the relay waits on the address municipality
	StepRelayReview = "relay_review" // the address municipality's clerk reviews
	StepHandOver    = "hand_over"    // the card waits to be handed to the applicant
)

// Where the applicant receives the card.
const (
	HandOverAtRelay   = "relay"
	HandOverAtAddress = "address"
)

// RelayReviewWindow is how long the forwarded application may wait for the
// address municipality's review before it lapses.
const RelayReviewWindow = 30 * 24 * time.Hour

// RelayIssuanceInput starts the address municipality's side.
type RelayIssuanceInput struct {
	CaseNumber       string `json:"caseNumber"`
	MunicipalityCode string `json:"municipalityCode"`
}

// ReviewRelayInput is the address municipality's clerk's review.
type ReviewRelayInput struct {
	Clerk string `json:"clerk"`
	// TerminalID is the terminal where the applicant's card is.
	TerminalID string `json:"terminalId"`
	Approve    bool   `json:"approve"`
	Reason     string `json:"reason,omitempty"`
}

// ReviewRelayResult acknowledges the review.
type ReviewRelayResult struct {
	Step string `json:"step"`
}

// HandOverInput is the clerk handing the card over.
type HandOverInput struct {
	Clerk string `json:"clerk"`
}

// HandOverResult acknowledges the hand-over.
type HandOverResult struct {
	At time.Time `json:"at"`
}

// RelayStatus is what the relay municipality learns of the procedure it
// forwarded: its case, step and outcome, nothing else.
type RelayStatus struct {
	AddressCase string `json:"addressCase"`
	Step        string `json:"step"`
	Status      string `json:"status"`
	CardReady   bool   `json:"cardReady,omitempty"`
	// CardSerial names the card sent to the relay for hand-over, so the
	// relay's terminal can check it is the applicant's.
	CardSerial string              `json:"cardSerial,omitempty"`
	Rejection  *contract.Rejection `json:"rejection,omitempty"`
}

type relayIssuance struct {
	*procedure
	cardSerial string
	app        *contract.RelayApplication
	review     *ReviewRelayInput
	handedBy   string
	handedOut  bool
}

// RelayIssuance is the address municipality's side of an application made
// through a relay municipality (第2 1(1)ア(エ)C, 令和4年1月31日改正): the
// application and the applicant's sealed PIN notice arrive from the relay;
// a clerk reviews them against the register; the notice is opened only on
// this municipality's terminal and its clerk sets the PIN, after another
// clerk confirmed the applicant's intent; the card is handed over at the
// relay or here, as the application chose.
func RelayIssuance(ctx workflow.Context, in RelayIssuanceInput) (InPersonIssuanceResult, error) {
	p := &relayIssuance{procedure: newProcedure(ProcedureRelayIssuance, in.CaseNumber, in.MunicipalityCode, "", nil)}
	p.state.Step = StepForwarded
	if err := p.register(ctx); err != nil {
		return InPersonIssuanceResult{}, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ReviewRelayUpdate, p.reviewed,
		workflow.UpdateHandlerOptions{Validator: p.validateReview}); err != nil {
		return InPersonIssuanceResult{}, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, HandOverUpdate, p.handOver,
		workflow.UpdateHandlerOptions{Validator: p.validateHandOver}); err != nil {
		return InPersonIssuanceResult{}, err
	}
	// The first application is the one; a repeated forward is the same.
	workflow.Go(ctx, func(ctx workflow.Context) {
		ch := workflow.GetSignalChannel(ctx, RelayApplicationSignal)
		for {
			var a contract.RelayApplication
			ch.Receive(ctx, &a)
			if p.app == nil {
				p.app = &a
			}
		}
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		workflow.GetSignalChannel(ctx, HandedOverSignal).Receive(ctx, nil)
		p.handedOut = true
	})
	res, err := p.run(ctx)
	if _, rejected := contract.AsRejection(err); rejected {
		res, err = p.settle(ctx, res, err)
		if err == nil {
			p.notifyRelay(ctx, false)
		}
	}
	return res, err
}

func (p *relayIssuance) run(ctx workflow.Context) (InPersonIssuanceResult, error) {
	if err := workflow.Await(ctx, func() bool { return p.app != nil }); err != nil {
		return InPersonIssuanceResult{}, err
	}
	app := p.app.Application
	arrived := workflow.Now(ctx)
	p.state.Kinds = app.Kinds()
	p.state.Detail = map[string]string{"relayCase": p.app.RelayCase, "relayMunicipality": p.app.RelayMunicipality, "handOverAt": p.app.HandOverAt}
	// 申請書の受付 (経由市区町村経由): the application and the notice arrived.
	p.enter(ctx, StepReception, "relay:"+p.app.RelayMunicipality)
	p.notifyRelay(ctx, false)

	// 住民基本台帳との照合: the address municipality keeps the register.
	reg, err := p.checkRegister(ctx, app, arrived)
	if err != nil {
		return InPersonIssuanceResult{}, err
	}
	// The clerk reviews the forwarded application and names the terminal
	// where the applicant's card is.
	p.enter(ctx, StepRelayReview, "")
	p.state.WaitingFor = "clerk: review the forwarded application"
	p.notifyRelay(ctx, false)
	ok, err := workflow.AwaitWithTimeout(ctx, RelayReviewWindow, func() bool { return p.review != nil })
	if err != nil {
		return InPersonIssuanceResult{}, err
	}
	p.state.WaitingFor = ""
	if !ok {
		return p.lapseAndNotify(ctx, "review_timeout", "経由市区町村からの申請が審査されないまま期限を過ぎました / The forwarded application was not reviewed in time.")
	}
	p.record(ctx, "relay_review", p.review.Clerk, fmt.Sprintf("approve=%v", p.review.Approve))
	if !p.review.Approve {
		return InPersonIssuanceResult{}, contract.Reject("relay_refused", "住所地市区町村の審査で申請が認められませんでした / The address municipality refused the application.")
	}
	p.state.TerminalID = p.review.TerminalID
	// 住所地市区町村の職員が当該暗証番号を設定する: the reviewing clerk sets the
	// notified PIN; another clerk confirms the applicant's intent first.
	p.pinEnterer = p.review.Clerk
	notice := p.app.Notice
	cs, err := p.issueOnCard(ctx, cardStepsInput{TerminalID: p.review.TerminalID, ResidentCode: app.ResidentCode,
		Kinds: app.Kinds(), Register: reg, AppliedAt: arrived, Notice: &notice})
	if err != nil {
		return InPersonIssuanceResult{}, err
	}
	p.cardSerial = cs.CardSerial
	if cs.Lapsed {
		return p.lapseAndNotify(ctx, "intent_not_confirmed", "本人の意思確認が行われないまま期限を過ぎました / No second clerk confirmed the applicant's intent in time.")
	}
	fee, docs, err := p.feeAndDocuments(ctx, []string{"application_form", "pin_notice", "relay_transmittal"})
	if err != nil {
		return InPersonIssuanceResult{}, err
	}

	// 交付: the card goes to the applicant where the application chose.
	p.enter(ctx, StepHandOver, "")
	if p.app.HandOverAt == HandOverAtRelay {
		p.state.WaitingFor = "relay municipality: hand the card over"
		p.notifyRelay(ctx, true)
	} else {
		p.state.WaitingFor = "clerk: hand the card over"
	}
	if err := workflow.Await(ctx, func() bool { return p.handedOut }); err != nil {
		return InPersonIssuanceResult{}, err
	}
	p.state.WaitingFor = ""
	if p.handedBy != "" {
		p.record(ctx, "hand_over", p.handedBy, HandOverAtAddress)
	} else {
		p.record(ctx, "hand_over", "relay:"+p.app.RelayMunicipality, HandOverAtRelay)
	}
	if err := p.finish(ctx, StatusCompleted, StepDone, nil); err != nil {
		return InPersonIssuanceResult{}, err
	}
	p.notifyRelay(ctx, false)
	res := p.result()
	res.Fee = &fee
	res.RetainUntil = docs.RetainUntil
	return res, nil
}

func (p *relayIssuance) lapseAndNotify(ctx workflow.Context, code, msg string) (InPersonIssuanceResult, error) {
	res, err := p.lapse(ctx, code, msg)
	p.notifyRelay(ctx, false)
	return res, err
}

// notifyRelay tells the relay procedure the status of what it forwarded.
func (p *relayIssuance) notifyRelay(ctx workflow.Context, cardReady bool) {
	if p.app == nil {
		return
	}
	st := RelayStatus{AddressCase: p.caseNumber, Step: p.state.Step, Status: p.state.Status, CardReady: cardReady}
	if cardReady {
		st.CardSerial = p.cardSerial
	}
	if p.state.Rejection != nil {
		st.Rejection = &contract.Rejection{Code: p.state.Rejection.Code, Message: p.state.Rejection.Message}
	}
	// The relay procedure may have ended; its status is informational.
	_ = workflow.SignalExternalWorkflow(ctx, WorkflowID(ProcedureRelayForwarding, p.app.RelayCase), "", RelayStatusSignal, st).Get(ctx, nil)
}

func (p *relayIssuance) validateReview(ctx workflow.Context, in ReviewRelayInput) error {
	if p.state.Step != StepRelayReview || p.review != nil {
		return fmt.Errorf("経由申請を審査する段階ではありません（現在: %s） / The procedure is not waiting for a review (now at %s)", p.state.Step, p.state.Step)
	}
	if in.Clerk == "" {
		return errors.New("審査した職員が不明です / The clerk is missing")
	}
	if in.Approve && in.TerminalID == "" {
		return errors.New("カードを置いた統合端末を指定してください / Name the terminal where the card is")
	}
	return nil
}

func (p *relayIssuance) reviewed(ctx workflow.Context, in ReviewRelayInput) (ReviewRelayResult, error) {
	p.review = &in
	return ReviewRelayResult{Step: StepRelayReview}, nil
}

func (p *relayIssuance) validateHandOver(ctx workflow.Context, in HandOverInput) error {
	if p.state.Step != StepHandOver || p.handedOut || p.app == nil || p.app.HandOverAt != HandOverAtAddress {
		return errors.New("この団体で交付する段階ではありません / The card is not waiting to be handed over here")
	}
	if in.Clerk == "" {
		return errors.New("交付した職員が不明です / The clerk is missing")
	}
	return nil
}

func (p *relayIssuance) handOver(ctx workflow.Context, in HandOverInput) (HandOverResult, error) {
	p.handedBy = in.Clerk
	p.handedOut = true
	return HandOverResult{At: workflow.Now(ctx)}, nil
}
