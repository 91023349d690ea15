//go:build madoguchi_faults

package main

import "testing"

// TestFaultWriteHold: the tests' build reads the switch.
func TestFaultWriteHold(t *testing.T) {
	for _, tt := range []struct {
		value string
		want  bool
	}{{"1", true}, {"", false}, {"0", false}} {
		t.Setenv(envHoldBeforeWrite, tt.value)
		if got := holdBeforeWrite(); got != tt.want {
			t.Errorf("%s=%q: hold %v, want %v", envHoldBeforeWrite, tt.value, got, tt.want)
		}
	}
}
