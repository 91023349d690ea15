package workflows

import (
	"context"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/sealing"
)

// TestFeeFromTheCardsFacts: the fee step passes the case's facts (the card
// written on, whether its certificates were renewed), never an amount or
// an item, and the result shows the item and amount recorded.
func (s *inPersonSuite) TestFeeFromTheCardsFacts() {
	for _, tc := range []struct {
		name    string
		current []contract.CurrentCertificate
		renewal bool
	}{
		{"new card", nil, false},
		{"renewal on the same card", []contract.CurrentCertificate{
			{Kind: contract.KindSigning, Serial: "old-sign", NotAfter: time.Date(2027, 1, 31, 14, 59, 59, 0, time.UTC), Card: "C1"},
			{Kind: contract.KindUserAuth, Serial: "old-auth", NotAfter: time.Date(2027, 1, 31, 14, 59, 59, 0, time.UTC), Card: "C1"},
		}, true},
		{"certificates of a lost card replaced", []contract.CurrentCertificate{
			{Kind: contract.KindUserAuth, Serial: "old-auth", NotAfter: time.Date(2029, 1, 31, 14, 59, 59, 0, time.UTC), Card: "C0", CardStatus: "lost"},
		}, false},
	} {
		s.Run(tc.name, func() {
			s.SetupTest()
			s.mockCardAndCA(tc.current)
			s.env.OnActivity(contract.SetPINs.Name, mock.Anything, mock.Anything).Return(contract.SetPINsResult{}, nil).Maybe()
			s.env.OnActivity(contract.RevokeCertificate.Name, mock.Anything, mock.Anything).Return(contract.RevokeCertificateResult{Outcome: "revoked"}, nil).Maybe()
			s.confirmIdentityLater(ConfirmIdentityInput{Clerk: "clerk1", DocumentType: "individual_number_card", Verified: true}, false)
			s.env.ExecuteWorkflow(InPersonIssuance, testInput)
			s.NoError(s.env.GetWorkflowError())
			var res InPersonIssuanceResult
			s.NoError(s.env.GetWorkflowResult(&res))
			s.Equal(StatusCompleted, res.Status)
			s.Require().Len(s.feeIn, 1)
			s.Equal(contract.RecordFeeInput{CaseNumber: testInput.CaseNumber, ResidentCode: testInput.Application.ResidentCode,
				CardSerial: "C1", Renewal: tc.renewal}, s.feeIn[0])
			s.Require().NotNil(res.Detail.Fee)
			s.Equal("certificate_issuance", res.Detail.Fee.Item)
			v, err := s.env.QueryWorkflow(StateQuery)
			s.Require().NoError(err)
			var st State
			s.Require().NoError(v.Get(&st))
			s.Require().NotNil(st.Issuance.Fee, "the state shows the fee")
			s.Equal(*res.Detail.Fee, *st.Issuance.Fee)
			s.Empty(s.refunds, "a completed case refunds nothing")
		})
	}
}

// TestFeeRefundedWhenTheCaseFailsAfterIt: a case that fails after its fee
// was recorded refunds it once, by "system", with the ending as the reason.
func (s *inPersonSuite) TestFeeRefundedWhenTheCaseFailsAfterIt() {
	s.docsErr = temporal.NewNonRetryableApplicationError("documents broke", "Broken", nil)
	s.closeStatus = StatusFailed
	s.mockCardAndCA(nil)
	s.env.OnActivity(contract.SetPINs.Name, mock.Anything, mock.Anything).Return(contract.SetPINsResult{}, nil)
	s.confirmIdentityLater(ConfirmIdentityInput{Clerk: "clerk1", DocumentType: "individual_number_card", Verified: true}, false)
	s.env.ExecuteWorkflow(InPersonIssuance, testInput)
	s.NoError(s.env.GetWorkflowError())
	var res InPersonIssuanceResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(StatusFailed, res.Status)
	s.Require().Len(s.feeIn, 1)
	s.Require().Len(s.refunds, 1)
	s.Equal(testInput.CaseNumber, s.refunds[0].CaseNumber)
	s.Equal("system", s.refunds[0].By)
	s.Equal("failed: failed", s.refunds[0].Reason)
}

// TestFeeRefundedWhenCancelledAtTheHandOver: an address-side relay case
// cancelled while the card waits to be handed over, after its fee was
// recorded, refunds the fee once, by the cancelling clerk, with the reason.
func (s *relaySuite) TestFeeRefundedWhenCancelledAtTheHandOver() {
	notice := sealing.Notice{Municipality: "131016", KeyID: "k1", Enc: []byte{1}, Ciphertext: []byte{2}, Kinds: []string{"sign", "auth"}}
	app := contract.RelayApplication{RelayCase: "141003-20261126-000001", RelayMunicipality: "141003", RelayClerk: "yokohama1",
		Application: testInput.Application, Notice: notice, HandOverAt: HandOverAtAddress}
	s.env.OnActivity(contract.CheckRegister.Name, mock.Anything, mock.Anything).Return(contract.CheckRegisterResult{Person: testPerson}, nil)
	s.env.OnActivity(contract.RecordEvent.Name, mock.Anything, mock.Anything).Return(contract.RecordEventResult{}, nil)
	s.env.OnActivity(contract.ReadCard.Name, mock.Anything, mock.Anything).Return(contract.ReadCardResult{CardSerial: "C2", Expiry: "20340401"}, nil)
	s.env.OnActivity(contract.CheckCard.Name, mock.Anything, mock.Anything).Return(contract.CheckCardResult{Expiry: "2034-04-01"}, nil)
	s.env.OnActivity(contract.SetPINsFromNotice.Name, mock.Anything, mock.Anything).Return(contract.SetPINsFromNoticeResult{Kinds: notice.Kinds}, nil)
	s.env.OnActivity(contract.GenerateKeys.Name, mock.Anything, mock.Anything).Return(contract.GenerateKeysResult{Keys: []contract.PublicKey{{Kind: "sign"}, {Kind: "auth"}}}, nil)
	s.env.OnActivity(contract.IssueCertificates.Name, mock.Anything, mock.Anything).Return(contract.IssueCertificatesResult{Certificates: []contract.IssuedCertificate{{Kind: "sign", Serial: "01"}, {Kind: "auth", Serial: "02"}}}, nil)
	s.env.OnActivity(contract.WriteCertificates.Name, mock.Anything, mock.Anything).Return(contract.WriteCertificatesResult{}, nil)
	s.env.OnActivity(contract.RecordIssued.Name, mock.Anything, mock.Anything).Return(contract.RecordIssuedResult{}, nil)
	var feeIn []contract.RecordFeeInput
	s.env.OnActivity(contract.RecordFee.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.RecordFeeInput) (contract.RecordFeeResult, error) {
			feeIn = append(feeIn, in)
			return contract.RecordFeeResult{Item: "certificate_reissue_after_card_reissue", AmountYen: 200}, nil
		})
	var refunds []contract.RefundFeeInput
	s.env.OnActivity(contract.RefundFee.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.RefundFeeInput) (contract.RefundFeeResult, error) {
			refunds = append(refunds, in)
			return contract.RefundFeeResult{Item: "certificate_reissue_after_card_reissue", AmountYen: 200}, nil
		})
	s.env.OnActivity(contract.RegisterDocuments.Name, mock.Anything, mock.Anything).Return(contract.RegisterDocumentsResult{}, nil)
	s.env.OnActivity(contract.CloseCase.Name, mock.Anything, mock.MatchedBy(func(in contract.CloseCaseInput) bool { return in.Status == StatusCancelled })).
		Return(contract.CloseCaseResult{}, nil).Once()
	s.env.OnSignalExternalWorkflow(mock.Anything, WorkflowID(ProcedureRelayForwarding, app.RelayCase), "", RelayStatusSignal, mock.Anything).Return(nil)

	s.env.RegisterDelayedCallback(func() { s.env.SignalWorkflow(RelayApplicationSignal, app) }, time.Minute)
	s.send(2*time.Hour, ReviewRelayUpdate, ReviewRelayInput{Clerk: "clerk1", TerminalID: "T0001", Approve: true}, true)
	s.send(2*time.Hour+2*time.Minute, ConfirmIntentUpdate, ConfirmIntentInput{Clerk: "clerk2"}, true)
	s.send(3*time.Hour, CancelUpdate, CancelInput{Clerk: "clerk2", Reason: "申請者の都合"}, true)

	s.env.ExecuteWorkflow(RelayIssuance, RelayIssuanceInput{CaseNumber: RelayAddressCase("131016", app.RelayCase), MunicipalityCode: "131016"})
	s.NoError(s.env.GetWorkflowError())
	var res RelayIssuanceResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(StatusCancelled, res.Status)
	s.Require().Len(feeIn, 1)
	s.Equal("C2", feeIn[0].CardSerial)
	s.Require().Len(refunds, 1, "the fee is refunded once")
	s.Equal("clerk2", refunds[0].By)
	s.Equal("cancelled: 申請者の都合", refunds[0].Reason)
}
