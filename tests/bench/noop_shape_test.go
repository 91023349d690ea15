package bench

import (
	"context"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/searchattr"
	"github.com/madoguchi/madoguchi/workflows"
)

// noop holds activities that do nothing, registered on the same workers and
// task queues as the real ones.
type noop struct{}

// Local is a no-op municipal (local) activity.
func (*noop) Local(context.Context, string) (string, error) { return "", nil }

// Terminal is a no-op card step.
func (*noop) Terminal(context.Context, string) (string, error) { return "", nil }

// Issue is a no-op CA step.
func (*noop) Issue(context.Context, string) (string, error) { return "", nil }

// NoopShape mirrors InPersonIssuance message for message: the same update,
// query, search-attribute upserts, local activities and activities on the
// terminal and CA queues, in the same order, each doing nothing.
func NoopShape(ctx workflow.Context, in workflows.InPersonIssuanceInput) (workflows.InPersonIssuanceResult, error) {
	var n *noop
	step := workflows.StepReception
	identity := false
	if err := workflow.SetQueryHandler(ctx, workflows.StateQuery, func() (string, error) { return step, nil }); err != nil {
		return workflows.InPersonIssuanceResult{}, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, workflows.ConfirmIdentityUpdate,
		func(ctx workflow.Context, in workflows.ConfirmIdentityInput) (workflows.ConfirmIdentityResult, error) {
			identity = true
			return workflows.ConfirmIdentityResult{Person: step}, nil
		}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, in workflows.ConfirmIdentityInput) error { return nil }}); err != nil {
		return workflows.InPersonIssuanceResult{}, err
	}
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 30 * time.Second})
	tctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{TaskQueue: contract.TerminalTaskQueue(in.TerminalID),
		StartToCloseTimeout: time.Minute, HeartbeatTimeout: 20 * time.Second})
	cctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{TaskQueue: contract.CATaskQueue,
		StartToCloseTimeout: time.Minute, RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}})
	// The kit writes the step and who is awaited when a case starts to wait
	// for a person, clears it when the wait ends, and writes the ending.
	enter := func(s string) { step = s }
	wait := func() {
		_ = workflow.UpsertTypedSearchAttributes(ctx, searchattr.Step.ValueSet(step), searchattr.Waiting.ValueSet("clerk"))
	}
	done := func() {
		_ = workflow.UpsertTypedSearchAttributes(ctx, searchattr.Step.ValueSet(step), searchattr.Waiting.ValueUnset())
	}
	local := func() error { return workflow.ExecuteLocalActivity(lctx, n.Local, in.CaseNumber).Get(ctx, nil) }
	term := func() error { return workflow.ExecuteActivity(tctx, n.Terminal, in.CaseNumber).Get(ctx, nil) }
	waited := func(run func() error) func() error {
		return func() error {
			wait()
			defer done()
			return run()
		}
	}

	enter(workflows.StepReception)
	enter(workflows.StepRegisterCheck)
	if err := local(); err != nil { // CheckRegister
		return workflows.InPersonIssuanceResult{}, err
	}
	enter(workflows.StepIdentityCheck)
	wait()
	// The kit bounds every wait for a person with a timer.
	if _, err := workflow.AwaitWithTimeout(ctx, 8*time.Hour, func() bool { return identity }); err != nil {
		return workflows.InPersonIssuanceResult{}, err
	}
	done()
	steps := []struct {
		step string
		run  func() error
	}{
		{"", local}, // RecordEvent
		{workflows.StepCardCheck, waited(term)},
		{"", local}, // CheckCard
		{workflows.StepPINSetting, waited(term)},
		{workflows.StepKeyGeneration, term},
		{workflows.StepIssuance, func() error { return workflow.ExecuteActivity(cctx, n.Issue, in.CaseNumber).Get(ctx, nil) }},
		{workflows.StepCardWrite, term},
		{"", local}, // RecordIssued
		{workflows.StepFee, local},
		{workflows.StepDocuments, local},
		{workflows.StepDone, func() error { // the ending, then CloseCase
			_ = workflow.UpsertTypedSearchAttributes(ctx, searchattr.Step.ValueSet(step), searchattr.Status.ValueSet(workflows.StatusCompleted), searchattr.Waiting.ValueUnset())
			return local()
		}},
	}
	for _, s := range steps {
		if s.step != "" {
			enter(s.step)
		}
		if err := s.run(); err != nil {
			return workflows.InPersonIssuanceResult{}, err
		}
	}
	return workflows.InPersonIssuanceResult{Status: workflows.StatusCompleted}, nil
}
