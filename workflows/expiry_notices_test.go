package workflows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/activities/org"
	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/letter/lettertest"
	"github.com/madoguchi/madoguchi/internal/renewal"
)

// noticeStore is the CA's expiry tables in memory, with ca.NoticeDue as
// its selection: enough for the workflow to run on the real activities.
type noticeStore struct {
	mu      sync.Mutex
	certs   []ca.ExpiringCertificate // in serial order
	notices map[string]ca.ExpiryNotice
}

func (s *noticeStore) ExpiringCertificates(_ context.Context, now time.Time, after string, limit int) ([]ca.ExpiringCertificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ca.ExpiringCertificate
	for _, c := range s.certs {
		_, noticed := s.notices[c.Serial]
		if c.Serial > after && len(out) < limit && ca.NoticeDue(ca.ExpiryFacts{NotAfter: c.NotAfter, Noticed: noticed}, now) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (s *noticeStore) HasExpiryNotice(_ context.Context, serial string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.notices[serial]
	return ok, nil
}

func (s *noticeStore) RecordExpiryNotice(_ context.Context, n ca.ExpiryNotice) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.notices[n.Serial]; ok {
		return false, nil
	}
	s.notices[n.Serial] = n
	return true, nil
}

func (s *noticeStore) RenewalCode(context.Context, string) (ca.RenewalHolder, error) {
	return ca.RenewalHolder{}, ca.ErrUnknownRenewalCode
}

func (s *noticeStore) RedeemRenewalCode(context.Context, string, string, string, time.Time) (ca.RenewalHolder, error) {
	return ca.RenewalHolder{}, ca.ErrUnknownRenewalCode
}

// runNotices runs ExpiryNotices once, under id, on the real CA activities
// backed by store, with a register holding every resident but "gone".
func runNotices(t *testing.T, store *noticeStore, id string, at time.Time) (ExpiryNoticesResult, []int) {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: id})
	env.SetStartTime(at)
	// A chunk renders a hundred letters.
	env.SetTestTimeout(2 * time.Minute)
	env.RegisterActivity(&org.Expiry{CA: store})
	var mu sync.Mutex
	var chunks []int
	env.RegisterActivityWithOptions(func(ctx context.Context, in contract.ReadHoldersInput) (contract.ReadHoldersResult, error) {
		mu.Lock()
		chunks = append(chunks, len(in.ResidentCodes))
		mu.Unlock()
		if activity.GetInfo(ctx).TaskQueue != contract.MunicipalTaskQueue {
			return contract.ReadHoldersResult{}, fmt.Errorf("the register was read on %s", activity.GetInfo(ctx).TaskQueue)
		}
		var out contract.ReadHoldersResult
		for _, c := range in.ResidentCodes {
			if c != "gone" {
				out.Holders = append(out.Holders, contract.Requester{ResidentCode: c, Name: "氏名 " + c, Address: "東京都千代田区" + c})
			}
		}
		return out, nil
	}, activity.RegisterOptions{Name: contract.ReadHolders.Name})
	env.ExecuteWorkflow(ExpiryNotices, ExpiryNoticesInput{Trigger: "schedule"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res ExpiryNoticesResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	return res, chunks
}

// TestExpiryNoticesOnce: a run selects in chunks of ExpiryNoticeChunk the
// certificates expiring within 3 months, reads their holders from the
// register and produces one notice per certificate (not for one expiring
// later, already expired, or whose holder is not a resident); a re-run of
// the same day and the next day's run produce nothing more.
func TestExpiryNoticesOnce(t *testing.T) {
	lettertest.RequireFonts(t)
	day := time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC) // 01:00 JST, 2 December
	store := &noticeStore{notices: map[string]ca.ExpiryNotice{}}
	due := ExpiryNoticeChunk + 3
	for i := range due {
		store.certs = append(store.certs, ca.ExpiringCertificate{Serial: fmt.Sprintf("a%04d", i), Kind: contract.KindUserAuth,
			MunicipalityCode: "131016", ResidentCode: fmt.Sprintf("%011d", i), NotAfter: day.AddDate(0, 2, 0)})
	}
	store.certs = append(store.certs,
		ca.ExpiringCertificate{Serial: "b0001", Kind: contract.KindSigning, ResidentCode: "later", NotAfter: day.AddDate(0, 4, 0)},
		ca.ExpiringCertificate{Serial: "b0002", Kind: contract.KindSigning, ResidentCode: "expired", NotAfter: day.Add(-time.Hour)},
		ca.ExpiringCertificate{Serial: "b0003", Kind: contract.KindSigning, ResidentCode: "gone", NotAfter: day.AddDate(0, 1, 0)})

	res, chunks := runNotices(t, store, "expiry-notices/daily-2026-12-01T16:00:00Z", day)
	want := ExpiryNoticesResult{Selected: due + 1, Produced: due, NotAddressed: 1}
	if res != want {
		t.Errorf("first run %+v, want %+v", res, want)
	}
	if !slices.Equal(chunks, []int{ExpiryNoticeChunk, 4}) {
		t.Errorf("chunks read from the register %v, want %d then 4", chunks, ExpiryNoticeChunk)
	}
	if len(store.notices) != due {
		t.Fatalf("%d notices, want %d", len(store.notices), due)
	}
	hashes := map[string]bool{}
	for serial, n := range store.notices {
		if n.RunID != "expiry-notices/daily-2026-12-01T16:00:00Z" || len(n.PDF) == 0 || !renewal.ValidHash(n.CodeHash) || !n.CodeExpiresAt.Equal(day.AddDate(0, 2, 0)) {
			t.Errorf("notice of %s: %+v", serial, n)
		}
		hashes[n.CodeHash] = true
	}
	if len(hashes) != due {
		t.Errorf("%d distinct renewal codes for %d notices", len(hashes), due)
	}
	// The letter is addressed from the register and shows neither the
	// resident code nor the serial it was made for.
	text := strings.Join(strings.Fields(lettertest.Text(t, store.notices["a0007"].PDF)), "")
	for _, want := range []string{"氏名00000000007様", "東京都千代田区00000000007", "利用者証明用電子証明書", ca.ExpiryNoticeNumber("a0007")} {
		if !strings.Contains(text, want) {
			t.Errorf("the notice does not say %q: %s", want, text)
		}
	}
	if strings.Contains(strings.ReplaceAll(text, "00000000007", ""), "0000007") || strings.Contains(text, "a0007") {
		t.Errorf("the notice shows the resident code or the serial beyond the address: %s", text)
	}
	for _, again := range []struct {
		id string
		at time.Time
	}{
		{"expiry-notices/on-demand-again", day.Add(3 * time.Hour)},
		{"expiry-notices/daily-2026-12-02T16:00:00Z", day.AddDate(0, 0, 1)},
	} {
		res, _ := runNotices(t, store, again.id, again.at)
		if res.Produced != 0 || len(store.notices) != due || res.NotAddressed != 1 {
			t.Errorf("%s: %+v, %d notices; want none more", again.id, res, len(store.notices))
		}
	}
}

// TestExpiryActivitiesRefuseOtherCallers: the notices' activities serve
// the notice runs only, the code's look-up the gateway's check only, its
// use the proxy renewal only; a refusal is for good and reaches no store.
func TestExpiryActivitiesRefuseOtherCallers(t *testing.T) {
	call := func(id string, act string, in any) error {
		var ts testsuite.WorkflowTestSuite
		env := ts.NewTestWorkflowEnvironment()
		env.RegisterActivity(&org.Expiry{}) // a nil store: reaching it panics
		env.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
			ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute,
				RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}})
			return workflow.ExecuteActivity(ctx, act, in).Get(ctx, nil)
		}, workflow.RegisterOptions{Name: "caller"})
		env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: id})
		env.ExecuteWorkflow("caller")
		return env.GetWorkflowError()
	}
	hash := renewal.Hash("ABCD-EFGH-JKLM-NPQR")
	for _, tc := range []struct {
		id, act string
		in      any
	}{
		{"proxy-issuance/131016-20261201-000001", contract.SelectExpiringCertificates.Name, contract.SelectExpiringInput{Limit: 10}},
		{"proxy-issuance/131016-20261201-000001", contract.ProduceExpiryNotices.Name, contract.ProduceExpiryNoticesInput{RunID: "x"}},
		{"proxy-issuance/131016-20261201-000001", contract.LookupRenewalCode.Name, contract.LookupRenewalCodeInput{CodeHash: hash}},
		{"expiry-notices/daily", contract.RedeemRenewalCode.Name, contract.RedeemRenewalCodeInput{CodeHash: hash, CaseNumber: "c", Office: "131016"}},
		{"renewal-code-check/ab", contract.RedeemRenewalCode.Name, contract.RedeemRenewalCodeInput{CodeHash: hash, CaseNumber: "c", Office: "131016"}},
	} {
		err := call(tc.id, tc.act, tc.in)
		var appErr *temporal.ApplicationError
		if !errors.As(err, &appErr) || appErr.Type() != contract.ErrTypeInvalid || !strings.Contains(err.Error(), "may not use") {
			t.Errorf("%s from %s: %v, want refused for good", tc.act, tc.id, err)
		}
	}
}

// TestRenewalFromNoticeCode: a proxy renewal started from the notice's
// code uses the code at the Organization first, then checks the register
// and the proxy's documents; no inquiry is mailed; the clerk who took the
// form types the PIN after another clerk's confirmation.
func (s *proxySuite) TestRenewalFromNoticeCode() {
	s.env.RegisterActivity(&org.Expiry{})
	in := proxyInput
	in.RenewalCodeHash = renewal.Hash("ABCD-EFGH-JKLM-NPQR")
	s.env.OnActivity(contract.RedeemRenewalCode.Name, mock.Anything, mock.MatchedBy(func(r contract.RedeemRenewalCodeInput) bool {
		return r.CodeHash == in.RenewalCodeHash && r.CaseNumber == in.CaseNumber && r.Office == "131016"
	})).Return(contract.RenewalHolder{Found: true, ResidentCode: in.Application.ResidentCode, UsedByCase: in.CaseNumber}, nil).Once()
	s.env.OnActivity(contract.CheckRegister.Name, mock.Anything, mock.Anything).Return(contract.CheckRegisterResult{Person: testPerson}, nil).Once()
	s.env.OnActivity(contract.RecordEvent.Name, mock.Anything, mock.Anything).Return(contract.RecordEventResult{}, nil)
	var pinsBy string
	s.mockCardSteps(&pinsBy)
	s.env.OnActivity(contract.RegisterDocuments.Name, mock.Anything, mock.MatchedBy(func(r contract.RegisterDocumentsInput) bool {
		return slices.Contains(r.DocTypes, "expiry_notice_form") && !slices.Contains(r.DocTypes, "inquiry_reply")
	})).Return(contract.RegisterDocumentsResult{}, nil)
	s.closeWith(StatusCompleted)

	s.update(time.Minute, ConfirmIdentityUpdate, proxyID, true, nil)
	s.update(2*time.Minute, ConfirmIntentUpdate, ConfirmIntentInput{Clerk: "clerk1"}, false, nil)
	s.update(3*time.Minute, ConfirmIntentUpdate, ConfirmIntentInput{Clerk: "clerk2"}, true, nil)

	s.env.ExecuteWorkflow(ProxyIssuance, in)
	s.NoError(s.env.GetWorkflowError())
	var res ProxyIssuanceResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(StatusCompleted, res.Status)
	s.Len(res.Detail.Certificates, 2)
	s.Equal("clerk1", pinsBy, "the clerk who took the form typed the PIN")
	s.env.AssertNotCalled(s.T(), contract.PrepareInquiry.Name, mock.Anything, mock.Anything)
}

// TestRenewalCodeRefused: a code the Organization refuses (used by another
// case, or another person's) ends the case rejected before the register is
// read or anything issued.
func (s *proxySuite) TestRenewalCodeRefused() {
	s.env.RegisterActivity(&org.Expiry{})
	in := proxyInput
	in.RenewalCodeHash = renewal.Hash("ABCD-EFGH-JKLM-NPQR")
	s.env.OnActivity(contract.RedeemRenewalCode.Name, mock.Anything, mock.Anything).Return(contract.RenewalHolder{},
		contract.Reject("renewal_code_used", "この更新コードは既に使われています / This renewal code has already been used.")).Once()
	s.closeWith(StatusRejected)
	s.env.ExecuteWorkflow(ProxyIssuance, in)
	s.NoError(s.env.GetWorkflowError())
	var res ProxyIssuanceResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(StatusRejected, res.Status)
	s.Equal("renewal_code_used", res.Rejection.Code)
	s.env.AssertNotCalled(s.T(), contract.CheckRegister.Name, mock.Anything, mock.Anything)
	s.env.AssertNotCalled(s.T(), contract.IssueCertificates.Name, mock.Anything, mock.Anything)
}

// TestExpiryNoticesContinueAsNew: a run bounds its history; after its last
// chunk it continues as new from the last serial, with the time of the run
// and what it did so far.
func TestExpiryNoticesContinueAsNew(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "expiry-notices/daily-x"})
	start := time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)
	env.SetStartTime(start)
	env.RegisterActivity(&org.Expiry{})
	env.RegisterActivityWithOptions(func(context.Context, contract.ReadHoldersInput) (contract.ReadHoldersResult, error) {
		return contract.ReadHoldersResult{}, nil
	}, activity.RegisterOptions{Name: contract.ReadHolders.Name})
	calls := 0
	env.OnActivity(contract.SelectExpiringCertificates.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.SelectExpiringInput) (contract.SelectExpiringResult, error) {
			calls++
			after := "" // the first chunk starts from the first serial
			if calls > 1 {
				after = fmt.Sprintf("s%03d", calls-1)
			}
			if !in.AsOf.Equal(start) || in.After != after {
				return contract.SelectExpiringResult{}, fmt.Errorf("chunk %d asked %+v", calls, in)
			}
			return contract.SelectExpiringResult{Certificates: []contract.ExpiringCertificate{{Serial: fmt.Sprintf("s%03d", calls), ResidentCode: "gone"}}}, nil
		})
	env.ExecuteWorkflow(ExpiryNotices, ExpiryNoticesInput{Trigger: "schedule"})
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("the run ended with %v, want to continue as new", err)
	}
	var next ExpiryNoticesInput
	if err := converterGet(can, &next); err != nil {
		t.Fatal(err)
	}
	want := ExpiryNoticesInput{Trigger: "schedule", AsOf: start, After: fmt.Sprintf("s%03d", expiryChunksPerRun),
		Done: ExpiryNoticesResult{Selected: expiryChunksPerRun, NotAddressed: expiryChunksPerRun}}
	if !next.AsOf.Equal(want.AsOf) || next.After != want.After || next.Done != want.Done || next.Trigger != want.Trigger || calls != expiryChunksPerRun {
		t.Errorf("continues with %+v after %d chunks, want %+v after %d", next, calls, want, expiryChunksPerRun)
	}
}

// converterGet decodes a continue-as-new error's single input.
func converterGet(can *workflow.ContinueAsNewError, out any) error {
	return converter.GetDefaultDataConverter().FromPayloads(can.Input, out)
}
