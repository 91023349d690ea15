package workflows

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/madoguchi/madoguchi/activities/municipal"
	"github.com/madoguchi/madoguchi/activities/org"
	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/reasons"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// fakeCA holds certificates in memory and revokes them as the CA does for
// register changes: once per request id and serial, sparing expired,
// already revoked and later-issued ones. The real org activity runs in
// front of it, so the reasons and the allowlist are the real ones.
type fakeCA struct {
	mu     sync.Mutex
	certs  []fakeCert
	events map[string]reasons.Reason // request id + "/" + serial
	calls  int
	rows   int
}

type fakeCert struct {
	serial, resident string
	kind             ca.Kind
	issued           time.Time
	revoked          reasons.Reason
}

func newFakeCA(certs ...fakeCert) *fakeCA {
	return &fakeCA{certs: certs, events: map[string]reasons.Reason{}}
}

func (f *fakeCA) RevokeForRegisterChanges(_ context.Context, changes []ca.RegisterRevocation, _ time.Time) (ca.RegisterRevocationResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.rows += len(changes)
	var out ca.RegisterRevocationResult
	for i, ch := range changes {
		for n := range f.certs {
			c := &f.certs[n]
			r, ok := ch.Reasons[c.kind]
			if !ok || c.resident != ch.ResidentCode || !c.issued.Before(ch.IssuedBefore) {
				continue
			}
			id := ch.RequestID + "/" + c.serial
			switch _, mine := f.events[id]; {
			case mine:
				out.Replayed++
			case c.revoked != "":
				out.AlreadyRevoked++
				continue
			default:
				f.events[id], c.revoked = r, r
				out.New++
			}
			out.Revoked = append(out.Revoked, ca.RevokedByChange{Change: i, Serial: c.serial, Kind: c.kind, Reason: r})
		}
	}
	return out, nil
}

func (f *fakeCA) reason(serial string) reasons.Reason {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.certs {
		if c.serial == serial {
			return c.revoked
		}
	}
	return ""
}

var issuedLastYear = time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)

// holder has a signing and a user-authentication certificate.
func holder(resident string) []fakeCert {
	return []fakeCert{{serial: "s" + resident, resident: resident, kind: ca.KindSign, issued: issuedLastYear},
		{serial: "a" + resident, resident: resident, kind: ca.KindAuth, issued: issuedLastYear}}
}

const exCase = "131016-20261126-000009"

func exInput(kind string) ExOfficioRevocationInput {
	return ExOfficioRevocationInput{CaseNumber: exCase, MunicipalityCode: "131016", Actor: "jukisys", EventID: 42,
		Change: contract.RegisterChange{ChangeID: "R-1", ResidentCode: "00000000011", Kind: kind, Date: "2026-11-25"}}
}

type exEnv struct {
	env       *testsuite.TestWorkflowEnvironment
	ca        *fakeCA
	completed []contract.CompleteRegisterChangesInput
	docs      []string
}

func newExEnv(t *testing.T, proc, caseNumber string, f *fakeCA) *exEnv {
	var ts testsuite.WorkflowTestSuite
	e := &exEnv{env: ts.NewTestWorkflowEnvironment(), ca: f}
	e.env.SetStartTime(time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC))
	e.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: WorkflowID(proc, caseNumber)})
	e.env.RegisterActivity(&org.ExOfficio{CA: f})
	e.env.RegisterActivity(&municipal.Municipal{})
	e.env.RegisterActivity(&municipal.RegisterChanges{})
	var mu sync.Mutex
	e.env.OnActivity(contract.CompleteRegisterChanges.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.CompleteRegisterChangesInput) (contract.CompleteRegisterChangesResult, error) {
			mu.Lock()
			defer mu.Unlock()
			e.completed = append(e.completed, in)
			return contract.CompleteRegisterChangesResult{Marked: len(in.EventIDs)}, nil
		}).Maybe()
	e.env.OnActivity(contract.RegisterDocuments.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.RegisterDocumentsInput) (contract.RegisterDocumentsResult, error) {
			e.docs = append(e.docs, in.DocTypes...)
			return contract.RegisterDocumentsResult{RetainUntil: "2031-11-26"}, nil
		}).Maybe()
	e.env.OnActivity(contract.RecordEvent.Name, mock.Anything, mock.Anything).Return(contract.RecordEventResult{}, nil).Maybe()
	e.env.OnActivity(contract.CloseCase.Name, mock.Anything, mock.Anything).Return(contract.CloseCaseResult{}, nil).Once()
	t.Cleanup(func() { e.env.AssertExpectations(t) })
	return e
}

func (e *exEnv) state(t *testing.T) kit.State {
	t.Helper()
	v, err := e.env.QueryWorkflow(StateQuery)
	if err != nil {
		t.Fatal(err)
	}
	var st kit.State
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestExOfficioRevocation: what each register change revokes, with which
// reason, and that the holder's notice is recorded only when something was
// revoked.
func TestExOfficioRevocation(t *testing.T) {
	for _, tc := range []struct {
		kind       string
		sign, auth reasons.Reason
	}{
		{"address_change", reasons.AffiliationChanged, ""},
		{"moved_out", reasons.AffiliationChanged, ""},
		{"name_change", reasons.AffiliationChanged, ""},
		{"birth_date_correction", reasons.AffiliationChanged, ""},
		{"sex_correction", reasons.AffiliationChanged, ""},
		{"death", reasons.AffiliationChanged, reasons.CessationOfOperation},
		{"moved_abroad", reasons.AffiliationChanged, reasons.CessationOfOperation},
		{"record_removal", reasons.AffiliationChanged, reasons.CessationOfOperation},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			f := newFakeCA(holder("00000000011")...)
			e := newExEnv(t, ProcedureExOfficioRevocation, exCase, f)
			e.env.ExecuteWorkflow(ExOfficioRevocation, exInput(tc.kind))
			var out ExOfficioRevocationResult
			if err := e.env.GetWorkflowResult(&out); err != nil {
				t.Fatal(err)
			}
			if out.Status != StatusCompleted {
				t.Fatalf("status %s (%v)", out.Status, out.Rejection)
			}
			if got := f.reason("s00000000011"); got != tc.sign {
				t.Errorf("signing certificate: %q, want %q", got, tc.sign)
			}
			if got := f.reason("a00000000011"); got != tc.auth {
				t.Errorf("user-authentication certificate: %q, want %q", got, tc.auth)
			}
			want := 1
			if tc.auth != "" {
				want = 2
			}
			st := e.state(t)
			if st.Revocation == nil || len(st.Revocation.Revoked) != want || st.Revocation.Notice != DocRevocationNotice {
				t.Fatalf("state %+v", st.Revocation)
			}
			if len(e.docs) != 1 || e.docs[0] != DocRevocationNotice || len(e.completed) != 1 || e.completed[0].EventIDs[0] != 42 {
				t.Errorf("documents %v, completed %v", e.docs, e.completed)
			}
		})
	}
}

// TestExOfficioRevocationTwice: the same change processed again (a retry,
// a case restarted) revokes nothing more and still reports what it revoked.
func TestExOfficioRevocationTwice(t *testing.T) {
	f := newFakeCA(holder("00000000011")...)
	for i := range 2 {
		e := newExEnv(t, ProcedureExOfficioRevocation, exCase, f)
		e.env.ExecuteWorkflow(ExOfficioRevocation, exInput("death"))
		var out ExOfficioRevocationResult
		if err := e.env.GetWorkflowResult(&out); err != nil || out.Status != StatusCompleted {
			t.Fatalf("run %d: %v %v", i, out, err)
		}
		if st := e.state(t); len(st.Revocation.Revoked) != 2 || (i == 1 && st.Revocation.Replayed != 2) {
			t.Fatalf("run %d: state %+v", i, st.Revocation)
		}
	}
	if len(f.events) != 2 {
		t.Fatalf("%d revocation events, want 2", len(f.events))
	}
}

// TestExOfficioRevocationSparesNewerAndRevoked: a certificate issued after
// the day of the change was made from the new record and stays; one
// revoked before is counted, not revoked again; a holder with nothing
// valid gets no notice.
func TestExOfficioRevocationSparesNewerAndRevoked(t *testing.T) {
	f := newFakeCA(
		fakeCert{serial: "new", resident: "00000000011", kind: ca.KindSign, issued: time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)}, // 11-26 00:00 JST
		fakeCert{serial: "old", resident: "00000000011", kind: ca.KindSign, issued: issuedLastYear, revoked: reasons.Superseded},
	)
	e := newExEnv(t, ProcedureExOfficioRevocation, exCase, f)
	e.env.ExecuteWorkflow(ExOfficioRevocation, exInput("address_change"))
	var out ExOfficioRevocationResult
	if err := e.env.GetWorkflowResult(&out); err != nil || out.Status != StatusCompleted {
		t.Fatalf("%v %v", out, err)
	}
	if f.reason("new") != "" || f.reason("old") != reasons.Superseded {
		t.Fatalf("new %q, old %q", f.reason("new"), f.reason("old"))
	}
	if st := e.state(t); st.Revocation.AlreadyRevoked != 1 || len(st.Revocation.Revoked) != 0 || len(e.docs) != 0 {
		t.Fatalf("state %+v, documents %v", st.Revocation, e.docs)
	}
}

// TestExOfficioRevocationUnknownChange is rejected before the CA is asked.
func TestExOfficioRevocationUnknownChange(t *testing.T) {
	f := newFakeCA(holder("00000000011")...)
	e := newExEnv(t, ProcedureExOfficioRevocation, exCase, f)
	e.env.ExecuteWorkflow(ExOfficioRevocation, exInput("marriage"))
	var out ExOfficioRevocationResult
	if err := e.env.GetWorkflowResult(&out); err != nil {
		t.Fatal(err)
	}
	if out.Status != StatusRejected || out.Rejection.Code != "unknown_change" || f.calls != 0 {
		t.Fatalf("status %s %v, CA calls %d", out.Status, out.Rejection, f.calls)
	}
}

// TestExOfficioRevocationOtherProcedureRefused: the CA refuses the reasons
// to a workflow that is not an ex-officio revocation; the case fails and
// nothing is revoked.
func TestExOfficioRevocationOtherProcedureRefused(t *testing.T) {
	f := newFakeCA(holder("00000000011")...)
	e := newExEnv(t, ProcedureInPersonIssuance, exCase, f)
	e.env.ExecuteWorkflow(ExOfficioRevocation, exInput("death"))
	var out ExOfficioRevocationResult
	if err := e.env.GetWorkflowResult(&out); err != nil {
		t.Fatal(err)
	}
	if out.Status != StatusFailed || f.calls != 0 || f.reason("s00000000011") != "" {
		t.Fatalf("status %s, CA calls %d", out.Status, f.calls)
	}
}

// TestExOfficioRevocationBatch: a batch goes to the CA chunk by chunk (one
// call each), every chunk's municipal records are completed, and the counts
// add up; changes of residents without certificates revoke nothing.
func TestExOfficioRevocationBatch(t *testing.T) {
	const batchCase = "131016-20261126-000010"
	var certs []fakeCert
	var all contract.RegisterChangeChunk
	for i := range 7 {
		r := "0000000010" + string(rune('0'+i))
		if i < 5 {
			certs = append(certs, holder(r)...)
		}
		kind := "address_change"
		if i == 0 {
			kind = "death"
		}
		all.EventIDs = append(all.EventIDs, int64(100+i))
		all.ResidentCodes = append(all.ResidentCodes, r)
		all.Kinds = append(all.Kinds, kind)
		all.Dates = append(all.Dates, "2026-11-25")
	}
	f := newFakeCA(certs...)
	e := newExEnv(t, ProcedureExOfficioRevocationBatch, batchCase, f)
	var reads []contract.ReadRegisterChangesInput
	e.env.OnActivity(contract.ReadRegisterChanges.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.ReadRegisterChangesInput) (contract.ReadRegisterChangesResult, error) {
			reads = append(reads, in)
			var out contract.ReadRegisterChangesResult
			out.Total = all.Len()
			for i, id := range all.EventIDs {
				if id > in.After && out.Changes.Len() < in.Limit {
					out.Changes.EventIDs = append(out.Changes.EventIDs, id)
					out.Changes.ResidentCodes = append(out.Changes.ResidentCodes, all.ResidentCodes[i])
					out.Changes.Kinds = append(out.Changes.Kinds, all.Kinds[i])
					out.Changes.Dates = append(out.Changes.Dates, all.Dates[i])
				}
			}
			return out, nil
		})
	e.env.ExecuteWorkflow(ExOfficioRevocationBatch, ExOfficioRevocationBatchInput{CaseNumber: batchCase, MunicipalityCode: "131016",
		Actor: "jukisys", BatchID: "MERGE-1", ChunkSize: 3})
	var out ExOfficioRevocationBatchResult
	if err := e.env.GetWorkflowResult(&out); err != nil {
		t.Fatal(err)
	}
	d := out.Detail
	// 7 changes in chunks of 3: 3 CA calls; 5 holders, one of them dead:
	// 5 signing + 1 user-authentication certificate.
	if out.Status != StatusCompleted || d.Changes != 7 || d.Chunks != 3 || d.Revoked != 6 || f.calls != 3 || f.rows != 7 {
		t.Fatalf("status %s detail %+v, CA calls %d rows %d", out.Status, d, f.calls, f.rows)
	}
	if f.reason("a00000000100") != reasons.CessationOfOperation || f.reason("a00000000101") != "" {
		t.Errorf("user-authentication certificates: dead %q, moved %q", f.reason("a00000000100"), f.reason("a00000000101"))
	}
	var done []int64
	for _, c := range e.completed {
		done = append(done, c.EventIDs...)
	}
	if len(done) != 7 || done[0] != 100 || done[6] != 106 {
		t.Errorf("completed %v", done)
	}
	if st := e.state(t); st.Revocation.Processed != 7 || st.Revocation.RevokedCount != 6 || st.Revocation.Notice != DocRevocationNotice {
		t.Errorf("state %+v", st.Revocation)
	}
	if len(reads) != 3 || reads[1].After != 102 || reads[2].After != 105 {
		t.Errorf("reads %+v", reads)
	}
}
