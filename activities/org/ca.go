// Package org holds the Organization's (機構) activities: issuance,
// revocation, hold and release through the HSM-backed CA, and the
// publication of revocation lists. They run on the CA worker ("jlis-ca"),
// the only process with the HSM and the jlis database credentials.
package org

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/reasons"
)

// Issuer is what the CA activities need of the Organization's CA.
type Issuer interface {
	// Issue issues the certificates of one procedure, idempotently by
	// request id; a signing and a user-authentication certificate issued
	// together are recorded as each other's counterpart (対応証明書).
	Issue(ctx context.Context, reqs []contract.CertificateRequest) ([]contract.IssuedCertificate, error)
	// Revoke revokes a certificate, idempotently by request id.
	Revoke(ctx context.Context, req contract.RevokeCertificateInput) (contract.RevokeCertificateResult, error)
	// Hold and Release put a user-authentication certificate on hold and
	// take it off, idempotently by request id.
	Hold(ctx context.Context, req contract.HoldCertificateInput) (contract.HoldCertificateResult, error)
	Release(ctx context.Context, req contract.ReleaseHoldInput) (contract.ReleaseHoldResult, error)
	// CardCertificates and Status read the Organization's records.
	CardCertificates(ctx context.Context, cardSerial string) ([]contract.CertificateStatus, error)
	Status(ctx context.Context, serial string) (contract.CertificateStatus, error)
}

// ErrInvalidRequest marks CA input no retry can fix; Issuer implementations
// wrap it so the activity fails without retrying.
var ErrInvalidRequest = errors.New("invalid certificate request")

// ErrReasonNotAllowed is a revocation reason the calling procedure may not use.
var ErrReasonNotAllowed = errors.New("revocation reason not allowed for this procedure")

// CA holds the Organization's activities; they run on the CA worker, which
// alone holds the HSM and the jlis database credentials.
type CA struct {
	Issuer Issuer
}

// IssueCertificates issues the requested certificates. The CA never issues
// twice for one request id, so a retry returns the same certificates.
func (a *CA) IssueCertificates(ctx context.Context, in contract.IssueCertificatesInput) (contract.IssueCertificatesResult, error) {
	certs, err := a.Issuer.Issue(ctx, in.Requests)
	if err != nil {
		return contract.IssueCertificatesResult{}, classify("issue", err)
	}
	return contract.IssueCertificatesResult{Certificates: certs}, nil
}

// RevokeCertificate revokes a certificate (法第15条), with a reason the
// calling procedure is allowed to use.
func (a *CA) RevokeCertificate(ctx context.Context, in contract.RevokeCertificateInput) (contract.RevokeCertificateResult, error) {
	if err := allowed(ctx, in.Reason); err != nil {
		return contract.RevokeCertificateResult{}, err
	}
	res, err := a.Issuer.Revoke(ctx, in)
	if err != nil {
		return res, classify("revoke", err)
	}
	return res, nil
}

// HoldCertificate puts a user-authentication certificate on hold (第3 2).
func (a *CA) HoldCertificate(ctx context.Context, in contract.HoldCertificateInput) (contract.HoldCertificateResult, error) {
	if err := allowed(ctx, reasons.CertificateHold); err != nil {
		return contract.HoldCertificateResult{}, err
	}
	res, err := a.Issuer.Hold(ctx, in)
	if err != nil {
		return res, classify("hold", err)
	}
	return res, nil
}

// ReleaseHold releases the hold of a user-authentication certificate (第3 2).
func (a *CA) ReleaseHold(ctx context.Context, in contract.ReleaseHoldInput) (contract.ReleaseHoldResult, error) {
	if err := allowed(ctx, reasons.CertificateHold); err != nil {
		return contract.ReleaseHoldResult{}, err
	}
	res, err := a.Issuer.Release(ctx, in)
	if err != nil {
		return res, classify("release", err)
	}
	return res, nil
}

// CardCertificates lists the certificates issued for a card (a loss report
// names only the card).
func (a *CA) CardCertificates(ctx context.Context, in contract.CardCertificatesInput) (contract.CardCertificatesResult, error) {
	certs, err := a.Issuer.CardCertificates(ctx, in.CardSerial)
	if err != nil {
		return contract.CardCertificatesResult{}, classify("card certificates", err)
	}
	return contract.CardCertificatesResult{Certificates: certs}, nil
}

// CertificateStatus tells one certificate's status (a hold release checks
// that the certificate is held, not revoked).
func (a *CA) CertificateStatus(ctx context.Context, in contract.CertificateStatusInput) (contract.CertificateStatusResult, error) {
	st, err := a.Issuer.Status(ctx, in.Serial)
	if err != nil {
		return contract.CertificateStatusResult{}, classify("status", err)
	}
	return contract.CertificateStatusResult{Status: st}, nil
}

// classify makes input no retry can fix a non-retryable Invalid error; any
// other failure (an HSM or database hiccup) stays retryable.
func classify(op string, err error) error {
	if errors.Is(err, ErrInvalidRequest) {
		return temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrTypeInvalid, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// allowed checks the reason against the allowlist of the procedure that
// called, named by its workflow id (procedure/case), which the gateway makes
// and no activity input can forge.
func allowed(ctx context.Context, r reasons.Reason) error {
	procedure, _, _ := strings.Cut(activity.GetInfo(ctx).WorkflowExecution.ID, "/")
	if !contract.ReasonAllowed(procedure, r) {
		err := fmt.Errorf("%w: %s may not use %q", ErrReasonNotAllowed, procedure, r)
		return temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrTypeInvalid, err)
	}
	return nil
}
