package org

import (
	"github.com/madoguchi/madoguchi/contract"

	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
)

// Issuer is what the CA activities need of the Organization's CA.
type Issuer interface {
	// Issue issues the certificates of one procedure, idempotently by
	// request id; a signing and a user-authentication certificate issued
	// together are recorded as each other's counterpart (対応証明書).
	Issue(ctx context.Context, reqs []contract.CertificateRequest) ([]contract.IssuedCertificate, error)
	// Revoke revokes a certificate, idempotently by request id.
	Revoke(ctx context.Context, req contract.RevokeCertificateInput) (contract.RevokeCertificateResult, error)
}

// ErrInvalidRequest marks CA input no retry can fix; Issuer implementations
// wrap it so the activity fails without retrying.
var ErrInvalidRequest = errors.New("invalid certificate request")

// CA holds the Organization's activities; they run on the CA worker, which
// alone holds the HSM and the jlis database credentials.
type CA struct {
	Issuer Issuer
}

// IssueCertificates issues the requested certificates. The CA never issues
// twice for one request id, so a retry returns the same certificates.
func (a *CA) IssueCertificates(ctx context.Context, in contract.IssueCertificatesInput) (contract.IssueCertificatesResult, error) {
	certs, err := a.Issuer.Issue(ctx, in.Requests)
	if errors.Is(err, ErrInvalidRequest) {
		return contract.IssueCertificatesResult{}, temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrTypeInvalid, err)
	}
	if err != nil {
		return contract.IssueCertificatesResult{}, fmt.Errorf("issue: %w", err)
	}
	return contract.IssueCertificatesResult{Certificates: certs}, nil
}

// RevokeCertificate revokes a certificate (法第15条).
func (a *CA) RevokeCertificate(ctx context.Context, in contract.RevokeCertificateInput) (contract.RevokeCertificateResult, error) {
	res, err := a.Issuer.Revoke(ctx, in)
	if errors.Is(err, ErrInvalidRequest) {
		return res, temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrTypeInvalid, err)
	}
	if err != nil {
		return res, fmt.Errorf("revoke: %w", err)
	}
	return res, nil
}
