package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// RelayForwardingInput starts the relay municipality's side.
type RelayForwardingInput struct {
	CaseNumber          string               `json:"caseNumber"`
	MunicipalityCode    string               `json:"municipalityCode"` // the relay municipality
	AddressMunicipality string               `json:"addressMunicipality"`
	TerminalID          string               `json:"terminalId"` // the relay's terminal
	Clerk               string               `json:"clerk"`
	ClerkID             int64                `json:"clerkId"`
	Application         contract.Application `json:"application"`
	HandOverAt          string               `json:"handOverAt"`
}

// RelayForwardingResult is the outcome: the relay case ends as the address
// municipality's case ended.
type RelayForwardingResult = kit.Outcome[RelayStatus]

// RelayFollowWindow bounds how long the relay follows the address
// municipality's case: its review, the card steps and a hand-over.
const RelayFollowWindow = RelayReviewWindow + HandOverWindow + 7*24*time.Hour

// RelayForwarding is the relay municipality's side (経由市区町村): its clerk
// accepts the application of a person whose address is elsewhere and checks
// their identity; the applicant types the PIN(s) on this terminal's touch
// panel, where they are sealed at once to the address municipality's key;
// the application and the sealed notice go to the address municipality.
// The relay then sees the status of what it forwarded, and nothing else,
// and hands the card over when the application chose the relay.
func RelayForwarding(ctx workflow.Context, in RelayForwardingInput) (RelayForwardingResult, error) {
	c, err := kit.New(ctx, kit.Info{Number: in.CaseNumber, Procedure: contract.ProcRelayForwarding, Office: in.MunicipalityCode})
	if err != nil {
		return RelayForwardingResult{}, err
	}
	addressCase := RelayAddressCase(in.AddressMunicipality, in.CaseNumber)
	c.State().Relay = &kit.RelayState{AddressCase: addressCase, AddressMunicipality: in.AddressMunicipality, HandOverAt: in.HandOverAt}
	id, err := kit.UseIdentity(ctx, c, kit.StepReception)
	if err != nil {
		return RelayForwardingResult{}, err
	}
	term := kit.UseTerminal(c, in.TerminalID)
	ho, err := useHandOver(ctx, c, term)
	if err != nil {
		return RelayForwardingResult{}, err
	}
	var status *RelayStatus
	workflow.Go(ctx, func(ctx workflow.Context) {
		ch := workflow.GetSignalChannel(ctx, RelayStatusSignal)
		for {
			var st RelayStatus
			ch.Receive(ctx, &st)
			status = &st
			if st.CardReady {
				ho.expect(st.CardSerial)
			}
			c.State().Relay.AddressStep, c.State().Relay.AddressStatus = st.Step, st.Status
		}
	})
	return kit.Run(ctx, c, func(ctx workflow.Context) (RelayStatus, error) {
		app := in.Application
		c.Enter(ctx, kit.StepReception, in.Clerk)
		switch {
		case len(app.Kinds()) == 0:
			return RelayStatus{}, rejectNoCertificate()
		case in.AddressMunicipality == in.MunicipalityCode:
			return RelayStatus{}, contract.Reject("not_a_relay", "住所地の市区町村では通常の窓口申請を行ってください / At the address municipality, apply at its own counter.")
		case in.HandOverAt != HandOverAtRelay && in.HandOverAt != HandOverAtAddress:
			return RelayStatus{}, contract.Reject("bad_hand_over", "交付場所を選んでください / Choose where the card is handed over.")
		}
		// 本人確認: the relay's clerk checks the applicant's identity documents.
		if err := id.Await(ctx, StepIdentityCheck, "clerk: identity documents"); err != nil {
			return RelayStatus{}, err
		}

		// 暗証番号の届出: the applicant types the PINs on this terminal; they
		// are sealed to the address municipality's key before leaving it.
		c.Enter(ctx, StepNotice, "applicant")
		key, err := kit.Local(ctx, contract.SealingKey, contract.SealingKeyInput{Municipality: in.AddressMunicipality})
		if err != nil {
			return RelayStatus{}, err
		}
		sealed, err := sealNotice(ctx, c, term, contract.SealPINNoticeInput{
			CaseNumber: in.CaseNumber, Kinds: app.Kinds(), Recipient: key.Key, NoticeCase: addressCase})
		if err != nil {
			return RelayStatus{}, err
		}

		// 経由: the application and the notice go to the address municipality.
		if _, err := kit.Local(ctx, contract.ForwardApplication, contract.ForwardApplicationInput{
			AddressMunicipality: in.AddressMunicipality, AddressCase: addressCase,
			WorkflowID: WorkflowID(contract.ProcRelayIssuance, addressCase), WorkflowType: "RelayIssuance",
			Procedure: contract.ProcRelayIssuance, SignalName: RelayApplicationSignal, OpenedBy: in.ClerkID,
			Application: contract.RelayApplication{RelayCase: in.CaseNumber, RelayMunicipality: in.MunicipalityCode, RelayClerk: in.Clerk,
				Application: app, Notice: sealed.Notice, HandOverAt: in.HandOverAt},
			StartInput: RelayIssuanceInput{CaseNumber: addressCase, MunicipalityCode: in.AddressMunicipality},
		}); err != nil {
			return RelayStatus{}, err
		}
		if err := c.Record(ctx, "forwarded", in.Clerk, addressCase); err != nil {
			return RelayStatus{}, err
		}

		// The relay follows the address municipality's case, for a bounded
		// time: an address case that never answers lapses this one.
		c.Enter(ctx, StepForwarded, "")
		ended := func() bool { return status != nil && status.Status != kit.StatusOpen }
		deadline := workflow.Now(ctx).Add(RelayFollowWindow)
		noAnswer := kit.Lapse{Code: "address_no_answer", Message: "住所地市区町村の手続が期限内に終わりませんでした / The address municipality's procedure did not end in time."}
		if err := c.Await(ctx, RelayFollowWindow, "address", "address municipality", noAnswer,
			func() bool { return ended() || (ho.ready() && in.HandOverAt == HandOverAtRelay) }); err != nil {
			return RelayStatus{}, err
		}
		if !ended() {
			// 交付: the card came back to the relay for the applicant.
			if err := ho.await(ctx, HandOverAtRelay); err != nil {
				return RelayStatus{}, err
			}
			_ = workflow.SignalExternalWorkflow(ctx, WorkflowID(contract.ProcRelayIssuance, addressCase), "", HandedOverSignal, nil).Get(ctx, nil)
			if err := c.Await(ctx, max(deadline.Sub(workflow.Now(ctx)), time.Minute), "address", "address municipality", noAnswer, ended); err != nil {
				return RelayStatus{}, err
			}
		}
		// This case ends as the address municipality's did.
		switch status.Status {
		case kit.StatusCompleted:
			return *status, nil
		case kit.StatusLapsed:
			return *status, contract.Lapse(rejectionCode(status), rejectionMessage(status))
		case kit.StatusRejected:
			return *status, contract.Reject(rejectionCode(status), rejectionMessage(status))
		case kit.StatusCancelled:
			return *status, temporal.NewCanceledError(rejectionMessage(status))
		case kit.StatusFailed:
			// The address side's reason, not this case's step.
			return *status, kit.FailedAs("住所地市区町村の手続が障害で終了しました: " + rejectionMessage(status) +
				" / The address municipality's procedure failed: " + rejectionMessage(status))
		}
		return *status, errors.New("the address municipality's case ended as " + status.Status)
	})
}

func rejectionCode(s *RelayStatus) string {
	if s.Rejection != nil {
		return s.Rejection.Code
	}
	return s.Status
}

func rejectionMessage(s *RelayStatus) string {
	if s.Rejection != nil {
		return s.Rejection.Message
	}
	return "住所地市区町村の手続が " + s.Status + " で終了しました / The address municipality's procedure ended as " + s.Status
}

// sealNotice has the applicant type the PINs on the relay's terminal, which
// seals them to the address municipality's key.
func sealNotice(ctx workflow.Context, c *kit.Case, term *kit.Terminal, in contract.SealPINNoticeInput) (contract.SealPINNoticeResult, error) {
	c.Waiting(ctx, "applicant", "applicant: touch panel")
	defer c.Done(ctx)
	return kit.SealNotice(ctx, term, in)
}
