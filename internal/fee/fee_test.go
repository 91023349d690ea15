package fee

import (
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestItemFor: a card re-issue (lost, returned early, replaced early) costs
// the re-issue item; a first card, a renewal, and a card that ran out do not.
func TestItemFor(t *testing.T) {
	today := day("2026-12-02")
	prev := func(status, expires string) *PreviousCard {
		return &PreviousCard{Status: status, ExpiresOn: day(expires)}
	}
	for _, tc := range []struct {
		name  string
		facts Facts
		want  string
	}{
		{"first card", Facts{Day: today}, ItemIssuance},
		{"renewal on the same card", Facts{Day: today, Renewal: true}, ItemIssuance},
		{"renewal even if an old card was lost", Facts{Day: today, Renewal: true, Previous: prev(CardLost, "2030-01-01")}, ItemIssuance},
		{"old card lost", Facts{Day: today, Previous: prev(CardLost, "2030-01-01")}, ItemReissueAfterCardReissue},
		{"old card lost after its expiry date still counts", Facts{Day: today, Previous: prev(CardLost, "2026-01-01")}, ItemReissueAfterCardReissue},
		{"old card returned damaged, years left", Facts{Day: today, Previous: prev(CardReturned, "2031-05-01")}, ItemReissueAfterCardReissue},
		{"old card returned at its renewal", Facts{Day: today, Previous: prev(CardReturned, "2027-01-15")}, ItemIssuance},
		{"old card expired", Facts{Day: today, Previous: prev(CardExpired, "2026-11-30")}, ItemIssuance},
		{"old card expired status wins over date", Facts{Day: today, Previous: prev(CardExpired, "2031-01-01")}, ItemIssuance},
		{"old card active, past its expiry", Facts{Day: today, Previous: prev(CardActive, "2026-12-01")}, ItemIssuance},
		{"old card active, exactly three months left", Facts{Day: today, Previous: prev(CardActive, "2027-03-02")}, ItemIssuance},
		{"old card active, three months and a day left", Facts{Day: today, Previous: prev(CardActive, "2027-03-03")}, ItemReissueAfterCardReissue},
		{"old card active, years left", Facts{Day: today, Previous: prev(CardActive, "2033-06-30")}, ItemReissueAfterCardReissue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ItemFor(tc.facts); got != tc.want {
				t.Errorf("ItemFor = %s, want %s", got, tc.want)
			}
		})
	}
}
