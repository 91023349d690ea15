package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"

	"github.com/madoguchi/madoguchi/activities/municipal"
	"github.com/madoguchi/madoguchi/activities/org"
	"github.com/madoguchi/madoguchi/activities/terminal"
	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/sealing"
)

type relaySuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment
}

func TestRelay(t *testing.T) { suite.Run(t, new(relaySuite)) }

func (s *relaySuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.RegisterActivity(&municipal.Municipal{})
	s.env.RegisterActivity(&municipal.Relay{})
	s.env.RegisterActivity(&terminal.Card{})
	s.env.RegisterActivity(&org.CA{})
	s.env.SetStartTime(time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC))
}

func (s *relaySuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

func (s *relaySuite) send(at time.Duration, name string, arg any, accept bool) {
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(name, name+at.String(), &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { s.True(!accept, "%s rejected: %v", name, err) },
			OnAccept:   func() { s.True(accept, name+" accepted, want rejected") },
			OnComplete: func(any, error) {},
		}, arg)
	}, at)
}

// TestAddressSideSetsTheNotifiedPIN: the forwarded application is reviewed,
// the register is checked again after the review (new: CheckRegister twice),
// another clerk confirms, the notice is opened on the terminal, the card is
// handed over here, the case is closed once as completed, and the relay
// hears each status.
func (s *relaySuite) TestAddressSideSetsTheNotifiedPIN() {
	notice := sealing.Notice{Municipality: "131016", KeyID: "k1", Enc: []byte{1}, Ciphertext: []byte{2}, Kinds: []string{"sign", "auth"}}
	app := contract.RelayApplication{RelayCase: "141003-20261126-000001", RelayMunicipality: "141003", RelayClerk: "yokohama1",
		Application: testInput.Application, Notice: notice, HandOverAt: HandOverAtAddress}
	s.env.OnActivity(contract.CheckRegister.Name, mock.Anything, mock.Anything).Return(contract.CheckRegisterResult{Person: testPerson}, nil).Twice()
	s.env.OnActivity(contract.RecordEvent.Name, mock.Anything, mock.Anything).Return(contract.RecordEventResult{}, nil)
	s.env.OnActivity(contract.ReadCard.Name, mock.Anything, mock.Anything).Return(contract.ReadCardResult{CardSerial: "C1", Expiry: "20340401"}, nil)
	s.env.OnActivity(contract.CheckCard.Name, mock.Anything, mock.Anything).Return(contract.CheckCardResult{Expiry: "2034-04-01"}, nil)
	var opened sealing.Notice
	s.env.OnActivity(contract.SetPINsFromNotice.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.SetPINsFromNoticeInput) (contract.SetPINsFromNoticeResult, error) {
			opened = in.Notice
			return contract.SetPINsFromNoticeResult{Kinds: in.Notice.Kinds}, nil
		}).Once()
	s.env.OnActivity(contract.GenerateKeys.Name, mock.Anything, mock.Anything).Return(contract.GenerateKeysResult{Keys: []contract.PublicKey{{Kind: "sign"}, {Kind: "auth"}}}, nil)
	s.env.OnActivity(contract.IssueCertificates.Name, mock.Anything, mock.Anything).Return(contract.IssueCertificatesResult{Certificates: []contract.IssuedCertificate{{Kind: "sign", Serial: "01"}, {Kind: "auth", Serial: "02"}}}, nil)
	s.env.OnActivity(contract.WriteCertificates.Name, mock.Anything, mock.Anything).Return(contract.WriteCertificatesResult{}, nil)
	s.env.OnActivity(contract.RecordIssued.Name, mock.Anything, mock.Anything).Return(contract.RecordIssuedResult{}, nil)
	s.env.OnActivity(contract.RecordFee.Name, mock.Anything, mock.Anything).Return(contract.RecordFeeResult{}, nil)
	s.env.OnActivity(contract.RegisterDocuments.Name, mock.Anything, mock.Anything).Return(contract.RegisterDocumentsResult{}, nil)
	s.env.OnActivity(contract.CloseCase.Name, mock.Anything, mock.MatchedBy(func(in contract.CloseCaseInput) bool { return in.Status == StatusCompleted })).
		Return(contract.CloseCaseResult{}, nil).Once()
	var statuses []RelayStatus
	s.env.OnSignalExternalWorkflow(mock.Anything, WorkflowID(ProcedureRelayForwarding, app.RelayCase), "", RelayStatusSignal, mock.Anything).Return(
		func(_ string, _ string, _ string, _ string, arg any) error {
			statuses = append(statuses, arg.(RelayStatus))
			return nil
		})

	s.env.RegisterDelayedCallback(func() { s.env.SignalWorkflow(RelayApplicationSignal, app) }, time.Minute)
	s.send(2*time.Hour, ReviewRelayUpdate, ReviewRelayInput{Clerk: "clerk1", TerminalID: "T0001", Approve: true}, true)
	s.send(2*time.Hour+time.Minute, ConfirmIntentUpdate, ConfirmIntentInput{Clerk: "clerk1"}, false)
	s.send(2*time.Hour+2*time.Minute, ConfirmIntentUpdate, ConfirmIntentInput{Clerk: "clerk2"}, true)
	s.send(3*time.Hour, HandOverUpdate, HandOverInput{Clerk: "clerk2"}, true)

	s.env.ExecuteWorkflow(RelayIssuance, RelayIssuanceInput{CaseNumber: RelayAddressCase("131016", app.RelayCase), MunicipalityCode: "131016"})
	s.NoError(s.env.GetWorkflowError())
	s.env.AssertNumberOfCalls(s.T(), contract.CheckRegister.Name, 2)
	var res RelayIssuanceResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(StatusCompleted, res.Status)
	s.Equal("k1", opened.KeyID)
	s.Require().NotEmpty(statuses)
	last := statuses[len(statuses)-1]
	s.Equal(StatusCompleted, last.Status)
	for _, st := range statuses {
		s.Equal(RelayAddressCase("131016", app.RelayCase), st.AddressCase)
	}
}

// TestRelaySideSealsForwardsAndHandsOver: the relay seals the PINs to the
// address municipality's key, forwards, and hands the card over when it
// comes back.
func (s *relaySuite) TestRelaySideSealsForwardsAndHandsOver() {
	in := RelayForwardingInput{CaseNumber: "141003-20261126-000001", MunicipalityCode: "141003", AddressMunicipality: "131016",
		TerminalID: "Y0001", Clerk: "yokohama1", ClerkID: 4, Application: testInput.Application, HandOverAt: HandOverAtRelay}
	addressCase := RelayAddressCase("131016", in.CaseNumber)
	s.env.OnActivity(contract.RecordEvent.Name, mock.Anything, mock.Anything).Return(contract.RecordEventResult{}, nil)
	s.env.OnActivity(contract.SealingKey.Name, mock.Anything, mock.Anything).Return(contract.SealingKeyResult{Key: sealing.PublicKey{Municipality: "131016", KeyID: "k1"}}, nil)
	var sealedFor string
	s.env.OnActivity(contract.SealPINNotice.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.SealPINNoticeInput) (contract.SealPINNoticeResult, error) {
			sealedFor = in.NoticeCase
			return contract.SealPINNoticeResult{Notice: sealing.Notice{Municipality: "131016", KeyID: "k1"}}, nil
		}).Once()
	s.env.OnActivity(contract.ForwardApplication.Name, mock.Anything, mock.Anything).Return(contract.ForwardApplicationResult{AddressCase: addressCase}, nil).Once()
	s.env.OnActivity(contract.ReadCard.Name, mock.Anything, mock.Anything).Return(contract.ReadCardResult{CardSerial: "C1"}, nil).Once()
	s.env.OnActivity(contract.CloseCase.Name, mock.Anything, mock.MatchedBy(func(in contract.CloseCaseInput) bool { return in.Status == StatusCompleted })).
		Return(contract.CloseCaseResult{}, nil).Once()
	handed := false
	s.env.OnSignalExternalWorkflow(mock.Anything, WorkflowID(ProcedureRelayIssuance, addressCase), "", HandedOverSignal, mock.Anything).Return(
		func(string, string, string, string, any) error { handed = true; return nil }).Once()

	s.send(time.Minute, ConfirmIdentityUpdate, ConfirmIdentityInput{Clerk: "yokohama1", DocumentType: "individual_number_card", Verified: true}, true)
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(RelayStatusSignal, RelayStatus{AddressCase: addressCase, Step: StepHandOver, Status: StatusOpen, CardReady: true, CardSerial: "C1"})
	}, 24*time.Hour)
	s.send(25*time.Hour, HandOverUpdate, HandOverInput{Clerk: "yokohama1"}, true)
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(RelayStatusSignal, RelayStatus{AddressCase: addressCase, Step: StepDone, Status: StatusCompleted})
	}, 26*time.Hour)

	s.env.ExecuteWorkflow(RelayForwarding, in)
	s.NoError(s.env.GetWorkflowError())
	var res RelayForwardingResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(StatusCompleted, res.Status)
	s.Equal(addressCase, sealedFor, "the notice is bound to the address municipality's case")
	s.True(handed)
}

var relayInput = RelayForwardingInput{CaseNumber: "141003-20261126-000002", MunicipalityCode: "141003", AddressMunicipality: "131016",
	TerminalID: "Y0001", Clerk: "yokohama1", ClerkID: 4, Application: testInput.Application, HandOverAt: HandOverAtAddress}

// forwarded mocks the relay side up to the forwarding and sends the
// identity check, so the case then follows the address municipality's.
func (s *relaySuite) forwarded() (addressCase string) {
	addressCase = RelayAddressCase(relayInput.AddressMunicipality, relayInput.CaseNumber)
	s.env.OnActivity(contract.RecordEvent.Name, mock.Anything, mock.Anything).Return(contract.RecordEventResult{}, nil)
	s.env.OnActivity(contract.SealingKey.Name, mock.Anything, mock.Anything).Return(contract.SealingKeyResult{Key: sealing.PublicKey{Municipality: "131016", KeyID: "k1"}}, nil).Once()
	s.env.OnActivity(contract.SealPINNotice.Name, mock.Anything, mock.Anything).Return(contract.SealPINNoticeResult{Notice: sealing.Notice{Municipality: "131016", KeyID: "k1"}}, nil).Once()
	s.env.OnActivity(contract.ForwardApplication.Name, mock.Anything, mock.Anything).Return(contract.ForwardApplicationResult{AddressCase: addressCase}, nil).Once()
	s.send(time.Minute, ConfirmIdentityUpdate, ConfirmIdentityInput{Clerk: "yokohama1", DocumentType: "individual_number_card", Verified: true}, true)
	return addressCase
}

func (s *relaySuite) closeWith(status string) {
	s.env.OnActivity(contract.CloseCase.Name, mock.Anything, mock.MatchedBy(func(in contract.CloseCaseInput) bool { return in.Status == status })).
		Return(contract.CloseCaseResult{}, nil).Once()
}

// TestRelaySideEndsAsTheAddressCaseEnded: however the address
// municipality's case ends, the relay case ends the same way, with the
// address side's reason where it is one the clerk can read out.
func (s *relaySuite) TestRelaySideEndsAsTheAddressCaseEnded() {
	why := &contract.Rejection{Code: "relay_refused", Message: "認められませんでした / refused"}
	for _, tc := range []struct {
		status    string
		rejection *contract.Rejection
		wantCode  string
		// wantMessage is what the relay's clerk reads out.
		wantMessage string
	}{
		{StatusFailed, &contract.Rejection{Code: "failed", Message: "failed at card_write"}, "failed", "The address municipality's procedure failed: failed at card_write"},
		{StatusCancelled, &contract.Rejection{Code: "cancelled", Message: "Cancelled by clerk1: 申請の取下げ"}, "cancelled", "Cancelled by clerk1: 申請の取下げ"},
		{StatusLapsed, &contract.Rejection{Code: "review_timeout", Message: "not reviewed"}, "review_timeout", "not reviewed"},
		{StatusRejected, why, "relay_refused", why.Message},
	} {
		s.Run(tc.status, func() {
			s.SetupTest()
			addressCase := s.forwarded()
			s.closeWith(tc.status)
			s.env.RegisterDelayedCallback(func() {
				s.env.SignalWorkflow(RelayStatusSignal, RelayStatus{AddressCase: addressCase, Step: StepRelayReview, Status: StatusOpen})
			}, time.Hour)
			s.env.RegisterDelayedCallback(func() {
				s.env.SignalWorkflow(RelayStatusSignal, RelayStatus{AddressCase: addressCase, Step: tc.status, Status: tc.status, Rejection: tc.rejection})
			}, 3*24*time.Hour)
			s.env.ExecuteWorkflow(RelayForwarding, relayInput)
			s.NoError(s.env.GetWorkflowError())
			var res RelayForwardingResult
			s.NoError(s.env.GetWorkflowResult(&res))
			s.Equal(tc.status, res.Status)
			s.Require().NotNil(res.Rejection)
			s.Equal(tc.wantCode, res.Rejection.Code)
			s.Contains(res.Rejection.Message, tc.wantMessage)
			s.Equal(tc.status, res.Detail.Status, "the detail is the address side's last status")
			s.env.AssertExpectations(s.T())
		})
	}
}

// TestRelaySideLapsesWhenTheAddressSideNeverAnswers: the relay no longer
// waits forever; after RelayFollowWindow without an ending it lapses.
func (s *relaySuite) TestRelaySideLapsesWhenTheAddressSideNeverAnswers() {
	addressCase := s.forwarded()
	s.closeWith(StatusLapsed)
	var closedAfter time.Duration
	start := s.env.Now()
	s.env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, args []any) {
		if info.ActivityType.Name == contract.CloseCase.Name {
			closedAfter = s.env.Now().Sub(start)
		}
	})
	// An open status does not end the wait.
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(RelayStatusSignal, RelayStatus{AddressCase: addressCase, Step: StepRelayReview, Status: StatusOpen})
	}, time.Hour)
	s.env.ExecuteWorkflow(RelayForwarding, relayInput)
	var res RelayForwardingResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(StatusLapsed, res.Status)
	s.Equal("address_no_answer", res.Rejection.Code)
	s.GreaterOrEqual(closedAfter, RelayFollowWindow)
}

// TestUpdatesOfModulesNotOptedIntoAreUnknown: the relay side never lets a
// clerk type a PIN, so it has no pin-entry or intent handler; Temporal
// refuses those updates as unknown (the gateway answers 409).
func (s *relaySuite) TestUpdatesOfModulesNotOptedIntoAreUnknown() {
	s.closeWith(StatusLapsed) // nobody checks the identity
	declare := sendAt(s.env, time.Minute, DeclarePINEntryUpdate, DeclarePINEntryInput{Clerk: "yokohama1"})
	intent := sendAt(s.env, time.Minute, ConfirmIntentUpdate, ConfirmIntentInput{Clerk: "yokohama1"})
	reply := sendAt(s.env, time.Minute, EnterReplyUpdate, EnterReplyInput{Clerk: "yokohama1"})
	// The identity check is one of its modules: refused for its input, not unknown.
	identity := sendAt(s.env, time.Minute, ConfirmIdentityUpdate, ConfirmIdentityInput{Clerk: "yokohama1", DocumentType: "library_card"})
	s.env.ExecuteWorkflow(RelayForwarding, relayInput)
	for _, u := range []*sent{declare, intent, reply} {
		s.False(u.accepted, u.name)
		s.Contains(u.rejection(), "unknown update", u.name)
	}
	s.NotContains(identity.rejection(), "unknown update")
	s.Contains(identity.rejection(), "Unknown identity document type")
}
