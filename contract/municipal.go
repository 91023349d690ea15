package contract

import (
	"time"

	"github.com/madoguchi/madoguchi/internal/sealing"
)

// PrepareInquiryInput asks for the inquiry letter of a proxy application.
type PrepareInquiryInput struct {
	CaseNumber       string `json:"caseNumber"`
	MunicipalityCode string `json:"municipalityCode"`
	// ResidentCode is the applicant's; the letter's addressee is read from
	// the register, not from the application.
	ResidentCode string `json:"residentCode"`
	ProxyName    string `json:"proxyName"`
	// Deadline is when the reply is due; the letter prints it to the minute.
	Deadline time.Time `json:"deadline"`
	// Subject is what the proxy applied for as the letter names it (empty:
	// issuance / renewal).
	Subject string `json:"subject,omitempty"`
}

// PrepareInquiryResult tells the stored inquiry's deadline and the
// letter's page count. The reply code is deliberately absent: it exists
// only in the printable PDF, never in workflow history.
type PrepareInquiryResult struct {
	Deadline time.Time `json:"deadline"`
	Pages    int       `json:"pages"`
	// Reused is set when the case already had its inquiry (a retry).
	Reused bool `json:"reused,omitempty"`
}

// MarkMailedInput records that the clerk mailed the letter.
type MarkMailedInput struct {
	CaseNumber string `json:"caseNumber"`
	Clerk      string `json:"clerk"` // the clerk's login
}

// MarkMailedResult is the recorded mailing (the first one, on a retry).
type MarkMailedResult struct {
	MailedAt time.Time `json:"mailedAt"`
	MailedBy string    `json:"mailedBy"`
	Deadline time.Time `json:"deadline"`
}

// CheckReplyCodeInput is the reply code the clerk typed from the reply the
// proxy brought back. The code passes through workflow history here,
// encrypted by the payload codec like every payload (docs/INQUIRY.md).
type CheckReplyCodeInput struct {
	CaseNumber string `json:"caseNumber"`
	Code       string `json:"code"`
}

// Reasons a reply code is not accepted (CheckReplyCodeResult.Reason).
const (
	ReplyMalformed       = "malformed"        // not the shape of a code: not counted
	ReplyWrongCode       = "wrong_code"       // counted
	ReplyExpired         = "expired"          // the deadline passed: not counted
	ReplyLocked          = "locked"           // too many wrong codes
	ReplyAlreadyAnswered = "already_answered" // answered before, with another entry
	ReplyNotMailed       = "not_mailed"       // the letter was never recorded as mailed
)

// CheckReplyCodeResult is the outcome, with a message the clerk reads out.
type CheckReplyCodeResult struct {
	OK           bool `json:"ok"`
	AttemptsLeft int  `json:"attemptsLeft"`
	Expired      bool `json:"expired,omitempty"`
	Locked       bool `json:"locked,omitempty"`
	// Reason is empty when OK, else one of the Reply… constants.
	Reason string `json:"reason,omitempty"`
	// Message is in Japanese and English, for the clerk.
	Message string `json:"message,omitempty"`
}

// LapseInquiryInput lapses the inquiry of a case whose deadline passed.
type LapseInquiryInput struct {
	CaseNumber string `json:"caseNumber"`
}

// LapseInquiryResult is the inquiry's status afterwards: lapsed, or locked
// or answered when it had ended that way first.
type LapseInquiryResult struct {
	Status string `json:"status"`
}

// CheckRegisterInput asks whether an application matches the register.
type CheckRegisterInput struct {
	CaseNumber       string      `json:"caseNumber"`
	MunicipalityCode string      `json:"municipalityCode"`
	Application      Application `json:"application"`
	// Today is the application date (Asia/Tokyo), taken from workflow time.
	Today time.Time `json:"today"`
}

// CheckRegisterResult is the register's record of the applicant and the
// certificates the municipality already wrote for them.
type CheckRegisterResult struct {
	Person  PersonalInfo         `json:"person"`
	Current []CurrentCertificate `json:"current,omitempty"`
	// SigningBarred is why the person may not hold a signing certificate
	// (a register.Code…, e.g. under_15_signing), or empty. It is a fact of
	// the register, not a refusal: the issuance procedures apply it.
	SigningBarred string `json:"signingBarred,omitempty"`
	// SigningBarredMessage is the clerk's wording of SigningBarred.
	SigningBarredMessage string `json:"signingBarredMessage,omitempty"`
}

// CheckCardInput asks whether the inserted card is the applicant's.
type CheckCardInput struct {
	ResidentCode string    `json:"residentCode"`
	CardSerial   string    `json:"cardSerial"`
	Today        time.Time `json:"today"`
}

// CheckCardResult is the municipality's record of the card.
type CheckCardResult struct {
	Expiry string `json:"expiry"` // YYYY-MM-DD, the card's last valid day
}

// RecordIssuedInput records certificates written to the applicant's card.
type RecordIssuedInput struct {
	CaseNumber   string              `json:"caseNumber"`
	ResidentCode string              `json:"residentCode"`
	CardSerial   string              `json:"cardSerial"`
	Certificates []IssuedCertificate `json:"certificates"`
	// Superseded are serials this procedure replaced (renewal).
	Superseded []string `json:"superseded,omitempty"`
}

// RecordIssuedResult is empty; the activity is idempotent.
type RecordIssuedResult struct{}

// RecordFeeInput records the issuance fee of a case (第3 5) from the case's
// facts: the card the certificates were written on and whether they renewed
// certificates on it. The activity picks the item by the rule (internal/fee)
// and the amount from the municipality's schedule; no amount is ever passed.
type RecordFeeInput struct {
	CaseNumber string `json:"caseNumber"`
	// Item is the fixed item of cases recorded before the fee came from the
	// facts (their histories replay it); empty now.
	Item         string `json:"item,omitempty"`
	ResidentCode string `json:"residentCode,omitempty"`
	CardSerial   string `json:"cardSerial,omitempty"`
	// Renewal: certificates on this same card were renewed.
	Renewal bool `json:"renewal,omitempty"`
}

// RecordFeeResult is the fee recorded: its item and the amount from the
// municipality's schedule in force on the day.
type RecordFeeResult struct {
	Item      string `json:"item,omitempty"`
	AmountYen int    `json:"amountYen"`
}

// RefundFeeInput records the refund of a case's fee, when the case ends
// cancelled or failed after the fee was recorded.
type RefundFeeInput struct {
	CaseNumber string `json:"caseNumber"`
	// By is the clerk who cancelled, or "system" for a failure.
	By string `json:"by"`
	// Reason is the case's ending, e.g. "cancelled: 申請者の都合".
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// RefundFeeResult is the refund recorded (the first, on a repeat).
type RefundFeeResult struct {
	Item      string `json:"item"`
	AmountYen int    `json:"amountYen"`
}

// RegisterDocumentsInput registers the application documents (第3 3).
type RegisterDocumentsInput struct {
	CaseNumber string   `json:"caseNumber"`
	DocTypes   []string `json:"docTypes"`
}

// RegisterDocumentsResult is the date the documents may be disposed of.
type RegisterDocumentsResult struct {
	RetainUntil string `json:"retainUntil"`
}

// RecordEventInput is one audit-trail entry of a case.
type RecordEventInput struct {
	CaseNumber string    `json:"caseNumber"`
	Key        string    `json:"key"`
	Actor      string    `json:"actor"`
	Detail     string    `json:"detail"`
	At         time.Time `json:"at"`
}

// RecordEventResult is empty.
type RecordEventResult struct{}

// CloseCaseInput closes a case with its final status.
type CloseCaseInput struct {
	CaseNumber string `json:"caseNumber"`
	Status     string `json:"status"`
	// Reason is the code of why the case did not complete (a rejection's or
	// lapse's, "cancelled", "failed"); "" when it completed. The audit
	// report lists it.
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// CloseCaseResult is empty.
type CloseCaseResult struct{}

// RelayApplication is what a relay municipality (経由市区町村) forwards to the
// address municipality: the application and the sealed PIN notice.
type RelayApplication struct {
	RelayCase         string         `json:"relayCase"`
	RelayMunicipality string         `json:"relayMunicipality"`
	RelayClerk        string         `json:"relayClerk"`
	Application       Application    `json:"application"`
	Notice            sealing.Notice `json:"notice"`
	// HandOverAt is where the applicant receives the card: "relay" or
	// "address" (the application chose).
	HandOverAt string `json:"handOverAt"`
}

// SealingKeyInput asks for a municipality's current sealing public key.
type SealingKeyInput struct {
	Municipality string `json:"municipality"`
}

// SealingKeyResult is the key to seal PIN notices to.
type SealingKeyResult struct {
	Key sealing.PublicKey `json:"key"`
}

// ForwardApplicationInput forwards a relay application.
type ForwardApplicationInput struct {
	AddressMunicipality string           `json:"addressMunicipality"`
	AddressCase         string           `json:"addressCase"`
	WorkflowID          string           `json:"workflowId"`
	WorkflowType        string           `json:"workflowType"`
	Procedure           string           `json:"procedure"`
	SignalName          string           `json:"signalName"`
	OpenedBy            int64            `json:"openedBy"`
	Application         RelayApplication `json:"application"`
	// StartInput is the address procedure's start input.
	StartInput any `json:"startInput"`
}

// ForwardApplicationResult names the address municipality's case.
type ForwardApplicationResult struct {
	AddressCase string    `json:"addressCase"`
	ForwardedAt time.Time `json:"forwardedAt"`
}

// AnchorAuditChainsInput asks for the day's anchors of the audit trail's
// hash chains (issue 12, 第3 10; docs/AUDIT.md).
type AnchorAuditChainsInput struct {
	// Day is the anchors' day, YYYY-MM-DD in Asia/Tokyo.
	Day string `json:"day"`
}

// AnchorAuditChainsResult is what the anchoring found: the offices whose
// chains were verified, those broken (never anchored) and how many anchors
// were recorded (an office anchored that day already keeps its first).
type AnchorAuditChainsResult struct {
	Verified int      `json:"verified"`
	Broken   []string `json:"broken,omitempty"`
	Anchored int      `json:"anchored"`
}

// Activities that run in the municipal worker (register, records, inquiry, relay).
var (
	PrepareInquiry     = Activity[PrepareInquiryInput, PrepareInquiryResult]{Name: "PrepareInquiry", Zone: ZoneMunicipal}
	MarkMailed         = Activity[MarkMailedInput, MarkMailedResult]{Name: "MarkMailed", Zone: ZoneMunicipal}
	CheckReplyCode     = Activity[CheckReplyCodeInput, CheckReplyCodeResult]{Name: "CheckReplyCode", Zone: ZoneMunicipal}
	LapseInquiry       = Activity[LapseInquiryInput, LapseInquiryResult]{Name: "LapseInquiry", Zone: ZoneMunicipal}
	CheckRegister      = Activity[CheckRegisterInput, CheckRegisterResult]{Name: "CheckRegister", Zone: ZoneMunicipal}
	CheckCard          = Activity[CheckCardInput, CheckCardResult]{Name: "CheckCard", Zone: ZoneMunicipal}
	RecordIssued       = Activity[RecordIssuedInput, RecordIssuedResult]{Name: "RecordIssued", Zone: ZoneMunicipal}
	RecordFee          = Activity[RecordFeeInput, RecordFeeResult]{Name: "RecordFee", Zone: ZoneMunicipal}
	RefundFee          = Activity[RefundFeeInput, RefundFeeResult]{Name: "RefundFee", Zone: ZoneMunicipal}
	RegisterDocuments  = Activity[RegisterDocumentsInput, RegisterDocumentsResult]{Name: "RegisterDocuments", Zone: ZoneMunicipal}
	RecordEvent        = Activity[RecordEventInput, RecordEventResult]{Name: "RecordEvent", Zone: ZoneMunicipal}
	CloseCase          = Activity[CloseCaseInput, CloseCaseResult]{Name: "CloseCase", Zone: ZoneMunicipal}
	SealingKey         = Activity[SealingKeyInput, SealingKeyResult]{Name: "SealingKey", Zone: ZoneMunicipal}
	ForwardApplication = Activity[ForwardApplicationInput, ForwardApplicationResult]{Name: "ForwardApplication", Zone: ZoneMunicipal}
	AnchorAuditChains  = Activity[AnchorAuditChainsInput, AnchorAuditChainsResult]{Name: "AnchorAuditChains", Zone: ZoneMunicipal}
)

// FindCertificatesInput asks for the municipality's record of a resident's
// certificates: the current ones of the kinds asked for, or the serials
// named.
type FindCertificatesInput struct {
	MunicipalityCode string   `json:"municipalityCode"`
	ResidentCode     string   `json:"residentCode"`
	Kinds            []string `json:"kinds,omitempty"`
	Serials          []string `json:"serials,omitempty"`
	// Today is the application date; an expired certificate is not current.
	Today time.Time `json:"today"`
	// OnCard asks instead for every unexpired certificate of the kinds on
	// that card, whatever the municipal record says of it (a hold release
	// tells a revoked certificate from a held one).
	OnCard string `json:"onCard,omitempty"`
}

// RecordedCertificate is the municipality's record of one certificate.
type RecordedCertificate struct {
	Serial   string    `json:"serial"`
	Kind     string    `json:"kind"`
	Card     string    `json:"card"`
	NotAfter time.Time `json:"notAfter"`
	Status   string    `json:"status"`
}

// FindCertificatesResult lists them; a resident with none to act on is a
// Rejection, not an empty list.
type FindCertificatesResult struct {
	Certificates []RecordedCertificate `json:"certificates"`
}

// RecordRevokedInput updates the municipal record after a revocation: the
// certificates are revoked and, when reported lost, the card is lost.
type RecordRevokedInput struct {
	CaseNumber string   `json:"caseNumber"`
	Serials    []string `json:"serials"`
	// LostCard is the serial of the card reported lost, or empty.
	LostCard string `json:"lostCard,omitempty"`
}

// RecordRevokedResult is empty; the activity is idempotent.
type RecordRevokedResult struct{}

// The revocation family's municipal records.
var (
	FindCertificates = Activity[FindCertificatesInput, FindCertificatesResult]{Name: "FindCertificates", Zone: ZoneMunicipal}
	RecordRevoked    = Activity[RecordRevokedInput, RecordRevokedResult]{Name: "RecordRevoked", Zone: ZoneMunicipal}
)
