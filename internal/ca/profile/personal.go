package profile

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Sentinel errors; ValidationError matches them with errors.Is.
var (
	// ErrInvalidRequest is matched by every ValidationError.
	ErrInvalidRequest = errors.New("invalid request")
	// ErrInvalidPublicKey is matched by a ValidationError about the subject
	// public key (malformed, not RSA, not 2048 bits, bad exponent).
	ErrInvalidPublicKey = errors.New("invalid subject public key")
)

// ValidationError says which field of a request is wrong and why. Problem
// never repeats the field's value: values may be personal information.
type ValidationError struct {
	Field   string
	Problem string
}

func (e *ValidationError) Error() string {
	return "invalid " + e.Field + ": " + e.Problem
}

// Is matches ErrInvalidRequest always and ErrInvalidPublicKey for the
// public-key field.
func (e *ValidationError) Is(target error) bool {
	return target == ErrInvalidRequest || (target == ErrInvalidPublicKey && e.Field == FieldPublicKey)
}

// FieldPublicKey is the Field of a ValidationError about the public key.
const FieldPublicKey = "PublicKeyDER"

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// Sex is the sex recorded in the resident register, as the certificate
// encodes it.
type Sex string

// The two values the resident register records.
const (
	SexMale   Sex = "1"
	SexFemale Sex = "2"
)

// ParseSex accepts "1"/"2", 男/女 and male/female (any case).
func ParseSex(s string) (Sex, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "男", "male", "m":
		return SexMale, nil
	case "2", "女", "female", "f":
		return SexFemale, nil
	}
	return "", invalid("Sex", "must be 1 (男) or 2 (女)")
}

// PersonalInfo is the basic 4 information (基本4情報) plus the former surname
// (旧氏) and alias (通称) where the resident register records them, exactly
// as the register holds them: the certificate is made from the register's
// record, not from what the applicant wrote.
//
// The *Substitute fields carry the variant written with substitute
// characters (代替文字) when the register's characters cannot be represented;
// leave them empty when no substitution was needed.
type PersonalInfo struct {
	Name                    string `json:"name"`
	NameSubstitute          string `json:"name_substitute,omitempty"`
	DateOfBirth             string `json:"date_of_birth"` // YYYY-MM-DD (Gregorian)
	Sex                     Sex    `json:"sex"`
	Address                 string `json:"address"`
	AddressSubstitute       string `json:"address_substitute,omitempty"`
	FormerSurname           string `json:"former_surname,omitempty"`
	FormerSurnameSubstitute string `json:"former_surname_substitute,omitempty"`
	Alias                   string `json:"alias,omitempty"`
	AliasSubstitute         string `json:"alias_substitute,omitempty"`
}

// String never prints the values: a PersonalInfo must not end up in a log
// line by accident.
func (p PersonalInfo) String() string { return "profile.PersonalInfo{redacted}" }

// GoString is String, for %#v.
func (p PersonalInfo) GoString() string { return p.String() }

// IsZero reports whether no field is set.
func (p PersonalInfo) IsZero() bool { return p == PersonalInfo{} }

// Length limits in characters; generous for the longest Japanese addresses
// (with 方書) while keeping certificates bounded.
const (
	maxNameRunes    = 100
	maxAddressRunes = 300
)

// JST is Japan Standard Time. Japan has no daylight saving time, so a fixed
// zone avoids depending on the tz database being installed.
var JST = time.FixedZone("JST", 9*60*60)

// Validate checks presence, length and character sanity of every field and
// the date of birth against now. It returns a *ValidationError naming the
// field, never its value.
func (p PersonalInfo) Validate(now time.Time) error {
	type f struct {
		name     string
		val      string
		max      int
		required bool
	}
	for _, x := range []f{
		{"Personal.Name", p.Name, maxNameRunes, true},
		{"Personal.NameSubstitute", p.NameSubstitute, maxNameRunes, false},
		{"Personal.Address", p.Address, maxAddressRunes, true},
		{"Personal.AddressSubstitute", p.AddressSubstitute, maxAddressRunes, false},
		{"Personal.FormerSurname", p.FormerSurname, maxNameRunes, false},
		{"Personal.FormerSurnameSubstitute", p.FormerSurnameSubstitute, maxNameRunes, false},
		{"Personal.Alias", p.Alias, maxNameRunes, false},
		{"Personal.AliasSubstitute", p.AliasSubstitute, maxNameRunes, false},
	} {
		if err := checkText(x.name, x.val, x.max, x.required); err != nil {
			return err
		}
	}
	if p.FormerSurnameSubstitute != "" && p.FormerSurname == "" {
		return invalid("Personal.FormerSurnameSubstitute", "set without FormerSurname")
	}
	if p.AliasSubstitute != "" && p.Alias == "" {
		return invalid("Personal.AliasSubstitute", "set without Alias")
	}
	if p.Sex != SexMale && p.Sex != SexFemale {
		return invalid("Personal.Sex", "must be %q (男) or %q (女)", SexMale, SexFemale)
	}
	dob, err := ParseDate(p.DateOfBirth)
	if err != nil {
		return invalid("Personal.DateOfBirth", "%v", err)
	}
	if dob.After(DateIn(now, JST)) {
		return invalid("Personal.DateOfBirth", "is in the future")
	}
	return nil
}

func checkText(field, s string, max int, required bool) error {
	if s == "" {
		if required {
			return invalid(field, "is required")
		}
		return nil
	}
	if !utf8.ValidString(s) {
		return invalid(field, "is not valid UTF-8")
	}
	if strings.TrimSpace(s) != s {
		return invalid(field, "has leading or trailing white space")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return invalid(field, "has %d characters, at most %d allowed", n, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return invalid(field, "contains a control character")
		}
	}
	return nil
}

// ParseDate parses a civil date "YYYY-MM-DD" and returns it as midnight UTC.
// Dates before 1873-01-01, when Japan adopted the Gregorian calendar, are
// rejected: no era code or resident record can express them.
func ParseDate(s string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, errors.New("must be a date YYYY-MM-DD")
	}
	if d.Before(time.Date(1873, 1, 1, 0, 0, 0, 0, time.UTC)) {
		return time.Time{}, errors.New("is before 1873-01-01")
	}
	return d, nil
}

// DateIn returns the calendar date of t in loc, as midnight UTC, so civil
// dates compare with Before/After/Equal.
func DateIn(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// AgeReached reports whether a person born on dob has reached age years on
// the civil date day. Under 年齢計算ニ関スル法律 and civil code art. 143 a
// person attains an age at the end of the day before the anniversary, so
// they have it on the anniversary itself; someone born on 29 February has it
// on 1 March in common years (time.AddDate normalizes 29 Feb to 1 Mar).
func AgeReached(dob, day time.Time, years int) bool {
	return !day.Before(dob.AddDate(years, 0, 0))
}

// eras are the Japanese eras by their first Gregorian day; the era code is
// the digit the certificate puts before the date.
var eras = []struct {
	code  byte
	start time.Time
}{
	{'5', time.Date(2019, 5, 1, 0, 0, 0, 0, time.UTC)},   // 令和
	{'4', time.Date(1989, 1, 8, 0, 0, 0, 0, time.UTC)},   // 平成
	{'3', time.Date(1926, 12, 25, 0, 0, 0, 0, time.UTC)}, // 昭和
	{'2', time.Date(1912, 7, 30, 0, 0, 0, 0, time.UTC)},  // 大正
	{'1', time.Date(1868, 10, 23, 0, 0, 0, 0, time.UTC)}, // 明治
}

// EncodeDateOfBirth turns "YYYY-MM-DD" into the certificate form: the era
// code (1 明治, 2 大正, 3 昭和, 4 平成, 5 令和) followed by the Gregorian date
// YYYYMMDD, e.g. "1990-01-02" → "419900102".
func EncodeDateOfBirth(s string) (string, error) {
	d, err := ParseDate(s)
	if err != nil {
		return "", err
	}
	for _, e := range eras {
		if !d.Before(e.start) {
			return string(e.code) + d.Format("20060102"), nil
		}
	}
	return "", errors.New("date before the Meiji era")
}

// DecodeDateOfBirth is the inverse of EncodeDateOfBirth. It checks that the
// era code agrees with the date.
func DecodeDateOfBirth(v string) (string, error) {
	if len(v) != 9 {
		return "", fmt.Errorf("date of birth value has %d characters, want 9", len(v))
	}
	d, err := time.Parse("20060102", v[1:])
	if err != nil {
		return "", errors.New("date of birth value is not era+YYYYMMDD")
	}
	s := d.Format(time.DateOnly)
	want, err := EncodeDateOfBirth(s)
	if err != nil {
		return "", err
	}
	if want[0] != v[0] {
		return "", fmt.Errorf("era code %q does not match the date", v[0])
	}
	return s, nil
}
