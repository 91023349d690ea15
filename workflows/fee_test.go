package workflows

import (
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"github.com/madoguchi/madoguchi/contract"
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
