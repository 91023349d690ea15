package workflows

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
)

// Look-ups: short workflows on the CA worker through which the gateway
// asks the Organization's database what it may know (a renewal code's
// holder, a queued letter to print), since it has no access to that
// database itself. They are no cases: their ids are random and hold
// nothing of what they ask.

// lookupActivity runs one Organization activity of a look-up: a few
// seconds, retried briefly, an invalid request not at all.
func lookupActivity[I, R any](ctx workflow.Context, a contract.Activity[I, R], in I) (R, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue: contract.CATaskQueue, StartToCloseTimeout: 10 * time.Second, ScheduleToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, NonRetryableErrorTypes: []string{contract.ErrTypeInvalid}},
	})
	var r R
	err := workflow.ExecuteActivity(actx, a.Name, in).Get(ctx, &r)
	return r, err
}

// lookup starts a look-up workflow under a random id of proc and waits
// for its answer (a minute at most).
func lookup[R any](ctx context.Context, c client.Client, proc, workflowName string, in any) (R, error) {
	var r R
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return r, err
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: WorkflowID(proc, hex.EncodeToString(b[:])), TaskQueue: contract.CATaskQueue, WorkflowExecutionTimeout: time.Minute,
	}, workflowName, in)
	if err != nil {
		return r, fmt.Errorf("workflows: %s: %w", proc, err)
	}
	if err := run.Get(ctx, &r); err != nil {
		return r, fmt.Errorf("workflows: %s: %w", proc, err)
	}
	return r, nil
}

// ReadRecordsLetterWorkflow is the registered name of the letter look-up.
const ReadRecordsLetterWorkflow = "ReadRecordsLetter"

// ReadRecordsLetter reads a queued letter of the Organization's records
// procedures for the operator to print.
func ReadRecordsLetter(ctx workflow.Context, in contract.ReadRecordsLetterInput) (contract.ReadRecordsLetterResult, error) {
	return lookupActivity(ctx, contract.ReadRecordsLetter, in)
}

// FetchRecordsLetter runs ReadRecordsLetter and waits for the letter.
func FetchRecordsLetter(ctx context.Context, c client.Client, caseNumber, letter string) (contract.ReadRecordsLetterResult, error) {
	return lookup[contract.ReadRecordsLetterResult](ctx, c, contract.ProcReadRecordsLetter, ReadRecordsLetterWorkflow,
		contract.ReadRecordsLetterInput{CaseNumber: caseNumber, Letter: letter})
}
