// Package logs makes every service's logger: slog JSON on standard error,
// one object a line, so that a collector reads the fields (issue 13). What
// is logged names cases by their numbers and never holds personal data:
// the privacy test (tests/integration/zz_privacy_test.go) scans every log.
package logs

import (
	"io"
	"log/slog"
	"os"
)

// New is a JSON logger on w at the given level and above.
func New(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// Default makes a JSON logger on standard error at Info the process's
// default (slog's package functions and the log package write through it)
// and returns it.
func Default() *slog.Logger {
	l := New(os.Stderr, slog.LevelInfo)
	slog.SetDefault(l)
	return l
}
