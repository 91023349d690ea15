//go:build !madoguchi_faults

package config

import "time"

// inquiryEarliestReply is 0 in a production build: the proxy inquiry's reply
// is accepted from the next Tokyo day on, whatever the environment says.
func inquiryEarliestReply() time.Duration { return 0 }

// inquiryReplyWindow is 0 in a production build: the reply deadline is the
// legal one (internal/deadline), counted in days.
func inquiryReplyWindow() time.Duration { return 0 }
