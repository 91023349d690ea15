package workflows

import (
	"context"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/inquiry"
)

var (
	pinChangeInput = InPersonPINChangeInput{CaseNumber: "131016-20261126-000401", MunicipalityCode: "131016", Clerk: "clerk1",
		Request: PINRequest{ResidentCode: "00000000011", UserAuth: true, TerminalID: "T0001"}}
	pinResetInput = InPersonPINResetInput{CaseNumber: "131016-20261126-000402", MunicipalityCode: "131016", Clerk: "clerk1",
		Request: PINRequest{ResidentCode: "00000000011", Signing: true, UserAuth: true, TerminalID: "T0001"}}
	proxyResetInput = ProxyPINResetInput{CaseNumber: "131016-20261126-000403", MunicipalityCode: "131016", Clerk: "clerk1",
		Request: PINRequest{ResidentCode: "00000000011", UserAuth: true, TerminalID: "T0001"}, Proxy: testProxy}
)

// pinCard mocks the card check of the PIN procedures: the applicant's card
// C1 with both certificates current.
func (s *statusSuite) pinCard() {
	s.card("C1", "a2")
	s.env.OnActivity(contract.CheckCard.Name, mock.Anything, mock.Anything).Return(contract.CheckCardResult{Expiry: "2034-04-01"}, nil)
	s.targets(signCert, authCert)
}

// TestPINChange: a wrong current PIN is typed again while the card allows;
// a PIN the card blocks refuses the change; a clerk typing for the holder
// needs another clerk's confirmation first.
func (s *statusSuite) TestPINChange() {
	for _, tc := range []struct {
		name    string
		answers []contract.ChangePINResult
		byClerk bool
		want    string
		code    string
	}{
		{name: "wrong then right", answers: []contract.ChangePINResult{{RetriesLeft: 2}, {Changed: true, RetriesLeft: 3}}, want: StatusCompleted},
		{name: "blocked", answers: []contract.ChangePINResult{{RetriesLeft: 1}, {Blocked: true}}, want: StatusRejected, code: "pin_blocked"},
		{name: "typed by a clerk", byClerk: true, answers: []contract.ChangePINResult{{Changed: true, RetriesLeft: 3}}, want: StatusCompleted},
	} {
		s.Run(tc.name, func() {
			s.SetupTest()
			s.pinCard()
			answers, enteredBy := tc.answers, ""
			calls := 0
			s.env.OnActivity(contract.ChangePIN.Name, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in contract.ChangePINInput) (contract.ChangePINResult, error) {
					calls++
					enteredBy = in.EnteredBy
					a := answers[0]
					answers = answers[1:]
					return a, nil
				})
			s.as(contract.ProcInPersonPINChange, pinChangeInput.CaseNumber)
			sendAt(s.env, time.Minute, ConfirmIdentityUpdate, identityOK)
			var own *sent
			if tc.byClerk {
				sendAt(s.env, 30*time.Second, DeclarePINEntryUpdate, DeclarePINEntryInput{Clerk: "clerk1"})
				own = sendAt(s.env, 2*time.Minute, ConfirmIntentUpdate, ConfirmIntentInput{Clerk: "clerk1"})
				sendAt(s.env, 3*time.Minute, ConfirmIntentUpdate, ConfirmIntentInput{Clerk: "clerk2"})
			}
			s.env.ExecuteWorkflow(InPersonPINChange, pinChangeInput)
			var res InPersonPINChangeResult
			s.Require().NoError(s.env.GetWorkflowResult(&res))
			s.Equal(tc.want, res.Status, "%+v", res.Rejection)
			s.Equal(len(tc.answers), calls)
			if tc.code != "" {
				s.Equal(tc.code, res.Rejection.Code)
			}
			if tc.byClerk {
				s.NotEmpty(own.rejection(), "the clerk typing may not confirm their own entry")
				s.Equal("clerk1", enteredBy)
			} else {
				s.Empty(enteredBy)
			}
		})
	}
}

// TestPINReset: in person, both PINs reset at once after the identity and
// card checks; a card without a certificate of a kind asked for is refused
// before anything is set.
func (s *statusSuite) TestPINReset() {
	s.Run("both kinds", func() {
		s.SetupTest()
		s.pinCard()
		var kinds []string
		s.env.OnActivity(contract.ResetPIN.Name, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in contract.ResetPINInput) (contract.ResetPINResult, error) {
				kinds = in.Kinds
				return contract.ResetPINResult{Kinds: in.Kinds}, nil
			}).Once()
		s.as(contract.ProcInPersonPINReset, pinResetInput.CaseNumber)
		sendAt(s.env, time.Minute, ConfirmIdentityUpdate, identityOK)
		s.env.ExecuteWorkflow(InPersonPINReset, pinResetInput)
		var res InPersonPINResetResult
		s.Require().NoError(s.env.GetWorkflowResult(&res))
		s.Equal(StatusCompleted, res.Status, "%+v", res.Rejection)
		s.Equal([]string{contract.KindSigning, contract.KindUserAuth}, kinds)
		s.Equal([]string{"pin_reset_application", "identity_check_record"}, s.docs)
	})
	s.Run("no certificate of the kind", func() {
		s.SetupTest()
		s.card("C1", "a2")
		s.env.OnActivity(contract.CheckCard.Name, mock.Anything, mock.Anything).Return(contract.CheckCardResult{Expiry: "2034-04-01"}, nil)
		s.targets(authCert)
		s.as(contract.ProcInPersonPINReset, pinResetInput.CaseNumber)
		sendAt(s.env, time.Minute, ConfirmIdentityUpdate, identityOK)
		s.env.ExecuteWorkflow(InPersonPINReset, pinResetInput)
		var res InPersonPINResetResult
		s.Require().NoError(s.env.GetWorkflowResult(&res))
		s.Equal(StatusRejected, res.Status)
		s.Equal("no_certificate_of_kind", res.Rejection.Code)
	})
}

// TestProxyPINReset: the inquiry names the PIN reset; the clerk who took
// the reply types the new PIN after another clerk's confirmation.
func (s *statusSuite) TestProxyPINReset() {
	s.pinCard()
	var subject, enteredBy string
	s.env.OnActivity(contract.PrepareInquiry.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.PrepareInquiryInput) (contract.PrepareInquiryResult, error) {
			subject = in.Subject
			return contract.PrepareInquiryResult{}, nil
		}).Once()
	s.env.OnActivity(contract.MarkMailed.Name, mock.Anything, mock.Anything).Return(contract.MarkMailedResult{}, nil).Once()
	s.env.OnActivity(contract.CheckReplyCode.Name, mock.Anything, mock.Anything).Return(contract.CheckReplyCodeResult{OK: true}, nil).Once()
	s.env.OnActivity(contract.ResetPIN.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.ResetPINInput) (contract.ResetPINResult, error) {
			enteredBy = in.EnteredBy
			return contract.ResetPINResult{Kinds: in.Kinds}, nil
		}).Once()
	s.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: WorkflowID(contract.ProcProxyPINReset, proxyResetInput.CaseNumber)})
	sendAt(s.env, time.Minute, ConfirmIdentityUpdate, proxyOK)
	sendAt(s.env, 2*time.Minute, InquiryMailedUpdate, InquiryMailedInput{Clerk: "clerk1"})
	week := 7 * 24 * time.Hour
	sendAt(s.env, week, EnterReplyUpdate, EnterReplyInput{Clerk: "clerk2", CaseNumber: proxyResetInput.CaseNumber, Code: "ABCD-EFGH-JK"})
	sendAt(s.env, week+time.Minute, ConfirmIdentityUpdate, proxyOK)
	own := sendAt(s.env, week+2*time.Minute, ConfirmIntentUpdate, ConfirmIntentInput{Clerk: "clerk2"})
	sendAt(s.env, week+3*time.Minute, ConfirmIntentUpdate, ConfirmIntentInput{Clerk: "clerk1"})
	s.env.ExecuteWorkflow(ProxyPINReset, proxyResetInput)
	var res ProxyPINResetResult
	s.Require().NoError(s.env.GetWorkflowResult(&res))
	s.Equal(StatusCompleted, res.Status, "%+v", res.Rejection)
	s.Equal(inquiry.SubjectPINReset, subject)
	s.Equal("clerk2", enteredBy, "the clerk who took the reply types the PIN")
	s.NotEmpty(own.rejection())
	s.Equal([]string{"pin_reset_application", "proxy_identity_check_record", "inquiry_reply", "power_of_attorney"}, s.docs)
}
