// Package reasons defines the revocation reasons of the procedures manual
// (第1 4 (3) イ (ア)) and maps them to the CRLReason codes of RFC 5280 §5.3.1,
// so that every part of madoguchi — counter workflows, the CA, the CRL and
// OCSP publisher — speaks about the same five reasons in the same way.
//
// The string value of a Reason is its RFC 5280 name (for example
// "keyCompromise"); that keeps Temporal payloads, database rows and logs
// readable without a lookup table.
package reasons

import (
	"errors"
	"fmt"
	"strings"
)

// Reason is a revocation reason. Its value is the RFC 5280 CRLReason name.
type Reason string

// The manual's five revocation reasons, plus the temporary hold of the
// user-authentication certificate (第3 2), which is a status rather than a
// revocation reason in the manual's sense but travels in the same CRL field.
const (
	// KeyCompromise is 利用者の秘密鍵の危殆化: the user's private key leaked, was
	// lost or damaged.
	KeyCompromise Reason = "keyCompromise"
	// CACompromise is 発行者署名符号の危殆化: the Organization's issuing key leaked.
	CACompromise Reason = "cACompromise"
	// AffiliationChanged is 証明書記録事項の変更: a matter recorded in the
	// certificate (the basic 4 information) changed, e.g. after a move.
	AffiliationChanged Reason = "affiliationChanged"
	// Superseded is 更新のための失効: revoked because a renewed certificate
	// replaces it.
	Superseded Reason = "superseded"
	// CessationOfOperation is 利用者の意思によるサービスの停止: the user asked for
	// the certificate to be revoked.
	CessationOfOperation Reason = "cessationOfOperation"
	// CertificateHold is 一時保留: the user-authentication certificate is
	// suspended (card reported lost) and may be released later. It is not one
	// of the manual's revocation reasons; see IsRevocation.
	CertificateHold Reason = "certificateHold"
)

// ErrUnknownReason is returned when a string or code names no reason this
// package knows, or a reason that is not allowed where it was used.
var ErrUnknownReason = errors.New("reasons: unknown revocation reason")

type info struct {
	code     int
	japanese string
}

// table is the single source of the mapping; codes are RFC 5280 §5.3.1.
var table = map[Reason]info{
	KeyCompromise:        {1, "利用者の秘密鍵の危殆化"},
	CACompromise:         {2, "発行者署名符号の危殆化"},
	AffiliationChanged:   {3, "証明書記録事項の変更"},
	Superseded:           {4, "更新のための失効"},
	CessationOfOperation: {5, "利用者の意思によるサービスの停止"},
	CertificateHold:      {6, "一時保留"},
}

// Revocations returns the manual's five revocation reasons in the manual's
// order (A) to (E). CertificateHold is not among them.
func Revocations() []Reason {
	return []Reason{KeyCompromise, CACompromise, AffiliationChanged, Superseded, CessationOfOperation}
}

// Valid reports whether r is one of the six known values (the five reasons or
// CertificateHold).
func (r Reason) Valid() bool {
	_, ok := table[r]
	return ok
}

// IsRevocation reports whether r is one of the manual's five permanent
// revocation reasons (not CertificateHold).
func (r Reason) IsRevocation() bool {
	return r.Valid() && r != CertificateHold
}

// Validate returns nil for one of the manual's five revocation reasons and an
// error wrapping ErrUnknownReason otherwise (including for CertificateHold,
// which is put with a hold operation, never with a revocation).
func (r Reason) Validate() error {
	if !r.IsRevocation() {
		return fmt.Errorf("%w: %q is not a revocation reason of the manual", ErrUnknownReason, string(r))
	}
	return nil
}

// Code returns the RFC 5280 CRLReason code (1 to 6), or -1 for an unknown
// reason. The values equal golang.org/x/crypto/ocsp's reason constants.
func (r Reason) Code() int {
	if i, ok := table[r]; ok {
		return i.code
	}
	return -1
}

// Japanese returns the manual's label, e.g. "更新のための失効", or "" for an
// unknown reason.
func (r Reason) Japanese() string {
	return table[r].japanese
}

// String returns the RFC 5280 name.
func (r Reason) String() string { return string(r) }

// FromCode returns the reason for an RFC 5280 CRLReason code. Codes that no
// JPKI procedure uses (0 unspecified, 8 removeFromCRL, 9, 10) are errors.
func FromCode(code int) (Reason, error) {
	for r, i := range table {
		if i.code == code {
			return r, nil
		}
	}
	return "", fmt.Errorf("%w: CRLReason code %d", ErrUnknownReason, code)
}

// Parse accepts an RFC 5280 name in any letter case ("keyCompromise",
// "KEYCOMPROMISE"), with or without separators ("key_compromise",
// "key-compromise"), or the manual's Japanese label, and returns the Reason.
func Parse(s string) (Reason, error) {
	t := strings.TrimSpace(s)
	norm := strings.ToLower(strings.NewReplacer("_", "", "-", "", " ", "").Replace(t))
	for r, i := range table {
		if norm != "" && norm == strings.ToLower(string(r)) {
			return r, nil
		}
		if t == i.japanese {
			return r, nil
		}
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownReason, s)
}
