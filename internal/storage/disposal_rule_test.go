package storage

import (
	"testing"
	"time"
)

// TestIssuanceRecordDisposableOn: an issuance record may go 10 years after
// the day after its certificate's expiry (令第2条), the expiry read as a
// day in Asia/Tokyo; the leap day's anniversaries fall on 1 March.
func TestIssuanceRecordDisposableOn(t *testing.T) {
	jst := Tokyo
	for _, tc := range []struct {
		name     string
		notAfter time.Time
		want     string
	}{
		{"end of a month", time.Date(2031, 3, 31, 23, 59, 59, 0, jst), "2041-04-01"},
		{"mid month", time.Date(2031, 7, 14, 12, 0, 0, 0, jst), "2041-07-15"},
		{"end of a year", time.Date(2031, 12, 31, 0, 0, 0, 0, jst), "2042-01-01"},
		// 2031-07-14 20:00 UTC is already 15 July in Tokyo.
		{"UTC evening is the next Tokyo day", time.Date(2031, 7, 14, 20, 0, 0, 0, time.UTC), "2041-07-16"},
		{"expiry the day before a leap day", time.Date(2028, 2, 28, 10, 0, 0, 0, jst), "2038-03-01"},
		{"expiry on a leap day", time.Date(2028, 2, 29, 10, 0, 0, 0, jst), "2038-03-01"},
		{"day after is a leap day of the later year too", time.Date(2030, 2, 28, 0, 0, 0, 0, jst), "2040-03-01"},
		{"expiry in a common February", time.Date(2029, 2, 28, 0, 0, 0, 0, jst), "2039-03-01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := IssuanceRecordDisposableOn(tc.notAfter)
			if got.Format(time.DateOnly) != tc.want || got.Location() != time.UTC || got.Hour() != 0 {
				t.Errorf("IssuanceRecordDisposableOn(%s) = %s, want %s", tc.notAfter, got, tc.want)
			}
		})
	}
}
