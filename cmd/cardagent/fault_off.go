//go:build !madoguchi_faults

package main

import "time"

// holdBeforeWrite is false in a production build: no environment variable
// can stop the card agent before it writes certificates.
func holdBeforeWrite() bool { return false }

// writeDelay and failWrite are off in a production build.
func writeDelay() time.Duration { return 0 }

func failWrite() bool { return false }
