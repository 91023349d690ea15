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
	"github.com/madoguchi/madoguchi/internal/deadline"
)

type proxySuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment
}

func TestProxyIssuance(t *testing.T) { suite.Run(t, new(proxySuite)) }

func (s *proxySuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.RegisterActivity(&municipal.Municipal{})
	s.env.RegisterActivity(&municipal.Inquiry{})
	s.env.RegisterActivity(&terminal.Card{})
	s.env.RegisterActivity(&org.CA{})
	s.env.SetStartTime(time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)) // 10:00 JST
}

func (s *proxySuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

var proxyInput = ProxyIssuanceInput{
	CaseNumber: "131016-20261126-000002", MunicipalityCode: "131016", TerminalID: "T0001", Clerk: "clerk1",
	Application: testInput.Application, Proxy: Proxy{Name: "山田 花子", Address: "東京都千代田区千代田1番1号", Relationship: "配偶者"},
}

// update sends an update at a given time and checks whether it is accepted.
func (s *proxySuite) update(at time.Duration, name string, arg any, wantAccepted bool, onErr func(error)) {
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(name, name+at.String(), &testsuite.TestUpdateCallback{
			OnReject: func(err error) {
				if wantAccepted {
					s.Fail("update "+name+" rejected", err.Error())
				}
				if onErr != nil {
					onErr(err)
				}
			},
			OnAccept: func() {
				if !wantAccepted {
					s.Fail("update " + name + " accepted, want rejected")
				}
			},
			OnComplete: func(_ any, err error) {
				if err != nil && onErr != nil {
					onErr(err)
				}
			},
		}, arg)
	}, at)
}

func (s *proxySuite) mockUntilInquiry() {
	s.env.OnActivity(contract.CheckRegister.Name, mock.Anything, mock.Anything).Return(contract.CheckRegisterResult{Person: testPerson}, nil).Once()
	s.env.OnActivity(contract.RecordEvent.Name, mock.Anything, mock.Anything).Return(contract.RecordEventResult{}, nil)
	s.env.OnActivity(contract.PrepareInquiry.Name, mock.Anything, mock.Anything).Return(contract.PrepareInquiryResult{}, nil).Once()
	s.env.OnActivity(contract.MarkMailed.Name, mock.Anything, mock.Anything).Return(contract.MarkMailedResult{}, nil).Once()
}

func (s *proxySuite) mockCardSteps(pinsBy *string) {
	s.env.OnActivity(contract.ReadCard.Name, mock.Anything, mock.Anything).Return(contract.ReadCardResult{CardSerial: "C1", Expiry: "20340401"}, nil)
	s.env.OnActivity(contract.CheckCard.Name, mock.Anything, mock.Anything).Return(contract.CheckCardResult{Expiry: "2034-04-01"}, nil)
	s.env.OnActivity(contract.SetPINs.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.SetPINsInput) (contract.SetPINsResult, error) {
			*pinsBy = in.EnteredBy
			return contract.SetPINsResult{Kinds: in.Kinds}, nil
		}).Once()
	s.env.OnActivity(contract.GenerateKeys.Name, mock.Anything, mock.Anything).Return(contract.GenerateKeysResult{Keys: []contract.PublicKey{
		{Kind: "sign", SPKIDER: []byte("s")}, {Kind: "auth", SPKIDER: []byte("a")}}}, nil)
	s.env.OnActivity(contract.IssueCertificates.Name, mock.Anything, mock.Anything).Return(contract.IssueCertificatesResult{Certificates: []contract.IssuedCertificate{
		{Kind: "sign", Serial: "01"}, {Kind: "auth", Serial: "02"}}}, nil)
	s.env.OnActivity(contract.WriteCertificates.Name, mock.Anything, mock.Anything).Return(contract.WriteCertificatesResult{}, nil)
	s.env.OnActivity(contract.RecordIssued.Name, mock.Anything, mock.Anything).Return(contract.RecordIssuedResult{}, nil)
	s.env.OnActivity(contract.RecordFee.Name, mock.Anything, mock.Anything).Return(contract.RecordFeeResult{}, nil)
	s.env.OnActivity(contract.RegisterDocuments.Name, mock.Anything, mock.Anything).Return(contract.RegisterDocumentsResult{}, nil)
}

func (s *proxySuite) closeWith(status string) {
	s.env.OnActivity(contract.CloseCase.Name, mock.Anything, mock.MatchedBy(func(in contract.CloseCaseInput) bool {
		return in.Status == status
	})).Return(contract.CloseCaseResult{}, nil).Once()
}

// proxyID is the clerk's check of the proxy's documents; the kit requires
// the power of attorney (委任状) with every check of a proxy (changed on
// purpose: the old procedure did not record it).
var proxyID = ConfirmIdentityInput{Clerk: "clerk1", DocumentType: "drivers_license", Verified: true, PowerOfAttorney: true}

// TestReplyAfterTwoWeeks: the reply arrives two weeks later; the proxy is
// identified again at that second visit (new: StepSecondVisit); the
// register is checked again before the card steps (new: CheckRegister
// twice); the clerk who takes the reply types the PIN after another clerk
// confirmed the applicant's intent; the same clerk confirming their own
// entry is refused.
func (s *proxySuite) TestReplyAfterTwoWeeks() {
	s.mockUntilInquiry()
	s.env.OnActivity(contract.CheckRegister.Name, mock.Anything, mock.Anything).Return(contract.CheckRegisterResult{Person: testPerson}, nil).Once()
	var pinsBy string
	s.mockCardSteps(&pinsBy)
	s.env.OnActivity(contract.CheckReplyCode.Name, mock.Anything, mock.Anything).Return(contract.CheckReplyCodeResult{OK: true}, nil).Once()
	s.closeWith(StatusCompleted)

	s.update(time.Minute, ConfirmIdentityUpdate, proxyID, true, nil)
	s.update(2*time.Minute, InquiryMailedUpdate, InquiryMailedInput{Clerk: "clerk1"}, true, nil)
	twoWeeks := 14 * 24 * time.Hour
	s.update(twoWeeks, EnterReplyUpdate, EnterReplyInput{Clerk: "clerk1", CaseNumber: proxyInput.CaseNumber, Code: "ABCD-EFGH-JK"}, true, nil)
	second := proxyID
	second.Clerk = "clerk2"
	s.update(twoWeeks+30*time.Second, ConfirmIdentityUpdate, second, true, nil)
	s.update(twoWeeks+time.Minute, ConfirmIntentUpdate, ConfirmIntentInput{Clerk: "clerk1"}, false, nil)
	s.update(twoWeeks+2*time.Minute, ConfirmIntentUpdate, ConfirmIntentInput{Clerk: "clerk2"}, true, nil)

	s.env.ExecuteWorkflow(ProxyIssuance, proxyInput)
	s.NoError(s.env.GetWorkflowError())
	var res ProxyIssuanceResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(StatusCompleted, res.Status)
	s.Len(res.Detail.Certificates, 2)
	s.Equal("clerk1", pinsBy, "the clerk typed the PIN on the touch panel")
	s.env.AssertNumberOfCalls(s.T(), contract.CheckRegister.Name, 2)
	v, err := s.env.QueryWorkflow(StateQuery)
	s.NoError(err)
	var st State
	s.NoError(v.Get(&st))
	s.Equal("clerk1", st.PINEnteredBy)
	s.Equal("clerk2", st.PINConfirmedBy)
	// Both checks are of the proxy, the second by the clerk of the second visit.
	s.Require().Len(st.Identity.Checks, 2)
	for _, c := range st.Identity.Checks {
		s.Equal("proxy", c.Person)
	}
	s.Equal("clerk2", st.Identity.Checks[1].Clerk)
}

// TestNothingIssuedOnTheDayOfApplication: a reply on the same day is refused.
func (s *proxySuite) TestNothingIssuedOnTheDayOfApplication() {
	s.mockUntilInquiry()
	s.env.OnActivity(contract.LapseInquiry.Name, mock.Anything, mock.Anything).Return(contract.LapseInquiryResult{}, nil)
	s.closeWith(StatusLapsed)
	s.update(time.Minute, ConfirmIdentityUpdate, proxyID, true, nil)
	s.update(2*time.Minute, InquiryMailedUpdate, InquiryMailedInput{Clerk: "clerk1"}, true, nil)
	var msg string
	s.update(3*time.Hour, EnterReplyUpdate, EnterReplyInput{Clerk: "clerk1", CaseNumber: proxyInput.CaseNumber, Code: "X"}, false,
		func(err error) { msg = err.Error() })
	s.env.ExecuteWorkflow(ProxyIssuance, proxyInput)
	s.Contains(msg, "Nothing is issued on the day the proxy applied")
}

// TestWrongCodeAndOtherCase: a wrong code is refused with the attempts
// left; a reply of another case is refused before any attempt is counted;
// with no right reply the application lapses at the deadline.
func (s *proxySuite) TestWrongCodeOtherCaseAndLapse() {
	s.mockUntilInquiry()
	s.env.OnActivity(contract.CheckReplyCode.Name, mock.Anything, mock.Anything).Return(contract.CheckReplyCodeResult{AttemptsLeft: 4}, nil).Once()
	s.env.OnActivity(contract.LapseInquiry.Name, mock.Anything, mock.Anything).Return(contract.LapseInquiryResult{}, nil).Once()
	s.closeWith(StatusLapsed)
	s.update(time.Minute, ConfirmIdentityUpdate, proxyID, true, nil)
	s.update(2*time.Minute, InquiryMailedUpdate, InquiryMailedInput{Clerk: "clerk1"}, true, nil)
	var wrong, other string
	s.update(3*24*time.Hour, EnterReplyUpdate, EnterReplyInput{Clerk: "clerk1", CaseNumber: proxyInput.CaseNumber, Code: "WRONG"}, true,
		func(err error) { wrong = err.Error() })
	s.update(4*24*time.Hour, EnterReplyUpdate, EnterReplyInput{Clerk: "clerk1", CaseNumber: "131016-20261120-000009", Code: "X"}, false,
		func(err error) { other = err.Error() })
	s.env.ExecuteWorkflow(ProxyIssuance, proxyInput)
	s.Contains(wrong, "4 attempts left")
	s.Contains(other, "another case")
	var res ProxyIssuanceResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(StatusLapsed, res.Status)
	s.Equal("reply_deadline_passed", res.Rejection.Code)
}

// TestInPersonClerkEntryNeedsAnotherClerk: in person, when the applicant
// cannot operate the touch panel, the declared clerk types after a second
// clerk confirms; the declaring clerk cannot confirm.
func (s *inPersonSuite) TestClerkEntryNeedsAnotherClerk() {
	s.mockCardAndCA(nil)
	var by string
	s.env.OnActivity(contract.SetPINs.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.SetPINsInput) (contract.SetPINsResult, error) {
			by = in.EnteredBy
			return contract.SetPINsResult{Kinds: in.Kinds}, nil
		}).Once()
	s.confirmIdentityLater(ConfirmIdentityInput{Clerk: "clerk1", DocumentType: "individual_number_card", Verified: true}, false)
	send := func(at time.Duration, name string, arg any, accept bool) {
		s.env.RegisterDelayedCallback(func() {
			s.env.UpdateWorkflow(name, name+at.String(), &testsuite.TestUpdateCallback{
				OnReject:   func(err error) { s.True(!accept, "rejected: %v", err) },
				OnAccept:   func() { s.True(accept, name+" accepted, want rejected") },
				OnComplete: func(any, error) {},
			}, arg)
		}, at)
	}
	send(30*time.Second, DeclarePINEntryUpdate, DeclarePINEntryInput{Clerk: "clerk1", Reason: "cannot operate the panel"}, true)
	send(2*time.Minute, ConfirmIntentUpdate, ConfirmIntentInput{Clerk: "clerk1"}, false)
	send(3*time.Minute, ConfirmIntentUpdate, ConfirmIntentInput{Clerk: "clerk2"}, true)
	s.env.ExecuteWorkflow(InPersonIssuance, testInput)
	s.NoError(s.env.GetWorkflowError())
	s.Equal("clerk1", by)
}

// TestReplyDeadline: the reply deadline is the end of an office day counted
// by internal/deadline (rolled past closed days), or, only when the policy
// sets ReplyWindow (test builds), the application time plus that window.
// Changed on purpose: the old procedure used a plain 30×24 h timer. The case
// lapses when the deadline fires and CloseCase is called once, at that time.
func (s *proxySuite) TestReplyDeadline() {
	start := s.env.Now()
	for _, tc := range []struct {
		name    string
		policy  InquiryPolicy
		want    time.Time
		lastDay string
	}{
		// Applied Thu 2026-11-26: the 30th day from the 27th is Sat 12-26,
		// rolled to Mon 12-28; it ends at 12-29 00:00 JST.
		{"default 30 days, rolled", InquiryPolicy{}, time.Date(2026, 12, 28, 15, 0, 0, 0, time.UTC), "2026-12-28"},
		{"municipality's 14 days", InquiryPolicy{ReplyDays: 14}, deadline.ReplyDeadline(start, 14).Fires, deadline.ReplyDeadline(start, 14).LastDay.String()},
		{"test window", InquiryPolicy{ReplyWindow: 48 * time.Hour}, start.Add(48 * time.Hour), "2026-11-28"},
	} {
		s.Run(tc.name, func() {
			s.SetupTest()
			s.mockUntilInquiry()
			s.env.OnActivity(contract.LapseInquiry.Name, mock.Anything, mock.Anything).Return(contract.LapseInquiryResult{}, nil).Once()
			var closedAt time.Time
			s.env.OnActivity(contract.CloseCase.Name, mock.Anything, mock.MatchedBy(func(in contract.CloseCaseInput) bool {
				return in.Status == StatusLapsed
			})).Return(func(_ context.Context, in contract.CloseCaseInput) (contract.CloseCaseResult, error) {
				closedAt = in.At
				return contract.CloseCaseResult{}, nil
			}).Once()
			s.update(time.Minute, ConfirmIdentityUpdate, proxyID, true, nil)
			s.update(2*time.Minute, InquiryMailedUpdate, InquiryMailedInput{Clerk: "clerk1"}, true, nil)
			var st State
			s.env.RegisterDelayedCallback(func() {
				v, err := s.env.QueryWorkflow(StateQuery)
				s.Require().NoError(err)
				s.NoError(v.Get(&st))
			}, 3*time.Minute)
			in := proxyInput
			in.Policy = tc.policy
			s.env.ExecuteWorkflow(ProxyIssuance, in)
			var res ProxyIssuanceResult
			s.NoError(s.env.GetWorkflowResult(&res))
			s.Equal(StatusLapsed, res.Status)
			s.Equal("reply_deadline_passed", res.Rejection.Code)
			s.Require().NotNil(st.Inquiry)
			s.True(tc.want.Equal(st.Inquiry.ReplyDeadline), "deadline %v, want %v", st.Inquiry.ReplyDeadline, tc.want)
			s.Equal(tc.lastDay, st.Inquiry.LastDay)
			s.True(tc.want.Equal(closedAt), "closed at %v, want the deadline %v", closedAt, tc.want)
			s.env.AssertExpectations(s.T())
		})
	}
}

// TestProxyIdentifiedAgainAtTheSecondVisit (issue 7 item 10): a proxy's
// check needs the power of attorney; after the reply the proxy is checked
// again, and without that check nothing reaches the card.
func (s *proxySuite) TestProxyIdentifiedAgainAtTheSecondVisit() {
	s.mockUntilInquiry()
	s.env.OnActivity(contract.CheckReplyCode.Name, mock.Anything, mock.Anything).Return(contract.CheckReplyCodeResult{OK: true}, nil).Once()
	s.env.OnActivity(contract.LapseInquiry.Name, mock.Anything, mock.Anything).Return(contract.LapseInquiryResult{Status: "answered"}, nil).Once()
	s.closeWith(StatusLapsed)
	noPoA := proxyID
	noPoA.PowerOfAttorney = false
	refused := sendAt(s.env, 30*time.Second, ConfirmIdentityUpdate, noPoA)
	s.update(time.Minute, ConfirmIdentityUpdate, proxyID, true, nil)
	s.update(2*time.Minute, InquiryMailedUpdate, InquiryMailedInput{Clerk: "clerk1"}, true, nil)
	reply := 2 * 24 * time.Hour
	s.update(reply, EnterReplyUpdate, EnterReplyInput{Clerk: "clerk1", CaseNumber: proxyInput.CaseNumber, Code: "ABCD-EFGH-JK"}, true, nil)
	var st State
	s.env.RegisterDelayedCallback(func() {
		v, err := s.env.QueryWorkflow(StateQuery)
		s.Require().NoError(err)
		s.NoError(v.Get(&st))
	}, reply+time.Minute)

	s.env.ExecuteWorkflow(ProxyIssuance, proxyInput)
	s.Contains(refused.rejection(), "power of attorney")
	s.Equal(StepSecondVisit, st.Step)
	s.Contains(st.WaitingFor, "second visit")
	var res ProxyIssuanceResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(StatusLapsed, res.Status)
	s.Equal("identity_check_timeout", res.Rejection.Code)
	s.env.AssertNotCalled(s.T(), contract.ReadCard.Name, mock.Anything, mock.Anything)
	s.env.AssertNumberOfCalls(s.T(), contract.CheckRegister.Name, 1)
}

// TestRegisterCheckedAgainBeforeTheCardSteps (issue 7 item 10): weeks pass
// between the application and the reply; a person no longer in the
// register by then is refused before the card is touched.
func (s *proxySuite) TestRegisterCheckedAgainBeforeTheCardSteps() {
	s.mockUntilInquiry()
	s.env.OnActivity(contract.CheckRegister.Name, mock.Anything, mock.Anything).Return(contract.CheckRegisterResult{},
		contract.Reject("not_resident", "住民ではありません / Not a resident")).Once()
	s.env.OnActivity(contract.CheckReplyCode.Name, mock.Anything, mock.Anything).Return(contract.CheckReplyCodeResult{OK: true}, nil).Once()
	s.env.OnActivity(contract.LapseInquiry.Name, mock.Anything, mock.Anything).Return(contract.LapseInquiryResult{Status: "answered"}, nil).Once()
	s.closeWith(StatusRejected)
	s.update(time.Minute, ConfirmIdentityUpdate, proxyID, true, nil)
	s.update(2*time.Minute, InquiryMailedUpdate, InquiryMailedInput{Clerk: "clerk1"}, true, nil)
	reply := 20 * 24 * time.Hour
	s.update(reply, EnterReplyUpdate, EnterReplyInput{Clerk: "clerk1", CaseNumber: proxyInput.CaseNumber, Code: "ABCD-EFGH-JK"}, true, nil)
	s.update(reply+time.Minute, ConfirmIdentityUpdate, proxyID, true, nil)

	s.env.ExecuteWorkflow(ProxyIssuance, proxyInput)
	var res ProxyIssuanceResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(StatusRejected, res.Status)
	s.Equal("not_resident", res.Rejection.Code)
	s.env.AssertNumberOfCalls(s.T(), contract.CheckRegister.Name, 2)
	s.env.AssertNotCalled(s.T(), contract.ReadCard.Name, mock.Anything, mock.Anything)
}

// TestProxyCheckedWhileTheRegisterIsChecked: the clerk may check the
// proxy's documents while the register check runs; that check counts (it
// used to be taken as the applicant's and dropped, so the case waited for
// a check already made).
func (s *proxySuite) TestProxyCheckedWhileTheRegisterIsChecked() {
	s.env.OnActivity(contract.CheckRegister.Name, mock.Anything, mock.Anything).After(time.Minute).Return(contract.CheckRegisterResult{Person: testPerson}, nil).Once()
	s.env.OnActivity(contract.RecordEvent.Name, mock.Anything, mock.Anything).Return(contract.RecordEventResult{}, nil)
	s.env.OnActivity(contract.PrepareInquiry.Name, mock.Anything, mock.Anything).Return(contract.PrepareInquiryResult{}, nil).Once()
	s.env.OnActivity(contract.LapseInquiry.Name, mock.Anything, mock.Anything).Return(contract.LapseInquiryResult{}, nil).Once()
	s.closeWith(StatusLapsed)
	noPoA := proxyID
	noPoA.PowerOfAttorney = false
	refused := sendAt(s.env, 20*time.Second, ConfirmIdentityUpdate, noPoA)
	early := sendAt(s.env, 30*time.Second, ConfirmIdentityUpdate, proxyID)
	var st State
	s.env.RegisterDelayedCallback(func() {
		v, err := s.env.QueryWorkflow(StateQuery)
		s.Require().NoError(err)
		s.NoError(v.Get(&st))
	}, 2*time.Minute)
	s.env.ExecuteWorkflow(ProxyIssuance, proxyInput)
	s.Contains(refused.rejection(), "power of attorney", "the proxy's check needs the power of attorney from the start")
	s.True(early.accepted, early.rejection())
	s.Equal(StepInquiryMailing, st.Step, "the early check was kept")
	s.Require().Len(st.Identity.Checks, 1)
	s.Equal("proxy", st.Identity.Checks[0].Person)
	var res ProxyIssuanceResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal("reply_deadline_passed", res.Rejection.Code, "nobody mailed the letter")
}
