package kit

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/reasons"
)

// CertificateSummary describes a certificate without personal data.
type CertificateSummary struct {
	Kind      string    `json:"kind"`
	Serial    string    `json:"serial"`
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
}

// IssuanceState is the issuance family's section of the state.
type IssuanceState struct {
	Kinds        []string             `json:"kinds"`
	Renewal      bool                 `json:"renewal"`
	Certificates []CertificateSummary `json:"certificates,omitempty"`
	Revoked      []string             `json:"revoked,omitempty"`
	// Note says what changed from the application, e.g. the signing
	// certificate dropped for a person who may not hold one.
	Note string `json:"note,omitempty"`
}

// Issue asks the Organization for certificates (第2 1(1)ア(カ)). Until the
// returned onCard is called (the certificates are written), a case that
// does not complete revokes them as never used (cessationOfOperation).
func Issue(ctx workflow.Context, c *Case, reqs []contract.CertificateRequest) (certs []contract.IssuedCertificate, onCard func(), err error) {
	res, err := Org(ctx, contract.IssueCertificates, contract.IssueCertificatesInput{CaseNumber: c.Number(), Requests: reqs})
	if err != nil {
		return nil, func() {}, err
	}
	if c.st.Issuance == nil {
		c.st.Issuance = &IssuanceState{}
	}
	for _, ic := range res.Certificates {
		c.st.Issuance.Certificates = append(c.st.Issuance.Certificates, CertificateSummary{Kind: ic.Kind, Serial: ic.Serial, NotBefore: ic.NotBefore, NotAfter: ic.NotAfter})
	}
	issued := res.Certificates
	drop := c.Compensate("revoke certificates not written to the card", func(ctx workflow.Context) error {
		for _, ic := range issued {
			if _, err := Revoke(ctx, c, ic.Serial, reasons.CessationOfOperation); err != nil {
				return err
			}
		}
		return nil
	})
	return issued, drop, nil
}

// Revoke revokes a certificate with a typed reason; the CA refuses a
// reason this procedure may not use. The request id derives from the case
// and serial, so a retry revokes once.
func Revoke(ctx workflow.Context, c *Case, serial string, reason reasons.Reason) (contract.RevokeCertificateResult, error) {
	res, err := Org(ctx, contract.RevokeCertificate, contract.RevokeCertificateInput{
		RequestID: c.Number() + "/revoke/" + serial, Serial: serial, Reason: reason, At: workflow.Now(ctx)})
	if err == nil && c.st.Issuance != nil {
		c.st.Issuance.Revoked = append(c.st.Issuance.Revoked, serial)
	}
	return res, err
}

// Hold puts a user-authentication certificate on hold (一時保留).
func Hold(ctx workflow.Context, c *Case, serial string) (contract.HoldCertificateResult, error) {
	return Org(ctx, contract.HoldCertificate, contract.HoldCertificateInput{
		RequestID: c.Number() + "/hold/" + serial, Serial: serial, At: workflow.Now(ctx)})
}

// Release releases the hold (第3 2).
func Release(ctx workflow.Context, c *Case, serial string) (contract.ReleaseHoldResult, error) {
	return Org(ctx, contract.ReleaseHold, contract.ReleaseHoldInput{
		RequestID: c.Number() + "/release/" + serial, Serial: serial, At: workflow.Now(ctx)})
}
