package kit

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
)

// deadlineWorkflow waits on a legal deadline of 30 days, extendable once to
// 60, for a decision that never comes.
func deadlineWorkflow(ctx workflow.Context) (Outcome[string], error) {
	c, err := New(ctx, Info{Number: "131016-20261201-000001", Procedure: "test-deadline", Office: "131016"})
	if err != nil {
		return Outcome[string]{}, err
	}
	start := workflow.Now(ctx)
	var notices []time.Time
	d, err := UseDeadline(ctx, c, "disclosure", start.Add(30*24*time.Hour), start.Add(60*24*time.Hour),
		func(ctx workflow.Context, in ExtendDeadlineInput, due time.Time) error {
			notices = append(notices, due)
			return nil
		})
	if err != nil {
		return Outcome[string]{}, err
	}
	return Run(ctx, c, func(ctx workflow.Context) (string, error) {
		err := d.Await(ctx, "organization", "the decision", func() bool { return false })
		if len(notices) != 1 {
			return "", contract.Reject("notices", "want exactly one extension notice")
		}
		return "", err
	})
}

// TestDeadlineExtension: the deadline moves once, with a notice, before it
// passes; a second extension and one after the deadline are refused; the
// case lapses at the extended deadline, not at the first.
func TestDeadlineExtension(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(deadlineWorkflow)
	for _, a := range []string{contract.RecordEvent.Name, contract.CloseCase.Name} {
		env.RegisterActivityWithOptions(func(context.Context, any) (struct{}, error) { return struct{}{}, nil }, activity.RegisterOptions{Name: a})
	}
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	env.SetStartTime(start)
	results := map[string]string{}
	send := func(id string, at time.Duration, in ExtendDeadlineInput) {
		env.RegisterDelayedCallback(func() {
			env.UpdateWorkflow(ExtendDeadlineUpdate, id, &testsuite.TestUpdateCallback{
				OnReject:   func(error) { results[id] = "rejected" },
				OnAccept:   func() { results[id] = "accepted" },
				OnComplete: func(any, error) {},
			}, in)
		}, at)
	}
	day := 24 * time.Hour
	send("no-reason", day, ExtendDeadlineInput{Clerk: "op1"})
	send("first", 10*day, ExtendDeadlineInput{Clerk: "op1", Reason: "記録が大量"})
	send("second", 20*day, ExtendDeadlineInput{Clerk: "op1", Reason: "again"})
	var stateAt40 State
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(StateQuery)
		if err == nil {
			_ = v.Get(&stateAt40)
		}
	}, 40*day)
	env.ExecuteWorkflow(deadlineWorkflow)
	var out Outcome[string]
	if err := env.GetWorkflowResult(&out); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"no-reason": "rejected", "first": "accepted", "second": "rejected"}
	for id, w := range want {
		if results[id] != w {
			t.Errorf("update %s: %s, want %s", id, results[id], w)
		}
	}
	if stateAt40.Status != StatusOpen || stateAt40.Deadline == nil || !stateAt40.Deadline.Extended || stateAt40.Deadline.ExtendedBy != "op1" {
		t.Errorf("at day 40 the case should be open on its extended deadline: %+v", stateAt40.Deadline)
	}
	if out.Status != StatusLapsed || out.Rejection == nil || out.Rejection.Code != "deadline_passed" {
		t.Fatalf("outcome %+v, want lapsed at the deadline", out)
	}
	if ended := env.Now().Sub(start); ended != 60*day {
		t.Errorf("the case lapsed after %v, want at the extended deadline (60 days)", ended)
	}
}
