package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
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

type relayForwarding struct {
	*procedure
	in         RelayForwardingInput
	status     *RelayStatus
	cardReady  bool
	cardSerial string
	handedBy   string
}

// RelayForwarding is the relay municipality's side (経由市区町村): its clerk
// accepts the application of a person whose address is elsewhere and checks
// their identity; the applicant types the PIN(s) on this terminal's touch
// panel, where they are sealed at once to the address municipality's key;
// the application and the sealed notice go to the address municipality.
// The relay then sees the status of what it forwarded, and nothing else,
// and hands the card over when the application chose the relay.
func RelayForwarding(ctx workflow.Context, in RelayForwardingInput) (InPersonIssuanceResult, error) {
	p := &relayForwarding{procedure: newProcedure(ProcedureRelayForwarding, in.CaseNumber, in.MunicipalityCode, in.TerminalID, in.Application.Kinds()), in: in}
	p.identitySteps = []string{StepReception, StepIdentityCheck}
	addressCase := RelayAddressCase(in.AddressMunicipality, in.CaseNumber)
	p.state.Detail = map[string]string{"addressMunicipality": in.AddressMunicipality, "addressCase": addressCase, "handOverAt": in.HandOverAt}
	if err := p.register(ctx); err != nil {
		return InPersonIssuanceResult{}, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, HandOverUpdate, p.handOver,
		workflow.UpdateHandlerOptions{Validator: p.validateHandOver}); err != nil {
		return InPersonIssuanceResult{}, err
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		ch := workflow.GetSignalChannel(ctx, RelayStatusSignal)
		for {
			var st RelayStatus
			ch.Receive(ctx, &st)
			p.status = &st
			if st.CardReady {
				p.cardReady, p.cardSerial = true, st.CardSerial
			}
			p.state.Detail["addressStep"] = st.Step
			p.state.Detail["addressStatus"] = st.Status
		}
	})
	res, err := p.run(ctx)
	return p.settle(ctx, res, err)
}

func (p *relayForwarding) run(ctx workflow.Context) (InPersonIssuanceResult, error) {
	app := p.in.Application
	addressCase := p.state.Detail["addressCase"]
	p.enter(ctx, StepReception, p.in.Clerk)
	switch {
	case len(app.Kinds()) == 0:
		return InPersonIssuanceResult{}, rejectNoCertificate()
	case p.in.AddressMunicipality == p.in.MunicipalityCode:
		return InPersonIssuanceResult{}, contract.Reject("not_a_relay", "住所地の市区町村では通常の窓口申請を行ってください / At the address municipality, apply at its own counter.")
	case p.in.HandOverAt != HandOverAtRelay && p.in.HandOverAt != HandOverAtAddress:
		return InPersonIssuanceResult{}, contract.Reject("bad_hand_over", "交付場所を選んでください / Choose where the card is handed over.")
	}
	// The relay clerk checks the applicant's identity documents.
	ok, err := p.awaitIdentity(ctx, IdentityCheckWindow, "clerk: identity documents")
	if err != nil {
		return InPersonIssuanceResult{}, err
	}
	if !ok {
		return p.lapseIdentity(ctx)
	}

	// 暗証番号の届出: the applicant types the PINs on this terminal; they are
	// sealed to the address municipality's key before leaving it.
	p.enter(ctx, StepNotice, "applicant")
	var key contract.SealingKeyResult
	if err := workflow.ExecuteLocalActivity(municipalCtx(ctx), contract.SealingKey.Name, contract.SealingKeyInput{
		Municipality: p.in.AddressMunicipality}).Get(ctx, &key); err != nil {
		return InPersonIssuanceResult{}, err
	}
	p.state.WaitingFor = "applicant: touch panel"
	var sealed contract.SealPINNoticeResult
	if err := workflow.ExecuteActivity(terminalCtx(ctx, p.in.TerminalID, 30*time.Minute), contract.SealPINNotice.Name, contract.SealPINNoticeInput{
		CaseNumber: p.caseNumber, Kinds: app.Kinds(), Recipient: key.Key, NoticeCase: addressCase,
	}).Get(ctx, &sealed); err != nil {
		return InPersonIssuanceResult{}, err
	}
	p.state.WaitingFor = ""

	// 経由: the application and the notice go to the address municipality.
	if err := workflow.ExecuteLocalActivity(municipalCtx(ctx), contract.ForwardApplication.Name, contract.ForwardApplicationInput{
		AddressMunicipality: p.in.AddressMunicipality, AddressCase: addressCase,
		WorkflowID: WorkflowID(ProcedureRelayIssuance, addressCase), WorkflowType: "RelayIssuance",
		Procedure: ProcedureRelayIssuance, SignalName: RelayApplicationSignal, OpenedBy: p.in.ClerkID,
		Application: contract.RelayApplication{RelayCase: p.caseNumber, RelayMunicipality: p.municipality, RelayClerk: p.in.Clerk,
			Application: app, Notice: sealed.Notice, HandOverAt: p.in.HandOverAt},
		StartInput: RelayIssuanceInput{CaseNumber: addressCase, MunicipalityCode: p.in.AddressMunicipality},
	}).Get(ctx, nil); err != nil {
		return InPersonIssuanceResult{}, err
	}
	p.record(ctx, "forwarded", p.in.Clerk, addressCase)

	// The relay follows the address municipality's procedure.
	p.enter(ctx, StepForwarded, "")
	p.state.WaitingFor = "address municipality"
	done := func() bool {
		return p.status != nil && p.status.Status != StatusOpen
	}
	if err := workflow.Await(ctx, func() bool { return done() || (p.cardReady && p.in.HandOverAt == HandOverAtRelay) }); err != nil {
		return InPersonIssuanceResult{}, err
	}
	if p.cardReady && p.in.HandOverAt == HandOverAtRelay && !done() {
		// 交付: the card came back to the relay for the applicant.
		p.enter(ctx, StepHandOver, "")
		p.state.WaitingFor = "clerk: hand the card over"
		if err := workflow.Await(ctx, func() bool { return p.handedBy != "" }); err != nil {
			return InPersonIssuanceResult{}, err
		}
		p.state.WaitingFor = ""
		p.record(ctx, "hand_over", p.handedBy, HandOverAtRelay)
		_ = workflow.SignalExternalWorkflow(ctx, WorkflowID(ProcedureRelayIssuance, addressCase), "", HandedOverSignal, nil).Get(ctx, nil)
		if err := workflow.Await(ctx, done); err != nil {
			return InPersonIssuanceResult{}, err
		}
	}
	p.state.WaitingFor = ""
	switch p.status.Status {
	case StatusCompleted:
		if err := p.finish(ctx, StatusCompleted, StepDone, nil); err != nil {
			return InPersonIssuanceResult{}, err
		}
	default:
		if err := p.finish(ctx, p.status.Status, p.status.Step, p.status.Rejection); err != nil {
			return InPersonIssuanceResult{}, err
		}
	}
	return p.result(), nil
}

func (p *relayForwarding) validateHandOver(ctx workflow.Context, in HandOverInput) error {
	if p.state.Step != StepHandOver || p.handedBy != "" {
		return errors.New("この団体で交付する段階ではありません / The card is not waiting to be handed over here")
	}
	if in.Clerk == "" {
		return errors.New("交付した職員が不明です / The clerk is missing")
	}
	return nil
}

// handOver checks on this terminal that the card in the reader is the one
// the address municipality sent for this applicant, then records it.
func (p *relayForwarding) handOver(ctx workflow.Context, in HandOverInput) (HandOverResult, error) {
	var read contract.ReadCardResult
	if err := workflow.ExecuteActivity(terminalCtx(ctx, p.in.TerminalID, time.Minute), contract.ReadCard.Name,
		contract.ReadCardInput{CaseNumber: p.caseNumber}).Get(ctx, &read); err != nil {
		return HandOverResult{}, err
	}
	if read.CardSerial != p.cardSerial {
		return HandOverResult{}, errors.New("端末のカードはこの申請者のものではありません / The card in the terminal is not this applicant's")
	}
	p.handedBy = in.Clerk
	return HandOverResult{At: workflow.Now(ctx)}, nil
}
