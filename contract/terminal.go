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

// Activities that run in the counter terminal's card agent.
var (
	ReadCard          = Activity[ReadCardInput, ReadCardResult]{Name: "ReadCard", Zone: ZoneTerminal}
	SetPINs           = Activity[SetPINsInput, SetPINsResult]{Name: "SetPINs", Zone: ZoneTerminal}
	SetPINsFromNotice = Activity[SetPINsFromNoticeInput, SetPINsFromNoticeResult]{Name: "SetPINsFromNotice", Zone: ZoneTerminal}
	SealPINNotice     = Activity[SealPINNoticeInput, SealPINNoticeResult]{Name: "SealPINNotice", Zone: ZoneTerminal}
	GenerateKeys      = Activity[GenerateKeysInput, GenerateKeysResult]{Name: "GenerateKeys", Zone: ZoneTerminal}
	WriteCertificates = Activity[WriteCertificatesInput, WriteCertificatesResult]{Name: "WriteCertificates", Zone: ZoneTerminal}
	VerifyPIN         = Activity[VerifyPINInput, VerifyPINResult]{Name: "VerifyPIN", Zone: ZoneTerminal}
)
