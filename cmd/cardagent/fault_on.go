//go:build madoguchi_faults

package main

import "os"

// envHoldBeforeWrite makes the card agent hold before writing certificates
// until the activity is cancelled (the crash test kills it there). Only the
// tests' build (tag madoguchi_faults) reads it.
const envHoldBeforeWrite = "MADOGUCHI_FAULT_HOLD_BEFORE_WRITE"

func holdBeforeWrite() bool { return os.Getenv(envHoldBeforeWrite) == "1" }
