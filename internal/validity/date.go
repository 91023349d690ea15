// Package validity computes the validity periods of JPKI certificates
// (公的個人認証法施行規則 第13条 for the signing certificate, 第49条 for the
// user-authentication certificate) and the renewal window.
//
// Every function is pure: the caller passes the issue instant, the dates and
// "now"; nothing here reads the clock. All calendar reasoning happens in
// Asia/Tokyo, because a certificate's dates are Japanese civil dates.
package validity

import (
	"errors"
	"fmt"
	"time"
)

// Tokyo is the Asia/Tokyo location used for every calendar computation.
// If the system has no tzdata it is a fixed +09:00 zone with the same name:
// Japan has not observed daylight saving time since 1951, so the fixed zone
// gives identical results for every date this service handles.
var Tokyo = loadTokyo()

func loadTokyo() *time.Location {
	loc, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		return time.FixedZone("Asia/Tokyo", 9*60*60)
	}
	return loc
}

// ErrInvalidDate is returned when a Date is malformed or does not exist
// (for example 2026-02-30).
var ErrInvalidDate = errors.New("validity: invalid date / 日付が正しくありません")

// Date is a civil calendar date (year, month, day) with no time of day and
// no zone. It is interpreted in Asia/Tokyo wherever an instant is needed.
// The zero Date means "not set".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// NewDate returns the Date for year, month and day without normalising it;
// use Valid to check that it exists.
func NewDate(year int, month time.Month, day int) Date {
	return Date{Year: year, Month: month, Day: day}
}

// DateOf returns the Asia/Tokyo calendar date of the instant t.
func DateOf(t time.Time) Date {
	t = t.In(Tokyo)
	return Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

// ParseDate parses an ISO 8601 calendar date "YYYY-MM-DD". The empty string
// yields the zero Date.
func ParseDate(s string) (Date, error) {
	if s == "" {
		return Date{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%w: %q is not YYYY-MM-DD", ErrInvalidDate, s)
	}
	return Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}, nil
}

// IsZero reports whether d is the zero Date ("not set").
func (d Date) IsZero() bool { return d == Date{} }

// Valid reports whether d is an existing calendar date in years 1–9999.
func (d Date) Valid() bool {
	if d.Year < 1 || d.Year > 9999 || d.Month < time.January || d.Month > time.December {
		return false
	}
	return d.Day >= 1 && d.Day <= DaysIn(d.Year, d.Month)
}

// String formats d as "YYYY-MM-DD".
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// Compare returns -1, 0 or +1 as d is before, equal to or after o.
func (d Date) Compare(o Date) int {
	switch {
	case d.Year != o.Year:
		return cmpInt(d.Year, o.Year)
	case d.Month != o.Month:
		return cmpInt(int(d.Month), int(o.Month))
	default:
		return cmpInt(d.Day, o.Day)
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Before reports whether d is strictly before o.
func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }

// After reports whether d is strictly after o.
func (d Date) After(o Date) bool { return d.Compare(o) > 0 }

// AddDays returns the date n days after d (before it when n is negative).
func (d Date) AddDays(n int) Date {
	// Noon UTC keeps the arithmetic clear of any zone transition.
	t := time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC)
	return Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

// AddMonthsClamped returns the date n calendar months after d (before it when
// n is negative), keeping the day of month but clamping it to the last day of
// the target month: 2026-05-31 minus 3 months is 2026-02-28, not 2026-03-03
// as time.AddDate would give.
func (d Date) AddMonthsClamped(n int) Date {
	m := int(d.Month) - 1 + n
	y := d.Year + floorDiv(m, 12)
	mon := time.Month(m - floorDiv(m, 12)*12 + 1)
	day := min(d.Day, DaysIn(y, mon))
	return Date{Year: y, Month: mon, Day: day}
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Start returns 00:00:00 Asia/Tokyo on d.
func (d Date) Start() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, Tokyo)
}

// End returns 23:59:59 Asia/Tokyo on d: the last second of the day, which is
// how a certificate's NotAfter expresses "valid through d" with the one-second
// resolution of X.509 times.
func (d Date) End() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 23, 59, 59, 0, Tokyo)
}

// MarshalText encodes d as "YYYY-MM-DD" (the zero Date as ""), so dates travel
// readably in JSON payloads such as Temporal workflow inputs.
func (d Date) MarshalText() ([]byte, error) {
	if d.IsZero() {
		return []byte{}, nil
	}
	if !d.Valid() {
		return nil, fmt.Errorf("%w: %s", ErrInvalidDate, d)
	}
	return []byte(d.String()), nil
}

// UnmarshalText decodes "YYYY-MM-DD" (or "" for the zero Date).
func (d *Date) UnmarshalText(b []byte) error {
	p, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// IsLeap reports whether year is a Gregorian leap year.
func IsLeap(year int) bool {
	return year%4 == 0 && (year%100 != 0 || year%400 == 0)
}

// DaysIn returns the number of days of month m in year.
func DaysIn(year int, m time.Month) int {
	switch m {
	case time.February:
		if IsLeap(year) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// BirthdayIn returns the birthday, for certificate-expiry purposes, of a
// person born on birth, in the given year.
//
// Born on 29 February: in a non-leap year the birthday is 28 February. This
// follows the Japanese civil rule (年齢計算ニ関スル法律 with 民法 第143条): a
// person's year of age is completed at the end of the day before the
// anniversary, and when the anniversary does not exist the period ends on the
// last day of the month, 28 February. Taking 28 February also never lets a
// certificate outlive the period the rule allows (1 March would add a day),
// and it is the date J-LIS uses for such holders.
func BirthdayIn(birth Date, year int) Date {
	if birth.Month == time.February && birth.Day == 29 && !IsLeap(year) {
		return Date{Year: year, Month: time.February, Day: 28}
	}
	return Date{Year: year, Month: birth.Month, Day: birth.Day}
}

// NthBirthdayAfter returns the applicant's n-th birthday strictly after the
// date d (n ≥ 1): a birthday falling on d itself does not count, as in
// 「発行の日後の…5回目の誕生日」.
func NthBirthdayAfter(birth Date, d Date, n int) Date {
	first := d.Year
	if !BirthdayIn(birth, first).After(d) {
		first++
	}
	return BirthdayIn(birth, first+n-1)
}
