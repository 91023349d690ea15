//go:build !madoguchi_faults

package config

import (
	"testing"
	"time"
)

// TestProductionIgnoresEarliestReply: a production build (no
// madoguchi_faults tag) never shortens the proxy inquiry's wait, so the
// workflow applies the next-Tokyo-day rule whatever the environment holds.
func TestProductionIgnoresEarliestReply(t *testing.T) {
	t.Setenv("MADOGUCHI_INQUIRY_EARLIEST_REPLY", "2s")
	t.Setenv("MADOGUCHI_INQUIRY_REPLY_WINDOW", "25s")
	c := FromEnv()
	if c.InquiryEarliestReply != 0 {
		t.Fatalf("a production build reads MADOGUCHI_INQUIRY_EARLIEST_REPLY: %v", c.InquiryEarliestReply)
	}
	// The environment was read: only the rule-weakening switch is ignored.
	if c.InquiryReplyWindow != 25*time.Second {
		t.Fatalf("InquiryReplyWindow %v, want 25s", c.InquiryReplyWindow)
	}
}
