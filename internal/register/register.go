// Package register holds the rules of the resident-register check
// (住民基本台帳との照合) made when an application for certificates is taken:
// the application's basic 4 information must match the register, the person
// must be a current resident of this municipality, and a signing certificate
// is not issued to a person under 15 or to an adult ward.
//
// The functions are pure: the caller passes the register's record, the
// application and the application date. Rejections are *RejectionError
// values whose messages name the item that failed but never the personal
// values themselves.
package register

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/madoguchi/madoguchi/internal/validity"
)

// Date is a civil date; it is the project's one date type (validity.Date).
type Date = validity.Date

// StatusResident is the Record.Status of a person currently recorded as
// living in the municipality (住民). Every other status (moved out, deceased,
// deleted, ...) fails the check.
const StatusResident = "resident"

// SigningMinAge is the age from which a signing certificate may be issued.
const SigningMinAge = 15

// Record is a person's entry in the municipality's resident register.
type Record struct {
	ResidentCode     string // 住民票コード
	MunicipalityCode string // 全国地方公共団体コード of the register's municipality
	Name             string
	NameKana         string // kept for display; not one of the basic 4 and not compared
	FormerSurname    string // 旧氏, "" when none is recorded
	Alias            string // 通称, "" when none is recorded
	BirthDate        string // "YYYY-MM-DD" (other forms ParseDate reads are accepted)
	Sex              string
	Address          string
	Status           string // StatusResident or another status
	AdultWard        bool   // 成年被後見人
}

// Application is what the applicant wrote on the application form.
type Application struct {
	Name          string
	BirthDate     string
	Sex           string
	Address       string
	FormerSurname string // checked only when given
	Alias         string // checked only when given
	WantSigning   bool
	WantUserAuth  bool
}

// Rejection codes, stable for callers and for the console.
const (
	CodeNotResident            = "not_resident"
	CodeOtherMunicipality      = "other_municipality"
	CodeNoCertificateRequested = "no_certificate_requested"
	CodeMismatchName           = "mismatch_name"
	CodeInvalidBirthDate       = "invalid_birth_date"
	CodeMismatchBirthDate      = "mismatch_birth_date"
	CodeMismatchSex            = "mismatch_sex"
	CodeMismatchAddress        = "mismatch_address"
	CodeMismatchFormerSurname  = "mismatch_former_surname"
	CodeMismatchAlias          = "mismatch_alias"
	CodeUnder15Signing         = "under_15_signing"
	CodeAdultWardSigning       = "adult_ward_signing"
)

var messages = map[string]string{
	CodeNotResident:            "申請者は現在この市区町村の住民基本台帳に住民として記録されていません。 / The applicant is not currently recorded as a resident in the resident register.",
	CodeOtherMunicipality:      "申請者はこの市区町村の住民基本台帳に記録されていません（住所地の市区町村で申請してください）。 / The applicant is recorded in another municipality's resident register; apply at the municipality of address.",
	CodeNoCertificateRequested: "発行を求める電子証明書が選択されていません。 / No certificate (signing or user authentication) was requested.",
	CodeMismatchName:           "氏名が住民基本台帳の記録と一致しません。 / The name does not match the resident register.",
	CodeInvalidBirthDate:       "申請書の生年月日を日付として読み取れません。 / The date of birth on the application cannot be read as a date.",
	CodeMismatchBirthDate:      "生年月日が住民基本台帳の記録と一致しません。 / The date of birth does not match the resident register.",
	CodeMismatchSex:            "性別が住民基本台帳の記録と一致しません。 / The sex does not match the resident register.",
	CodeMismatchAddress:        "住所が住民基本台帳の記録と一致しません。 / The address does not match the resident register.",
	CodeMismatchFormerSurname:  "旧氏が住民基本台帳の記録と一致しません。 / The former surname does not match the resident register.",
	CodeMismatchAlias:          "通称が住民基本台帳の記録と一致しません。 / The alias does not match the resident register.",
	CodeUnder15Signing:         "申請日に15歳未満の方には署名用電子証明書を発行できません。 / A signing certificate cannot be issued to a person under 15 on the application date.",
	CodeAdultWardSigning:       "成年被後見人には署名用電子証明書を発行できません。 / A signing certificate cannot be issued to an adult ward.",
}

// RejectionError is a rule failure a clerk can act on. Message is Japanese
// then English and names the failed item only.
type RejectionError struct {
	Code    string
	Message string
}

// Error returns "register: <code>: <message>".
func (e *RejectionError) Error() string { return "register: " + e.Code + ": " + e.Message }

// Is matches another *RejectionError with the same Code, so
// errors.Is(err, ErrUnder15Signing) works.
func (e *RejectionError) Is(target error) bool {
	var t *RejectionError
	return errors.As(target, &t) && t != nil && t.Code == e.Code
}

func reject(code string) *RejectionError {
	return &RejectionError{Code: code, Message: messages[code]}
}

// Sentinel rejections for errors.Is.
var (
	ErrNotResident            = reject(CodeNotResident)
	ErrOtherMunicipality      = reject(CodeOtherMunicipality)
	ErrNoCertificateRequested = reject(CodeNoCertificateRequested)
	ErrMismatchName           = reject(CodeMismatchName)
	ErrInvalidBirthDate       = reject(CodeInvalidBirthDate)
	ErrMismatchBirthDate      = reject(CodeMismatchBirthDate)
	ErrMismatchSex            = reject(CodeMismatchSex)
	ErrMismatchAddress        = reject(CodeMismatchAddress)
	ErrMismatchFormerSurname  = reject(CodeMismatchFormerSurname)
	ErrMismatchAlias          = reject(CodeMismatchAlias)
	ErrUnder15Signing         = reject(CodeUnder15Signing)
	ErrAdultWardSigning       = reject(CodeAdultWardSigning)
)

// ErrInvalidRecord means the register's record or the check's own inputs are
// unusable (a missing field, an unreadable birth date): a data problem for
// the system's operators, not a rejection of the applicant.
var ErrInvalidRecord = errors.New("register: invalid register record or check input / 住民基本台帳の記録または照合の入力が不正です")

// Check applies the rules to one application and returns the first
// rejection in this order: residency, municipality, the request itself,
// name, date of birth, sex, address, former surname, alias, under 15,
// adult ward. It returns nil when the application passes, a *RejectionError
// when it is rejected, or an error wrapping ErrInvalidRecord.
func Check(rec Record, app Application, municipalityCode string, today Date) error {
	rs, err := CheckAll(rec, app, municipalityCode, today)
	if err != nil {
		return err
	}
	if len(rs) > 0 {
		return rs[0]
	}
	return nil
}

// CheckAll is Check returning every rejection, in Check's order, so a clerk
// sees all the items to correct at once. The error is non-nil only for an
// invalid record or input (ErrInvalidRecord).
func CheckAll(rec Record, app Application, municipalityCode string, today Date) ([]*RejectionError, error) {
	if !today.Valid() {
		return nil, fmt.Errorf("%w: application date missing or malformed", ErrInvalidRecord)
	}
	if Normalize(municipalityCode) == "" {
		return nil, fmt.Errorf("%w: municipality code missing", ErrInvalidRecord)
	}
	for _, f := range []struct{ name, v string }{
		{"name", rec.Name}, {"birth date", rec.BirthDate}, {"sex", rec.Sex}, {"address", rec.Address},
		{"municipality code", rec.MunicipalityCode}, {"status", rec.Status},
	} {
		if Normalize(f.v) == "" {
			return nil, fmt.Errorf("%w: record has no %s", ErrInvalidRecord, f.name)
		}
	}
	birth, err := ParseDate(rec.BirthDate)
	if err != nil {
		return nil, fmt.Errorf("%w: record birth date: %w", ErrInvalidRecord, err)
	}
	if birth.After(today) {
		return nil, fmt.Errorf("%w: record birth date is after the application date", ErrInvalidRecord)
	}

	var rs []*RejectionError
	add := func(code string) { rs = append(rs, reject(code)) }

	if Normalize(rec.Status) != StatusResident {
		add(CodeNotResident)
	}
	if !SameMunicipality(rec.MunicipalityCode, municipalityCode) {
		add(CodeOtherMunicipality)
	}
	if !app.WantSigning && !app.WantUserAuth {
		add(CodeNoCertificateRequested)
	}
	if Normalize(app.Name) != Normalize(rec.Name) {
		add(CodeMismatchName)
	}
	if appBirth, err := ParseDate(app.BirthDate); err != nil {
		add(CodeInvalidBirthDate)
	} else if appBirth != birth {
		add(CodeMismatchBirthDate)
	}
	if NormalizeSex(app.Sex) != NormalizeSex(rec.Sex) {
		add(CodeMismatchSex)
	}
	if Normalize(app.Address) != Normalize(rec.Address) {
		add(CodeMismatchAddress)
	}
	if fs := Normalize(app.FormerSurname); fs != "" && fs != Normalize(rec.FormerSurname) {
		add(CodeMismatchFormerSurname)
	}
	if al := Normalize(app.Alias); al != "" && al != Normalize(rec.Alias) {
		add(CodeMismatchAlias)
	}
	if app.WantSigning {
		if Age(birth, today) < SigningMinAge {
			add(CodeUnder15Signing)
		}
		if rec.AdultWard {
			add(CodeAdultWardSigning)
		}
	}
	return rs, nil
}

// SameMunicipality reports whether two 全国地方公共団体コード name the same
// municipality. Codes are compared after Normalize; a 6-digit code (with
// its check digit) also equals its 5-digit form, since systems store either.
func SameMunicipality(a, b string) bool {
	a, b = Normalize(a), Normalize(b)
	if a == b {
		return a != ""
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	return len(a) == 5 && len(b) == 6 && allDigits(b) && strings.HasPrefix(b, a)
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Age returns the age in completed years on the day today of a person born
// on birth, by the Japanese civil rule (年齢計算ニ関スル法律, 民法 第143条):
// the age increases at the start of the birthday. A person born on
// 29 February turns a year older on 1 March in non-leap years (the year of
// age ends with 28 February). Age is negative if today is before birth.
func Age(birth, today Date) int {
	age := today.Year - birth.Year
	anniversary := Date{Year: today.Year, Month: birth.Month, Day: birth.Day}
	if birth.Month == time.February && birth.Day == 29 && !validity.IsLeap(today.Year) {
		anniversary = Date{Year: today.Year, Month: time.March, Day: 1}
	}
	if today.Before(anniversary) {
		age--
	}
	return age
}

// Message is the clerk's wording of a rejection code ("" for an unknown one).
func Message(code string) string { return messages[code] }
