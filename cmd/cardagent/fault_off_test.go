//go:build !madoguchi_faults

package main

import "testing"

// TestProductionHasNoWriteHold: a production build ignores the crash
// test's switch to hold before writing certificates.
func TestProductionHasNoWriteHold(t *testing.T) {
	t.Setenv("MADOGUCHI_FAULT_HOLD_BEFORE_WRITE", "1")
	if holdBeforeWrite() {
		t.Fatal("a production build reads MADOGUCHI_FAULT_HOLD_BEFORE_WRITE")
	}
}
