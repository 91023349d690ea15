//go:build !madoguchi_faults

package main

// holdBeforeWrite is false in a production build: no environment variable
// can stop the card agent before it writes certificates.
func holdBeforeWrite() bool { return false }
