package workflows

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/madoguchi/madoguchi/activities/municipal"
	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

var findingInput = AuditFindingInput{CaseNumber: "131016-20261201-000900", MunicipalityCode: "131016", Auditor: "auditor1",
	Finding: Finding{Category: "pin_confirmation", Subject: "131016-20261201-000042", Summary: "代行入力の確認記録が翌日付"}}

// findingEnv is a finding's test environment; it keeps the case events
// recorded and the status the case closed with.
type findingEnv struct {
	env    *testsuite.TestWorkflowEnvironment
	events []contract.RecordEventInput
	closed contract.CloseCaseInput
}

func newFindingEnv(t *testing.T) *findingEnv {
	var ts testsuite.WorkflowTestSuite
	f := &findingEnv{env: ts.NewTestWorkflowEnvironment()}
	f.env.RegisterActivity(&municipal.Municipal{})
	f.env.SetStartTime(time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC))
	f.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: WorkflowID(ProcedureAuditFinding, findingInput.CaseNumber)})
	f.env.OnActivity(contract.RecordEvent.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.RecordEventInput) (contract.RecordEventResult, error) {
			f.events = append(f.events, in)
			return contract.RecordEventResult{}, nil
		})
	f.env.OnActivity(contract.CloseCase.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.CloseCaseInput) (contract.CloseCaseResult, error) {
			f.closed = in
			return contract.CloseCaseResult{}, nil
		})
	f.env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil)
	return f
}

func (f *findingEnv) keys() string {
	var k []string
	for _, e := range f.events {
		k = append(k, e.Key+"="+e.Actor)
	}
	return strings.Join(k, " ")
}

// TestAuditFinding: a finding is corrected by the manager and confirmed
// closed by an auditor, sent back once, withdrawn by its auditor, or lapses
// when nobody corrects or confirms it within FindingWindow; the validators
// refuse the wrong step, the wrong person and empty input, and every
// step is in the case's audit trail.
func TestAuditFinding(t *testing.T) {
	h := time.Hour
	correct := func(by, text string) RecordCorrectionInput { return RecordCorrectionInput{Clerk: by, Correction: text} }
	for _, tc := range []struct {
		name    string
		sends   func(env *testsuite.TestWorkflowEnvironment) []*sent
		status  string
		reason  string
		rounds  int
		keys    string
		refused []string // the rejections expected, in the order sent
	}{
		{"corrected and confirmed", func(env *testsuite.TestWorkflowEnvironment) []*sent {
			return []*sent{
				sendAt(env, 1*h, ConfirmClosedUpdate, ConfirmClosedInput{Clerk: "auditor1", Closed: true}),
				sendAt(env, 2*h, RecordCorrectionUpdate, correct("auditor1", "自分で直した")),
				sendAt(env, 3*h, RecordCorrectionUpdate, correct("manager1", "")),
				sendAt(env, 4*h, RecordCorrectionUpdate, correct("manager1", "確認手順を改め、職員に周知した")),
				sendAt(env, 5*h, RecordCorrectionUpdate, correct("manager1", "二度目")),
				sendAt(env, 6*h, ConfirmClosedUpdate, ConfirmClosedInput{Clerk: "manager1", Closed: true}),
				sendAt(env, 7*h, ConfirmClosedUpdate, ConfirmClosedInput{Clerk: "auditor2", Closed: true}),
			}
		}, kit.StatusCompleted, "", 1, "finding_recorded=auditor1 finding_corrected:1=manager1 finding_closed=auditor2",
			[]string{"是正の確認を受け付ける段階ではありません", "指摘した監査担当者は是正を記録できません", "是正の内容を入力してください", "",
				"是正の記録を受け付ける段階ではありません", "是正を記録した職員は確認できません", ""}},
		{"sent back once", func(env *testsuite.TestWorkflowEnvironment) []*sent {
			return []*sent{
				sendAt(env, 1*h, RecordCorrectionUpdate, correct("manager1", "周知した")),
				sendAt(env, 2*h, ConfirmClosedUpdate, ConfirmClosedInput{Clerk: "auditor1", Closed: false}),
				sendAt(env, 3*h, ConfirmClosedUpdate, ConfirmClosedInput{Clerk: "auditor1", Closed: false, Note: "周知の記録がない"}),
				sendAt(env, 4*h, RecordCorrectionUpdate, correct("manager1", "周知の記録を保存した")),
				sendAt(env, 5*h, ConfirmClosedUpdate, ConfirmClosedInput{Clerk: "auditor1", Closed: true}),
			}
		}, kit.StatusCompleted, "", 2, "finding_recorded=auditor1 finding_corrected:1=manager1 finding_reopened:1=auditor1 finding_corrected:2=manager1 finding_closed=auditor1",
			[]string{"", "差し戻す理由を入力してください", "", "", ""}},
		{"never corrected", func(env *testsuite.TestWorkflowEnvironment) []*sent { return nil },
			kit.StatusLapsed, "finding_not_corrected", 0, "finding_recorded=auditor1", nil},
		{"never confirmed", func(env *testsuite.TestWorkflowEnvironment) []*sent {
			return []*sent{sendAt(env, 1*h, RecordCorrectionUpdate, correct("manager1", "周知した"))}
		}, kit.StatusLapsed, "closure_not_confirmed", 1, "finding_recorded=auditor1 finding_corrected:1=manager1", []string{""}},
		{"withdrawn by its auditor", func(env *testsuite.TestWorkflowEnvironment) []*sent {
			return []*sent{sendAt(env, 1*h, kit.CancelUpdate, kit.CancelInput{Clerk: "auditor1", Reason: "誤認"})}
		}, kit.StatusCancelled, "cancelled", 0, "finding_recorded=auditor1", []string{""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFindingEnv(t)
			sends := tc.sends(f.env)
			f.env.ExecuteWorkflow(AuditFinding, findingInput)
			if !f.env.IsWorkflowCompleted() || f.env.GetWorkflowError() != nil {
				t.Fatalf("completed %v, error %v", f.env.IsWorkflowCompleted(), f.env.GetWorkflowError())
			}
			var out AuditFindingResult
			if err := f.env.GetWorkflowResult(&out); err != nil {
				t.Fatal(err)
			}
			if out.Status != tc.status || out.Detail.Rounds != tc.rounds || (tc.reason != "" && (out.Rejection == nil || out.Rejection.Code != tc.reason)) {
				t.Errorf("outcome %+v (%+v)", out, out.Rejection)
			}
			if f.closed.Status != tc.status || f.closed.Reason != tc.reason {
				t.Errorf("closed as %+v, want %s (%s)", f.closed, tc.status, tc.reason)
			}
			if f.keys() != tc.keys {
				t.Errorf("audit trail %q, want %q", f.keys(), tc.keys)
			}
			for i, s := range sends {
				if got := s.rejection(); (tc.refused[i] == "") != (got == "") || !strings.Contains(got, tc.refused[i]) {
					t.Errorf("%s #%d: rejection %q, want %q", s.name, i, got, tc.refused[i])
				}
			}
			if tc.status == kit.StatusCompleted && (out.Detail.CorrectedBy != "manager1" || out.Detail.ConfirmedBy == "") {
				t.Errorf("detail %+v", out.Detail)
			}
		})
	}
}

// TestAuditFindingStart: the start request refuses a finding without a
// known category or a summary before any case exists.
func TestAuditFindingStart(t *testing.T) {
	for _, tc := range []struct {
		in   Finding
		code string
	}{
		{Finding{Category: "procedure", Summary: "受付簿の記載漏れ"}, ""},
		{Finding{Category: "gossip", Summary: "x"}, "bad_category"},
		{Finding{Category: "procedure", Summary: "  "}, "missing_summary"},
		{Finding{Category: "procedure", Summary: strings.Repeat("長", 2001)}, "summary_too_long"},
		{Finding{Category: "procedure", Summary: "x", Subject: strings.Repeat("s", 101)}, "subject_too_long"},
	} {
		r := (&StartAuditFinding{tc.in}).Check()
		if (r == nil) != (tc.code == "") || (r != nil && r.Code != tc.code) {
			t.Errorf("%+v: %+v, want %q", tc.in, r, tc.code)
		}
	}
	in := (&StartAuditFinding{findingInput.Finding}).Input(Opening{CaseNumber: "N", Office: "131016", Clerk: "auditor1"}).(AuditFindingInput)
	if in.CaseNumber != "N" || in.MunicipalityCode != "131016" || in.Auditor != "auditor1" || in.Finding != findingInput.Finding {
		t.Errorf("input %+v", in)
	}
}
