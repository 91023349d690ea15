package hsm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/miekg/pkcs11"
)

// Errors shaped as crypto11.Configure returns them: a PKCS#11 return value
// under a message (crypto11 wraps with github.com/pkg/errors, which unwraps
// alike: the real-token tests go through it), or its unexported
// token-not-found sentinel.
var (
	errNotFound = errors.New("could not find PKCS#11 token")
	errLogin    = func(code uint) error {
		return fmt.Errorf("failed to log into long term session: %w", pkcs11.Error(code))
	}
	errInit       = func(code uint) error { return fmt.Errorf("failed to initialize module: %w", pkcs11.Error(code)) }
	errNoModule   = errors.New("failed to create module context: failed to open module")
	errBareCode   = func(code uint) error { return pkcs11.Error(code) }
	errSignedWrap = func(code uint) error { return fmt.Errorf("%w with %q: %w", ErrSign, "k", pkcs11.Error(code)) }
)

func TestClassification(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		transient bool // IsTransient: Open retries it
		pin       bool // isPINError: Open fails at once with ErrPIN
		lost      bool // IsSessionLost: a signer reopens the token
	}{
		{"no error", nil, false, false, false},
		{"token not found", errNotFound, true, false, false},
		{"slot id invalid", errBareCode(pkcs11.CKR_SLOT_ID_INVALID), true, false, false},
		{"token not present", errBareCode(pkcs11.CKR_TOKEN_NOT_PRESENT), true, false, true},
		{"token not recognized", errBareCode(pkcs11.CKR_TOKEN_NOT_RECOGNIZED), true, false, false},
		{"general error at open", errBareCode(pkcs11.CKR_GENERAL_ERROR), true, false, false},
		{"general error at login", errLogin(pkcs11.CKR_GENERAL_ERROR), true, false, false},
		{"general error at initialize", errInit(pkcs11.CKR_GENERAL_ERROR), true, false, false},
		{"device error at login", errLogin(pkcs11.CKR_DEVICE_ERROR), true, false, false},
		{"device removed", errBareCode(pkcs11.CKR_DEVICE_REMOVED), true, false, true},
		{"half-read token: user PIN not initialized", errLogin(pkcs11.CKR_USER_PIN_NOT_INITIALIZED), true, false, false},
		{"wrong PIN", errLogin(pkcs11.CKR_PIN_INCORRECT), false, true, false},
		{"PIN locked", errLogin(pkcs11.CKR_PIN_LOCKED), false, true, false},
		{"PIN expired", errLogin(pkcs11.CKR_PIN_EXPIRED), false, true, false},
		{"PIN length", errLogin(pkcs11.CKR_PIN_LEN_RANGE), false, true, false},
		{"PIN invalid", errLogin(pkcs11.CKR_PIN_INVALID), false, true, false},
		// crypto11 itself takes this as logged in (TestOpenTwiceInOneProcess);
		// were it ever returned it would not be worth a retry.
		{"user already logged in", errLogin(pkcs11.CKR_USER_ALREADY_LOGGED_IN), false, false, false},
		{"no module", errNoModule, false, false, false},
		{"bad arguments", errBareCode(pkcs11.CKR_ARGUMENTS_BAD), false, false, false},
		{"session handle invalid while signing", errSignedWrap(pkcs11.CKR_SESSION_HANDLE_INVALID), false, false, true},
		{"session closed while signing", errSignedWrap(pkcs11.CKR_SESSION_CLOSED), false, false, true},
		{"logged out while signing", errSignedWrap(pkcs11.CKR_USER_NOT_LOGGED_IN), false, false, true},
		{"stale key handle", errSignedWrap(pkcs11.CKR_KEY_HANDLE_INVALID), false, false, true},
		{"general error while signing", errSignedWrap(pkcs11.CKR_GENERAL_ERROR), true, false, false},
		{"bad data while signing", errSignedWrap(pkcs11.CKR_DATA_LEN_RANGE), false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsTransient(tc.err); got != tc.transient {
				t.Errorf("IsTransient = %v, want %v", got, tc.transient)
			}
			if got := isPINError(tc.err); got != tc.pin {
				t.Errorf("isPINError = %v, want %v", got, tc.pin)
			}
			if got := IsSessionLost(tc.err); got != tc.lost {
				t.Errorf("IsSessionLost = %v, want %v", got, tc.lost)
			}
		})
	}
}

func TestReturnValue(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{errLogin(pkcs11.CKR_GENERAL_ERROR), "CKR_GENERAL_ERROR (0x5)"},
		{errInit(pkcs11.CKR_DEVICE_ERROR), "CKR_DEVICE_ERROR (0x30)"},
		{errNotFound, "none: no slot holds the token"},
		{errNoModule, "none"},
	} {
		if got := returnValue(tc.err); got != tc.want {
			t.Errorf("returnValue(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// sleeps records the waits of a retry loop without waiting.
type sleeps struct{ got []time.Duration }

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.got = append(s.got, d)
	return nil
}

func TestWithRetry(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name     string
		policy   RetryPolicy
		errs     []error // what the tries return, in order; then success
		wantErr  []error // errors.Is targets; nil: success
		wantText string  // in the error
		tries    int
		waits    []time.Duration
		retryLog int // "retrying" warnings
	}{
		{name: "first try", tries: 1},
		{name: "transient then success", errs: []error{errLogin(pkcs11.CKR_GENERAL_ERROR), errNotFound, errBareCode(pkcs11.CKR_DEVICE_ERROR)},
			tries: 4, waits: []time.Duration{50 * ms, 100 * ms, 200 * ms}, retryLog: 3},
		{name: "backoff capped at Max", policy: RetryPolicy{Attempts: 6, Initial: 300 * ms, Max: time.Second},
			errs:  []error{errNotFound, errNotFound, errNotFound, errNotFound, errNotFound},
			tries: 6, waits: []time.Duration{300 * ms, 600 * ms, time.Second, time.Second, time.Second}, retryLog: 5},
		{name: "gives up after Attempts", policy: RetryPolicy{Attempts: 3},
			errs:    []error{errLogin(pkcs11.CKR_GENERAL_ERROR), errLogin(pkcs11.CKR_GENERAL_ERROR), errLogin(pkcs11.CKR_GENERAL_ERROR), nil},
			wantErr: []error{ErrOpen, pkcs11.Error(pkcs11.CKR_GENERAL_ERROR)}, wantText: "gave up after 3 attempts",
			tries: 3, waits: []time.Duration{50 * ms, 100 * ms}, retryLog: 2},
		{name: "wrong PIN fails at once", errs: []error{errLogin(pkcs11.CKR_PIN_INCORRECT)},
			wantErr: []error{ErrOpen, ErrPIN, pkcs11.Error(pkcs11.CKR_PIN_INCORRECT)}, wantText: "refused the PIN", tries: 1},
		{name: "wrong PIN after a transient failure", errs: []error{errNotFound, errLogin(pkcs11.CKR_PIN_INCORRECT)},
			wantErr: []error{ErrPIN}, tries: 2, waits: []time.Duration{50 * ms}, retryLog: 1},
		{name: "no module fails at once", errs: []error{errNoModule}, wantErr: []error{ErrOpen, errNoModule}, tries: 1},
		{name: "no retry with one attempt", policy: RetryPolicy{Attempts: 1}, errs: []error{errNotFound},
			wantErr: []error{ErrOpen, errNotFound}, wantText: "gave up after 1 attempts", tries: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec sleeps
			var logs strings.Builder
			p := tc.policy
			p.Sleep = rec.sleep
			p.Jitter = func(d time.Duration) time.Duration { return d }
			p.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			tries := 0
			v, err := withRetry(context.Background(), p, "open", "jlis", func() (int, error) {
				tries++
				if tries <= len(tc.errs) && tc.errs[tries-1] != nil {
					return 0, tc.errs[tries-1]
				}
				return 42, nil
			})
			if tc.wantErr == nil && (err != nil || v != 42) {
				t.Fatalf("withRetry = %d, %v; want 42, nil", v, err)
			}
			for _, target := range tc.wantErr {
				if !errors.Is(err, target) {
					t.Errorf("error %v does not wrap %v", err, target)
				}
			}
			if err != nil && !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error %q does not say %q", err, tc.wantText)
			}
			if tries != tc.tries {
				t.Errorf("tried %d times, want %d", tries, tc.tries)
			}
			if fmt.Sprint(rec.got) != fmt.Sprint(tc.waits) {
				t.Errorf("waits %v, want %v", rec.got, tc.waits)
			}
			if n := strings.Count(logs.String(), "hsm: open failed, retrying"); n != tc.retryLog {
				t.Errorf("%d retry warnings, want %d:\n%s", n, tc.retryLog, logs.String())
			}
			// Each retry names the PKCS#11 return value.
			for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				if strings.Contains(line, "retrying") && !strings.Contains(line, "ckr=") {
					t.Errorf("retry logged without its return value: %s", line)
				}
			}
		})
	}
}

func TestWithRetryLogsReturnValue(t *testing.T) {
	var logs strings.Builder
	p := RetryPolicy{Sleep: (&sleeps{}).sleep, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	n := 0
	_, err := withRetry(context.Background(), p, "open", "jlis", func() (struct{}, error) {
		if n++; n == 1 {
			return struct{}{}, errLogin(pkcs11.CKR_GENERAL_ERROR)
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `ckr="CKR_GENERAL_ERROR (0x5)"`) || !strings.Contains(logs.String(), "token=jlis") {
		t.Fatalf("retry log lacks the return value or the token:\n%s", logs.String())
	}
}

func TestWithRetryStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := RetryPolicy{Sleep: func(ctx context.Context, _ time.Duration) error { cancel(); return ctx.Err() },
		Logger: slog.New(slog.DiscardHandler)}
	tries := 0
	_, err := withRetry(ctx, p, "open", "jlis", func() (int, error) { tries++; return 0, errNotFound })
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrOpen) || tries != 1 {
		t.Fatalf("after cancel: tries=%d err=%v; want 1 try, ErrOpen and context.Canceled", tries, err)
	}
}

func TestDefaultJitter(t *testing.T) {
	j := RetryPolicy{}.withDefaults().Jitter
	for _, d := range []time.Duration{0, time.Millisecond, 50 * time.Millisecond, 2 * time.Second} {
		for range 50 {
			if got := j(d); got < d/2 || got > d {
				t.Fatalf("jitter(%v) = %v, want within [%v, %v]", d, got, d/2, d)
			}
		}
	}
}
