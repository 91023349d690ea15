//go:build !madoguchi_faults

package config

import "testing"

// TestProductionIgnoresEarliestReply: a production build (no
// madoguchi_faults tag) never shortens the proxy inquiry's waits, so the
// workflow applies the next-Tokyo-day rule and the legal reply deadline
// whatever the environment holds.
func TestProductionIgnoresEarliestReply(t *testing.T) {
	t.Setenv("MADOGUCHI_INQUIRY_EARLIEST_REPLY", "2s")
	t.Setenv("MADOGUCHI_INQUIRY_REPLY_WINDOW", "25s")
	t.Setenv("MADOGUCHI_INQUIRY_REPLY_DAYS", "14")
	c := FromEnv()
	if c.InquiryEarliestReply != 0 {
		t.Fatalf("a production build reads MADOGUCHI_INQUIRY_EARLIEST_REPLY: %v", c.InquiryEarliestReply)
	}
	if c.InquiryReplyWindow != 0 {
		t.Fatalf("a production build reads MADOGUCHI_INQUIRY_REPLY_WINDOW: %v", c.InquiryReplyWindow)
	}
	// The environment was read: only the rule-weakening switches are ignored.
	if c.InquiryReplyDays != 14 {
		t.Fatalf("InquiryReplyDays %v, want 14", c.InquiryReplyDays)
	}
}
