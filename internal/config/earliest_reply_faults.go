//go:build madoguchi_faults

package config

import "time"

// EnvInquiryEarliestReply shortens the wait before a proxy inquiry's reply
// is accepted, so that the real-stack tests need not wait for the next day.
// Only the tests' build (tag madoguchi_faults) reads it.
const EnvInquiryEarliestReply = "MADOGUCHI_INQUIRY_EARLIEST_REPLY"

func inquiryEarliestReply() time.Duration { return duration(EnvInquiryEarliestReply) }
