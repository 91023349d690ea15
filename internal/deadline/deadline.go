// Package deadline is the one place the back office counts periods: the
// proxy inquiry's reply deadline, the Organization's disclosure deadline and
// its extension, the notices, and how long records are kept before disposal.
// docs/DEADLINES.md gives the legal basis of each.
//
// Periods in days, months and years are counted as 民法 第140条–第143条
// count them, in Asia/Tokyo: the first day is not counted unless the period
// starts at 00:00 (or the law says 「…の日から起算して」); the period ends at
// the end of its last day; months and years follow the calendar, ending the
// day before the corresponding day (応当日), or on the month's last day when
// that month has no such day. Where the law moves a deadline off a closed
// day, the last day rolls forward to the next office day (Closed).
//
// Every function is pure: the caller passes the instants; nothing reads the
// clock, so workflows may call it.
package deadline

import (
	"fmt"
	"time"

	"github.com/madoguchi/madoguchi/internal/validity"
)

// Date is a civil date in Asia/Tokyo.
type Date = validity.Date

// DayEnd is when, counted from 00:00 of its last day, a period runs out and
// its timer fires: 24 hours, that is at the end of the last day, 24:00 JST
// (民法 第141条 「末日の終了をもって満了する」). Not the office's closing
// time: the law gives the whole day, closing hours differ between offices,
// and a proxy who came before closing may be served after it. Not 23:59:59
// either: at 24:00 the test "in time" is exactly now < Fires, with nothing
// lost to rounding when the instant is stored with microseconds. Japan keeps
// no daylight saving time, so every day is 24 hours long.
const DayEnd = 24 * time.Hour

// Unit is the unit a period is counted in.
type Unit int

// The units of a period.
const (
	Day Unit = iota + 1
	Month
	Year
)

func (u Unit) String() string {
	switch u {
	case Day:
		return "日"
	case Month:
		return "月"
	case Year:
		return "年"
	}
	return fmt.Sprintf("Unit(%d)", int(u))
}

// Count says which day is the first day of a period.
type Count int

// The ways of counting the first day.
const (
	// FirstDayExcluded is 民法 第140条 (初日不算入): counting starts the next
	// day, unless the period starts at 00:00 exactly.
	FirstDayExcluded Count = iota
	// FirstDayIncluded is a law's 「…の日から起算して」: the day of the event
	// is the first day.
	FirstDayIncluded
	// NextFiscalYear is the municipal document rule 「完結の日の属する年度の
	// 翌年度の4月1日から起算する」: counting starts on 1 April after the fiscal
	// year (April–March) of the event.
	NextFiscalYear
)

// Kind names a deadline of the back office.
type Kind string

// The deadlines of the back office; docs/DEADLINES.md gives each one's basis.
const (
	InquiryReply                  Kind = "inquiry-reply"
	Disclosure                    Kind = "disclosure"
	DisclosureExtension           Kind = "disclosure-extension"
	ExtensionNotice               Kind = "extension-notice"
	IssuanceRecordRetention       Kind = "issuance-record-retention"
	RevocationFileRetention       Kind = "revocation-file-retention"
	ApplicationDocumentsRetention Kind = "application-documents-retention"
)

// Rule is how one kind of deadline is counted.
type Rule struct {
	Kind   Kind
	Length int
	Unit   Unit
	Count  Count
	// Roll moves a last day that falls on a closed day to the next office
	// day. Only deadlines of what a person must do at an office roll.
	Roll bool
	// Basis cites the provision applied, for people (the docs, the audit).
	Basis string
}

// Deadline is a counted period.
type Deadline struct {
	Kind Kind `json:"kind"`
	// FirstDay is the first day counted.
	FirstDay Date `json:"firstDay"`
	// Nominal is the last day as counted, before any roll.
	Nominal Date `json:"nominal"`
	// LastDay is the last day of the period: Nominal, or the next office
	// day when Nominal is closed and the rule rolls. Letters print it.
	LastDay Date `json:"lastDay"`
	// Fires is the instant the period has run out and its timer fires: the
	// end of LastDay (DayEnd). Until then, the act is in time.
	Fires time.Time `json:"fires"`
}

// Rolled reports whether the last day was moved off a closed day.
func (d Deadline) Rolled() bool { return d.LastDay != d.Nominal }

// Passed reports whether the period has run out at now.
func (d Deadline) Passed(now time.Time) bool { return !now.Before(d.Fires) }

// Remaining is how long a timer started at now waits for the deadline
// (zero once it passed).
func (d Deadline) Remaining(now time.Time) time.Duration { return max(0, d.Fires.Sub(now)) }

// From counts the period from the instant start.
func (r Rule) From(start time.Time) Deadline {
	return r.count(firstDay(start, r.Count))
}

// FromDate counts the period from an event known only by its date, which is
// taken as not starting at 00:00: with FirstDayExcluded the first day is the
// next day.
func (r Rule) FromDate(d Date) Deadline {
	switch r.Count {
	case FirstDayIncluded:
		return r.count(d)
	case NextFiscalYear:
		return r.count(nextFiscalYear(d))
	}
	return r.count(d.AddDays(1))
}

func (r Rule) count(first Date) Deadline {
	var last Date
	switch r.Unit {
	case Day:
		last = first.AddDays(r.Length - 1)
	case Month:
		last = endOfMonths(first, r.Length)
	case Year:
		last = endOfMonths(first, 12*r.Length)
	default:
		panic(fmt.Sprintf("deadline: rule %q has no unit", r.Kind))
	}
	d := Deadline{Kind: r.Kind, FirstDay: first, Nominal: last, LastDay: last}
	if r.Roll {
		d.LastDay = OfficeDayOnOrAfter(last)
	}
	d.Fires = FiresAt(d.LastDay)
	return d
}

// FiresAt is the instant a period whose last day is d runs out.
func FiresAt(d Date) time.Time { return d.Start().Add(DayEnd) }

// LastDayOf is the last day of a period that runs out at fires: the date of
// the last instant before it. It gives the date to print for a deadline
// known only by its instant, and for Fires it is LastDay.
func LastDayOf(fires time.Time) Date { return validity.DateOf(fires.Add(-time.Nanosecond)) }

// firstDay applies the counting rule to the start instant.
func firstDay(start time.Time, c Count) Date {
	t := start.In(validity.Tokyo)
	day := validity.DateOf(t)
	switch c {
	case FirstDayIncluded:
		return day
	case NextFiscalYear:
		return nextFiscalYear(day)
	}
	if t.Equal(day.Start()) { // 民法140 ただし書: a period starting at 00:00 counts its first day
		return day
	}
	return day.AddDays(1)
}

// nextFiscalYear is 1 April of the fiscal year after d's.
func nextFiscalYear(d Date) Date {
	y := d.Year
	if d.Month >= time.April {
		y++
	}
	return validity.NewDate(y, time.April, 1)
}

// endOfMonths is the last day of a period of n calendar months whose first
// day is first (民法 第143条 第2項): the day before the corresponding day of
// the last month, or that month's last day when it has no corresponding day.
// A period starting on the 1st ends on the last day of the month before.
func endOfMonths(first Date, n int) Date {
	target := first.AddMonthsClamped(n)
	if target.Day < first.Day { // no corresponding day: the month's last day
		return target
	}
	return target.AddDays(-1)
}

// Days counts n days from start, the first day not counted (民法 第140条),
// rolling a closed last day forward when roll is set.
func Days(start time.Time, n int, roll bool) Deadline {
	return Rule{Length: n, Unit: Day, Roll: roll}.From(start)
}

// Months counts n calendar months from start (民法 第143条), the first
// day not counted, rolling a closed last day forward when roll is set.
func Months(start time.Time, n int, roll bool) Deadline {
	return Rule{Length: n, Unit: Month, Roll: roll}.From(start)
}
