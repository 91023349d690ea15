//go:build madoguchi_faults

package config

import "time"

// EnvInquiryEarliestReply shortens the wait before a proxy inquiry's reply
// is accepted, so that the real-stack tests need not wait for the next day.
// Only the tests' build (tag madoguchi_faults) reads it.
const EnvInquiryEarliestReply = "MADOGUCHI_INQUIRY_EARLIEST_REPLY"

func inquiryEarliestReply() time.Duration { return duration(EnvInquiryEarliestReply) }

// EnvInquiryReplyWindow replaces the legal reply deadline with a plain
// duration, so that the real-stack tests can see a lapse. Only the tests'
// build reads it.
const EnvInquiryReplyWindow = "MADOGUCHI_INQUIRY_REPLY_WINDOW"

func inquiryReplyWindow() time.Duration { return duration(EnvInquiryReplyWindow) }
