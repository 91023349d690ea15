//go:build madoguchi_faults

package config

import (
	"testing"
	"time"
)

// TestTestBuildReadsEarliestReply: the tests' build (tag madoguchi_faults)
// reads the switch, so the real-stack proxy test need not wait a day.
func TestTestBuildReadsEarliestReply(t *testing.T) {
	t.Setenv(EnvInquiryEarliestReply, "2s")
	if got := FromEnv().InquiryEarliestReply; got != 2*time.Second {
		t.Fatalf("InquiryEarliestReply %v, want 2s", got)
	}
}
