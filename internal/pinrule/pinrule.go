// Package pinrule holds the rules for the PINs (暗証番号) that protect the
// private keys on a card: which PINs the applicant may choose and how many
// consecutive wrong entries lock them.
//
// Errors never contain the PIN, any character of it, or its length: an
// error message ends up in logs and in Temporal history.
package pinrule

import (
	"errors"
	"runtime"
)

// Kind names the certificate a PIN protects.
type Kind string

// The two PIN kinds.
const (
	// Signing is the signing certificate's PIN (署名用電子証明書の暗証番号).
	Signing Kind = "sign"
	// UserAuth is the user-authentication certificate's PIN (利用者証明用電子証明書の暗証番号).
	UserAuth Kind = "auth"
)

// The rules' figures.
const (
	SigningMinLen    = 6
	SigningMaxLen    = 16
	UserAuthLen      = 4
	SigningMaxTries  = 5
	UserAuthMaxTries = 3
)

// Valid reports whether k is one of the known kinds.
func (k Kind) Valid() bool { return k == Signing || k == UserAuth }

// MaxTries returns how many consecutive wrong entries lock a PIN of kind k
// (5 for signing, 3 for user authentication), or 0 for an unknown kind.
func MaxTries(k Kind) int {
	switch k {
	case Signing:
		return SigningMaxTries
	case UserAuth:
		return UserAuthMaxTries
	}
	return 0
}

// Reason classifies why a PIN was refused.
type Reason string

// The reasons a PIN is refused.
const (
	ReasonTooShort    Reason = "too_short"    // signing PIN under 6 characters
	ReasonTooLong     Reason = "too_long"     // signing PIN over 16 characters
	ReasonWrongLength Reason = "wrong_length" // user-authentication PIN not 4 digits
	ReasonLowerCase   Reason = "lower_case"   // signing PIN with a lower-case letter
	ReasonFullWidth   Reason = "full_width"   // a non-ASCII (e.g. full-width) character
	ReasonInvalidChar Reason = "invalid_char" // a symbol, space or control character
	ReasonNotDigit    Reason = "not_digit"    // user-authentication PIN with a letter
	ReasonUnknownKind Reason = "unknown_kind" // Validate called with an unknown Kind
)

// PINError is the error returned for a refused PIN. It carries only the kind
// and the reason, never the PIN.
type PINError struct {
	Kind   Kind
	Reason Reason
}

// Sentinel errors for errors.Is: they match a *PINError of the same reason,
// whatever its kind.
var (
	ErrTooShort    = &PINError{Reason: ReasonTooShort}
	ErrTooLong     = &PINError{Reason: ReasonTooLong}
	ErrWrongLength = &PINError{Reason: ReasonWrongLength}
	ErrLowerCase   = &PINError{Reason: ReasonLowerCase}
	ErrFullWidth   = &PINError{Reason: ReasonFullWidth}
	ErrInvalidChar = &PINError{Reason: ReasonInvalidChar}
	ErrNotDigit    = &PINError{Reason: ReasonNotDigit}
	ErrUnknownKind = &PINError{Reason: ReasonUnknownKind}
)

// Is makes errors.Is(err, ErrTooShort) and the like work; a target with a
// Kind set also requires the kind to match.
func (e *PINError) Is(target error) bool {
	var t *PINError
	if !errors.As(target, &t) || t == nil {
		return false
	}
	return t.Reason == e.Reason && (t.Kind == "" || t.Kind == e.Kind)
}

// Error returns the Japanese and the English message, "ja / en".
func (e *PINError) Error() string { return e.Japanese() + " / " + e.English() }

// Japanese returns the message for the applicant or clerk in Japanese.
func (e *PINError) Japanese() string {
	name := "暗証番号"
	switch e.Kind {
	case Signing:
		name = "署名用電子証明書の暗証番号"
	case UserAuth:
		name = "利用者証明用電子証明書の暗証番号"
	}
	switch e.Reason {
	case ReasonTooShort:
		return name + "が短すぎます。英大文字と数字で6文字以上16文字以下にしてください。"
	case ReasonTooLong:
		return name + "が長すぎます。英大文字と数字で6文字以上16文字以下にしてください。"
	case ReasonWrongLength:
		return name + "は数字4桁にしてください。"
	case ReasonLowerCase:
		return name + "に英小文字は使えません。英大文字（A～Z）と数字（0～9）で入力してください。"
	case ReasonFullWidth:
		if e.Kind == UserAuth {
			return name + "に全角文字は使えません。半角数字（0～9）4桁で入力してください。"
		}
		return name + "に全角文字は使えません。半角の英大文字（A～Z）と数字（0～9）で入力してください。"
	case ReasonInvalidChar:
		if e.Kind == UserAuth {
			return name + "に記号や空白は使えません。数字（0～9）4桁で入力してください。"
		}
		return name + "に記号や空白は使えません。英大文字（A～Z）と数字（0～9）で入力してください。"
	case ReasonNotDigit:
		return name + "は数字（0～9）のみで4桁にしてください。英字は使えません。"
	case ReasonUnknownKind:
		return "暗証番号の種類が不明です。"
	}
	return name + "が規則に合いません。"
}

// English returns the message for the applicant or clerk in English.
func (e *PINError) English() string {
	name := "The PIN"
	switch e.Kind {
	case Signing:
		name = "The signing certificate PIN"
	case UserAuth:
		name = "The user-authentication certificate PIN"
	}
	switch e.Reason {
	case ReasonTooShort:
		return name + " is too short: use 6 to 16 upper-case letters and digits."
	case ReasonTooLong:
		return name + " is too long: use 6 to 16 upper-case letters and digits."
	case ReasonWrongLength:
		return name + " must be exactly 4 digits."
	case ReasonLowerCase:
		return name + " cannot contain lower-case letters: use upper-case letters (A-Z) and digits (0-9)."
	case ReasonFullWidth:
		if e.Kind == UserAuth {
			return name + " cannot contain full-width or other non-ASCII characters: use 4 half-width digits (0-9)."
		}
		return name + " cannot contain full-width or other non-ASCII characters: use half-width upper-case letters (A-Z) and digits (0-9)."
	case ReasonInvalidChar:
		if e.Kind == UserAuth {
			return name + " cannot contain symbols or spaces: use 4 digits (0-9)."
		}
		return name + " cannot contain symbols or spaces: use upper-case letters (A-Z) and digits (0-9)."
	case ReasonNotDigit:
		return name + " must be 4 digits (0-9) only; letters are not allowed."
	case ReasonUnknownKind:
		return "Unknown PIN kind."
	}
	return name + " does not meet the rules."
}

// ValidateSigning checks a signing PIN: 6 to 16 characters, each an
// upper-case letter A–Z or a digit 0–9 (ASCII). Character problems are
// reported before length, since they tell the applicant more.
func ValidateSigning(pin []byte) error {
	for _, c := range pin {
		switch {
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c >= 0x80:
			return &PINError{Kind: Signing, Reason: ReasonFullWidth}
		case c >= 'a' && c <= 'z':
			return &PINError{Kind: Signing, Reason: ReasonLowerCase}
		default:
			return &PINError{Kind: Signing, Reason: ReasonInvalidChar}
		}
	}
	switch {
	case len(pin) < SigningMinLen:
		return &PINError{Kind: Signing, Reason: ReasonTooShort}
	case len(pin) > SigningMaxLen:
		return &PINError{Kind: Signing, Reason: ReasonTooLong}
	}
	return nil
}

// ValidateUserAuth checks a user-authentication PIN: exactly 4 ASCII digits.
func ValidateUserAuth(pin []byte) error {
	for _, c := range pin {
		switch {
		case c >= '0' && c <= '9':
		case c >= 0x80:
			return &PINError{Kind: UserAuth, Reason: ReasonFullWidth}
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			return &PINError{Kind: UserAuth, Reason: ReasonNotDigit}
		default:
			return &PINError{Kind: UserAuth, Reason: ReasonInvalidChar}
		}
	}
	if len(pin) != UserAuthLen {
		return &PINError{Kind: UserAuth, Reason: ReasonWrongLength}
	}
	return nil
}

// Validate checks pin against the rules of kind k.
func Validate(k Kind, pin []byte) error {
	switch k {
	case Signing:
		return ValidateSigning(pin)
	case UserAuth:
		return ValidateUserAuth(pin)
	}
	return &PINError{Kind: k, Reason: ReasonUnknownKind}
}

// Zero overwrites b with zero bytes, to wipe a PIN from memory as soon as it
// has been used. Call it on every buffer that held a PIN, including copies.
func Zero(b []byte) {
	clear(b)
	// Keep the writes from being treated as dead stores.
	runtime.KeepAlive(b)
}
