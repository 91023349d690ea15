package workflows

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/activities/municipal"
	"github.com/madoguchi/madoguchi/activities/org"
	"github.com/madoguchi/madoguchi/activities/terminal"
	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/reasons"
	"github.com/madoguchi/madoguchi/internal/searchattr"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// fakeIssuer is the Organization's CA behind org.CA: the real activities
// (with the reason allowlist) run on it, so a revocation is observed at the
// CA as the workflow's id names the calling procedure.
type fakeIssuer struct {
	mu       sync.Mutex
	issued   []contract.CertificateRequest
	revoked  []contract.RevokeCertificateInput
	held     []string
	released []string
	// cards and status are the Organization's records the lookups read.
	cards  map[string][]contract.CertificateStatus
	status map[string]contract.CertificateStatus
}

func (f *fakeIssuer) Issue(_ context.Context, reqs []contract.CertificateRequest) ([]contract.IssuedCertificate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []contract.IssuedCertificate
	for _, r := range reqs {
		f.issued = append(f.issued, r)
		out = append(out, contract.IssuedCertificate{Kind: r.Kind, Serial: "new-" + r.Kind, NotAfter: r.NotAfter})
	}
	return out, nil
}

func (f *fakeIssuer) Revoke(_ context.Context, req contract.RevokeCertificateInput) (contract.RevokeCertificateResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revoked = append(f.revoked, req)
	return contract.RevokeCertificateResult{Outcome: "revoked", RevokedAt: req.At}, nil
}

func (f *fakeIssuer) Hold(_ context.Context, in contract.HoldCertificateInput) (contract.HoldCertificateResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.held = append(f.held, in.Serial)
	return contract.HoldCertificateResult{Outcome: "held", At: in.At}, nil
}

func (f *fakeIssuer) Release(_ context.Context, in contract.ReleaseHoldInput) (contract.ReleaseHoldResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.released = append(f.released, in.Serial)
	return contract.ReleaseHoldResult{Outcome: "released", At: in.At}, nil
}

func (f *fakeIssuer) CardCertificates(_ context.Context, card string) ([]contract.CertificateStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cards[card], nil
}

func (f *fakeIssuer) Status(_ context.Context, serial string) (contract.CertificateStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if st, ok := f.status[serial]; ok {
		return st, nil
	}
	return contract.CertificateStatus{Serial: serial, State: "unknown"}, nil
}

// revokedWith returns serial → reason of what the CA revoked.
func (f *fakeIssuer) revokedWith() map[string]reasons.Reason {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]reasons.Reason{}
	for _, r := range f.revoked {
		out[r.Serial] = r.Reason
	}
	return out
}

// kitSuite runs the procedures with the Organization's real activities on
// a fake CA, under the workflow ids the gateway gives them.
type kitSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment
	ca  *fakeIssuer
	log *warnings
	// closed are the statuses CloseCase was called with; status the last
	// MadoguchiStatus written to the search attributes.
	closed []string
	status string
	// pins are the kinds of each SetPINs call; docs the documents registered.
	pins   [][]string
	pinsBy string
	docs   []string
}

func TestKit(t *testing.T) { suite.Run(t, new(kitSuite)) }

func (s *kitSuite) SetupTest() {
	s.log = &warnings{}
	s.SetLogger(s.log)
	s.env = s.NewTestWorkflowEnvironment()
	s.ca = &fakeIssuer{}
	s.closed, s.status, s.pins, s.pinsBy, s.docs = nil, "", nil, "", nil
	s.env.RegisterActivity(&municipal.Municipal{})
	s.env.RegisterActivity(&municipal.Inquiry{})
	s.env.RegisterActivity(&municipal.Relay{})
	s.env.RegisterActivity(&terminal.Card{})
	s.env.RegisterActivity(&org.CA{Issuer: s.ca})
	s.env.SetStartTime(time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)) // 10:00 JST
	s.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: WorkflowID(ProcedureInPersonIssuance, testInput.CaseNumber)})
	s.env.OnActivity(contract.CloseCase.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.CloseCaseInput) (contract.CloseCaseResult, error) {
			s.closed = append(s.closed, in.Status)
			return contract.CloseCaseResult{}, nil
		})
	s.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		if v, ok := args.Get(0).(temporal.SearchAttributes).GetKeyword(searchattr.Status); ok {
			s.status = v
		}
	}).Return(nil)
}

func (s *kitSuite) AfterTest(_, _ string) {
	s.env.AssertExpectations(s.T())
	s.Empty(s.log.containing("TMPRL1102"), "no workflow may finish with a handler still running")
}

// inPerson mocks the steps of an in-person issuance of both certificates,
// as far as each case gets (Maybe); the CA steps run on the fake CA.
func (s *kitSuite) inPerson(reg contract.CheckRegisterResult) {
	s.env.OnActivity(contract.CheckRegister.Name, mock.Anything, mock.Anything).Return(reg, nil).Maybe()
	s.env.OnActivity(contract.RecordEvent.Name, mock.Anything, mock.Anything).Return(contract.RecordEventResult{}, nil).Maybe()
	s.env.OnActivity(contract.CheckCard.Name, mock.Anything, mock.Anything).Return(contract.CheckCardResult{Expiry: "2034-04-01"}, nil).Maybe()
	s.env.OnActivity(contract.SetPINs.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.SetPINsInput) (contract.SetPINsResult, error) {
			s.pins = append(s.pins, in.Kinds)
			s.pinsBy = in.EnteredBy
			return contract.SetPINsResult{Kinds: in.Kinds}, nil
		}).Maybe()
	s.env.OnActivity(contract.GenerateKeys.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.GenerateKeysInput) (contract.GenerateKeysResult, error) {
			var r contract.GenerateKeysResult
			for _, k := range in.Kinds {
				r.Keys = append(r.Keys, contract.PublicKey{Kind: k, SPKIDER: []byte("spki-" + k)})
			}
			return r, nil
		}).Maybe()
	s.env.OnActivity(contract.RecordIssued.Name, mock.Anything, mock.Anything).Return(contract.RecordIssuedResult{}, nil).Maybe()
	s.env.OnActivity(contract.RecordFee.Name, mock.Anything, mock.Anything).Return(contract.RecordFeeResult{}, nil).Maybe()
	s.env.OnActivity(contract.RegisterDocuments.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.RegisterDocumentsInput) (contract.RegisterDocumentsResult, error) {
			s.docs = in.DocTypes
			return contract.RegisterDocumentsResult{}, nil
		}).Maybe()
}

func (s *kitSuite) readCard() {
	s.env.OnActivity(contract.ReadCard.Name, mock.Anything, mock.Anything).Return(contract.ReadCardResult{CardSerial: "C1", Expiry: "20340401"}, nil)
}

func (s *kitSuite) write() {
	s.env.OnActivity(contract.WriteCertificates.Name, mock.Anything, mock.Anything).Return(contract.WriteCertificatesResult{}, nil)
}

// failWrite makes the card refuse the certificates for good: not a
// rejection, so the case fails.
func (s *kitSuite) failWrite() {
	s.env.OnActivity(contract.WriteCertificates.Name, mock.Anything, mock.Anything).Return(contract.WriteCertificatesResult{},
		temporal.NewNonRetryableApplicationError("the card refused the certificates", "CardWriteFailed", nil)).Once()
}

func (s *kitSuite) state() State {
	v, err := s.env.QueryWorkflow(StateQuery)
	s.Require().NoError(err)
	var st State
	s.Require().NoError(v.Get(&st))
	return st
}

var identityOK = ConfirmIdentityInput{Clerk: "clerk1", DocumentType: "individual_number_card", Verified: true}

// TestEveryEnding: each of the five endings settles the same way: the
// outcome's status and reason code, the final step, CloseCase once with
// that status, and the status in the search attributes (for the lists).
func (s *kitSuite) TestEveryEnding() {
	for _, tc := range []struct {
		name     string
		setup    func()
		status   string
		code     string
		step     string
		issued   bool
		messages []string
	}{
		{name: "completed", status: StatusCompleted, step: StepDone, issued: true, setup: func() {
			s.readCard()
			s.write()
			sendAt(s.env, time.Minute, ConfirmIdentityUpdate, identityOK)
		}},
		{name: "rejected", status: StatusRejected, code: "identity_not_verified", step: StepRejected, setup: func() {
			in := identityOK
			in.Verified = false
			sendAt(s.env, time.Minute, ConfirmIdentityUpdate, in)
		}},
		{name: "lapsed", status: StatusLapsed, code: "identity_check_timeout", step: StepLapsed, setup: func() {}},
		{name: "failed", status: StatusFailed, code: "failed", step: StepFailed, issued: true,
			messages: []string{StepCardWrite, "compensation ran"}, setup: func() {
				s.readCard()
				s.failWrite()
				sendAt(s.env, time.Minute, ConfirmIdentityUpdate, identityOK)
			}},
		{name: "cancelled", status: StatusCancelled, code: "cancelled", step: StepCancelled,
			messages: []string{"manager1", "申請者が来庁できなくなった"}, setup: func() {
				sendAt(s.env, 10*time.Minute, CancelUpdate, CancelInput{Clerk: "manager1", Reason: "申請者が来庁できなくなった"})
			}},
	} {
		s.Run(tc.name, func() {
			s.SetupTest()
			s.inPerson(contract.CheckRegisterResult{Person: testPerson})
			tc.setup()
			s.env.ExecuteWorkflow(InPersonIssuance, testInput)
			s.Require().True(s.env.IsWorkflowCompleted())
			s.NoError(s.env.GetWorkflowError(), "every ending is an outcome, not a workflow failure")
			var res InPersonIssuanceResult
			s.NoError(s.env.GetWorkflowResult(&res))
			s.Equal(tc.status, res.Status)
			if tc.code == "" {
				s.Nil(res.Rejection)
			} else {
				s.Require().NotNil(res.Rejection)
				s.Equal(tc.code, res.Rejection.Code)
				for _, m := range tc.messages {
					s.Contains(res.Rejection.Message, m)
				}
			}
			st := s.state()
			s.Equal(tc.step, st.Step)
			s.Equal(tc.status, st.Status)
			s.Empty(st.WaitingFor)
			s.Equal([]string{tc.status}, s.closed, "CloseCase once, with the final status")
			s.Equal(tc.status, s.status, "the final status is in the search attributes")
			s.Equal(tc.issued, len(s.ca.issued) > 0)
			s.env.AssertExpectations(s.T())
		})
	}
}

// TestFailedAfterIssuanceRevokesWhatWasIssued: the card refuses the
// certificates for good after the CA issued them; the compensation revokes
// both at the CA as never used (cessationOfOperation), the allowlist lets
// the issuance procedure do so, and nothing is recorded as issued.
func (s *kitSuite) TestFailedAfterIssuanceRevokesWhatWasIssued() {
	s.inPerson(contract.CheckRegisterResult{Person: testPerson})
	s.readCard()
	s.failWrite()
	// Compensations are bounded, so a failing case always ends.
	var bounds []time.Duration
	s.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		if info.ActivityType.Name == contract.RevokeCertificate.Name {
			bounds = append(bounds, info.ScheduleToCloseTimeout)
		}
	})
	sendAt(s.env, time.Minute, ConfirmIdentityUpdate, identityOK)
	s.env.ExecuteWorkflow(InPersonIssuance, testInput)
	var res InPersonIssuanceResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(StatusFailed, res.Status)
	s.Equal("failed", res.Rejection.Code)
	s.Equal([]time.Duration{time.Hour, time.Hour}, bounds)
	s.Equal(map[string]reasons.Reason{"new-sign": reasons.CessationOfOperation, "new-auth": reasons.CessationOfOperation}, s.ca.revokedWith())
	for _, r := range s.ca.revoked {
		s.Equal(testInput.CaseNumber+"/revoke/"+r.Serial, r.RequestID, "a retried revocation revokes once")
	}
	st := s.state()
	s.ElementsMatch([]string{"new-sign", "new-auth"}, st.Issuance.Revoked)
	var notes []string
	for _, r := range st.Steps {
		if r.Step == "compensation" {
			notes = append(notes, r.Note)
		}
	}
	s.Equal([]string{"revoke certificates not written to the card"}, notes)
	s.env.AssertNotCalled(s.T(), contract.RecordIssued.Name, mock.Anything, mock.Anything)
	// The failure is logged for the operators, through the logger AfterTest reads.
	s.NotEmpty(s.log.containing("case failed"))
}

// TestCancelValidation: a cancellation needs a reason and a clerk; a valid
// one, while the case waits for the identity check, ends it as cancelled
// with the clerk and the reason, and nothing reaches the card.
func (s *kitSuite) TestCancelValidation() {
	s.inPerson(contract.CheckRegisterResult{Person: testPerson})
	noReason := sendAt(s.env, 5*time.Minute, CancelUpdate, CancelInput{Clerk: "clerk1"})
	noClerk := sendAt(s.env, 6*time.Minute, CancelUpdate, CancelInput{Reason: "誤登録"})
	ok := sendAt(s.env, 10*time.Minute, CancelUpdate, CancelInput{Clerk: "clerk2", Reason: "誤登録"})
	s.env.ExecuteWorkflow(InPersonIssuance, testInput)
	s.Contains(noReason.rejection(), "reason")
	s.Contains(noClerk.rejection(), "clerk is missing")
	s.True(ok.accepted, ok.rejection())
	s.True(ok.done)
	s.NoError(ok.err)
	s.Equal(kit.CancelResult{Status: StatusCancelled}, ok.result)
	var res InPersonIssuanceResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(StatusCancelled, res.Status)
	s.Contains(res.Rejection.Message, "clerk2")
	s.Contains(res.Rejection.Message, "誤登録")
	s.Equal([]string{StatusCancelled}, s.closed)
	s.env.AssertNotCalled(s.T(), contract.ReadCard.Name, mock.Anything, mock.Anything)
}

// TestNoUpdateWhileSettling: while a failed case compensates (a slow
// revocation), a cancellation or a clerk's step is refused: the case has
// ended.
func (s *kitSuite) TestNoUpdateWhileSettling() {
	s.inPerson(contract.CheckRegisterResult{Person: testPerson})
	s.readCard()
	s.failWrite()
	s.env.OnActivity(contract.RevokeCertificate.Name, mock.Anything, mock.Anything).After(30*time.Minute).
		Return(contract.RevokeCertificateResult{Outcome: "revoked"}, nil).Twice()
	sendAt(s.env, time.Minute, ConfirmIdentityUpdate, identityOK)
	cancel := sendAt(s.env, 10*time.Minute, CancelUpdate, CancelInput{Clerk: "manager1", Reason: "too slow"})
	identity := sendAt(s.env, 11*time.Minute, ConfirmIdentityUpdate, identityOK)
	s.env.ExecuteWorkflow(InPersonIssuance, testInput)
	for _, u := range []*sent{cancel, identity} {
		s.False(u.accepted, u.name)
		s.Contains(u.rejection(), "This procedure has ended and is being closed", u.name)
	}
	var res InPersonIssuanceResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(StatusFailed, res.Status)
}

// TestNoUpdateOnceEnded: the address side of a relay has closed (rejected)
// and still tells the relay; meanwhile a cancellation or a review is
// refused as the case has ended.
func (s *kitSuite) TestNoUpdateOnceEnded() {
	app := contract.RelayApplication{RelayCase: "141003-20261126-000003", RelayMunicipality: "141003", Application: testInput.Application, HandOverAt: HandOverAtAddress}
	s.env.OnActivity(contract.CheckRegister.Name, mock.Anything, mock.Anything).Return(contract.CheckRegisterResult{},
		contract.Reject("not_in_register", "not in the register"))
	relay := WorkflowID(ProcedureRelayForwarding, app.RelayCase)
	s.env.OnSignalExternalWorkflow(mock.Anything, relay, "", RelayStatusSignal, mock.MatchedBy(func(st RelayStatus) bool { return st.Status == StatusOpen })).Return(nil).Once()
	s.env.OnSignalExternalWorkflow(mock.Anything, relay, "", RelayStatusSignal, mock.MatchedBy(func(st RelayStatus) bool { return st.Status == StatusRejected })).
		After(time.Hour).Return(nil).Once()
	s.env.RegisterDelayedCallback(func() { s.env.SignalWorkflow(RelayApplicationSignal, app) }, time.Minute)
	cancel := sendAt(s.env, 30*time.Minute, CancelUpdate, CancelInput{Clerk: "manager1", Reason: "late"})
	review := sendAt(s.env, 31*time.Minute, ReviewRelayUpdate, ReviewRelayInput{Clerk: "clerk1", Approve: false})
	s.env.ExecuteWorkflow(RelayIssuance, RelayIssuanceInput{CaseNumber: RelayAddressCase("131016", app.RelayCase), MunicipalityCode: "131016"})
	for _, u := range []*sent{cancel, review} {
		s.False(u.accepted, u.name)
		s.Contains(u.rejection(), "This procedure has ended (rejected)", u.name)
	}
	var res RelayIssuanceResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(StatusRejected, res.Status)
}

// TestTerminalNotRespondingThenBack: the card agent does not pick up the
// card read twice (schedule-to-start timeouts); meanwhile the case shows
// the terminal as not responding, then completes when it is back.
func (s *kitSuite) TestTerminalNotRespondingThenBack() {
	s.inPerson(contract.CheckRegisterResult{Person: testPerson})
	s.write()
	reads := 0
	s.env.OnActivity(contract.ReadCard.Name, mock.Anything, mock.Anything).Return(
		func(context.Context, contract.ReadCardInput) (contract.ReadCardResult, error) {
			reads++
			if reads <= 2 {
				return contract.ReadCardResult{}, temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, nil)
			}
			return contract.ReadCardResult{CardSerial: "C1", Expiry: "20340401"}, nil
		}).Times(3)
	// The state as each read is scheduled again.
	var during []State
	s.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		if info.ActivityType.Name == contract.ReadCard.Name && reads > 0 {
			during = append(during, s.state())
		}
	})
	sendAt(s.env, time.Minute, ConfirmIdentityUpdate, identityOK)
	s.env.ExecuteWorkflow(InPersonIssuance, testInput)
	var res InPersonIssuanceResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(StatusCompleted, res.Status)
	s.Equal(3, reads)
	s.Require().Len(during, 2)
	for _, st := range during {
		s.Require().NotNil(st.Terminal)
		s.True(st.Terminal.NotResponding)
		s.Contains(st.WaitingFor, "not responding")
		s.Contains(st.WaitingFor, "T0001")
		s.Equal(StepCardCheck, st.Step)
	}
	st := s.state()
	s.False(st.Terminal.NotResponding)
	var noted bool
	for _, r := range st.Steps {
		noted = noted || (r.Step == StepCardCheck && r.Note == "terminal not responding")
	}
	s.True(noted, "the step log says the terminal did not respond")
}

// TestTerminalActivityOptions: card steps run on the terminal's queue with
// the kit's heartbeat timeout (longer than the old 5 s, so a long card
// write is not cut short; the card agent heartbeats, see
// activities/terminal) and its schedule-to-start bound (so an offline
// terminal shows); here the write takes 20 s and the case completes.
func (s *kitSuite) TestTerminalActivityOptions() {
	spy := &optionsSpy{opts: map[string]workflow.ActivityOptions{}}
	s.env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{spy}})
	s.inPerson(contract.CheckRegisterResult{Person: testPerson})
	s.readCard()
	s.env.OnActivity(contract.WriteCertificates.Name, mock.Anything, mock.Anything).After(20*time.Second).Return(contract.WriteCertificatesResult{}, nil).Once()
	type seen struct {
		queue     string
		heartbeat time.Duration
	}
	started := map[string]seen{}
	s.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		started[info.ActivityType.Name] = seen{info.TaskQueue, info.HeartbeatTimeout}
	})
	sendAt(s.env, time.Minute, ConfirmIdentityUpdate, identityOK)
	s.env.ExecuteWorkflow(InPersonIssuance, testInput)
	var res InPersonIssuanceResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(StatusCompleted, res.Status)
	s.Greater(kit.TerminalHeartbeat, 5*time.Second)
	for _, name := range []string{contract.ReadCard.Name, contract.SetPINs.Name, contract.GenerateKeys.Name, contract.WriteCertificates.Name} {
		s.Equal(seen{contract.TerminalTaskQueue("T0001"), kit.TerminalHeartbeat}, started[name], name)
		o, ok := spy.get(name)
		s.Require().True(ok, name)
		s.Equal(kit.TerminalReach, o.ScheduleToStartTimeout, name)
		s.Equal(kit.TerminalHeartbeat, o.HeartbeatTimeout, name)
		s.Equal(contract.TerminalTaskQueue("T0001"), o.TaskQueue, name)
	}
	o, ok := spy.get(contract.IssueCertificates.Name)
	s.Require().True(ok)
	s.Equal(contract.CATaskQueue, o.TaskQueue)
}

// optionsSpy records the options of every activity a workflow schedules.
type optionsSpy struct {
	interceptor.WorkerInterceptorBase
	mu   sync.Mutex
	opts map[string]workflow.ActivityOptions
}

func (o *optionsSpy) get(name string) (workflow.ActivityOptions, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	v, ok := o.opts[name]
	return v, ok
}

func (o *optionsSpy) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &spyInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, spy: o}
}

type spyInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	spy *optionsSpy
}

func (i *spyInbound) Init(out interceptor.WorkflowOutboundInterceptor) error {
	return i.Next.Init(&spyOutbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: out}, spy: i.spy})
}

type spyOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	spy *optionsSpy
}

func (o *spyOutbound) ExecuteActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	o.spy.mu.Lock()
	o.spy.opts[activityType] = workflow.GetActivityOptions(ctx)
	o.spy.mu.Unlock()
	return o.Next.ExecuteActivity(ctx, activityType, args...)
}

// proxyUntilReply runs a proxy issuance to the reply wait: checked proxy,
// mailed letter.
func (s *kitSuite) proxyUntilReply() {
	s.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: WorkflowID(ProcedureProxyIssuance, proxyInput.CaseNumber)})
	s.inPerson(contract.CheckRegisterResult{Person: testPerson})
	s.env.OnActivity(contract.PrepareInquiry.Name, mock.Anything, mock.Anything).Return(contract.PrepareInquiryResult{}, nil).Once()
	s.env.OnActivity(contract.MarkMailed.Name, mock.Anything, mock.Anything).Return(contract.MarkMailedResult{}, nil).Once()
	sendAt(s.env, time.Minute, ConfirmIdentityUpdate, proxyID)
	sendAt(s.env, 2*time.Minute, InquiryMailedUpdate, InquiryMailedInput{Clerk: "clerk1"})
}

// TestReplyEnteredJustBeforeTheDeadlineCounts: the clerk enters the reply
// a second before the deadline and its check takes longer than that; the
// workflow waits for the handler instead of lapsing, since the reply came
// in time (it used to lapse the case while telling the clerk the reply was
// accepted), and the procedure goes on to the second visit.
func (s *kitSuite) TestReplyEnteredJustBeforeTheDeadlineCounts() {
	s.proxyUntilReply()
	s.readCard()
	s.write()
	due := time.Date(2026, 12, 28, 15, 0, 0, 0, time.UTC) // 2026-12-29 00:00 JST, see TestReplyDeadline
	start := s.env.Now()
	var checked time.Time
	s.env.OnActivity(contract.CheckReplyCode.Name, mock.Anything, mock.Anything).After(3 * time.Second).Return(
		func(context.Context, contract.CheckReplyCodeInput) (contract.CheckReplyCodeResult, error) {
			checked = s.env.Now()
			return contract.CheckReplyCodeResult{OK: true}, nil
		}).Once()
	reply := sendAt(s.env, due.Sub(start)-time.Second, EnterReplyUpdate, EnterReplyInput{Clerk: "clerk1", CaseNumber: proxyInput.CaseNumber, Code: "ABCD-EFGH-JK"})
	second := sendAt(s.env, due.Sub(start)+time.Minute, ConfirmIdentityUpdate, proxyID)
	intent := sendAt(s.env, due.Sub(start)+2*time.Minute, ConfirmIntentUpdate, ConfirmIntentInput{Clerk: "clerk2"})
	s.env.ExecuteWorkflow(ProxyIssuance, proxyInput)
	s.True(reply.accepted, reply.rejection())
	s.True(reply.done, "the update got its result")
	s.NoError(reply.err)
	s.Equal(kit.EnterReplyResult{Accepted: true}, reply.result)
	s.True(checked.After(due), "the check ended after the deadline")
	s.True(second.accepted, second.rejection())
	s.True(intent.accepted, intent.rejection())
	var res ProxyIssuanceResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(StatusCompleted, res.Status)
	s.Equal([]string{StatusCompleted}, s.closed)
}

// TestCancelWaitsForTheReplyBeingChecked: a manager cancels while a reply
// is being checked; the case settles only after that handler finished (no
// "unfinished handlers" warning, see AfterTest), and the update gets its
// result.
func (s *kitSuite) TestCancelWaitsForTheReplyBeingChecked() {
	s.proxyUntilReply()
	at := 3 * 24 * time.Hour
	var checked time.Time
	s.env.OnActivity(contract.CheckReplyCode.Name, mock.Anything, mock.Anything).After(10 * time.Minute).Return(
		func(context.Context, contract.CheckReplyCodeInput) (contract.CheckReplyCodeResult, error) {
			checked = s.env.Now()
			return contract.CheckReplyCodeResult{AttemptsLeft: 4, Reason: contract.ReplyWrongCode}, nil
		}).Once()
	s.env.OnActivity(contract.LapseInquiry.Name, mock.Anything, mock.Anything).Return(contract.LapseInquiryResult{Status: "lapsed"}, nil).Once()
	reply := sendAt(s.env, at, EnterReplyUpdate, EnterReplyInput{Clerk: "clerk1", CaseNumber: proxyInput.CaseNumber, Code: "WRONG"})
	cancel := sendAt(s.env, at+time.Minute, CancelUpdate, CancelInput{Clerk: "manager1", Reason: "申請の取下げ"})
	var closedAt time.Time
	s.env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, _ []any) {
		if info.ActivityType.Name == contract.CloseCase.Name {
			closedAt = s.env.Now()
		}
	})
	s.env.ExecuteWorkflow(ProxyIssuance, proxyInput)
	s.True(cancel.accepted, cancel.rejection())
	s.True(reply.accepted, reply.rejection())
	s.True(reply.done, "the update got its result")
	s.ErrorContains(reply.err, "4 attempts left")
	s.False(checked.IsZero())
	s.False(closedAt.Before(checked), "the case closed at %v, before the reply check ended at %v", closedAt, checked)
	var res ProxyIssuanceResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(StatusCancelled, res.Status)
	s.Equal([]string{StatusCancelled}, s.closed)
}
