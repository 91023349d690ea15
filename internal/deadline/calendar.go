package deadline

import (
	"sync"
	"time"

	"github.com/rickar/cal/v2/jp"

	"github.com/madoguchi/madoguchi/internal/validity"
)

// Why an office is closed on a day (Closed's reason).
const (
	ClosedSaturday = "土曜日"
	ClosedSunday   = "日曜日"
	ClosedHoliday  = "国民の祝日・休日"
	ClosedYearEnd  = "年末年始（12月29日〜1月3日）"
)

// Closed tells whether the offices are closed on d, and why: Saturdays and
// Sundays, the national holidays with their substitute holidays (振替休日)
// and the days between two holidays (国民の休日), and 12/29–1/3. These are
// the closed days of 行政機関の休日に関する法律 第1条 and of the municipal
// ordinances under 地方自治法 第4条の2 第2項. A national holiday is reported
// before the weekend only when it falls on a weekday.
func Closed(d Date) (reason string, closed bool) {
	switch {
	case d.Month == time.December && d.Day >= 29, d.Month == time.January && d.Day <= 3:
		return ClosedYearEnd, true
	case isHoliday(d):
		return ClosedHoliday, true
	}
	switch d.Start().Weekday() {
	case time.Saturday:
		return ClosedSaturday, true
	case time.Sunday:
		return ClosedSunday, true
	}
	return "", false
}

// OfficeDay reports whether the offices are open on d.
func OfficeDay(d Date) bool {
	_, closed := Closed(d)
	return !closed
}

// NextOfficeDay returns the first office day after d (never d itself).
func NextOfficeDay(d Date) Date { return OfficeDayOnOrAfter(d.AddDays(1)) }

// OfficeDayOnOrAfter returns d when it is an office day, else the next one:
// where a deadline lands when it rolls forward.
func OfficeDayOnOrAfter(d Date) Date {
	// The longest closed run is the year end with a weekend: under 10 days.
	for !OfficeDay(d) {
		d = d.AddDays(1)
	}
	return d
}

// OfficeDayOnOrBefore returns d when it is an office day, else the last
// office day before it: the day by which an office must act when its own
// deadline does not roll forward.
func OfficeDayOnOrBefore(d Date) Date {
	for !OfficeDay(d) {
		d = d.AddDays(-1)
	}
	return d
}

// The holidays come from github.com/rickar/cal/v2/jp (国民の祝日に関する法律,
// with substitute holidays as the library's observed days). The library's
// equinox functions write into the shared holiday values while computing,
// so every call into it holds holidayMu, and each year is computed once.
var (
	holidayMu    sync.Mutex
	holidayYears = map[int]map[Date]bool{}
)

func isHoliday(d Date) bool {
	holidayMu.Lock()
	defer holidayMu.Unlock()
	for _, y := range []int{d.Year - 1, d.Year} { // an observed day may spill into the next year
		if _, ok := holidayYears[y]; !ok {
			holidayYears[y] = holidaysOf(y)
		}
		if holidayYears[y][d] {
			return true
		}
	}
	return false
}

// holidaysOf lists year's holidays, actual and observed. The library returns
// instants in its default zone; only their civil dates are taken.
func holidaysOf(year int) map[Date]bool {
	days := map[Date]bool{}
	for _, h := range jp.Holidays {
		actual, observed := h.Calc(year)
		for _, t := range []time.Time{actual, observed} {
			if !t.IsZero() {
				days[validity.NewDate(t.Year(), t.Month(), t.Day())] = true
			}
		}
	}
	return days
}
