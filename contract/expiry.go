package contract

import "time"

// The expiry notices (有効期限通知書, issue 12): a daily run at the
// Organization selects the certificates expiring within the coming 3
// months and produces each holder's notice with a proxy-renewal form
// carrying a renewal code; a proxy renewal at a counter starts from it.
const (
	// ProcExpiryNotices names the notice runs' workflow ids.
	ProcExpiryNotices = "expiry-notices"
	// ProcRenewalCodeCheck names the counter's look-ups of a renewal code
	// at the Organization, before any case exists.
	ProcRenewalCodeCheck = "renewal-code-check"
)

// ExpiringCertificate is a certificate whose holder is due a notice. The
// resident code travels only in encrypted payloads, to read the register.
type ExpiringCertificate struct {
	Serial           string    `json:"serial"`
	Kind             string    `json:"kind"`
	MunicipalityCode string    `json:"municipalityCode"`
	ResidentCode     string    `json:"residentCode"`
	NotAfter         time.Time `json:"notAfter"`
}

// SelectExpiringInput asks for the next chunk of certificates due a notice
// at AsOf, in serial order after After.
type SelectExpiringInput struct {
	AsOf  time.Time `json:"asOf"`
	After string    `json:"after,omitempty"`
	Limit int       `json:"limit"`
}

// SelectExpiringResult is the chunk; empty when none is left.
type SelectExpiringResult struct {
	Certificates []ExpiringCertificate `json:"certificates,omitempty"`
}

// ReadHoldersInput asks the register (住基ネット) for the holders of a
// chunk, to address their notices.
type ReadHoldersInput struct {
	ResidentCodes []string `json:"residentCodes"`
}

// ReadHoldersResult has a holder per resident code the register has as a
// resident; one moved abroad, dead or unknown is left out (their
// certificates are revoked by the register's change, not renewed).
type ReadHoldersResult struct {
	Holders []Requester `json:"holders,omitempty"`
}

// ExpiryNoticeItem is one notice to produce: the certificate and where the
// letter goes.
type ExpiryNoticeItem struct {
	Certificate ExpiringCertificate `json:"certificate"`
	Name        string              `json:"name"`
	Address     string              `json:"address"`
}

// ProduceExpiryNoticesInput produces a chunk's notices, each once per
// certificate (a certificate that has one is skipped).
type ProduceExpiryNoticesInput struct {
	RunID    string             `json:"runId"`
	IssuedOn time.Time          `json:"issuedOn"`
	Notices  []ExpiryNoticeItem `json:"notices"`
}

// ProduceExpiryNoticesResult counts what the chunk did: serials only.
type ProduceExpiryNoticesResult struct {
	Produced []string `json:"produced,omitempty"`
	// Existing were already noticed (a retry, or another run).
	Existing int `json:"existing,omitempty"`
}

// LookupRenewalCodeInput names a renewal code by its hash
// (internal/renewal.Hash): the code itself never travels.
type LookupRenewalCodeInput struct {
	CodeHash string `json:"codeHash"`
}

// RenewalHolder is what a renewal code opens at the Organization.
type RenewalHolder struct {
	Found            bool      `json:"found"`
	Serial           string    `json:"serial,omitempty"`
	Kind             string    `json:"kind,omitempty"`
	MunicipalityCode string    `json:"municipalityCode,omitempty"`
	ResidentCode     string    `json:"residentCode,omitempty"`
	NotAfter         time.Time `json:"notAfter,omitzero"`
	CodeExpiresAt    time.Time `json:"codeExpiresAt,omitzero"`
	UsedByCase       string    `json:"usedByCase,omitempty"`
}

// RedeemRenewalCodeInput marks a code used by a renewal case (once; the
// same case again is the same answer).
type RedeemRenewalCodeInput struct {
	CodeHash   string    `json:"codeHash"`
	CaseNumber string    `json:"caseNumber"`
	Office     string    `json:"office"`
	At         time.Time `json:"at"`
}

// The expiry notices' activities: the selection and the notices at the
// Organization, the holders' addresses from the register.
var (
	SelectExpiringCertificates = Activity[SelectExpiringInput, SelectExpiringResult]{Name: "SelectExpiringCertificates", Zone: ZoneOrganization}
	ProduceExpiryNotices       = Activity[ProduceExpiryNoticesInput, ProduceExpiryNoticesResult]{Name: "ProduceExpiryNotices", Zone: ZoneOrganization}
	LookupRenewalCode          = Activity[LookupRenewalCodeInput, RenewalHolder]{Name: "LookupRenewalCode", Zone: ZoneOrganization}
	RedeemRenewalCode          = Activity[RedeemRenewalCodeInput, RenewalHolder]{Name: "RedeemRenewalCode", Zone: ZoneOrganization}
	ReadHolders                = Activity[ReadHoldersInput, ReadHoldersResult]{Name: "ReadHolders", Zone: ZoneMunicipal}
)
