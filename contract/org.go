package contract

import (
	"time"

	"github.com/madoguchi/madoguchi/internal/reasons"
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
	// CounterpartSerial is the person's certificate of the other kind on
	// the same card (対応証明書), when only one kind is issued.
	CounterpartSerial string `json:"counterpartSerial,omitempty"`
	// CardSerial is the card the certificate is written to, which the
	// Organization records so that a loss report needs only the card.
	CardSerial string `json:"cardSerial,omitempty"`
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

// RevokeCertificateInput asks the Organization to revoke a certificate.
type RevokeCertificateInput struct {
	RequestID string `json:"requestId"`
	Serial    string `json:"serial"`
	// Reason is one of the manual's reasons; the CA refuses a reason the
	// calling procedure may not use (ReasonAllowed).
	Reason reasons.Reason `json:"reason"`
	At     time.Time      `json:"at"`
}

// RevokeCertificateResult tells what the CA did.
type RevokeCertificateResult struct {
	// Outcome is "revoked", or why nothing changed: "already_revoked",
	// "expired", "unknown".
	Outcome   string    `json:"outcome"`
	RevokedAt time.Time `json:"revokedAt"`
}

// IssueRevocationListsInput asks for every CRL of one issuing CA.
type IssueRevocationListsInput struct {
	// RunID is the publication's business key (its workflow id): a retry
	// with the same RunID issues nothing twice.
	RunID string `json:"runId"`
	// Kind is "sign" or "auth".
	Kind string `json:"kind"`
}

// IssueRevocationListsResult summarizes the publication of one CA.
type IssueRevocationListsResult struct {
	Kind       string    `json:"kind"`
	Partitions int       `json:"partitions"`
	Issued     int       `json:"issued"`
	Skipped    int       `json:"skipped"`
	FullNumber int64     `json:"fullNumber"`
	Entries    int64     `json:"entries"`
	Bytes      int64     `json:"bytes"`
	ThisUpdate time.Time `json:"thisUpdate"`
	// Day is the revocation-information file the full CRL became
	// (YYYY-MM-DD, Asia/Tokyo).
	Day string `json:"day"`
}

// DisposeRevocationFilesResult counts what was removed.
type DisposeRevocationFilesResult struct {
	DailyFiles int64 `json:"dailyFiles"`
	CRLs       int64 `json:"crls"`
	// KeptFrom is the oldest day whose file is kept (YYYY-MM-DD).
	KeptFrom string `json:"keptFrom"`
}

// Activities that run in the Organization's CA worker (issuance, revocation, CRLs).
var (
	IssueCertificates      = Activity[IssueCertificatesInput, IssueCertificatesResult]{Name: "IssueCertificates", Zone: ZoneOrganization}
	RevokeCertificate      = Activity[RevokeCertificateInput, RevokeCertificateResult]{Name: "RevokeCertificate", Zone: ZoneOrganization}
	IssueRevocationLists   = Activity[IssueRevocationListsInput, IssueRevocationListsResult]{Name: "IssueRevocationLists", Zone: ZoneOrganization}
	DisposeRevocationFiles = Activity[struct{}, DisposeRevocationFilesResult]{Name: "DisposeRevocationFiles", Zone: ZoneOrganization}
)

// HoldCertificateInput asks the Organization to put a user-authentication
// certificate on hold (一時保留, certificateHold), e.g. when the card is
// reported lost; ReleaseHoldInput ends the hold (第3 2).
type HoldCertificateInput struct {
	RequestID string    `json:"requestId"`
	Serial    string    `json:"serial"`
	At        time.Time `json:"at"`
}

// HoldCertificateResult tells what the CA did: "held", or why nothing
// changed ("already_revoked", "expired", "unknown").
type HoldCertificateResult struct {
	Outcome string    `json:"outcome"`
	At      time.Time `json:"at"`
}

// ReleaseHoldInput asks the Organization to release a hold.
type ReleaseHoldInput struct {
	RequestID string    `json:"requestId"`
	Serial    string    `json:"serial"`
	At        time.Time `json:"at"`
}

// ReleaseHoldResult tells what the CA did: "released", or "not_on_hold",
// "already_revoked", "expired", "unknown".
type ReleaseHoldResult struct {
	Outcome string    `json:"outcome"`
	At      time.Time `json:"at"`
}

// The hold activities, like the others of the Organization.
var (
	HoldCertificate = Activity[HoldCertificateInput, HoldCertificateResult]{Name: "HoldCertificate", Zone: ZoneOrganization}
	ReleaseHold     = Activity[ReleaseHoldInput, ReleaseHoldResult]{Name: "ReleaseHold", Zone: ZoneOrganization}
)

// CertificateStatus is a certificate's status at the Organization, without
// personal data.
type CertificateStatus struct {
	Serial string `json:"serial"`
	Kind   string `json:"kind"`
	// State is "good", "revoked" (Reason says why; certificateHold while on
	// hold) or "unknown".
	State     string         `json:"state"`
	Reason    reasons.Reason `json:"reason,omitempty"`
	NotAfter  time.Time      `json:"notAfter,omitzero"`
	RevokedAt time.Time      `json:"revokedAt,omitzero"`
}

// Held reports whether the certificate is on hold.
func (s CertificateStatus) Held() bool {
	return s.State == "revoked" && s.Reason == reasons.CertificateHold
}

// CardCertificatesInput asks which certificates were issued for a card.
type CardCertificatesInput struct {
	CardSerial string `json:"cardSerial"`
}

// CardCertificatesResult lists them, newest first; empty for a card the
// Organization never issued for.
type CardCertificatesResult struct {
	Certificates []CertificateStatus `json:"certificates,omitempty"`
}

// CertificateStatusInput asks for one certificate's status.
type CertificateStatusInput struct {
	Serial string `json:"serial"`
}

// CertificateStatusResult is its status.
type CertificateStatusResult struct {
	Status CertificateStatus `json:"status"`
}

// The Organization's status lookups (the 24-hour line, the counter).
var (
	CardCertificates = Activity[CardCertificatesInput, CardCertificatesResult]{Name: "CardCertificates", Zone: ZoneOrganization}
	CertificateState = Activity[CertificateStatusInput, CertificateStatusResult]{Name: "CertificateStatus", Zone: ZoneOrganization}
)
