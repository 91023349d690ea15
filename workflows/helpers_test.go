package workflows

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
)

// sent is what became of one update a test sent: accepted by its validator
// (or rejected, with the error), and the handler's result.
type sent struct {
	name     string
	accepted bool
	rejected error
	done     bool
	result   any
	err      error
}

// sendAt sends an update once the workflow clock reaches at, and records
// what became of it for the test to assert afterwards.
func sendAt(env *testsuite.TestWorkflowEnvironment, at time.Duration, name string, arg any) *sent {
	s := &sent{name: name}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(name, fmt.Sprintf("%s@%s", name, at), &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { s.rejected = err },
			OnAccept:   func() { s.accepted = true },
			OnComplete: func(r any, err error) { s.done, s.result, s.err = true, r, err },
		}, arg)
	}, at)
	return s
}

// rejection is the validator's error message, or "" when accepted.
func (s *sent) rejection() string {
	if s.rejected == nil {
		return ""
	}
	return s.rejected.Error()
}

// warnings is a logger that keeps every warning and error the SDK logs,
// so a test can check none says that a handler was left unfinished.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

var _ log.Logger = (*warnings)(nil)

func (w *warnings) Debug(string, ...any) {}
func (w *warnings) Info(string, ...any)  {}
func (w *warnings) Warn(msg string, kv ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msg)
}
func (w *warnings) Error(msg string, kv ...any) { w.Warn(msg, kv...) }

// containing returns the kept messages containing sub.
func (w *warnings) containing(sub string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, m := range w.msgs {
		if strings.Contains(m, sub) {
			out = append(out, m)
		}
	}
	return out
}
