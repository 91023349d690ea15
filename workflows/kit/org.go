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
	// Fee is the fee recorded (第3 5): its item and amount, computed from
	// the case's facts.
	Fee *contract.RecordFeeResult `json:"fee,omitempty"`
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

// StatusChangeState is the section of a procedure that changes the status
// of existing certificates: what it is about and what the Organization did.
type StatusChangeState struct {
	// Reason is the revocation reason applied (RFC 5280 name).
	Reason reasons.Reason `json:"reason,omitempty"`
	// Targets are the certificates the procedure is about.
	Targets []CertificateSummary `json:"targets,omitempty"`
	// Revoked, Held and Released list what the Organization changed, each
	// with the time it recorded.
	Revoked  []StatusChange `json:"revoked,omitempty"`
	Held     []StatusChange `json:"held,omitempty"`
	Released []StatusChange `json:"released,omitempty"`
	// Unchanged lists serials the Organization left as they were, and why
	// ("already_revoked", "expired", …).
	Unchanged []StatusChange `json:"unchanged,omitempty"`
}

// StatusChange is one certificate's change at the Organization.
type StatusChange struct {
	Serial  string    `json:"serial"`
	Kind    string    `json:"kind,omitempty"`
	At      time.Time `json:"at,omitzero"`
	Outcome string    `json:"outcome,omitempty"`
}

// UseStatusChanges opts the case into the status-change section.
func UseStatusChanges(c *Case) *StatusChangeState {
	c.st.CertStatus = &StatusChangeState{}
	return c.st.CertStatus
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
	if err == nil && c.st.CertStatus != nil {
		c.st.CertStatus.note(&c.st.CertStatus.Revoked, serial, res.Outcome, "revoked", res.RevokedAt)
	}
	return res, err
}

// note files a status change under done, or under Unchanged when the
// Organization changed nothing.
func (s *StatusChangeState) note(done *[]StatusChange, serial, outcome, changed string, at time.Time) {
	kind := ""
	for _, t := range s.Targets {
		if t.Serial == serial {
			kind = t.Kind
		}
	}
	ch := StatusChange{Serial: serial, Kind: kind, At: at, Outcome: outcome}
	if outcome == changed {
		*done = append(*done, ch)
	} else {
		s.Unchanged = append(s.Unchanged, ch)
	}
}

// Hold puts a user-authentication certificate on hold (一時保留).
func Hold(ctx workflow.Context, c *Case, serial string) (contract.HoldCertificateResult, error) {
	res, err := Org(ctx, contract.HoldCertificate, contract.HoldCertificateInput{
		RequestID: c.Number() + "/hold/" + serial, Serial: serial, At: workflow.Now(ctx)})
	if err == nil && c.st.CertStatus != nil {
		c.st.CertStatus.note(&c.st.CertStatus.Held, serial, res.Outcome, "held", res.At)
	}
	return res, err
}

// Release releases the hold (第3 2).
func Release(ctx workflow.Context, c *Case, serial string) (contract.ReleaseHoldResult, error) {
	res, err := Org(ctx, contract.ReleaseHold, contract.ReleaseHoldInput{
		RequestID: c.Number() + "/release/" + serial, Serial: serial, At: workflow.Now(ctx)})
	if err == nil && c.st.CertStatus != nil {
		c.st.CertStatus.note(&c.st.CertStatus.Released, serial, res.Outcome, "released", res.At)
	}
	return res, err
}

// CardCertificates asks the Organization which certificates it issued for
// a card.
func CardCertificates(ctx workflow.Context, cardSerial string) ([]contract.CertificateStatus, error) {
	res, err := Org(ctx, contract.CardCertificates, contract.CardCertificatesInput{CardSerial: cardSerial})
	return res.Certificates, err
}

// StatusAt asks the Organization for one certificate's status.
func StatusAt(ctx workflow.Context, serial string) (contract.CertificateStatus, error) {
	res, err := Org(ctx, contract.CertificateState, contract.CertificateStatusInput{Serial: serial})
	return res.Status, err
}
