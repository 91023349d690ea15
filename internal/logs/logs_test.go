package logs

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// TestJSONLines: each entry is one JSON object on its own line with its
// fields; entries below the level are dropped.
func TestJSONLines(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, slog.LevelInfo)
	l.Debug("hidden")
	l.Info("case settled", "case", "131016-20261201-000001", "status", "completed")
	l.Warn("codec refused", "login", "kawasaki1")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %q", len(lines), buf.String())
	}
	var e map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &e); err != nil || e["msg"] != "case settled" || e["case"] != "131016-20261201-000001" || e["level"] != "INFO" {
		t.Errorf("%v %v", e, err)
	}
}
