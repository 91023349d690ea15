package workflows

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/madoguchi/madoguchi/activities/municipal"
	"github.com/madoguchi/madoguchi/activities/org"
	"github.com/madoguchi/madoguchi/activities/terminal"
	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/reasons"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

var (
	testProxy       = Proxy{Name: "代理 人", Address: "東京都千代田区一番町1番地", Relationship: "spouse"}
	revocationInput = InPersonRevocationInput{CaseNumber: "131016-20261126-000201", MunicipalityCode: "131016", Clerk: "clerk1",
		Request: RevocationRequest{ResidentCode: "00000000206", Signing: true, Reason: reasons.CessationOfOperation, TerminalID: "T0001"}}
	lossInput    = LossReportInput{CaseNumber: "jlis-20261126-000001", Office: "jlis", Operator: "jlis1", CardSerial: "C1"}
	releaseInput = InPersonHoldReleaseInput{CaseNumber: "131016-20261126-000301", MunicipalityCode: "131016", Clerk: "clerk1",
		Request: HoldReleaseRequest{ResidentCode: "00000000222", CardSerial: "C1", TerminalID: "T0001"}}
	notAfter    = time.Date(2031, 4, 1, 0, 0, 0, 0, time.UTC)
	heldTargets = contract.FindCertificatesResult{Certificates: []contract.RecordedCertificate{
		{Serial: "a2", Kind: contract.KindUserAuth, Card: "C1", NotAfter: notAfter, Status: "active"}}}
	heldStatus = contract.CertificateStatus{Serial: "a2", Kind: contract.KindUserAuth, State: "revoked", Reason: reasons.CertificateHold}
	proxyOK    = ConfirmIdentityInput{Clerk: "clerk1", DocumentType: "drivers_license", Verified: true, PowerOfAttorney: true}
)

// statusSuite runs the revocation, loss report and hold release procedures
// on the Organization's real activities (with the reason allowlist) and a
// fake CA, under the workflow ids the gateway gives them.
type statusSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env      *testsuite.TestWorkflowEnvironment
	ca       *fakeIssuer
	recorded []contract.RecordRevokedInput
	docs     []string
	verifies int
}

func TestStatusChanges(t *testing.T) { suite.Run(t, new(statusSuite)) }

func (s *statusSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.ca = &fakeIssuer{cards: map[string][]contract.CertificateStatus{}, status: map[string]contract.CertificateStatus{}}
	s.recorded, s.docs, s.verifies = nil, nil, 0
	s.env.RegisterActivity(&municipal.Municipal{})
	s.env.RegisterActivity(&municipal.Inquiry{})
	s.env.RegisterActivity(&terminal.Card{})
	s.env.RegisterActivity(&org.CA{Issuer: s.ca})
	s.env.SetStartTime(time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC))
	s.env.OnActivity(contract.CloseCase.Name, mock.Anything, mock.Anything).Return(contract.CloseCaseResult{}, nil)
	s.env.OnActivity(contract.RecordEvent.Name, mock.Anything, mock.Anything).Return(contract.RecordEventResult{}, nil).Maybe()
	s.env.OnActivity(contract.RecordRevoked.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.RecordRevokedInput) (contract.RecordRevokedResult, error) {
			s.recorded = append(s.recorded, in)
			return contract.RecordRevokedResult{}, nil
		}).Maybe()
	s.env.OnActivity(contract.RegisterDocuments.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.RegisterDocumentsInput) (contract.RegisterDocumentsResult, error) {
			s.docs = in.DocTypes
			return contract.RegisterDocumentsResult{RetainUntil: "2031-11-26"}, nil
		}).Maybe()
	s.env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil)
}

func (s *statusSuite) as(procedure, caseNumber string) {
	s.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: WorkflowID(procedure, caseNumber)})
}

func (s *statusSuite) targets(certs ...contract.RecordedCertificate) {
	s.env.OnActivity(contract.FindCertificates.Name, mock.Anything, mock.Anything).Return(
		contract.FindCertificatesResult{Certificates: certs}, nil)
}

func (s *statusSuite) card(serial, authSerial string) {
	s.env.OnActivity(contract.ReadCard.Name, mock.Anything, mock.Anything).Return(
		contract.ReadCardResult{CardSerial: serial, Expiry: "20340401", AuthSerial: authSerial}, nil)
}

var (
	signCert = contract.RecordedCertificate{Serial: "51", Kind: contract.KindSigning, Card: "C1", NotAfter: notAfter, Status: "active"}
	authCert = contract.RecordedCertificate{Serial: "a2", Kind: contract.KindUserAuth, Card: "C1", NotAfter: notAfter, Status: "active"}
)

// TestRevocation: in person and by proxy, the certificates asked for are
// revoked with the typed reason, the other kind is left alone, the record
// is updated and the notice is among the documents; a card that is brought
// must hold them, a lost card is not read.
func (s *statusSuite) TestRevocation() {
	for _, tc := range []struct {
		name     string
		proxy    bool
		req      RevocationRequest
		targets  []contract.RecordedCertificate
		cardRead string // the card in the reader; "" when none is read
		status   string
		code     string
		revoked  map[string]reasons.Reason
		lostCard string
		wantDocs []string
	}{
		{name: "wish, signing only, card brought", req: revocationInput.Request, targets: []contract.RecordedCertificate{signCert},
			cardRead: "C1", status: StatusCompleted, revoked: map[string]reasons.Reason{"51": reasons.CessationOfOperation},
			wantDocs: []string{"revocation_application", "identity_check_record", "revocation_notice"}},
		{name: "card lost, both", req: RevocationRequest{ResidentCode: "00000000206", Signing: true, UserAuth: true, Reason: reasons.KeyCompromise, CardLost: true},
			targets: []contract.RecordedCertificate{signCert, authCert}, status: StatusCompleted, lostCard: "C1",
			revoked: map[string]reasons.Reason{"51": reasons.KeyCompromise, "a2": reasons.KeyCompromise}},
		{name: "user authentication only leaves signing", req: RevocationRequest{ResidentCode: "00000000206", UserAuth: true, Reason: reasons.CessationOfOperation},
			targets: []contract.RecordedCertificate{authCert}, status: StatusCompleted, revoked: map[string]reasons.Reason{"a2": reasons.CessationOfOperation}},
		{name: "another card in the reader", req: revocationInput.Request, targets: []contract.RecordedCertificate{signCert},
			cardRead: "C9", status: StatusRejected, code: "card_not_holding", revoked: map[string]reasons.Reason{}},
		{name: "by proxy, with the power of attorney", proxy: true, req: revocationInput.Request, targets: []contract.RecordedCertificate{signCert},
			cardRead: "C1", status: StatusCompleted, revoked: map[string]reasons.Reason{"51": reasons.CessationOfOperation},
			wantDocs: []string{"revocation_application", "identity_check_record", "power_of_attorney", "revocation_notice"}},
	} {
		s.Run(tc.name, func() {
			s.SetupTest()
			s.targets(tc.targets...)
			if tc.cardRead != "" {
				s.card(tc.cardRead, "")
			}
			var res kit.Outcome[RevocationResult]
			if tc.proxy {
				s.as(contract.ProcProxyRevocation, revocationInput.CaseNumber)
				early := sendAt(s.env, time.Minute, ConfirmIdentityUpdate, identityOK)
				sendAt(s.env, 2*time.Minute, ConfirmIdentityUpdate, proxyOK)
				s.env.ExecuteWorkflow(ProxyRevocation, ProxyRevocationInput{CaseNumber: revocationInput.CaseNumber, MunicipalityCode: "131016",
					Clerk: "clerk1", Request: tc.req, Proxy: testProxy})
				s.Contains(early.rejection(), "委任状", "a proxy's check needs the power of attorney")
			} else {
				s.as(contract.ProcInPersonRevocation, revocationInput.CaseNumber)
				sendAt(s.env, time.Minute, ConfirmIdentityUpdate, identityOK)
				in := revocationInput
				in.Request = tc.req
				s.env.ExecuteWorkflow(InPersonRevocation, in)
			}
			s.Require().True(s.env.IsWorkflowCompleted())
			s.Require().NoError(s.env.GetWorkflowError())
			s.Require().NoError(s.env.GetWorkflowResult(&res))
			s.Equal(tc.status, res.Status, "%+v", res.Rejection)
			if tc.code != "" {
				s.Equal(tc.code, res.Rejection.Code)
			}
			s.Equal(tc.revoked, s.ca.revokedWith())
			if tc.status != StatusCompleted {
				s.Empty(s.recorded, "a refused revocation records nothing")
				return
			}
			s.Require().Len(s.recorded, 1)
			s.Len(s.recorded[0].Serials, len(tc.revoked))
			s.Equal(tc.lostCard, s.recorded[0].LostCard)
			s.Len(res.Detail.Revoked, len(tc.revoked))
			if tc.wantDocs != nil {
				s.Equal(tc.wantDocs, s.docs)
			}
		})
	}
}

// TestLossReport: the card's user-authentication certificate is held, its
// signing one revoked as compromised, an already revoked one left alone;
// an unknown card is refused and nothing changes.
func (s *statusSuite) TestLossReport() {
	s.Run("held and revoked", func() {
		s.SetupTest()
		s.ca.cards["C1"] = []contract.CertificateStatus{
			{Serial: "51", Kind: contract.KindSigning, State: "good"}, {Serial: "a2", Kind: contract.KindUserAuth, State: "good"},
			{Serial: "40", Kind: contract.KindSigning, State: "revoked", Reason: reasons.Superseded}}
		s.as(contract.ProcLossReport, lossInput.CaseNumber)
		s.env.ExecuteWorkflow(LossReport, lossInput)
		var res LossReportResult
		s.Require().NoError(s.env.GetWorkflowResult(&res))
		s.Equal(StatusCompleted, res.Status)
		s.Equal([]string{"a2"}, s.ca.held)
		s.Equal(map[string]reasons.Reason{"51": reasons.KeyCompromise}, s.ca.revokedWith())
		s.Len(res.Detail.Held, 1)
		s.Len(res.Detail.Revoked, 1)
		s.Require().Len(res.Detail.Unchanged, 1)
		s.Equal("40", res.Detail.Unchanged[0].Serial)
	})
	s.Run("unknown card", func() {
		s.SetupTest()
		s.as(contract.ProcLossReport, lossInput.CaseNumber)
		s.env.ExecuteWorkflow(LossReport, lossInput)
		var res LossReportResult
		s.Require().NoError(s.env.GetWorkflowResult(&res))
		s.Equal(StatusRejected, res.Status)
		s.Equal("unknown_card", res.Rejection.Code)
		s.Empty(s.ca.held)
		s.Empty(s.ca.revokedWith())
	})
}

// TestHoldRelease: a held certificate on the card brought is released once
// the PIN verifies on the card (a wrong PIN may be typed again); a revoked
// certificate, another card, or a PIN the card blocks is refused and the
// hold stays.
func (s *statusSuite) TestHoldRelease() {
	for _, tc := range []struct {
		name     string
		proxy    bool
		status   contract.CertificateStatus
		authRead string
		answers  []contract.VerifyPINResult
		want     string
		code     string
	}{
		{name: "released after one wrong PIN", status: heldStatus, authRead: "A2",
			answers: []contract.VerifyPINResult{{RetriesLeft: 2}, {Verified: true, RetriesLeft: 3}}, want: StatusCompleted},
		{name: "by proxy", proxy: true, status: heldStatus, authRead: "a2", answers: []contract.VerifyPINResult{{Verified: true, RetriesLeft: 3}}, want: StatusCompleted},
		{name: "revoked, not held", status: contract.CertificateStatus{Serial: "a2", State: "revoked", Reason: reasons.KeyCompromise},
			want: StatusRejected, code: "revoked_not_held"},
		{name: "not on hold", status: contract.CertificateStatus{Serial: "a2", State: "good"}, want: StatusRejected, code: "not_on_hold"},
		{name: "another card's certificate", status: heldStatus, authRead: "b7", want: StatusRejected, code: "card_not_held"},
		{name: "PIN blocked", status: heldStatus, authRead: "a2",
			answers: []contract.VerifyPINResult{{RetriesLeft: 1}, {Blocked: true}}, want: StatusRejected, code: "pin_blocked"},
	} {
		s.Run(tc.name, func() {
			s.SetupTest()
			s.ca.status["a2"] = tc.status
			s.targets(authCert)
			if tc.authRead != "" {
				s.card("C1", tc.authRead)
			}
			answers := tc.answers
			s.env.OnActivity(contract.VerifyPIN.Name, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in contract.VerifyPINInput) (contract.VerifyPINResult, error) {
					s.Equal(contract.KindUserAuth, in.Kind)
					s.verifies++
					a := answers[0]
					answers = answers[1:]
					return a, nil
				}).Maybe()
			var res kit.Outcome[HoldReleaseResult]
			if tc.proxy {
				s.as(contract.ProcProxyHoldRelease, releaseInput.CaseNumber)
				sendAt(s.env, time.Minute, ConfirmIdentityUpdate, proxyOK)
				s.env.ExecuteWorkflow(ProxyHoldRelease, ProxyHoldReleaseInput{CaseNumber: releaseInput.CaseNumber, MunicipalityCode: "131016",
					Clerk: "clerk1", Request: releaseInput.Request, Proxy: testProxy})
			} else {
				s.as(contract.ProcInPersonHoldRelease, releaseInput.CaseNumber)
				sendAt(s.env, time.Minute, ConfirmIdentityUpdate, identityOK)
				s.env.ExecuteWorkflow(InPersonHoldRelease, releaseInput)
			}
			s.Require().NoError(s.env.GetWorkflowError())
			s.Require().NoError(s.env.GetWorkflowResult(&res))
			s.Equal(tc.want, res.Status, "%+v", res.Rejection)
			s.Equal(len(tc.answers), s.verifies)
			if tc.want == StatusCompleted {
				s.Equal([]string{"a2"}, s.ca.released)
				s.Len(res.Detail.Released, 1)
				return
			}
			s.Equal(tc.code, res.Rejection.Code)
			s.Empty(s.ca.released, "a refused release leaves the hold")
		})
	}
}

// TestRevocationReasonsAllowlist: the revocation procedures may use only
// the holder's wish and a leak or loss; the loss report may hold and revoke
// as compromised; a hold release may only lift a hold. The CA refuses the
// rest whatever the input says.
func TestRevocationReasonsAllowlist(t *testing.T) {
	for _, tc := range []struct {
		procedure string
		allowed   []reasons.Reason
	}{
		{contract.ProcInPersonRevocation, []reasons.Reason{reasons.KeyCompromise, reasons.CessationOfOperation}},
		{contract.ProcProxyRevocation, []reasons.Reason{reasons.KeyCompromise, reasons.CessationOfOperation}},
		{contract.ProcLossReport, []reasons.Reason{reasons.CertificateHold, reasons.KeyCompromise}},
		{contract.ProcInPersonHoldRelease, []reasons.Reason{reasons.CertificateHold}},
		{contract.ProcProxyHoldRelease, []reasons.Reason{reasons.CertificateHold}},
	} {
		for _, r := range append(reasons.Revocations(), reasons.CertificateHold) {
			if got := contract.ReasonAllowed(tc.procedure, r); got != slices.Contains(tc.allowed, r) {
				t.Errorf("%s may use %s: %v", tc.procedure, r, got)
			}
		}
	}
	// The start request refuses a reason the procedure may not use, before
	// any case exists.
	for _, r := range []reasons.Reason{reasons.Superseded, reasons.AffiliationChanged, reasons.CACompromise, reasons.CertificateHold, "nonsense"} {
		req := StartInPersonRevocation{RevocationRequest{ResidentCode: "00000000206", Signing: true, Reason: r}}
		if rej := req.Check(); rej == nil || rej.Code != "reason_not_allowed" {
			t.Errorf("reason %s: %v, want reason_not_allowed", r, rej)
		}
	}
}
