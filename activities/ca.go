package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
)

// CertificateRequest is one certificate the Organization is asked to issue.
type CertificateRequest struct {
	// RequestID is the business key: the CA issues at most one certificate
	// per request id, whatever the retries.
	RequestID        string        `json:"requestId"`
	Kind             string        `json:"kind"`
	MunicipalityCode string        `json:"municipalityCode"`
	ResidentCode     string        `json:"residentCode"`
	Person           *PersonalInfo `json:"person,omitempty"` // signing only
	SPKIDER          []byte        `json:"spki"`
	NotAfter         time.Time     `json:"notAfter"`
}

// Issuer is what the CA activities need of the Organization's CA.
type Issuer interface {
	// Issue issues the certificates of one procedure, idempotently by
	// request id; a signing and a user-authentication certificate issued
	// together are recorded as each other's counterpart (対応証明書).
	Issue(ctx context.Context, reqs []CertificateRequest) ([]IssuedCertificate, error)
	// Revoke revokes a certificate, idempotently by request id.
	Revoke(ctx context.Context, req RevokeCertificateInput) (RevokeCertificateResult, error)
}

// ErrInvalidRequest marks CA input no retry can fix; Issuer implementations
// wrap it so the activity fails without retrying.
var ErrInvalidRequest = errors.New("invalid certificate request")

// CA holds the Organization's activities; they run on the CA worker, which
// alone holds the HSM and the jlis database credentials.
type CA struct {
	Issuer Issuer
}

// IssueCertificatesInput asks the Organization to issue the certificates of
// one procedure (法第3条第6項).
type IssueCertificatesInput struct {
	CaseNumber string               `json:"caseNumber"`
	Requests   []CertificateRequest `json:"requests"`
}

// IssueCertificatesResult carries the issued certificates.
type IssueCertificatesResult struct {
	Certificates []IssuedCertificate `json:"certificates"`
}

// IssueCertificates issues the requested certificates. The CA never issues
// twice for one request id, so a retry returns the same certificates.
func (a *CA) IssueCertificates(ctx context.Context, in IssueCertificatesInput) (IssueCertificatesResult, error) {
	certs, err := a.Issuer.Issue(ctx, in.Requests)
	if errors.Is(err, ErrInvalidRequest) {
		return IssueCertificatesResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalid, err)
	}
	if err != nil {
		return IssueCertificatesResult{}, fmt.Errorf("issue: %w", err)
	}
	return IssueCertificatesResult{Certificates: certs}, nil
}

// RevokeCertificateInput asks the Organization to revoke a certificate.
type RevokeCertificateInput struct {
	RequestID string `json:"requestId"`
	Serial    string `json:"serial"`
	// Reason is one of the manual's reasons by its RFC 5280 name or Japanese label (internal/reasons), e.g. "superseded" for a renewal.
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// RevokeCertificateResult tells what the CA did.
type RevokeCertificateResult struct {
	// Outcome is "revoked", or why nothing changed: "already_revoked",
	// "expired", "unknown".
	Outcome   string    `json:"outcome"`
	RevokedAt time.Time `json:"revokedAt"`
}

// RevokeCertificate revokes a certificate (法第15条).
func (a *CA) RevokeCertificate(ctx context.Context, in RevokeCertificateInput) (RevokeCertificateResult, error) {
	res, err := a.Issuer.Revoke(ctx, in)
	if errors.Is(err, ErrInvalidRequest) {
		return res, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalid, err)
	}
	if err != nil {
		return res, fmt.Errorf("revoke: %w", err)
	}
	return res, nil
}
