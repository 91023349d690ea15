package workflows

import (
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/reasons"
	"github.com/madoguchi/madoguchi/internal/validity"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// The issuance fixes of issue 7 item 10, each pinned by a test. The CA
// steps run on the fake CA through the real activities, so a revocation
// reason the allowlist refuses fails the test.

func (s *kitSuite) runInPerson(in InPersonIssuanceInput) InPersonIssuanceResult {
	s.env.ExecuteWorkflow(InPersonIssuance, in)
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var res InPersonIssuanceResult
	s.Require().NoError(s.env.GetWorkflowResult(&res))
	return res
}

// TestNewCardGetsNewPINsAndANewIssuance: the current certificates are on
// another card (lost, returned, replaced) than the one read: this is a new
// issuance, not a renewal. Every kind gets a new PIN, the validity counts
// from the issue day (5th birthday, not the renewal's 6th), and the old
// card's certificates are revoked: as compromised when that card was lost,
// as ceased otherwise.
func (s *kitSuite) TestNewCardGetsNewPINsAndANewIssuance() {
	old := time.Date(2027, 1, 31, 14, 59, 59, 0, time.UTC)
	for _, tc := range []struct {
		cardStatus string
		reason     reasons.Reason
	}{
		{"lost", reasons.KeyCompromise},
		{"returned", reasons.CessationOfOperation},
		{"active", reasons.CessationOfOperation},
	} {
		s.Run(tc.cardStatus, func() {
			s.SetupTest()
			s.inPerson(contract.CheckRegisterResult{Person: testPerson, Current: []contract.CurrentCertificate{
				{Kind: contract.KindSigning, Serial: "old-sign", NotAfter: old, Card: "C0", CardStatus: tc.cardStatus},
				{Kind: contract.KindUserAuth, Serial: "old-auth", NotAfter: old, Card: "C0", CardStatus: tc.cardStatus},
			}})
			s.readCard()
			s.write()
			sendAt(s.env, time.Minute, ConfirmIdentityUpdate, identityOK)
			res := s.runInPerson(testInput)
			s.Equal(StatusCompleted, res.Status)
			s.Equal([][]string{{contract.KindSigning, contract.KindUserAuth}}, s.pins, "a new card gets every PIN")
			s.Equal(map[string]reasons.Reason{"old-sign": tc.reason, "old-auth": tc.reason}, s.ca.revokedWith())
			s.ElementsMatch([]string{"old-sign", "old-auth"}, res.Detail.Revoked)
			want := validity.NewDate(2031, time.April, 1).End()
			s.Require().Len(s.ca.issued, 2)
			for _, r := range s.ca.issued {
				s.True(want.Equal(r.NotAfter), "%s NotAfter %v, want %v (a new issuance)", r.Kind, r.NotAfter, want)
				s.Empty(r.CounterpartSerial)
			}
			s.False(s.state().Issuance.Renewal, "certificates on another card are not renewed")
		})
	}
}

// TestRenewalCountsOnlyForTheSameCard: the signing certificate is on the
// card read, the user-authentication one on an older card: the first is
// renewed (no new PIN, revoked as superseded), the second issued anew with
// a PIN, and the old card's one revoked as ceased.
func (s *kitSuite) TestRenewalCountsOnlyForTheSameCard() {
	old := time.Date(2027, 1, 31, 14, 59, 59, 0, time.UTC)
	s.inPerson(contract.CheckRegisterResult{Person: testPerson, Current: []contract.CurrentCertificate{
		{Kind: contract.KindSigning, Serial: "cur-sign", NotAfter: old, Card: "C1", CardStatus: "active"},
		{Kind: contract.KindUserAuth, Serial: "old-auth", NotAfter: old, Card: "C0", CardStatus: "returned"},
	}})
	s.readCard()
	s.write()
	sendAt(s.env, time.Minute, ConfirmIdentityUpdate, identityOK)
	res := s.runInPerson(testInput)
	s.Equal(StatusCompleted, res.Status)
	s.Equal([][]string{{contract.KindUserAuth}}, s.pins, "the renewed kind keeps its PIN")
	s.Equal(map[string]reasons.Reason{"cur-sign": reasons.Superseded, "old-auth": reasons.CessationOfOperation}, s.ca.revokedWith())
	s.True(s.state().Issuance.Renewal)
}

// TestCounterpartSerialWhenOnlyOneKindIsIssued: only the signing
// certificate is applied for; the user-authentication certificate on the
// same card is named as its counterpart (対応証明書) and kept.
func (s *kitSuite) TestCounterpartSerialWhenOnlyOneKindIsIssued() {
	authEnds := validity.NewDate(2031, time.April, 1).End()
	s.inPerson(contract.CheckRegisterResult{Person: testPerson, Current: []contract.CurrentCertificate{
		{Kind: contract.KindUserAuth, Serial: "cur-auth", NotAfter: authEnds, Card: "C1", CardStatus: "active"},
	}})
	s.readCard()
	s.write()
	sendAt(s.env, time.Minute, ConfirmIdentityUpdate, identityOK)
	in := testInput
	in.Application.UserAuth = false
	res := s.runInPerson(in)
	s.Equal(StatusCompleted, res.Status)
	s.Require().Len(s.ca.issued, 1)
	r := s.ca.issued[0]
	s.Equal(contract.KindSigning, r.Kind)
	s.Equal("cur-auth", r.CounterpartSerial)
	s.False(r.NotAfter.After(authEnds), "the signing certificate ends no later than the user-authentication one")
	s.Equal([][]string{{contract.KindSigning}}, s.pins)
	s.Empty(s.ca.revoked, "the counterpart stays")
}

// TestSigningBarredGetsTheUserAuthenticationCertificate: a person under 15
// or an adult ward applying for both gets the user-authentication
// certificate only, applied for by the legal representative, whose
// identity is checked: a check of the applicant is refused.
func (s *kitSuite) TestSigningBarredGetsTheUserAuthenticationCertificate() {
	for _, code := range []string{"under_15_signing", "adult_ward_signing"} {
		s.Run(code, func() {
			s.SetupTest()
			s.inPerson(contract.CheckRegisterResult{Person: testPerson, SigningBarred: code, SigningBarredMessage: "署名用電子証明書は発行できません"})
			s.readCard()
			s.write()
			applicant := identityOK
			applicant.Person = "applicant"
			refused := sendAt(s.env, time.Minute, ConfirmIdentityUpdate, applicant)
			rep := identityOK
			rep.Person = "legal_representative"
			accepted := sendAt(s.env, 2*time.Minute, ConfirmIdentityUpdate, rep)
			res := s.runInPerson(testInput)
			s.Equal(StatusCompleted, res.Status)
			s.False(refused.accepted)
			s.Contains(refused.rejection(), "legal_representative")
			s.True(accepted.accepted, accepted.rejection())
			s.Require().Len(s.ca.issued, 1)
			s.Equal(contract.KindUserAuth, s.ca.issued[0].Kind)
			s.Nil(s.ca.issued[0].Person)
			s.Equal([][]string{{contract.KindUserAuth}}, s.pins)
			s.Contains(s.docs, "legal_representative_identity_check_record")
			st := s.state()
			s.Equal([]string{contract.KindUserAuth}, st.Issuance.Kinds)
			s.Contains(st.Issuance.Note, code)
			s.Require().Len(st.Identity.Checks, 1)
			s.Equal("legal_representative", st.Identity.Checks[0].Person)
		})
	}
}

// TestSigningBarredSigningOnlyIsRejected: asked for the signing certificate
// only, the application is refused with the register's code, before any
// identity check or card step.
func (s *kitSuite) TestSigningBarredSigningOnlyIsRejected() {
	s.inPerson(contract.CheckRegisterResult{Person: testPerson, SigningBarred: "adult_ward_signing", SigningBarredMessage: "成年被後見人には署名用電子証明書を発行できません"})
	in := testInput
	in.Application.UserAuth = false
	res := s.runInPerson(in)
	s.Equal(StatusRejected, res.Status)
	s.Equal("adult_ward_signing", res.Rejection.Code)
	s.Equal("成年被後見人には署名用電子証明書を発行できません", res.Rejection.Message)
	s.Empty(s.ca.issued)
	s.env.AssertNotCalled(s.T(), contract.ReadCard.Name, mock.Anything, mock.Anything)
}

// TestClerkDeclaresPINEntryWhileTheCardIsRead: a declaration accepted at
// the card check (one of the steps in-person issuance accepts it at) makes
// the clerk type the PINs after a second clerk's confirmation; it used to
// be accepted and then ignored, the applicant being asked at the panel.
func (s *kitSuite) TestClerkDeclaresPINEntryWhileTheCardIsRead() {
	s.inPerson(contract.CheckRegisterResult{Person: testPerson})
	s.env.OnActivity(contract.ReadCard.Name, mock.Anything, mock.Anything).After(5*time.Minute).Return(contract.ReadCardResult{CardSerial: "C1", Expiry: "20340401"}, nil).Once()
	s.write()
	sendAt(s.env, time.Minute, ConfirmIdentityUpdate, identityOK)
	declare := sendAt(s.env, 3*time.Minute, DeclarePINEntryUpdate, DeclarePINEntryInput{Clerk: "clerk1", Reason: "cannot operate the panel"})
	intent := sendAt(s.env, 10*time.Minute, ConfirmIntentUpdate, ConfirmIntentInput{Clerk: "clerk2"})
	res := s.runInPerson(testInput)
	s.Equal(StatusCompleted, res.Status)
	s.True(declare.accepted, declare.rejection())
	s.Equal(kit.DeclarePINEntryResult{Step: StepCardCheck}, declare.result)
	s.True(intent.accepted, intent.rejection())
	s.Equal("clerk1", s.pinsBy, "the declared clerk types the PINs")
	st := s.state()
	s.Equal("clerk1", st.PINEnteredBy)
	s.Equal("clerk2", st.PINConfirmedBy)
}
