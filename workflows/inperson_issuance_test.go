package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/testsuite"

	"github.com/madoguchi/madoguchi/activities/municipal"
	"github.com/madoguchi/madoguchi/activities/org"
	"github.com/madoguchi/madoguchi/activities/terminal"
	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/reasons"
	"github.com/madoguchi/madoguchi/internal/validity"
)

type inPersonSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment
	// The fee's facts and refunds the procedure passed; docsErr fails the
	// documents step and closeStatus is the ending expected (default
	// completed).
	feeIn       []contract.RecordFeeInput
	refunds     []contract.RefundFeeInput
	docsErr     error
	closeStatus string
}

func TestInPersonIssuance(t *testing.T) { suite.Run(t, new(inPersonSuite)) }

func (s *inPersonSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.feeIn, s.refunds, s.docsErr, s.closeStatus = nil, nil, nil, StatusCompleted
	s.env.RegisterActivity(&municipal.Municipal{})
	s.env.RegisterActivity(&terminal.Card{})
	s.env.RegisterActivity(&org.CA{})
	// 2026-11-26 10:00 JST
	s.env.SetStartTime(time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC))
}

func (s *inPersonSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

var testInput = InPersonIssuanceInput{
	CaseNumber: "131016-20261126-000001", MunicipalityCode: "131016", TerminalID: "T0001", Clerk: "clerk1",
	Application: contract.Application{ResidentCode: "00000000011", Name: "山田 太郎", BirthDate: "1980-04-01",
		Sex: "male", Address: "東京都千代田区千代田1番1号", Signing: true, UserAuth: true},
}

var testPerson = contract.PersonalInfo{Name: "山田 太郎", BirthDate: "1980-04-01", Sex: "male", Address: "東京都千代田区千代田1番1号"}

// confirmIdentityLater sends the clerk's identity check once the workflow waits for it.
func (s *inPersonSuite) confirmIdentityLater(in ConfirmIdentityInput, wantErr bool) {
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(ConfirmIdentityUpdate, "id-1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) {
				if !wantErr {
					s.Fail("update rejected", err.Error())
				}
			},
			OnAccept: func() {
				if wantErr {
					s.Fail("update accepted, want rejected")
				}
			},
			OnComplete: func(any, error) {},
		}, in)
	}, time.Minute)
}

func (s *inPersonSuite) mockCardAndCA(current []contract.CurrentCertificate) *[]contract.CertificateRequest {
	s.env.OnActivity(contract.CheckRegister.Name, mock.Anything, mock.Anything).Return(
		contract.CheckRegisterResult{Person: testPerson, Current: current}, nil)
	s.env.OnActivity(contract.ReadCard.Name, mock.Anything, mock.Anything).Return(contract.ReadCardResult{CardSerial: "C1", Expiry: "20340401"}, nil)
	s.env.OnActivity(contract.CheckCard.Name, mock.Anything, mock.Anything).Return(contract.CheckCardResult{Expiry: "2034-04-01"}, nil)
	s.env.OnActivity(contract.GenerateKeys.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.GenerateKeysInput) (contract.GenerateKeysResult, error) {
			var r contract.GenerateKeysResult
			for _, k := range in.Kinds {
				r.Keys = append(r.Keys, contract.PublicKey{Kind: k, SPKIDER: []byte("spki-" + k)})
			}
			return r, nil
		})
	var requests []contract.CertificateRequest
	s.env.OnActivity(contract.IssueCertificates.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.IssueCertificatesInput) (contract.IssueCertificatesResult, error) {
			requests = append(requests, in.Requests...)
			var r contract.IssueCertificatesResult
			for _, q := range in.Requests {
				r.Certificates = append(r.Certificates, contract.IssuedCertificate{Kind: q.Kind, Serial: "new-" + q.Kind, NotAfter: q.NotAfter})
			}
			return r, nil
		})
	s.env.OnActivity(contract.WriteCertificates.Name, mock.Anything, mock.Anything).Return(contract.WriteCertificatesResult{}, nil)
	s.env.OnActivity(contract.RecordIssued.Name, mock.Anything, mock.Anything).Return(contract.RecordIssuedResult{}, nil)
	s.env.OnActivity(contract.RecordFee.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.RecordFeeInput) (contract.RecordFeeResult, error) {
			s.feeIn = append(s.feeIn, in)
			return contract.RecordFeeResult{Item: "certificate_issuance", AmountYen: 0}, nil
		})
	s.env.OnActivity(contract.RefundFee.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.RefundFeeInput) (contract.RefundFeeResult, error) {
			s.refunds = append(s.refunds, in)
			return contract.RefundFeeResult{Item: "certificate_issuance"}, nil
		}).Maybe()
	s.env.OnActivity(contract.RegisterDocuments.Name, mock.Anything, mock.Anything).Return(
		func(context.Context, contract.RegisterDocumentsInput) (contract.RegisterDocumentsResult, error) {
			return contract.RegisterDocumentsResult{RetainUntil: "2031-11-26"}, s.docsErr
		})
	s.env.OnActivity(contract.RecordEvent.Name, mock.Anything, mock.Anything).Return(contract.RecordEventResult{}, nil)
	s.env.OnActivity(contract.CloseCase.Name, mock.Anything, mock.MatchedBy(func(in contract.CloseCaseInput) bool {
		return in.Status == s.closeStatus
	})).Return(contract.CloseCaseResult{}, nil).Once()
	return &requests
}

func (s *inPersonSuite) TestNewIssuanceOfBothCertificates() {
	requests := s.mockCardAndCA(nil)
	var pinKinds []string
	s.env.OnActivity(contract.SetPINs.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.SetPINsInput) (contract.SetPINsResult, error) {
			pinKinds = in.Kinds
			return contract.SetPINsResult{Kinds: in.Kinds}, nil
		}).Once()
	s.confirmIdentityLater(ConfirmIdentityInput{Clerk: "clerk1", DocumentType: "individual_number_card", Verified: true}, false)

	s.env.ExecuteWorkflow(InPersonIssuance, testInput)
	s.True(s.env.IsWorkflowCompleted())
	s.NoError(s.env.GetWorkflowError())
	var res InPersonIssuanceResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(StatusCompleted, res.Status)
	s.Len(res.Detail.Certificates, 2)
	s.Empty(res.Detail.Revoked)
	s.Equal([]string{contract.KindSigning, contract.KindUserAuth}, pinKinds)

	// Born 1980-04-01, issued 2026-11-26: the 5th birthday after issue is
	// 2031-04-01, before the card's expiry; both end then, 23:59:59 JST.
	s.Require().Len(*requests, 2)
	want := validity.NewDate(2031, time.April, 1).End()
	for _, r := range *requests {
		s.True(want.Equal(r.NotAfter), "%s NotAfter %v, want %v", r.Kind, r.NotAfter, want)
		s.Equal(testInput.CaseNumber+"/"+r.Kind, r.RequestID)
		if r.Kind == contract.KindSigning {
			s.Require().NotNil(r.Person, "signing certificate carries the register's 4 information")
		} else {
			s.Nil(r.Person, "user-authentication certificate carries no personal information")
		}
	}

	v, err := s.env.QueryWorkflow(StateQuery)
	s.NoError(err)
	var st State
	s.NoError(v.Get(&st))
	s.Equal(StepDone, st.Step)
	s.False(st.Issuance.Renewal)
}

func (s *inPersonSuite) TestRenewalRevokesTheOldCertificateAsSuperseded() {
	// The current certificates end 2027-01-31: less than 3 months after
	// 2026-11-26, so the renewal counts to the 6th birthday (2032-04-01).
	old := time.Date(2027, 1, 31, 14, 59, 59, 0, time.UTC)
	requests := s.mockCardAndCA([]contract.CurrentCertificate{
		{Kind: contract.KindSigning, Serial: "old-sign", NotAfter: old, Card: "C1"},
		{Kind: contract.KindUserAuth, Serial: "old-auth", NotAfter: old, Card: "C1"},
	})
	var revoked []contract.RevokeCertificateInput
	s.env.OnActivity(contract.RevokeCertificate.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.RevokeCertificateInput) (contract.RevokeCertificateResult, error) {
			revoked = append(revoked, in)
			return contract.RevokeCertificateResult{Outcome: "revoked"}, nil
		})
	s.confirmIdentityLater(ConfirmIdentityInput{Clerk: "clerk1", DocumentType: "individual_number_card", Verified: true}, false)

	s.env.ExecuteWorkflow(InPersonIssuance, testInput)
	s.NoError(s.env.GetWorkflowError())
	var res InPersonIssuanceResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(StatusCompleted, res.Status)
	s.Equal([]string{"old-sign", "old-auth"}, res.Detail.Revoked)
	s.Require().Len(revoked, 2)
	for _, r := range revoked {
		s.Equal(reasons.Superseded, r.Reason)
	}
	want := validity.NewDate(2032, time.April, 1).End()
	for _, r := range *requests {
		s.True(want.Equal(r.NotAfter), "%s NotAfter %v, want %v", r.Kind, r.NotAfter, want)
	}
	s.env.AssertNotCalled(s.T(), "SetPINs", mock.Anything, mock.Anything)
}

func (s *inPersonSuite) TestRegisterRejectionEndsTheProcedureWithNothingIssued() {
	s.env.OnActivity(contract.CheckRegister.Name, mock.Anything, mock.Anything).Return(contract.CheckRegisterResult{},
		contract.Reject("under_15_signing", "申請日に15歳未満の方には署名用電子証明書を発行できません。"))
	s.env.OnActivity(contract.CloseCase.Name, mock.Anything, mock.MatchedBy(func(in contract.CloseCaseInput) bool {
		return in.Status == StatusRejected
	})).Return(contract.CloseCaseResult{}, nil).Once()

	s.env.ExecuteWorkflow(InPersonIssuance, testInput)
	s.NoError(s.env.GetWorkflowError())
	var res InPersonIssuanceResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(StatusRejected, res.Status)
	s.Require().NotNil(res.Rejection)
	s.Equal("under_15_signing", res.Rejection.Code)
	s.Empty(res.Detail.Certificates)
	s.env.AssertNotCalled(s.T(), "IssueCertificates", mock.Anything, mock.Anything)
}

func (s *inPersonSuite) TestIdentityUpdateValidation() {
	s.mockCardAndCA(nil)
	s.env.OnActivity(contract.SetPINs.Name, mock.Anything, mock.Anything).Return(contract.SetPINsResult{}, nil)
	// An unknown document type is refused; the procedure keeps waiting.
	s.confirmIdentityLater(ConfirmIdentityInput{Clerk: "clerk1", DocumentType: "library_card", Verified: true}, true)
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(ConfirmIdentityUpdate, "id-2", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { s.Fail("valid identity check rejected", err.Error()) },
			OnAccept:   func() {},
			OnComplete: func(any, error) {},
		}, ConfirmIdentityInput{Clerk: "clerk2", DocumentType: "passport", Verified: true})
	}, 2*time.Minute)
	// A second identity check, after the procedure moved on, is out of order.
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(ConfirmIdentityUpdate, "id-3", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { s.Contains(err.Error(), "not waiting for an identity check") },
			OnAccept:   func() { s.Fail("out-of-order identity check accepted") },
			OnComplete: func(any, error) {},
		}, ConfirmIdentityInput{Clerk: "clerk2", DocumentType: "passport", Verified: true})
	}, 2*time.Minute+time.Second)
	s.env.ExecuteWorkflow(InPersonIssuance, testInput)
	s.NoError(s.env.GetWorkflowError())
}

func (s *inPersonSuite) TestUnansweredIdentityCheckLapses() {
	s.env.OnActivity(contract.CheckRegister.Name, mock.Anything, mock.Anything).Return(contract.CheckRegisterResult{Person: testPerson}, nil)
	s.env.OnActivity(contract.CloseCase.Name, mock.Anything, mock.MatchedBy(func(in contract.CloseCaseInput) bool {
		return in.Status == StatusLapsed
	})).Return(contract.CloseCaseResult{}, nil).Once()
	s.env.ExecuteWorkflow(InPersonIssuance, testInput)
	var res InPersonIssuanceResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(StatusLapsed, res.Status)
	s.env.AssertNotCalled(s.T(), "ReadCard", mock.Anything, mock.Anything)
}

func (s *inPersonSuite) TestCardTooCloseToExpiryIsRefusedBeforeKeysAreMade() {
	s.env.OnActivity(contract.CheckRegister.Name, mock.Anything, mock.Anything).Return(contract.CheckRegisterResult{Person: testPerson}, nil)
	s.env.OnActivity(contract.ReadCard.Name, mock.Anything, mock.Anything).Return(contract.ReadCardResult{CardSerial: "C1"}, nil)
	// The card's last day is the issue day: no certificate can be valid on it.
	s.env.OnActivity(contract.CheckCard.Name, mock.Anything, mock.Anything).Return(contract.CheckCardResult{Expiry: "2026-11-26"}, nil)
	s.env.OnActivity(contract.RecordEvent.Name, mock.Anything, mock.Anything).Return(contract.RecordEventResult{}, nil)
	s.env.OnActivity(contract.CloseCase.Name, mock.Anything, mock.Anything).Return(contract.CloseCaseResult{}, nil)
	s.confirmIdentityLater(ConfirmIdentityInput{Clerk: "clerk1", DocumentType: "passport", Verified: true}, false)
	// PINs are set only after the validity check accepted the card.
	defer s.env.AssertNotCalled(s.T(), "SetPINs", mock.Anything, mock.Anything)
	s.env.ExecuteWorkflow(InPersonIssuance, testInput)
	var res InPersonIssuanceResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(StatusRejected, res.Status)
	s.Equal("card_expires_too_soon", res.Rejection.Code)
	s.env.AssertNotCalled(s.T(), "GenerateKeys", mock.Anything, mock.Anything)
}

func TestWorkflowIDCarriesOnlyTheCaseNumber(t *testing.T) {
	id := WorkflowID(ProcedureInPersonIssuance, "131016-20261126-000001")
	p, c, err := ParseWorkflowID(id)
	if err != nil || p != ProcedureInPersonIssuance || c != "131016-20261126-000001" {
		t.Fatalf("ParseWorkflowID(%q) = %q, %q, %v", id, p, c, err)
	}
	if _, _, err := ParseWorkflowID("nonsense"); err == nil {
		t.Fatal("want error for an id without a case number")
	}
}
