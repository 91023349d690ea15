package validity

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func d(y int, m time.Month, day int) Date { return Date{Year: y, Month: m, Day: day} }

// jst returns an instant given as Tokyo wall-clock time, built with a fixed
// +09:00 zone so the expectations do not depend on the code under test.
func jst(y int, m time.Month, day, h, min, s int) time.Time {
	return time.Date(y, m, day, h, min, s, 0, time.FixedZone("JST", 9*3600))
}

func ptr(t time.Time) *time.Time { return &t }

func TestTokyoZone(t *testing.T) {
	if Tokyo.String() != "Asia/Tokyo" {
		t.Fatalf("zone name %q", Tokyo.String())
	}
	for _, ts := range []time.Time{time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)} {
		if _, off := ts.In(Tokyo).Zone(); off != 9*3600 {
			t.Errorf("offset at %s = %d, want +09:00", ts, off)
		}
	}
}

func TestPeriods(t *testing.T) {
	base := Input{
		IssueDate:  jst(2026, 6, 15, 10, 0, 0),
		BirthDate:  d(1990, 4, 2),
		CardExpiry: d(2036, 4, 2),
	}
	with := func(f func(*Input)) Input { in := base; f(&in); return in }

	tests := []struct {
		name       string
		in         Input
		signLast   Date
		signLimit  Limit
		authLast   Date
		authLimit  Limit
		birthdays  int
		wantErr    error // for both kinds unless signOnlyErr
		signOnlyEr bool
	}{
		{name: "ordinary", in: base, signLast: d(2031, 4, 2), signLimit: LimitBirthday, authLast: d(2031, 4, 2), authLimit: LimitBirthday, birthdays: 5},
		{name: "birthday on issue day does not count",
			in:       with(func(in *Input) { in.BirthDate = d(1990, 6, 15) }),
			signLast: d(2031, 6, 15), signLimit: LimitBirthday, authLast: d(2031, 6, 15), authLimit: LimitBirthday, birthdays: 5},
		{name: "birthday the day after issue",
			in:       with(func(in *Input) { in.BirthDate = d(1990, 6, 16) }),
			signLast: d(2030, 6, 16), signLimit: LimitBirthday, authLast: d(2030, 6, 16), authLimit: LimitBirthday, birthdays: 5},
		{name: "birthday the day before issue",
			in:       with(func(in *Input) { in.BirthDate = d(1990, 6, 14) }),
			signLast: d(2031, 6, 14), signLimit: LimitBirthday, authLast: d(2031, 6, 14), authLimit: LimitBirthday, birthdays: 5},
		{name: "29 Feb birth, 5th birthday in a non-leap year is 28 Feb",
			in:       with(func(in *Input) { in.BirthDate = d(2000, 2, 29); in.IssueDate = jst(2026, 3, 1, 9, 0, 0) }),
			signLast: d(2031, 2, 28), signLimit: LimitBirthday, authLast: d(2031, 2, 28), authLimit: LimitBirthday, birthdays: 5},
		{name: "29 Feb birth, issued in January of a non-leap year",
			in:       with(func(in *Input) { in.BirthDate = d(2000, 2, 29); in.IssueDate = jst(2027, 1, 10, 9, 0, 0) }),
			signLast: d(2031, 2, 28), signLimit: LimitBirthday, authLast: d(2031, 2, 28), authLimit: LimitBirthday, birthdays: 5},
		{name: "29 Feb birth, 5th birthday in a leap year is 29 Feb",
			in: with(func(in *Input) {
				in.BirthDate = d(2000, 2, 29)
				in.IssueDate = jst(2031, 3, 1, 9, 0, 0)
				in.CardExpiry = d(2040, 1, 1)
			}),
			signLast: d(2036, 2, 29), signLimit: LimitBirthday, authLast: d(2036, 2, 29), authLimit: LimitBirthday, birthdays: 5},
		{name: "29 Feb birth, issued on 28 Feb of a non-leap year (the birthday) does not count it",
			in:       with(func(in *Input) { in.BirthDate = d(2000, 2, 29); in.IssueDate = jst(2027, 2, 28, 9, 0, 0) }),
			signLast: d(2032, 2, 29), signLimit: LimitBirthday, authLast: d(2032, 2, 29), authLimit: LimitBirthday, birthdays: 5},
		{name: "29 Feb birth, issued on 28 Feb of a leap year (not the birthday)",
			in:       with(func(in *Input) { in.BirthDate = d(2000, 2, 29); in.IssueDate = jst(2028, 2, 28, 9, 0, 0) }),
			signLast: d(2032, 2, 29), signLimit: LimitBirthday, authLast: d(2032, 2, 29), authLimit: LimitBirthday, birthdays: 5},
		{name: "29 Feb birth, issued on 29 Feb",
			in:       with(func(in *Input) { in.BirthDate = d(2000, 2, 29); in.IssueDate = jst(2028, 2, 29, 9, 0, 0) }),
			signLast: d(2033, 2, 28), signLimit: LimitBirthday, authLast: d(2033, 2, 28), authLimit: LimitBirthday, birthdays: 5},
		{name: "renewal with less than 3 months left counts 6 birthdays",
			in: with(func(in *Input) {
				in.IssueDate = jst(2026, 3, 10, 9, 0, 0)
				in.Renewal, in.CurrentNotAfter = true, jst(2026, 4, 2, 23, 59, 59)
			}),
			signLast: d(2031, 4, 2), signLimit: LimitBirthday, authLast: d(2031, 4, 2), authLimit: LimitBirthday, birthdays: 6},
		{name: "renewal with more than 3 months left counts 5",
			in: with(func(in *Input) {
				in.IssueDate = jst(2025, 12, 20, 9, 0, 0)
				in.Renewal, in.CurrentNotAfter = true, jst(2026, 4, 2, 23, 59, 59)
			}),
			signLast: d(2030, 4, 2), signLimit: LimitBirthday, authLast: d(2030, 4, 2), authLimit: LimitBirthday, birthdays: 5},
		{name: "renewal on the opening day counts 6",
			in: with(func(in *Input) {
				in.IssueDate = jst(2026, 1, 2, 0, 0, 0)
				in.Renewal, in.CurrentNotAfter = true, jst(2026, 4, 2, 23, 59, 59)
			}),
			signLast: d(2031, 4, 2), signLimit: LimitBirthday, authLast: d(2031, 4, 2), authLimit: LimitBirthday, birthdays: 6},
		{name: "renewal the day before opening counts 5",
			in: with(func(in *Input) {
				in.IssueDate = jst(2026, 1, 1, 23, 59, 59)
				in.Renewal, in.CurrentNotAfter = true, jst(2026, 4, 2, 23, 59, 59)
			}),
			signLast: d(2030, 4, 2), signLimit: LimitBirthday, authLast: d(2030, 4, 2), authLimit: LimitBirthday, birthdays: 5},
		{name: "renewal applied in the window, issued after the old certificate expired",
			in: with(func(in *Input) {
				in.ApplicationDate = jst(2026, 3, 20, 9, 0, 0)
				in.IssueDate = jst(2026, 4, 10, 9, 0, 0)
				in.Renewal, in.CurrentNotAfter = true, jst(2026, 4, 2, 23, 59, 59)
			}),
			signLast: d(2032, 4, 2), signLimit: LimitBirthday, authLast: d(2032, 4, 2), authLimit: LimitBirthday, birthdays: 6},
		{name: "renewal applied before the window, issued inside it",
			in: with(func(in *Input) {
				in.ApplicationDate = jst(2025, 12, 1, 9, 0, 0)
				in.IssueDate = jst(2026, 1, 10, 9, 0, 0)
				in.Renewal, in.CurrentNotAfter = true, jst(2026, 4, 2, 23, 59, 59)
			}),
			signLast: d(2030, 4, 2), signLimit: LimitBirthday, authLast: d(2030, 4, 2), authLimit: LimitBirthday, birthdays: 5},
		{name: "not a renewal: a current expiry alone changes nothing",
			in: with(func(in *Input) {
				in.IssueDate = jst(2026, 3, 10, 9, 0, 0)
				in.CurrentNotAfter = jst(2026, 4, 2, 23, 59, 59)
			}),
			signLast: d(2030, 4, 2), signLimit: LimitBirthday, authLast: d(2030, 4, 2), authLimit: LimitBirthday, birthdays: 5},
		{name: "card expiry caps both",
			in:       with(func(in *Input) { in.CardExpiry = d(2029, 8, 31) }),
			signLast: d(2029, 8, 31), signLimit: LimitCard, authLast: d(2029, 8, 31), authLimit: LimitCard, birthdays: 5},
		{name: "card expiring on the 5th birthday: reported as birthday",
			in:       with(func(in *Input) { in.CardExpiry = d(2031, 4, 2) }),
			signLast: d(2031, 4, 2), signLimit: LimitBirthday, authLast: d(2031, 4, 2), authLimit: LimitBirthday, birthdays: 5},
		{name: "card expiring the day after issue",
			in:       with(func(in *Input) { in.CardExpiry = d(2026, 6, 16) }),
			signLast: d(2026, 6, 16), signLimit: LimitCard, authLast: d(2026, 6, 16), authLimit: LimitCard, birthdays: 5},
		{name: "card expiring on the issue date",
			in:      with(func(in *Input) { in.CardExpiry = d(2026, 6, 15) }),
			wantErr: ErrCardExpired},
		{name: "card already expired",
			in:      with(func(in *Input) { in.CardExpiry = d(2026, 6, 14) }),
			wantErr: ErrCardExpired},
		{name: "signing capped by the user-authentication certificate",
			in:       with(func(in *Input) { in.UserAuthNotAfter = ptr(jst(2028, 1, 31, 23, 59, 59)) }),
			signLast: d(2028, 1, 31), signLimit: LimitUserAuth, authLast: d(2031, 4, 2), authLimit: LimitBirthday, birthdays: 5},
		{name: "user-authentication expiry given in UTC is read in Tokyo",
			in:       with(func(in *Input) { in.UserAuthNotAfter = ptr(time.Date(2028, 1, 31, 15, 0, 0, 0, time.UTC)) }),
			signLast: d(2028, 2, 1), signLimit: LimitUserAuth, authLast: d(2031, 4, 2), authLimit: LimitBirthday, birthdays: 5},
		{name: "user-authentication expiring later does not extend signing",
			in:       with(func(in *Input) { in.UserAuthNotAfter = ptr(jst(2033, 1, 1, 23, 59, 59)) }),
			signLast: d(2031, 4, 2), signLimit: LimitBirthday, authLast: d(2031, 4, 2), authLimit: LimitBirthday, birthdays: 5},
		{name: "user-authentication expiring on the issue date blocks signing only",
			in:         with(func(in *Input) { in.UserAuthNotAfter = ptr(jst(2026, 6, 15, 23, 59, 59)) }),
			wantErr:    ErrUserAuthExpired,
			signOnlyEr: true, authLast: d(2031, 4, 2), authLimit: LimitBirthday, birthdays: 5},
		{name: "issue instant 2026-12-31T16:00Z is 2027-01-01 in Tokyo (birthday on issue day)",
			in: with(func(in *Input) {
				in.IssueDate = time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC)
				in.BirthDate = d(1990, 1, 1)
			}),
			signLast: d(2032, 1, 1), signLimit: LimitBirthday, authLast: d(2032, 1, 1), authLimit: LimitBirthday, birthdays: 5},
		{name: "issue instant 2026-12-31T14:59:59Z is still 2026-12-31 in Tokyo",
			in: with(func(in *Input) {
				in.IssueDate = time.Date(2026, 12, 31, 14, 59, 59, 0, time.UTC)
				in.BirthDate = d(1990, 1, 1)
			}),
			signLast: d(2031, 1, 1), signLimit: LimitBirthday, authLast: d(2031, 1, 1), authLimit: LimitBirthday, birthdays: 5},
		{name: "card expiring 2027-01-01 against an issue instant that is 2027-01-01 in Tokyo",
			in: with(func(in *Input) {
				in.IssueDate = time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC)
				in.CardExpiry = d(2027, 1, 1)
			}),
			wantErr: ErrCardExpired},
		{name: "missing issue date", in: with(func(in *Input) { in.IssueDate = time.Time{} }), wantErr: ErrInvalidInput},
		{name: "missing birth date", in: with(func(in *Input) { in.BirthDate = Date{} }), wantErr: ErrInvalidInput},
		{name: "non-existent card expiry", in: with(func(in *Input) { in.CardExpiry = d(2031, 2, 29) }), wantErr: ErrInvalidInput},
		{name: "birth after issue", in: with(func(in *Input) { in.BirthDate = d(2026, 6, 16) }), wantErr: ErrInvalidInput},
		{name: "renewal without current expiry", in: with(func(in *Input) { in.Renewal = true }), wantErr: ErrInvalidInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sign, serr := Signing(tc.in)
			auth, aerr := UserAuth(tc.in)
			if tc.wantErr != nil {
				if !errors.Is(serr, tc.wantErr) {
					t.Errorf("Signing error = %v, want %v", serr, tc.wantErr)
				}
				if !tc.signOnlyEr {
					if !errors.Is(aerr, tc.wantErr) {
						t.Errorf("UserAuth error = %v, want %v", aerr, tc.wantErr)
					}
					return
				}
			} else {
				checkPeriod(t, "signing", sign, serr, tc.in, tc.signLast, tc.signLimit, tc.birthdays)
			}
			checkPeriod(t, "user auth", auth, aerr, tc.in, tc.authLast, tc.authLimit, tc.birthdays)
		})
	}
}

func checkPeriod(t *testing.T, kind string, p Period, err error, in Input, last Date, limit Limit, birthdays int) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error %v", kind, err)
	}
	if p.LastDay != last || p.Limit != limit || p.Birthdays != birthdays {
		t.Errorf("%s: last %s limit %s birthdays %d, want %s %s %d", kind, p.LastDay, p.Limit, p.Birthdays, last, limit, birthdays)
	}
	// NotAfter is the last second of LastDay in Tokyo, i.e. 14:59:59 UTC.
	wantNA := time.Date(last.Year, last.Month, last.Day, 14, 59, 59, 0, time.UTC)
	if !p.NotAfter.Equal(wantNA) {
		t.Errorf("%s: NotAfter %s, want %s", kind, p.NotAfter.UTC(), wantNA)
	}
	if !p.NotBefore.Equal(in.IssueDate.Truncate(time.Second)) {
		t.Errorf("%s: NotBefore %s, want issue instant %s", kind, p.NotBefore, in.IssueDate)
	}
}

func TestNotAfterHelpers(t *testing.T) {
	in := Input{IssueDate: jst(2026, 6, 15, 10, 0, 0), BirthDate: d(1990, 4, 2), CardExpiry: d(2029, 8, 31),
		UserAuthNotAfter: ptr(jst(2028, 1, 31, 23, 59, 59))}
	s, err := SigningNotAfter(in)
	if err != nil || !s.Equal(jst(2028, 1, 31, 23, 59, 59)) {
		t.Errorf("SigningNotAfter = %s, %v", s, err)
	}
	a, err := UserAuthNotAfter(in)
	if err != nil || !a.Equal(jst(2029, 8, 31, 23, 59, 59)) {
		t.Errorf("UserAuthNotAfter = %s, %v", a, err)
	}
	if name, _ := s.Zone(); name == "UTC" {
		t.Errorf("NotAfter should be expressed in Tokyo, got zone %s", name)
	}
}

func TestTogether(t *testing.T) {
	tests := []struct {
		name               string
		in                 Input
		signLast, authLast Date
		signLimit          Limit
		wantErr            error
	}{
		{name: "same birthday for both",
			in:       Input{IssueDate: jst(2026, 6, 15, 10, 0, 0), BirthDate: d(1990, 4, 2), CardExpiry: d(2036, 4, 2)},
			signLast: d(2031, 4, 2), authLast: d(2031, 4, 2), signLimit: LimitBirthday},
		{name: "card caps both",
			in:       Input{IssueDate: jst(2026, 6, 15, 10, 0, 0), BirthDate: d(1990, 4, 2), CardExpiry: d(2027, 3, 3)},
			signLast: d(2027, 3, 3), authLast: d(2027, 3, 3), signLimit: LimitCard},
		{name: "an older user-auth expiry passed in is replaced by the new one",
			in: Input{IssueDate: jst(2026, 6, 15, 10, 0, 0), BirthDate: d(1990, 4, 2), CardExpiry: d(2036, 4, 2),
				UserAuthNotAfter: ptr(jst(2026, 7, 1, 23, 59, 59))},
			signLast: d(2031, 4, 2), authLast: d(2031, 4, 2), signLimit: LimitBirthday},
		{name: "renewal of both",
			in: Input{IssueDate: jst(2026, 3, 1, 10, 0, 0), BirthDate: d(1990, 4, 2), CardExpiry: d(2036, 4, 2),
				Renewal: true, CurrentNotAfter: jst(2026, 4, 2, 23, 59, 59)},
			signLast: d(2031, 4, 2), authLast: d(2031, 4, 2), signLimit: LimitBirthday},
		{name: "expired card",
			in:      Input{IssueDate: jst(2026, 6, 15, 10, 0, 0), BirthDate: d(1990, 4, 2), CardExpiry: d(2026, 1, 1)},
			wantErr: ErrCardExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, a, err := Together(tc.in)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("error %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.LastDay != tc.signLast || a.LastDay != tc.authLast || s.Limit != tc.signLimit {
				t.Errorf("signing %s (%s), auth %s; want %s (%s), %s", s.LastDay, s.Limit, a.LastDay, tc.signLast, tc.signLimit, tc.authLast)
			}
			if s.NotAfter.After(a.NotAfter) {
				t.Errorf("signing outlives user auth")
			}
		})
	}
}

func TestRenewalWindow(t *testing.T) {
	tests := []struct {
		name   string
		expiry time.Time
		opens  Date
		now    time.Time
		open   bool
	}{
		{"ordinary, day before opening", jst(2026, 4, 15, 23, 59, 59), d(2026, 1, 15), jst(2026, 1, 14, 23, 59, 59), false},
		{"ordinary, opening day", jst(2026, 4, 15, 23, 59, 59), d(2026, 1, 15), jst(2026, 1, 15, 0, 0, 0), true},
		{"31 May clamps to 28 Feb", jst(2026, 5, 31, 23, 59, 59), d(2026, 2, 28), jst(2026, 2, 28, 0, 0, 0), true},
		{"31 May, 27 Feb is closed", jst(2026, 5, 31, 23, 59, 59), d(2026, 2, 28), jst(2026, 2, 27, 23, 0, 0), false},
		{"31 May in a leap year clamps to 29 Feb", jst(2028, 5, 31, 23, 59, 59), d(2028, 2, 29), jst(2028, 2, 28, 12, 0, 0), false},
		{"30 May clamps to 28 Feb", jst(2026, 5, 30, 23, 59, 59), d(2026, 2, 28), jst(2026, 3, 1, 0, 0, 0), true},
		{"31 July clamps to 30 April", jst(2026, 7, 31, 23, 59, 59), d(2026, 4, 30), jst(2026, 4, 30, 8, 0, 0), true},
		{"31 March opens 31 December of the previous year", jst(2026, 3, 31, 23, 59, 59), d(2025, 12, 31), jst(2025, 12, 30, 23, 59, 59), false},
		{"28 Feb opens 28 Nov", jst(2026, 2, 28, 23, 59, 59), d(2025, 11, 28), jst(2025, 11, 28, 0, 0, 0), true},
		{"29 Feb opens 29 Nov", jst(2028, 2, 29, 23, 59, 59), d(2027, 11, 29), jst(2027, 11, 28, 23, 59, 59), false},
		{"now in UTC, already the opening day in Tokyo", jst(2026, 5, 31, 23, 59, 59), d(2026, 2, 28), time.Date(2026, 2, 27, 15, 0, 0, 0, time.UTC), true},
		{"now in UTC, still the day before in Tokyo", jst(2026, 5, 31, 23, 59, 59), d(2026, 2, 28), time.Date(2026, 2, 27, 14, 59, 59, 0, time.UTC), false},
		{"last second before expiry", jst(2026, 5, 31, 23, 59, 59), d(2026, 2, 28), jst(2026, 5, 31, 23, 59, 59), true},
		{"after expiry nothing to renew", jst(2026, 5, 31, 23, 59, 59), d(2026, 2, 28), jst(2026, 6, 1, 0, 0, 0), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := RenewalOpensOn(tc.expiry); got != tc.opens {
				t.Errorf("RenewalOpensOn = %s, want %s", got, tc.opens)
			}
			if got := RenewalOpen(tc.expiry, tc.now); got != tc.open {
				t.Errorf("RenewalOpen(%s) = %v, want %v", tc.now, got, tc.open)
			}
		})
	}
	if RenewalOpen(time.Time{}, jst(2026, 1, 1, 0, 0, 0)) {
		t.Error("zero expiry must not be open")
	}
}

func TestAddMonthsClamped(t *testing.T) {
	tests := []struct {
		from Date
		n    int
		want Date
	}{
		{d(2026, 1, 31), 1, d(2026, 2, 28)},
		{d(2024, 1, 31), 1, d(2024, 2, 29)},
		{d(2026, 3, 31), -1, d(2026, 2, 28)},
		{d(2026, 3, 31), -13, d(2025, 2, 28)},
		{d(2026, 12, 15), 1, d(2027, 1, 15)},
		{d(2026, 1, 15), -1, d(2025, 12, 15)},
		{d(2026, 1, 15), -12, d(2025, 1, 15)},
		{d(2026, 1, 15), -24, d(2024, 1, 15)},
		{d(2026, 2, 28), 12, d(2027, 2, 28)},
		{d(2028, 2, 29), 12, d(2029, 2, 28)},
		{d(2026, 8, 31), 0, d(2026, 8, 31)},
		{d(2026, 10, 31), 4, d(2027, 2, 28)},
	}
	for _, tc := range tests {
		if got := tc.from.AddMonthsClamped(tc.n); got != tc.want {
			t.Errorf("%s %+d months = %s, want %s", tc.from, tc.n, got, tc.want)
		}
	}
}

func TestBirthdays(t *testing.T) {
	tests := []struct {
		birth Date
		year  int
		want  Date
	}{
		{d(2000, 2, 29), 2027, d(2027, 2, 28)},
		{d(2000, 2, 29), 2028, d(2028, 2, 29)},
		{d(2000, 2, 29), 2100, d(2100, 2, 28)}, // century, not leap
		{d(2000, 2, 29), 2400, d(2400, 2, 29)},
		{d(2000, 2, 28), 2028, d(2028, 2, 28)},
		{d(2000, 3, 1), 2027, d(2027, 3, 1)},
		{d(1990, 12, 31), 2026, d(2026, 12, 31)},
	}
	for _, tc := range tests {
		if got := BirthdayIn(tc.birth, tc.year); got != tc.want {
			t.Errorf("BirthdayIn(%s, %d) = %s, want %s", tc.birth, tc.year, got, tc.want)
		}
	}
	nth := []struct {
		birth, after Date
		n            int
		want         Date
	}{
		{d(1990, 4, 2), d(2026, 4, 1), 1, d(2026, 4, 2)},
		{d(1990, 4, 2), d(2026, 4, 2), 1, d(2027, 4, 2)},
		{d(1990, 4, 2), d(2026, 4, 3), 1, d(2027, 4, 2)},
		{d(1990, 12, 31), d(2026, 12, 31), 5, d(2031, 12, 31)},
		{d(1990, 1, 1), d(2026, 12, 31), 5, d(2031, 1, 1)},
		{d(2000, 2, 29), d(2027, 2, 28), 1, d(2028, 2, 29)},
		{d(2000, 2, 29), d(2027, 2, 27), 1, d(2027, 2, 28)},
		{d(2000, 2, 29), d(2027, 2, 27), 6, d(2032, 2, 29)},
	}
	for _, tc := range nth {
		if got := NthBirthdayAfter(tc.birth, tc.after, tc.n); got != tc.want {
			t.Errorf("NthBirthdayAfter(%s, %s, %d) = %s, want %s", tc.birth, tc.after, tc.n, got, tc.want)
		}
	}
}

func TestDate(t *testing.T) {
	valid := []struct {
		d    Date
		want bool
	}{
		{d(2026, 2, 28), true}, {d(2026, 2, 29), false}, {d(2028, 2, 29), true}, {d(1900, 2, 29), false},
		{d(2000, 2, 29), true}, {d(2026, 4, 31), false}, {d(2026, 13, 1), false}, {d(2026, 0, 1), false},
		{d(2026, 1, 0), false}, {Date{}, false}, {d(2026, 12, 31), true},
	}
	for _, tc := range valid {
		if got := tc.d.Valid(); got != tc.want {
			t.Errorf("%v.Valid() = %v", tc.d, got)
		}
	}

	parse := []struct {
		in      string
		want    Date
		wantErr bool
	}{
		{"2026-01-02", d(2026, 1, 2), false},
		{"2028-02-29", d(2028, 2, 29), false},
		{"", Date{}, false},
		{"2026-02-29", Date{}, true},
		{"2026/01/02", Date{}, true},
		{"2026-1-2", Date{}, true},
	}
	for _, tc := range parse {
		got, err := ParseDate(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseDate(%q) = %v, %v", tc.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrInvalidDate) {
			t.Errorf("ParseDate(%q) error not ErrInvalidDate: %v", tc.in, err)
		}
	}

	of := []struct {
		t    time.Time
		want Date
	}{
		{time.Date(2026, 12, 31, 15, 0, 0, 0, time.UTC), d(2027, 1, 1)},
		{time.Date(2026, 12, 31, 14, 59, 59, 0, time.UTC), d(2026, 12, 31)},
		{time.Date(2027, 1, 1, 0, 30, 0, 0, time.FixedZone("PST", -8*3600)), d(2027, 1, 1)},
		{time.Date(2027, 1, 1, 20, 0, 0, 0, time.FixedZone("PST", -8*3600)), d(2027, 1, 2)},
	}
	for _, tc := range of {
		if got := DateOf(tc.t); got != tc.want {
			t.Errorf("DateOf(%s) = %s, want %s", tc.t, got, tc.want)
		}
	}

	if got := d(2026, 12, 31).AddDays(1); got != d(2027, 1, 1) {
		t.Errorf("AddDays = %s", got)
	}
	if got := d(2028, 3, 1).AddDays(-1); got != d(2028, 2, 29) {
		t.Errorf("AddDays = %s", got)
	}
	if !d(2026, 1, 31).Before(d(2026, 2, 1)) || d(2026, 2, 1).Before(d(2026, 2, 1)) || !d(2027, 1, 1).After(d(2026, 12, 31)) {
		t.Error("Before/After")
	}
	if s, e := d(2027, 1, 1).Start(), d(2027, 1, 1).End(); !s.Equal(time.Date(2026, 12, 31, 15, 0, 0, 0, time.UTC)) ||
		!e.Equal(time.Date(2027, 1, 1, 14, 59, 59, 0, time.UTC)) {
		t.Errorf("Start/End = %s / %s", s, e)
	}

	type wrap struct {
		A Date `json:"a"`
		B Date `json:"b"`
	}
	b, err := json.Marshal(wrap{A: d(2028, 2, 29)})
	if err != nil || string(b) != `{"a":"2028-02-29","b":""}` {
		t.Fatalf("marshal = %s, %v", b, err)
	}
	var w wrap
	if err := json.Unmarshal(b, &w); err != nil || w.A != d(2028, 2, 29) || !w.B.IsZero() {
		t.Errorf("unmarshal = %+v, %v", w, err)
	}
	if _, err := json.Marshal(wrap{A: d(2026, 2, 30)}); err == nil {
		t.Error("marshalling a non-existent date should fail")
	}
}
