package register

import (
	"fmt"

	"github.com/madoguchi/madoguchi/internal/reasons"
)

// Change is the kind of a resident-register change (異動) that the register
// sends to the back office; each revokes certificates ex officio (第2 2(3)).
type Change string

// The register changes. Every one of them changes the basic 4 information
// of the signing certificate, or removes the record it was made from.
const (
	// ChangeMovedOut is 転出 to another municipality in Japan: the address
	// changes; the person stays a resident of Japan.
	ChangeMovedOut Change = "moved_out"
	// ChangeMovedAbroad is 国外転出: the person leaves Japan.
	ChangeMovedAbroad Change = "moved_abroad"
	// ChangeDeath is 死亡.
	ChangeDeath Change = "death"
	// ChangeName is 氏名の変更.
	ChangeName Change = "name_change"
	// ChangeAddress is 住所の変更 within the municipality (転居, 住居表示の実施).
	ChangeAddress Change = "address_change"
	// ChangeBirthDate is 生年月日の訂正.
	ChangeBirthDate Change = "birth_date_correction"
	// ChangeSex is 性別の訂正.
	ChangeSex Change = "sex_correction"
	// ChangeRemoval is 住民票の消除 (e.g. 職権消除) other than by death or
	// leaving Japan.
	ChangeRemoval Change = "record_removal"
)

// Changes lists every kind, in a fixed order.
func Changes() []Change {
	return []Change{ChangeMovedOut, ChangeMovedAbroad, ChangeDeath, ChangeName, ChangeAddress, ChangeBirthDate, ChangeSex, ChangeRemoval}
}

// Revocation is one certificate kind a change revokes, with its reason.
type Revocation struct {
	Kind   string // "sign" or "auth", as contract names the kinds
	Reason reasons.Reason
}

// Kinds of certificate, spelt as contract.KindSigning and contract.KindUserAuth
// (this package links no wire types).
const (
	kindSigning  = "sign"
	kindUserAuth = "auth"
)

// Revocations says which certificates a register change revokes and why
// (第2 2(3), reasons from 第1 4(3)イ(ア)):
//
//   - the signing certificate carries the basic 4 information, so every
//     change revokes it as (C) 証明書記録事項の変更, affiliationChanged: its
//     recorded matters no longer match the register, or the record is gone;
//   - the user-authentication certificate carries none of them, so it
//     survives a name or address change (a move within Japan included), and
//     is revoked when the person no longer holds a record in Japan — death,
//     leaving Japan (国外転出), removal of the record — as (E) サービスの停止,
//     cessationOfOperation: nothing it records changed (so not (C)); the
//     certificate is no longer needed, which is RFC 5280's and the
//     Organization's CPS's meaning of cessationOfOperation.
//
// A correction of the date of birth or of the sex changes the signing
// certificate only, as a name change does.
func Revocations(c Change) ([]Revocation, error) {
	sign := Revocation{Kind: kindSigning, Reason: reasons.AffiliationChanged}
	switch c {
	case ChangeMovedOut, ChangeName, ChangeAddress, ChangeBirthDate, ChangeSex:
		return []Revocation{sign}, nil
	case ChangeMovedAbroad, ChangeDeath, ChangeRemoval:
		return []Revocation{sign, {Kind: kindUserAuth, Reason: reasons.CessationOfOperation}}, nil
	}
	return nil, fmt.Errorf("register: %q is not a register change", string(c))
}

// ParseChange checks a change kind as the register spells it.
func ParseChange(s string) (Change, error) {
	for _, c := range Changes() {
		if string(c) == s {
			return c, nil
		}
	}
	return "", fmt.Errorf("register: %q is not a register change", s)
}
