//go:build madoguchi_faults

package main

import (
	"os"
	"time"
)

// envHoldBeforeWrite makes the card agent hold before writing certificates
// until the activity is cancelled (the crash test kills it there). Only the
// tests' build (tag madoguchi_faults) reads it.
const envHoldBeforeWrite = "MADOGUCHI_FAULT_HOLD_BEFORE_WRITE"

func holdBeforeWrite() bool { return os.Getenv(envHoldBeforeWrite) == "1" }

// envWriteDelay makes the card agent take this long (a Go duration) before
// writing certificates, as a slow real card would; envFailWrite makes the
// write fail for good. The kit tests use them: a long write must not be
// retried, a failed one must end the case as failed and revoke what was
// issued.
const (
	envWriteDelay = "MADOGUCHI_FAULT_WRITE_DELAY"
	envFailWrite  = "MADOGUCHI_FAULT_WRITE_FAIL"
)

func writeDelay() time.Duration {
	d, _ := time.ParseDuration(os.Getenv(envWriteDelay))
	return d
}

func failWrite() bool { return os.Getenv(envFailWrite) == "1" }
