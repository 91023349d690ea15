package workflows

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/madoguchi/madoguchi/activities/municipal"
	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

var (
	testRequester  = contract.Requester{ResidentCode: "00000000206", Name: "試験 花子", Address: "東京都千代田区千代田1番1号"}
	disclosureCase = OrganizationCase("131016-20261201-000401")
	disclosureIn   = DisclosureInput{OrgRequest{CaseNumber: disclosureCase, Office: OrganizationOffice, CounterOffice: "131016",
		CounterCase: "131016-20261201-000401", Requester: testRequester, Delivery: contract.DeliveryMail}}
	correctionItems = []contract.CorrectionItem{
		{Serial: "51", Action: contract.ActionCorrect, Field: contract.FieldMunicipality, Value: "131024", Statement: "発行した市区町村が違う"},
		{Serial: "a2", Action: contract.ActionDelete, Field: contract.FieldCounterpart, Statement: "対応証明書ではない"},
	}
	correctionIn = CorrectionInput{OrgRequest: OrgRequest{CaseNumber: OrganizationCase("131016-20261201-000402"), Office: OrganizationOffice, CounterOffice: "131016",
		CounterCase: "131016-20261201-000402", Requester: testRequester, Delivery: contract.DeliveryMail}, DisclosureCase: disclosureCase, Items: correctionItems}
	recordsRequest    = RecordsRequest{ResidentCode: "00000000206", Delivery: contract.DeliveryMail}
	inPersonRecordsIn = InPersonDisclosureRequestInput{CaseNumber: "131016-20261201-000401", MunicipalityCode: "131016", Clerk: "clerk1", ClerkID: 1, Request: recordsRequest}
)

// fakeRecords is the Organization's records activities, in memory: what
// each case received, compiled, sent and amended.
type fakeRecords struct {
	mu        sync.Mutex
	serials   []string
	received  []contract.ReceiveRecordsRequestInput
	letters   []string // case/letter
	delivered []string // case/letter/how
	applied   []contract.ApplyCorrectionsInput
}

func (f *fakeRecords) register(env *testsuite.TestWorkflowEnvironment) {
	reg := func(fn any, a string) { env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: a}) }
	reg(func(_ context.Context, in contract.ReceiveRecordsRequestInput) (contract.ReceiveRecordsRequestResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.received = append(f.received, in)
		return contract.ReceiveRecordsRequestResult{ReceivedAt: in.ReceivedAt}, nil
	}, contract.ReceiveRecordsRequest.Name)
	reg(func(ctx context.Context, in contract.CompileDisclosureInput) (contract.CompileDisclosureResult, error) {
		return contract.CompileDisclosureResult{Serials: f.serials, CompiledAt: in.At}, nil
	}, contract.CompileDisclosure.Name)
	reg(func(_ context.Context, in contract.SendRecordsLetterInput) (contract.SendRecordsLetterResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.letters = append(f.letters, in.CaseNumber+"/"+in.Letter)
		return contract.SendRecordsLetterResult{QueuedAt: in.IssuedOn, Delivery: contract.DeliveryMail}, nil
	}, contract.SendRecordsLetter.Name)
	reg(func(_ context.Context, in contract.DeliverLetterInput) (contract.DeliverLetterResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.delivered = append(f.delivered, in.CaseNumber+"/"+in.Letter+"/"+in.How)
		return contract.DeliverLetterResult{DeliveredAt: in.At, How: in.How}, nil
	}, contract.DeliverLetter.Name)
	reg(func(_ context.Context, in contract.ApplyCorrectionsInput) (contract.ApplyCorrectionsResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.applied = append(f.applied, in)
		var out contract.ApplyCorrectionsResult
		for i, it := range in.Items {
			if it.Accepted {
				out.Applied = append(out.Applied, contract.AppliedCorrection{Item: i, Serial: it.Serial, Field: it.Field, OldValue: "131016", NewValue: it.Value})
			}
		}
		return out, nil
	}, contract.ApplyCorrections.Name)
}

// recordsEnv is a test environment for the records family: the
// municipal audit activities answered, the Organization's records faked.
func recordsEnv(t *testing.T, f *fakeRecords) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	RegisterAll(env)
	env.RegisterActivity(&municipal.Municipal{})
	env.RegisterActivity(&municipal.Relay{})
	f.register(env)
	env.RegisterActivityWithOptions(func(context.Context, contract.RecordEventInput) (contract.RecordEventResult, error) {
		return contract.RecordEventResult{}, nil
	}, activity.RegisterOptions{Name: contract.RecordEvent.Name})
	env.RegisterActivityWithOptions(func(context.Context, contract.CloseCaseInput) (contract.CloseCaseResult, error) {
		return contract.CloseCaseResult{}, nil
	}, activity.RegisterOptions{Name: contract.CloseCase.Name})
	env.SetStartTime(time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC))
	env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil).Maybe()
	return env
}

func stateOf(t *testing.T, env *testsuite.TestWorkflowEnvironment) kit.State {
	t.Helper()
	v, err := env.QueryWorkflow(StateQuery)
	if err != nil {
		t.Fatal(err)
	}
	var st kit.State
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

const day = 24 * time.Hour

// TestDisclosureExtendedAtDay25: on day 25 the Organization extends the
// deadline with the extension notice; a second extension is refused; the
// disclosure on day 40 is before the new deadline, so the case is never
// overdue; the notice is mailed and the case then stays open for the
// correction period, answering what it disclosed.
func TestDisclosureExtendedAtDay25(t *testing.T) {
	f := &fakeRecords{serials: []string{"51", "a2"}}
	env := recordsEnv(t, f)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: WorkflowID(contract.ProcDisclosure, disclosureCase)})
	extend := sendAt(env, 25*day, kit.ExtendDeadlineUpdate, kit.ExtendDeadlineInput{Clerk: "jlis1", Reason: "記録の確認に時間を要するため"})
	again := sendAt(env, 26*day, kit.ExtendDeadlineUpdate, kit.ExtendDeadlineInput{Clerk: "jlis1", Reason: "再延長"})
	early := sendAt(env, 26*day, CancelUpdate+"-none", struct{}{}) // an update no module registered
	disclose := sendAt(env, 40*day, DiscloseUpdate, DiscloseInput{Clerk: "jlis1"})
	var atDay35, atDay45 kit.State
	env.RegisterDelayedCallback(func() { atDay35 = stateOf(t, env) }, 35*day)
	var ask = func(q DisclosedQueryInput) DisclosedQueryResult {
		v, err := env.QueryWorkflow(DisclosedQuery, q)
		if err != nil {
			t.Fatal(err)
		}
		var r DisclosedQueryResult
		if err := v.Get(&r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	var good, other, undisclosed DisclosedQueryResult
	env.RegisterDelayedCallback(func() {
		atDay45 = stateOf(t, env)
		good = ask(DisclosedQueryInput{ResidentCode: testRequester.ResidentCode, Serials: []string{"a2"}})
		other = ask(DisclosedQueryInput{ResidentCode: "00000000999", Serials: []string{"a2"}})
		undisclosed = ask(DisclosedQueryInput{ResidentCode: testRequester.ResidentCode, Serials: []string{"77"}})
	}, 45*day)
	env.ExecuteWorkflow(Disclosure, disclosureIn)
	var out DisclosureResult
	if err := env.GetWorkflowResult(&out); err != nil {
		t.Fatal(err)
	}
	if !extend.accepted || extend.err != nil {
		t.Fatalf("extension at day 25: accepted %v, %v %v", extend.accepted, extend.rejection(), extend.err)
	}
	if !strings.Contains(again.rejection(), "already extended") {
		t.Errorf("second extension: %q, want refused as already extended", again.rejection())
	}
	if !strings.Contains(early.rejection(), "unknown update") {
		t.Errorf("an update of no module: %q", early.rejection())
	}
	if !disclose.accepted || disclose.err != nil {
		t.Fatalf("disclosure at day 40: accepted %v, %v %v", disclose.accepted, disclose.rejection(), disclose.err)
	}
	want := []string{disclosureCase + "/extension", disclosureCase + "/disclosure"}
	if !slices.Equal(f.letters, want) {
		t.Errorf("letters %v, want %v", f.letters, want)
	}
	if !slices.Equal(f.delivered, []string{disclosureCase + "/extension/mailed", disclosureCase + "/disclosure/mailed"}) {
		t.Errorf("delivered %v", f.delivered)
	}
	if d := atDay35.Deadline; d == nil || !d.Extended || d.Overdue || d.ExtendedBy != "jlis1" {
		t.Errorf("deadline at day 35: %+v", d)
	}
	// 30 days from 2026-12-01 (JST) is 2026-12-30; extended by 30 days: 2027-01-29.
	if got := atDay35.Deadline.Due.In(time.FixedZone("JST", 9*3600)).Format(time.DateOnly); got != "2027-01-30" {
		t.Errorf("extended deadline fires %s, want the end of 2027-01-29 (00:00 2027-01-30 JST)", got)
	}
	if atDay45.Step != StepCorrectionPeriod || atDay45.Status != kit.StatusOpen || atDay45.Deadline.Overdue {
		t.Errorf("at day 45: step %s status %s overdue %v", atDay45.Step, atDay45.Status, atDay45.Deadline.Overdue)
	}
	if good.Refusal != nil || other.Refusal == nil || other.Refusal.Code != "not_disclosed_to_requester" ||
		undisclosed.Refusal == nil || undisclosed.Refusal.Code != "not_disclosed" {
		t.Errorf("disclosed query: good %+v, other %+v, undisclosed %+v", good.Refusal, other.Refusal, undisclosed.Refusal)
	}
	if out.Status != kit.StatusCompleted || !out.Detail.Extended || out.Detail.Delivered != contract.DeliveredByMail {
		t.Errorf("outcome %+v", out)
	}
	if len(f.received) != 1 || f.received[0].Requester != testRequester {
		t.Errorf("received %+v", f.received)
	}
}

// TestDisclosureOverdue: with neither a disclosure nor an extension by day
// 30 the case is overdue and stays open; an extension is then refused; a
// late disclosure still ends it; never disclosing fails it for a manager.
func TestDisclosureOverdue(t *testing.T) {
	for _, tc := range []struct {
		name       string
		discloseAt time.Duration // 0: never
		status     string
	}{
		{"disclosed late", 35 * day, kit.StatusCompleted},
		{"never disclosed", 0, kit.StatusFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeRecords{}
			env := recordsEnv(t, f)
			env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: WorkflowID(contract.ProcDisclosure, disclosureCase)})
			late := sendAt(env, 31*day, kit.ExtendDeadlineUpdate, kit.ExtendDeadlineInput{Clerk: "jlis1", Reason: "遅れた"})
			if tc.discloseAt > 0 {
				sendAt(env, tc.discloseAt, DiscloseUpdate, DiscloseInput{Clerk: "jlis1"})
			}
			var at31 kit.State
			env.RegisterDelayedCallback(func() { at31 = stateOf(t, env) }, 31*day+time.Hour)
			env.ExecuteWorkflow(Disclosure, disclosureIn)
			var out DisclosureResult
			if err := env.GetWorkflowResult(&out); err != nil {
				t.Fatal(err)
			}
			if at31.Status != kit.StatusOpen || at31.Deadline == nil || !at31.Deadline.Overdue || at31.Step != StepDisclosure {
				t.Errorf("day 31: status %s step %s deadline %+v, want open and overdue", at31.Status, at31.Step, at31.Deadline)
			}
			if !strings.Contains(late.rejection(), "deadline has passed") {
				t.Errorf("extension after the deadline: %q", late.rejection())
			}
			if out.Status != tc.status {
				t.Errorf("status %s (%+v), want %s", out.Status, out.Rejection, tc.status)
			}
			if tc.discloseAt == 0 && len(f.letters) != 0 {
				t.Errorf("letters %v, want none", f.letters)
			}
		})
	}
}

// TestDisclosurePickup: a notice for pick-up is handed over after an
// identity check at the Organization's counter; one nobody collects is
// mailed after the pick-up window; unverified documents hand nothing over.
func TestDisclosurePickup(t *testing.T) {
	for _, tc := range []struct {
		name   string
		checks []ConfirmIdentityInput
		how    string
	}{
		{"collected", []ConfirmIdentityInput{{Clerk: "jlis1", DocumentType: "passport", Verified: true}}, contract.DeliveredByHandOver},
		{"unverified, then collected", []ConfirmIdentityInput{{Clerk: "jlis1", DocumentType: "passport"},
			{Clerk: "jlis1", DocumentType: "drivers_license", Verified: true}}, contract.DeliveredByHandOver},
		{"never collected", nil, contract.DeliveredByMail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeRecords{serials: []string{"51"}}
			env := recordsEnv(t, f)
			env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: WorkflowID(contract.ProcDisclosure, disclosureCase)})
			sendAt(env, 2*day, DiscloseUpdate, DiscloseInput{Clerk: "jlis1"})
			var sentChecks []*sent
			for i, ch := range tc.checks {
				sentChecks = append(sentChecks, sendAt(env, 3*day+time.Duration(i)*time.Hour, kit.ConfirmIdentityUpdate, ch))
			}
			in := disclosureIn
			in.Delivery = contract.DeliveryPickup
			env.ExecuteWorkflow(Disclosure, in)
			var out DisclosureResult
			if err := env.GetWorkflowResult(&out); err != nil {
				t.Fatal(err)
			}
			for i, s := range sentChecks {
				if !s.accepted {
					t.Errorf("check %d refused: %s", i, s.rejection())
				}
			}
			if out.Status != kit.StatusCompleted || out.Detail.Delivered != tc.how {
				t.Errorf("outcome %+v, want completed, delivered %s", out, tc.how)
			}
			if want := []string{disclosureCase + "/disclosure/" + tc.how}; !slices.Equal(f.delivered, want) {
				t.Errorf("delivered %v, want %v", f.delivered, want)
			}
		})
	}
}

// TestCorrectionAcceptedInPart: the operator accepts the first item of
// two; the records are amended for it only, the decision letter goes out,
// and the outcome says in part. A decision without a reason or naming no
// such item is refused.
func TestCorrectionAcceptedInPart(t *testing.T) {
	f := &fakeRecords{}
	env := recordsEnv(t, f)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: WorkflowID(contract.ProcCorrection, correctionIn.CaseNumber)})
	noReason := sendAt(env, day, DecideCorrectionUpdate, DecideCorrectionInput{Clerk: "jlis1", Accepted: []int{0}})
	noItem := sendAt(env, day+time.Hour, DecideCorrectionUpdate, DecideCorrectionInput{Clerk: "jlis1", Accepted: []int{2}, Reason: "x"})
	decide := sendAt(env, 2*day, DecideCorrectionUpdate, DecideCorrectionInput{Clerk: "jlis1", Accepted: []int{0}, Reason: "発行した市区町村の記録に誤りがあったため一部訂正する"})
	env.ExecuteWorkflow(Correction, correctionIn)
	var out CorrectionResult
	if err := env.GetWorkflowResult(&out); err != nil {
		t.Fatal(err)
	}
	if noReason.rejection() == "" || noItem.rejection() == "" {
		t.Errorf("bad decisions accepted: no reason %q, no item %q", noReason.rejection(), noItem.rejection())
	}
	if !decide.accepted || decide.err != nil {
		t.Fatalf("decision: %s %v", decide.rejection(), decide.err)
	}
	if out.Status != kit.StatusCompleted || out.Detail.Decision != contract.DecisionPart || !slices.Equal(out.Detail.Amended, []string{"51/municipality"}) {
		t.Errorf("outcome %+v", out)
	}
	if len(f.applied) != 1 || !f.applied[0].Items[0].Accepted || f.applied[0].Items[1].Accepted || f.applied[0].DisclosureCase != disclosureCase {
		t.Errorf("applied %+v", f.applied)
	}
	if !slices.Equal(f.letters, []string{correctionIn.CaseNumber + "/correction"}) {
		t.Errorf("letters %v", f.letters)
	}
}

// TestDisclosureRequestAtTheCounter: the counter checks the identity,
// forwards the request to the Organization's case and follows it; the
// operator discloses there; the counter completes when the notice has
// gone, having seen the Organization's steps and never the records. An
// identity not proved forwards nothing.
func TestDisclosureRequestAtTheCounter(t *testing.T) {
	for _, tc := range []struct {
		name     string
		identity ConfirmIdentityInput
		status   string
	}{
		{"disclosed", identityOK, kit.StatusCompleted},
		{"identity not proved", ConfirmIdentityInput{Clerk: "clerk1", DocumentType: "passport"}, kit.StatusRejected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeRecords{serials: []string{"51", "a2"}}
			env := recordsEnv(t, f)
			read, opened := 0, 0
			env.OnActivity(contract.ReadRequester.Name, mock.Anything, mock.Anything).Return(
				func(context.Context, contract.ReadRequesterInput) (contract.ReadRequesterResult, error) {
					read++
					return contract.ReadRequesterResult{Requester: testRequester}, nil
				}).Maybe()
			env.OnActivity(contract.RegisterDocuments.Name, mock.Anything, mock.Anything).Return(contract.RegisterDocumentsResult{}, nil).Maybe()
			env.OnActivity(contract.OpenCase.Name, mock.Anything, mock.Anything).Return(
				func(context.Context, contract.OpenCaseInput) (contract.OpenCaseResult, error) {
					opened++
					return contract.OpenCaseResult{}, nil
				}).Maybe()
			env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: WorkflowID(contract.ProcInPersonDisclosureRequest, inPersonRecordsIn.CaseNumber)})
			sendAt(env, time.Minute, kit.ConfirmIdentityUpdate, tc.identity)
			var counterAt3 kit.State
			env.RegisterDelayedCallback(func() {
				counterAt3 = stateOf(t, env)
				_ = env.UpdateWorkflowByID(WorkflowID(contract.ProcDisclosure, disclosureCase), DiscloseUpdate, "disclose", &testsuite.TestUpdateCallback{
					OnReject: func(err error) { t.Errorf("disclose refused: %v", err) }, OnAccept: func() {}, OnComplete: func(any, error) {}},
					DiscloseInput{Clerk: "jlis1"})
			}, 3*day)
			env.ExecuteWorkflow(InPersonDisclosureRequest, inPersonRecordsIn)
			var out InPersonDisclosureRequestResult
			if err := env.GetWorkflowResult(&out); err != nil {
				t.Fatal(err)
			}
			if out.Status != tc.status {
				t.Fatalf("status %s (%+v), want %s", out.Status, out.Rejection, tc.status)
			}
			if tc.status != kit.StatusCompleted {
				if read != 0 || opened != 0 || len(f.received) != 0 {
					t.Errorf("a refused request reached the register %d, opened %d, the Organization %d", read, opened, len(f.received))
				}
				return
			}
			r := counterAt3.Records
			if r == nil || r.OrgCase != disclosureCase || r.OrgStep != StepDisclosure || r.Due.IsZero() {
				t.Errorf("counter's view on day 3: %+v", r)
			}
			if !out.Detail.Delivered || out.Detail.OrgCase != disclosureCase {
				t.Errorf("outcome %+v", out)
			}
			if len(f.received) != 1 || f.received[0].CounterCase != inPersonRecordsIn.CaseNumber || f.received[0].Requester != testRequester {
				t.Errorf("the Organization received %+v", f.received)
			}
		})
	}
}

// TestExtensionAcceptedInTimeCounts: an extension accepted a minute before
// the deadline whose notice takes two hours to send still extends it: the
// case is never overdue.
func TestExtensionAcceptedInTimeCounts(t *testing.T) {
	f := &fakeRecords{serials: []string{"51"}}
	env := recordsEnv(t, f)
	env.OnActivity(contract.SendRecordsLetter.Name, mock.Anything, mock.Anything).After(2*time.Hour).Return(
		contract.SendRecordsLetterResult{Delivery: contract.DeliveryMail}, nil)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: WorkflowID(contract.ProcDisclosure, disclosureCase)})
	// Started 2026-12-01 10:00 JST: the deadline is the end of 2026-12-30 JST.
	fires := time.Date(2026, 12, 31, 0, 0, 0, 0, time.FixedZone("JST", 9*3600)).Sub(time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC))
	extend := sendAt(env, fires-time.Minute, kit.ExtendDeadlineUpdate, kit.ExtendDeadlineInput{Clerk: "jlis1", Reason: "確認中"})
	var after kit.State
	env.RegisterDelayedCallback(func() { after = stateOf(t, env) }, fires+3*time.Hour)
	sendAt(env, fires+5*time.Hour, DiscloseUpdate, DiscloseInput{Clerk: "jlis1"})
	env.ExecuteWorkflow(Disclosure, disclosureIn)
	var out DisclosureResult
	if err := env.GetWorkflowResult(&out); err != nil {
		t.Fatal(err)
	}
	if !extend.accepted || extend.err != nil {
		t.Fatalf("extension: %s %v", extend.rejection(), extend.err)
	}
	if after.Deadline == nil || after.Deadline.Overdue || !after.Deadline.Extended || after.Status != kit.StatusOpen {
		t.Errorf("three hours after the first deadline: %+v (status %s)", after.Deadline, after.Status)
	}
	if out.Status != kit.StatusCompleted || !out.Detail.Extended {
		t.Errorf("outcome %+v", out)
	}
}
