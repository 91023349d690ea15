package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows/kit"
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
)

// Steps of the relay procedures.
const (
	StepNotice      = "pin_notice"   // the applicant's PINs are sealed at the relay
	StepForwarded   = "forwarded"    // the relay waits on the address municipality
	StepRelayReview = "relay_review" // the address municipality's clerk reviews
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

// RelayIssuanceResult is the outcome of the address municipality's side.
type RelayIssuanceResult = kit.Outcome[IssuanceResult]

// ReviewRelayInput is the address municipality's clerk's review.
type ReviewRelayInput struct {
	Clerk string `json:"clerk"`
	// TerminalID is the terminal where the applicant's card is.
	TerminalID string `json:"terminalId"`
	Approve    bool   `json:"approve"`
	Reason     string `json:"reason,omitempty"`
}

// SetClerk implements kit.Actor.
func (in *ReviewRelayInput) SetClerk(l string) { in.Clerk = l }

// ReviewRelayResult acknowledges the review.
type ReviewRelayResult struct {
	Step string `json:"step"`
}

// reviewStep is the gateway's route for the review.
var reviewStep = kit.NewHumanStep[ReviewRelayInput]("review", ReviewRelayUpdate)

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

// RelayIssuance is the address municipality's side of an application made
// through a relay municipality (第2 1(1)ア(エ)C, 令和4年1月31日改正): the
// application and the applicant's sealed PIN notice arrive from the relay;
// a clerk reviews them against the register; the notice is opened only on
// this municipality's terminal and its clerk sets the PIN, after another
// clerk confirmed the applicant's intent; the card is handed over at the
// relay or here, as the application chose. However the case ends, the relay
// is told.
func RelayIssuance(ctx workflow.Context, in RelayIssuanceInput) (RelayIssuanceResult, error) {
	c, err := kit.New(ctx, kit.Info{Number: in.CaseNumber, Procedure: contract.ProcRelayIssuance, Office: in.MunicipalityCode})
	if err != nil {
		return RelayIssuanceResult{}, err
	}
	c.Enter(ctx, StepForwarded, "")
	c.State().Relay = &kit.RelayState{}
	var app *contract.RelayApplication
	var review *ReviewRelayInput
	// The first application is the one; a repeated forward is the same.
	workflow.Go(ctx, func(ctx workflow.Context) {
		ch := workflow.GetSignalChannel(ctx, RelayApplicationSignal)
		for {
			var a contract.RelayApplication
			ch.Receive(ctx, &a)
			if app == nil {
				app = &a
			}
		}
	})
	pin, err := kit.UseClerkPIN(ctx, c)
	if err != nil {
		return RelayIssuanceResult{}, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ReviewRelayUpdate,
		func(ctx workflow.Context, in ReviewRelayInput) (ReviewRelayResult, error) {
			review = &in
			return ReviewRelayResult{Step: StepRelayReview}, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, in ReviewRelayInput) error {
			if err := c.Accepting(); err != nil {
				return err
			}
			if c.Step() != StepRelayReview || review != nil {
				return fmt.Errorf("経由申請を審査する段階ではありません（現在: %s） / The procedure is not waiting for a review (now at %s)", c.Step(), c.Step())
			}
			if in.Clerk == "" {
				return errors.New("審査した職員が不明です / The clerk is missing")
			}
			if in.Approve && in.TerminalID == "" {
				return errors.New("カードを置いた統合端末を指定してください / Name the terminal where the card is")
			}
			return nil
		}}); err != nil {
		return RelayIssuanceResult{}, err
	}
	ho, err := useHandOver(ctx, c, nil)
	if err != nil {
		return RelayIssuanceResult{}, err
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		workflow.GetSignalChannel(ctx, HandedOverSignal).Receive(ctx, nil)
		ho.external = true
	})
	var cardSerial string
	notify := func(ctx workflow.Context, cardReady bool) {
		if app == nil {
			return
		}
		st := RelayStatus{AddressCase: c.Number(), Step: c.Step(), Status: c.State().Status, CardReady: cardReady, Rejection: c.State().Rejection}
		if cardReady {
			st.CardSerial = cardSerial
		}
		// The relay procedure may have ended; its status is informational.
		_ = workflow.SignalExternalWorkflow(ctx, WorkflowID(contract.ProcRelayForwarding, app.RelayCase), "", RelayStatusSignal, st).Get(ctx, nil)
	}

	out, err := kit.Run(ctx, c, func(ctx workflow.Context) (IssuanceResult, error) {
		if err := c.Await(ctx, time.Hour, "relay", "relay municipality: the application",
			kit.Lapse{Code: "no_application", Message: "経由市区町村からの申請書が届きませんでした / The forwarded application never arrived."},
			func() bool { return app != nil }); err != nil {
			return IssuanceResult{}, err
		}
		arrived := workflow.Now(ctx)
		c.State().Relay = &kit.RelayState{RelayCase: app.RelayCase, RelayMunicipality: app.RelayMunicipality, HandOverAt: app.HandOverAt}
		f := newIssuance(c, app.Application, arrived)
		// 申請書の受付 (経由市区町村経由): the application and the notice arrived.
		c.Enter(ctx, kit.StepReception, "relay:"+app.RelayMunicipality)
		notify(ctx, false)

		// 住民基本台帳との照合: the address municipality keeps the register.
		if _, err := f.checkRegister(ctx); err != nil {
			return IssuanceResult{}, err
		}
		// The clerk reviews the forwarded application and names the terminal
		// where the applicant's card is.
		c.Enter(ctx, StepRelayReview, "")
		notify(ctx, false)
		if err := c.Await(ctx, RelayReviewWindow, "clerk", "clerk: review the forwarded application",
			kit.Lapse{Code: "review_timeout", Message: "経由市区町村からの申請が審査されないまま期限を過ぎました / The forwarded application was not reviewed in time."},
			func() bool { return review != nil }); err != nil {
			return IssuanceResult{}, err
		}
		if err := c.Record(ctx, "relay_review", review.Clerk, fmt.Sprintf("approve=%v", review.Approve)); err != nil {
			return IssuanceResult{}, err
		}
		if !review.Approve {
			return IssuanceResult{}, contract.Reject("relay_refused", "住所地市区町村の審査で申請が認められませんでした / The address municipality refused the application.")
		}
		// Time passed since the application arrived: the register again.
		reg, err := f.checkRegister(ctx)
		if err != nil {
			return IssuanceResult{}, err
		}
		// 住所地市区町村の職員が当該暗証番号を設定する: the reviewing clerk sets the
		// notified PIN; another clerk confirms the applicant's intent first.
		pin.Assign(review.Clerk)
		term := kit.UseTerminal(c, review.TerminalID)
		res, err := f.onCard(ctx, term, reg, kit.FromNotice(app.Notice, review.Clerk), pin)
		if err != nil {
			return res, err
		}
		if err := f.feeAndDocuments(ctx, &res, "application_form", "pin_notice", "relay_transmittal"); err != nil {
			return res, err
		}
		// 交付: the card goes to the applicant where the application chose.
		if app.HandOverAt == HandOverAtRelay {
			c.Enter(ctx, StepHandOver, "")
			c.Waiting(ctx, "relay", "relay municipality: hand the card over")
			cardSerial = term.CardSerial()
			notify(ctx, true)
			err := c.Await(ctx, HandOverWindow, "relay", "relay municipality: hand the card over",
				kit.Lapse{Code: "card_not_collected", Message: "カードが期限内に交付されませんでした / The card was not collected in time."},
				func() bool { return ho.external })
			if err != nil {
				return res, err
			}
			return res, c.Record(ctx, "hand_over", "relay:"+app.RelayMunicipality, HandOverAtRelay)
		}
		return res, ho.await(ctx, HandOverAtAddress)
	})
	// However the case ended, the relay hears how.
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	notify(dctx, false)
	return out, err
}
