package org

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/reasons"
)

// issuer counts what reaches the CA behind the activities.
type issuer struct{ revoked, held, released int }

func (i *issuer) Issue(context.Context, []contract.CertificateRequest) ([]contract.IssuedCertificate, error) {
	return nil, nil
}

func (i *issuer) Revoke(_ context.Context, req contract.RevokeCertificateInput) (contract.RevokeCertificateResult, error) {
	i.revoked++
	return contract.RevokeCertificateResult{Outcome: "revoked", RevokedAt: req.At}, nil
}

func (i *issuer) Hold(context.Context, contract.HoldCertificateInput) (contract.HoldCertificateResult, error) {
	i.held++
	return contract.HoldCertificateResult{Outcome: "held"}, nil
}

func (i *issuer) Release(context.Context, contract.ReleaseHoldInput) (contract.ReleaseHoldResult, error) {
	i.released++
	return contract.ReleaseHoldResult{Outcome: "released"}, nil
}

func (i *issuer) CardCertificates(context.Context, string) ([]contract.CertificateStatus, error) {
	return nil, nil
}

func (i *issuer) Status(_ context.Context, serial string) (contract.CertificateStatus, error) {
	return contract.CertificateStatus{Serial: serial, State: "good"}, nil
}

// refusedForGood reports whether err is the CA's non-retryable refusal.
func refusedForGood(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.NonRetryable() && appErr.Type() == contract.ErrTypeInvalid
}

// TestCARefusesACallerThatIsNoProcedure: in the SDK's activity test
// environment the calling workflow's id ("default-test-workflow-id") names
// no procedure, so every reason, and a hold or release, is refused for
// good and the CA is never reached.
func TestCARefusesACallerThatIsNoProcedure(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	is := &issuer{}
	ca := &CA{Issuer: is}
	env.RegisterActivity(ca)
	for _, r := range append(reasons.Revocations(), reasons.CertificateHold) {
		_, err := env.ExecuteActivity(ca.RevokeCertificate, contract.RevokeCertificateInput{RequestID: "x/revoke/1", Serial: "1", Reason: r})
		if !refusedForGood(err) {
			t.Errorf("reason %s: %v, want a non-retryable refusal", r, err)
		}
	}
	if _, err := env.ExecuteActivity(ca.HoldCertificate, contract.HoldCertificateInput{RequestID: "x/hold/1", Serial: "1"}); !refusedForGood(err) {
		t.Errorf("hold: %v, want a non-retryable refusal", err)
	}
	if _, err := env.ExecuteActivity(ca.ReleaseHold, contract.ReleaseHoldInput{RequestID: "x/release/1", Serial: "1"}); !refusedForGood(err) {
		t.Errorf("release: %v, want a non-retryable refusal", err)
	}
	if *is != (issuer{}) {
		t.Errorf("the CA was reached: %+v", *is)
	}
}

// revokeAs is a workflow that revokes once, as a procedure does.
func revokeAs(ctx workflow.Context, r reasons.Reason) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var ca *CA
	return workflow.ExecuteActivity(ctx, ca.RevokeCertificate, contract.RevokeCertificateInput{RequestID: "c/revoke/1", Serial: "1", Reason: r}).Get(ctx, nil)
}

// TestCAReasonAllowlist: the CA takes the calling procedure from the
// workflow id's prefix (which no input can forge) and revokes only with a
// reason the allowlist gives that procedure; a refusal is not retried.
func TestCAReasonAllowlist(t *testing.T) {
	for _, tc := range []struct {
		workflowID string
		reason     reasons.Reason
		allowed    bool
	}{
		{contract.ProcInPersonIssuance + "/131016-20261126-000001", reasons.Superseded, true},
		{contract.ProcInPersonIssuance + "/131016-20261126-000001", reasons.CessationOfOperation, true},
		{contract.ProcInPersonIssuance + "/131016-20261126-000001", reasons.KeyCompromise, true},
		{contract.ProcInPersonIssuance + "/131016-20261126-000001", reasons.AffiliationChanged, false},
		{contract.ProcInPersonIssuance + "/131016-20261126-000001", reasons.CACompromise, false},
		{contract.ProcInPersonIssuance + "/131016-20261126-000001", reasons.CertificateHold, false},
		{contract.ProcProxyIssuance + "/131016-20261126-000002", reasons.Superseded, true},
		{contract.ProcRelayIssuance + "/131016-R141003-20261126-000001", reasons.CessationOfOperation, true},
		{contract.ProcRelayForwarding + "/141003-20261126-000001", reasons.CessationOfOperation, false},
		// The case number cannot smuggle a procedure in.
		{"unknown/" + contract.ProcInPersonIssuance + "/1", reasons.Superseded, false},
	} {
		t.Run(tc.workflowID+"/"+string(tc.reason), func(t *testing.T) {
			var ts testsuite.WorkflowTestSuite
			env := ts.NewTestWorkflowEnvironment()
			is := &issuer{}
			env.RegisterActivity(&CA{Issuer: is})
			env.RegisterWorkflow(revokeAs)
			env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: tc.workflowID})
			env.ExecuteWorkflow(revokeAs, tc.reason)
			err := env.GetWorkflowError()
			if tc.allowed {
				if err != nil || is.revoked != 1 {
					t.Fatalf("err %v, revoked %d; want one revocation", err, is.revoked)
				}
				return
			}
			if !refusedForGood(err) {
				t.Fatalf("err %v, want a non-retryable refusal", err)
			}
			if is.revoked != 0 {
				t.Fatalf("revoked %d times, want none", is.revoked)
			}
		})
	}
}
