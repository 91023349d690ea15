package deadline

import (
	"encoding/json"
	"sync"
	"testing"
	"time"
)

func date(y int, m time.Month, d int) Date { return Date{Year: y, Month: m, Day: d} }

// jst is an instant given as Tokyo wall-clock time, in a fixed zone built
// here so the expectations do not depend on the code under test.
func jst(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.FixedZone("JST", 9*3600))
}

func TestDeadlines(t *testing.T) {
	tests := []struct {
		name string
		got  Deadline
		// first, nominal and last day; the timer fires at 00:00 JST of the
		// day after last.
		first, nominal, last Date
	}{
		{"the issue's example: 30 days from 04:39 on 2 December do not end at 04:39 on New Year's Day",
			ReplyDeadline(jst(2026, 12, 2, 4, 39), 30),
			date(2026, 12, 3), date(2027, 1, 1), date(2027, 1, 4)}, // 1/1–1/3 closed, 1/4 is a Monday
		{"the same instant given in UTC (19:39 on 1 December)",
			ReplyDeadline(time.Date(2026, 12, 1, 19, 39, 0, 0, time.UTC), 30),
			date(2026, 12, 3), date(2027, 1, 1), date(2027, 1, 4)},
		{"across Golden Week: 5/3 (Sunday) to 5/6 (substitute holiday) are closed",
			ReplyDeadline(jst(2026, 4, 3, 10, 0), 30),
			date(2026, 4, 4), date(2026, 5, 3), date(2026, 5, 7)},
		{"across the year end: 12/29 to 1/3 closed, then a Sunday",
			ReplyDeadline(jst(2025, 11, 29, 14, 0), 30),
			date(2025, 11, 30), date(2025, 12, 29), date(2026, 1, 5)},
		{"ending on a Saturday rolls to Monday",
			ReplyDeadline(jst(2026, 6, 4, 9, 0), 30),
			date(2026, 6, 5), date(2026, 7, 4), date(2026, 7, 6)},
		{"ending on a 国民の休日 between two holidays (2026-09-22)",
			ReplyDeadline(jst(2026, 8, 23, 10, 0), 30),
			date(2026, 8, 24), date(2026, 9, 22), date(2026, 9, 24)},
		{"a leap year: 30 days across 29 February",
			ReplyDeadline(jst(2028, 2, 1, 12, 0), 30),
			date(2028, 2, 2), date(2028, 3, 2), date(2028, 3, 2)},
		{"a reply period that ends on an office day stays",
			ReplyDeadline(jst(2026, 6, 1, 10, 30), 30),
			date(2026, 6, 2), date(2026, 7, 1), date(2026, 7, 1)},
		{"no reply days set: the default 30",
			ReplyDeadline(jst(2026, 6, 1, 10, 30), 0),
			date(2026, 6, 2), date(2026, 7, 1), date(2026, 7, 1)},
		{"a period starting at 00:00 counts its first day (民法140 ただし書)",
			Days(jst(2026, 6, 1, 0, 0), 1, false),
			date(2026, 6, 1), date(2026, 6, 1), date(2026, 6, 1)},
		{"a period starting one minute later does not",
			Days(jst(2026, 6, 1, 0, 1), 1, false),
			date(2026, 6, 2), date(2026, 6, 2), date(2026, 6, 2)},
		{"a month from the last day of January ends on 28 February",
			Months(jst(2026, 1, 31, 10, 0), 1, false),
			date(2026, 2, 1), date(2026, 2, 28), date(2026, 2, 28)},
		{"a month from 1/31 00:00: no 31 February, so the month's last day",
			Months(jst(2026, 1, 31, 0, 0), 1, false),
			date(2026, 1, 31), date(2026, 2, 28), date(2026, 2, 28)},
		{"a month from 1/31 in a leap year ends on 29 February",
			Months(jst(2028, 1, 31, 10, 0), 1, false),
			date(2028, 2, 1), date(2028, 2, 29), date(2028, 2, 29)},
		{"a month from 1/31 rolling: 2027-02-28 is a Sunday",
			Months(jst(2027, 1, 31, 10, 0), 1, true),
			date(2027, 2, 1), date(2027, 2, 28), date(2027, 3, 1)},
		{"a month from 15 April ends the day before the 応当日",
			Months(jst(2026, 4, 15, 9, 0), 1, false),
			date(2026, 4, 16), date(2026, 5, 15), date(2026, 5, 15)},
		{"disclosure: the day received is day 1 and a Saturday does not roll",
			DisclosureDeadline(jst(2026, 6, 5, 16, 0)),
			date(2026, 6, 5), date(2026, 7, 4), date(2026, 7, 4)},
		{"disclosure over the year end: a closed last day stays",
			DisclosureDeadline(jst(2026, 12, 4, 11, 0)),
			date(2026, 12, 4), date(2027, 1, 2), date(2027, 1, 2)},
		{"disclosure extended by 30 days runs on from the day after",
			ExtendDisclosure(DisclosureDeadline(jst(2026, 12, 4, 11, 0)), 0),
			date(2027, 1, 3), date(2027, 2, 1), date(2027, 2, 1)},
		{"the extension notice is due within the original period",
			ExtensionNoticeDeadline(DisclosureDeadline(jst(2026, 12, 4, 11, 0))),
			date(2026, 12, 4), date(2027, 1, 2), date(2027, 1, 2)},
		{"issuance record: 10 years counted from the day after expiry",
			IssuanceRecordKept(date(2031, 6, 15)),
			date(2031, 6, 16), date(2041, 6, 15), date(2041, 6, 15)},
		{"issuance record of a certificate expiring 28 February of a leap year",
			IssuanceRecordKept(date(2028, 2, 28)),
			date(2028, 2, 29), date(2038, 2, 28), date(2038, 2, 28)},
		{"issuance record of a certificate expiring 29 February",
			IssuanceRecordKept(date(2028, 2, 29)),
			date(2028, 3, 1), date(2038, 2, 28), date(2038, 2, 28)},
		{"revocation file made at 00:00: 10 years with the first day counted",
			RevocationFileKept(jst(2026, 6, 1, 0, 0)),
			date(2026, 6, 1), date(2036, 5, 31), date(2036, 5, 31)},
		{"revocation file made later in the day",
			RevocationFileKept(jst(2026, 6, 1, 0, 5)),
			date(2026, 6, 2), date(2036, 6, 1), date(2036, 6, 1)},
		{"application documents, 5 years from the next fiscal year (completed in March)",
			ApplicationDocumentsRule(5, NextFiscalYear).From(jst(2026, 3, 31, 15, 0)),
			date(2026, 4, 1), date(2031, 3, 31), date(2031, 3, 31)},
		{"application documents, 5 years from the next fiscal year (completed in April)",
			ApplicationDocumentsRule(5, NextFiscalYear).FromDate(date(2026, 4, 1)),
			date(2027, 4, 1), date(2032, 3, 31), date(2032, 3, 31)},
		{"application documents, 3 years from the day after",
			ApplicationDocumentsRule(3, FirstDayExcluded).FromDate(date(2026, 6, 1)),
			date(2026, 6, 2), date(2029, 6, 1), date(2029, 6, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.got
			if d.FirstDay != tt.first || d.Nominal != tt.nominal || d.LastDay != tt.last {
				t.Fatalf("first %s, nominal %s, last %s; want %s, %s, %s", d.FirstDay, d.Nominal, d.LastDay, tt.first, tt.nominal, tt.last)
			}
			fires := time.Date(tt.last.Year, tt.last.Month, tt.last.Day+1, 0, 0, 0, 0, time.FixedZone("JST", 9*3600))
			if !d.Fires.Equal(fires) {
				t.Errorf("fires at %s, want %s (the end of the last day)", d.Fires, fires)
			}
			if d.Rolled() != (tt.nominal != tt.last) {
				t.Errorf("Rolled() = %v", d.Rolled())
			}
			if !OfficeDay(d.LastDay) && d.Rolled() {
				t.Errorf("rolled onto a closed day %s", d.LastDay)
			}
			if LastDayOf(d.Fires) != d.LastDay {
				t.Errorf("LastDayOf(Fires) = %s, want %s", LastDayOf(d.Fires), d.LastDay)
			}
		})
	}
}

// The period runs to the end of its last day and not a moment less.
func TestPassedAtTheEndOfTheLastDay(t *testing.T) {
	d := ReplyDeadline(jst(2026, 12, 2, 4, 39), 30)
	tests := []struct {
		name   string
		now    time.Time
		passed bool
	}{
		{"30 days to the minute (the old rule)", jst(2027, 1, 1, 4, 39), false},
		{"the last day at closing time", jst(2027, 1, 4, 17, 15), false},
		{"the last nanosecond of the last day", jst(2027, 1, 5, 0, 0).Add(-time.Nanosecond), false},
		{"24:00 on the last day", jst(2027, 1, 5, 0, 0), true},
		{"the next morning", jst(2027, 1, 5, 8, 30), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := d.Passed(tt.now); got != tt.passed {
				t.Errorf("Passed(%s) = %v, want %v", tt.now, got, tt.passed)
			}
			rem := d.Remaining(tt.now)
			if tt.passed && rem != 0 || !tt.passed && !tt.now.Add(rem).Equal(d.Fires) {
				t.Errorf("Remaining(%s) = %s", tt.now, rem)
			}
		})
	}
}

func TestClosed(t *testing.T) {
	tests := []struct {
		day    Date
		reason string // "" for an office day
	}{
		{date(2026, 12, 28), ""},
		{date(2026, 12, 29), ClosedYearEnd},
		{date(2027, 1, 1), ClosedYearEnd},
		{date(2027, 1, 3), ClosedYearEnd},
		{date(2027, 1, 4), ""},
		{date(2027, 1, 11), ClosedHoliday}, // 成人の日, second Monday
		{date(2026, 5, 6), ClosedHoliday},  // 振替休日 for 5/3
		{date(2026, 9, 22), ClosedHoliday}, // 国民の休日
		{date(2027, 3, 22), ClosedHoliday}, // 振替休日 for 春分の日 on a Sunday
		{date(2027, 3, 21), ClosedHoliday},
		{date(2026, 7, 4), ClosedSaturday},
		{date(2026, 7, 5), ClosedSunday},
		{date(2026, 7, 6), ""},
		{date(2026, 7, 20), ClosedHoliday}, // 海の日
		{date(2028, 2, 29), ""},
	}
	for _, tt := range tests {
		reason, closed := Closed(tt.day)
		if reason != tt.reason || closed != (tt.reason != "") {
			t.Errorf("Closed(%s) = %q, %v; want %q", tt.day, reason, closed, tt.reason)
		}
		if OfficeDay(tt.day) != (tt.reason == "") {
			t.Errorf("OfficeDay(%s) = %v", tt.day, OfficeDay(tt.day))
		}
	}
}

func TestOfficeDayNavigation(t *testing.T) {
	tests := []struct {
		name          string
		day           Date
		next, onAfter Date
		onBefore      Date
	}{
		{"year end", date(2026, 12, 30), date(2027, 1, 4), date(2027, 1, 4), date(2026, 12, 28)},
		{"an office day is its own on-or-after and on-or-before", date(2026, 7, 1), date(2026, 7, 2), date(2026, 7, 1), date(2026, 7, 1)},
		{"Friday's next office day is Monday", date(2026, 7, 3), date(2026, 7, 6), date(2026, 7, 3), date(2026, 7, 3)},
		{"Golden Week", date(2026, 5, 2), date(2026, 5, 7), date(2026, 5, 7), date(2026, 5, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NextOfficeDay(tt.day); got != tt.next {
				t.Errorf("NextOfficeDay = %s, want %s", got, tt.next)
			}
			if got := OfficeDayOnOrAfter(tt.day); got != tt.onAfter {
				t.Errorf("OfficeDayOnOrAfter = %s, want %s", got, tt.onAfter)
			}
			if got := OfficeDayOnOrBefore(tt.day); got != tt.onBefore {
				t.Errorf("OfficeDayOnOrBefore = %s, want %s", got, tt.onBefore)
			}
		})
	}
	if got := ExpiryNoticeDay(date(2027, 1, 2)); got != date(2026, 12, 28) {
		t.Errorf("ExpiryNoticeDay(2027-01-02) = %s, want 2026-12-28", got)
	}
}

// Workflows run concurrently in one worker: computing holidays of different
// years at once must give each its own answer (the library's equinox
// functions share state, see holidayMu).
func TestHolidaysConcurrently(t *testing.T) {
	equinoxes := map[int]Date{2030: date(2030, 3, 20), 2031: date(2031, 3, 21), 2032: date(2032, 3, 20), 2033: date(2033, 3, 20), 2035: date(2035, 3, 21)}
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for i := 0; i < 20; i++ {
		for _, d := range equinoxes {
			wg.Add(1)
			go func(d Date) {
				defer wg.Done()
				if reason, _ := Closed(d); reason != ClosedHoliday && reason != ClosedSunday && reason != ClosedSaturday {
					errs <- d.String()
				}
			}(d)
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("the vernal equinox %s is not closed", e)
	}
}

// A deadline travels in workflow payloads as JSON.
func TestDeadlineJSON(t *testing.T) {
	d := ReplyDeadline(jst(2026, 12, 2, 4, 39), 30)
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back Deadline
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.LastDay != d.LastDay || !back.Fires.Equal(d.Fires) || back.Kind != InquiryReply {
		t.Errorf("round trip %s gave %+v", b, back)
	}
}

func TestRulesCiteTheirBasis(t *testing.T) {
	for _, r := range []Rule{InquiryReplyRule(30), DisclosureRule, IssuanceRecordRule, RevocationFileRule, ApplicationDocumentsRule(5, NextFiscalYear)} {
		if r.Basis == "" || r.Kind == "" || r.Length <= 0 {
			t.Errorf("rule %+v lacks its kind, length or basis", r)
		}
	}
	if !InquiryReplyRule(30).Roll || DisclosureRule.Roll || IssuanceRecordRule.Roll {
		t.Error("only the reply deadline, an act at the office, rolls forward")
	}
}
