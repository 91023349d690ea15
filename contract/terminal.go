package contract

import (
	"time"

	"github.com/madoguchi/madoguchi/internal/sealing"
)

// ReadCardInput asks for the card inserted at the counter (第2 1(1)ア(エ)A).
type ReadCardInput struct {
	CaseNumber string `json:"caseNumber"`
}

// ReadCardResult identifies the inserted card.
type ReadCardResult struct {
	CardSerial string `json:"cardSerial"`
	Expiry     string `json:"expiry"` // YYYYMMDD as the card records it
	// AuthSerial is the serial (lower-case hex, as the CA writes it) of the user-authentication
	// certificate written on the card, read without a PIN; empty when the
	// card holds none. The signing certificate is readable only after its
	// PIN, so it is not read here.
	AuthSerial string `json:"authSerial,omitempty"`
}

// SetPINsInput asks the applicant to choose PINs on the touch panel
// (第2 1(1)ア(エ)C).
type SetPINsInput struct {
	CaseNumber string   `json:"caseNumber"`
	CardSerial string   `json:"cardSerial"`
	Kinds      []string `json:"kinds"`
	// EnteredBy is the clerk typing for the applicant, after a second
	// clerk confirmed the applicant's intent; empty when the applicant types.
	EnteredBy string `json:"enteredBy,omitempty"`
}

// SetPINsResult reports which PINs were set; it never carries a PIN.
type SetPINsResult struct {
	Kinds []string  `json:"kinds"`
	SetAt time.Time `json:"setAt"`
}

// SetPINsFromNoticeInput sets the PINs of a relay application's sealed
// notice (暗証番号届出) on the card at the address municipality's terminal.
type SetPINsFromNoticeInput struct {
	CaseNumber string         `json:"caseNumber"`
	CardSerial string         `json:"cardSerial"`
	Notice     sealing.Notice `json:"notice"`
}

// SetPINsFromNoticeResult reports which PINs were set; never a PIN.
type SetPINsFromNoticeResult struct {
	Kinds []string `json:"kinds"`
}

// SealPINNoticeInput asks the applicant at a relay municipality's terminal
// for the PINs and seals them to the address municipality's key.
type SealPINNoticeInput struct {
	CaseNumber string            `json:"caseNumber"`
	Kinds      []string          `json:"kinds"`
	Recipient  sealing.PublicKey `json:"recipient"`
	// NoticeCase is the case the notice is bound to (the address
	// municipality's), so it cannot be replayed into another procedure.
	NoticeCase string `json:"noticeCase"`
}

// SealPINNoticeResult is the sealed notice; it carries no PIN in clear.
type SealPINNoticeResult struct {
	Notice sealing.Notice `json:"notice"`
}

// GenerateKeysInput asks the card to generate key pairs (鍵ペア生成).
type GenerateKeysInput struct {
	CaseNumber string   `json:"caseNumber"`
	CardSerial string   `json:"cardSerial"`
	Kinds      []string `json:"kinds"`
}

// PublicKey is a public key generated on the card.
type PublicKey struct {
	Kind    string `json:"kind"`
	SPKIDER []byte `json:"spki"`
}

// GenerateKeysResult carries the public keys; private keys stay on the card.
type GenerateKeysResult struct {
	Keys []PublicKey `json:"keys"`
}

// WriteCertificatesInput writes issued certificates onto the card.
type WriteCertificatesInput struct {
	CaseNumber   string              `json:"caseNumber"`
	CardSerial   string              `json:"cardSerial"`
	Certificates []IssuedCertificate `json:"certificates"`
}

// WriteCertificatesResult is empty; writing twice is harmless.
type WriteCertificatesResult struct{}

// VerifyPINInput asks the holder to type the PIN of one kind on the touch
// panel (once, not chosen anew), which is verified on the card: the holder
// proves possession of the card (第3 2, 一時保留の解除). The PIN never leaves
// the terminal.
type VerifyPINInput struct {
	CaseNumber string `json:"caseNumber"`
	CardSerial string `json:"cardSerial"`
	Kind       string `json:"kind"`
}

// VerifyPINResult says whether the card accepted the PIN. A wrong PIN is an
// answer, not an error: RetriesLeft counts down to Blocked (the PIN must
// then be reset at a counter, 第3 1).
type VerifyPINResult struct {
	Verified    bool `json:"verified"`
	RetriesLeft int  `json:"retriesLeft"`
	Blocked     bool `json:"blocked,omitempty"`
}

// ChangePINInput asks the holder for the current PIN and then the new one
// (twice) on the touch panel (第3 1 暗証番号の変更); the card verifies the
// current PIN and changes the reference data (VERIFY, then CHANGE
// REFERENCE DATA 00 24 01 80). EnteredBy is the clerk typing for the holder,
// after a second clerk confirmed the holder's intent; empty when the
// holder types.
type ChangePINInput struct {
	CaseNumber string `json:"caseNumber"`
	CardSerial string `json:"cardSerial"`
	Kind       string `json:"kind"`
	EnteredBy  string `json:"enteredBy,omitempty"`
}

// ChangePINResult says whether the PIN was changed. A wrong current PIN is
// an answer: RetriesLeft counts down to Blocked (then only a reset helps).
type ChangePINResult struct {
	Changed     bool `json:"changed"`
	RetriesLeft int  `json:"retriesLeft"`
	Blocked     bool `json:"blocked,omitempty"`
}

// ResetPINInput sets new PINs of the given kinds without the old ones
// (第3 1 暗証番号の初期化), for a locked or forgotten PIN: the terminal first
// authenticates to the card as an authorised terminal (docs/CARD.md), then
// sets each PIN, and the card's retry counter returns to its maximum. The
// new PINs are typed on the touch panel, by the holder or by EnteredBy (a
// clerk, after a second clerk's confirmation, e.g. from a proxy's reply).
type ResetPINInput struct {
	CaseNumber string   `json:"caseNumber"`
	CardSerial string   `json:"cardSerial"`
	Kinds      []string `json:"kinds"`
	EnteredBy  string   `json:"enteredBy,omitempty"`
}

// ResetPINResult reports which PINs were reset; never a PIN.
type ResetPINResult struct {
	Kinds []string `json:"kinds"`
}

// Activities that run in the counter terminal's card agent.
var (
	ReadCard          = Activity[ReadCardInput, ReadCardResult]{Name: "ReadCard", Zone: ZoneTerminal}
	SetPINs           = Activity[SetPINsInput, SetPINsResult]{Name: "SetPINs", Zone: ZoneTerminal}
	SetPINsFromNotice = Activity[SetPINsFromNoticeInput, SetPINsFromNoticeResult]{Name: "SetPINsFromNotice", Zone: ZoneTerminal}
	SealPINNotice     = Activity[SealPINNoticeInput, SealPINNoticeResult]{Name: "SealPINNotice", Zone: ZoneTerminal}
	GenerateKeys      = Activity[GenerateKeysInput, GenerateKeysResult]{Name: "GenerateKeys", Zone: ZoneTerminal}
	WriteCertificates = Activity[WriteCertificatesInput, WriteCertificatesResult]{Name: "WriteCertificates", Zone: ZoneTerminal}
	VerifyPIN         = Activity[VerifyPINInput, VerifyPINResult]{Name: "VerifyPIN", Zone: ZoneTerminal}
	ChangePIN         = Activity[ChangePINInput, ChangePINResult]{Name: "ChangePIN", Zone: ZoneTerminal}
	ResetPIN          = Activity[ResetPINInput, ResetPINResult]{Name: "ResetPIN", Zone: ZoneTerminal}
)
