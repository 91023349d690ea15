package register

import (
	"slices"
	"testing"

	"github.com/madoguchi/madoguchi/internal/reasons"
)

// TestRevocations: every change revokes the signing certificate as
// affiliationChanged; the user-authentication certificate goes only when
// the person no longer has a record in Japan, as cessationOfOperation.
func TestRevocations(t *testing.T) {
	sign := Revocation{Kind: "sign", Reason: reasons.AffiliationChanged}
	auth := Revocation{Kind: "auth", Reason: reasons.CessationOfOperation}
	for _, tc := range []struct {
		change Change
		want   []Revocation
	}{
		{ChangeMovedOut, []Revocation{sign}},
		{ChangeMovedAbroad, []Revocation{sign, auth}},
		{ChangeDeath, []Revocation{sign, auth}},
		{ChangeName, []Revocation{sign}},
		{ChangeAddress, []Revocation{sign}},
		{ChangeBirthDate, []Revocation{sign}},
		{ChangeSex, []Revocation{sign}},
		{ChangeRemoval, []Revocation{sign, auth}},
	} {
		got, err := Revocations(tc.change)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("Revocations(%s) = %v, %v; want %v", tc.change, got, err, tc.want)
		}
	}
	if len(Changes()) != 8 {
		t.Errorf("Changes() has %d kinds, the table above 8", len(Changes()))
	}
	for _, bad := range []Change{"", "Death", "marriage", "moved_out "} {
		if _, err := Revocations(bad); err == nil {
			t.Errorf("Revocations(%q) succeeded", bad)
		}
	}
}

func TestParseChange(t *testing.T) {
	for _, c := range Changes() {
		if got, err := ParseChange(string(c)); err != nil || got != c {
			t.Errorf("ParseChange(%q) = %q, %v", c, got, err)
		}
	}
	for _, bad := range []string{"", "DEATH", "death\n", "転出"} {
		if _, err := ParseChange(bad); err == nil {
			t.Errorf("ParseChange(%q) succeeded", bad)
		}
	}
}
