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

// TestProductionHasNoWriteFaults: nor does it read the slow or failing write.
func TestProductionHasNoWriteFaults(t *testing.T) {
	t.Setenv("MADOGUCHI_FAULT_WRITE_DELAY", "8s")
	t.Setenv("MADOGUCHI_FAULT_WRITE_FAIL", "1")
	if writeDelay() != 0 || failWrite() {
		t.Fatal("a production build reads the write fault switches")
	}
}
