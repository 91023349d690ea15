package hsm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/miekg/pkcs11"
)

// Defaults of RetryPolicy: at most 8 opens over about 5 s. SoftHSM's race
// between processes opening one token lasts milliseconds (issue 14); a real
// network HSM that is restarting needs the longer waits.
const (
	DefaultOpenAttempts = 8
	DefaultRetryInitial = 50 * time.Millisecond
	DefaultRetryMax     = 2 * time.Second
)

// ErrPIN means the token refused the PIN. It is never retried: a wrong PIN
// stays wrong, and every further try counts towards locking the token.
var ErrPIN = errors.New("hsm: the token refused the PIN (check MADOGUCHI_PKCS11_PIN)")

// RetryPolicy bounds how Open retries a transient failure (IsTransient). The
// zero value is the default policy.
type RetryPolicy struct {
	// Attempts is the most opens tried in all; 0 means DefaultOpenAttempts,
	// 1 means no retry.
	Attempts int
	// Initial is the wait after the first failure, doubled after each
	// further one up to Max.
	Initial, Max time.Duration
	// Sleep waits d or until ctx ends; nil means a timer. Tests inject one
	// that records the waits and returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter turns a wait into the one slept; nil means a random wait in
	// [d/2, d], so that processes that failed together do not retry
	// together. Tests inject the identity.
	Jitter func(d time.Duration) time.Duration
	// Logger receives a warning for each retry; nil means slog.Default().
	Logger *slog.Logger
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Attempts <= 0 {
		p.Attempts = DefaultOpenAttempts
	}
	if p.Initial <= 0 {
		p.Initial = DefaultRetryInitial
	}
	if p.Max < p.Initial {
		p.Max = max(DefaultRetryMax, p.Initial)
	}
	if p.Sleep == nil {
		p.Sleep = sleep
	}
	if p.Jitter == nil {
		p.Jitter = func(d time.Duration) time.Duration { return d/2 + rand.N(d/2+1) }
	}
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	return p
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// errTokenNotFoundText is crypto11's message when no slot holds a token of
// the label; crypto11 keeps that sentinel unexported, so its text is all
// there is to recognise it by.
const errTokenNotFoundText = "could not find PKCS#11 token"

// Return values that mean the token or its slot is not (yet) there, or that
// the token failed in a way another try may not: SoftHSM answers these while
// another process is rewriting the token's files.
var transientCodes = map[uint]bool{
	pkcs11.CKR_GENERAL_ERROR:        true,
	pkcs11.CKR_DEVICE_ERROR:         true,
	pkcs11.CKR_DEVICE_REMOVED:       true,
	pkcs11.CKR_TOKEN_NOT_PRESENT:    true,
	pkcs11.CKR_TOKEN_NOT_RECOGNIZED: true,
	pkcs11.CKR_SLOT_ID_INVALID:      true,
	// A token read half-written looks as if its user PIN was never set
	// (seen in TestOpenRace). No PIN was checked, so a retry costs nothing
	// towards locking it.
	pkcs11.CKR_USER_PIN_NOT_INITIALIZED: true,
}

// Return values that mean the PIN itself is refused.
var pinCodes = map[uint]bool{
	pkcs11.CKR_PIN_INCORRECT: true,
	pkcs11.CKR_PIN_INVALID:   true,
	pkcs11.CKR_PIN_LEN_RANGE: true,
	pkcs11.CKR_PIN_EXPIRED:   true,
	pkcs11.CKR_PIN_LOCKED:    true,
}

// IsTransient reports whether an open or login failure may pass if tried
// again: the token or slot was not found (or its user PIN seemed unset, as a
// half-read SoftHSM token does), or the token answered CKR_GENERAL_ERROR or
// CKR_DEVICE_ERROR (or reported the device removed).
// A refused PIN and everything else (no module, bad arguments) is not.
// CKR_USER_ALREADY_LOGGED_IN is not a failure at all: crypto11 takes it as
// logged in, and so Open never sees it.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var code pkcs11.Error
	if errors.As(err, &code) {
		return transientCodes[uint(code)]
	}
	return strings.Contains(err.Error(), errTokenNotFoundText)
}

// isPINError reports whether the token refused the PIN.
func isPINError(err error) bool {
	var code pkcs11.Error
	return errors.As(err, &code) && pinCodes[uint(code)]
}

// returnValue names the PKCS#11 return value in err for logs, e.g.
// "CKR_GENERAL_ERROR (0x5)".
func returnValue(err error) string {
	var code pkcs11.Error
	if errors.As(err, &code) {
		// Error() is "pkcs11: 0x5: CKR_GENERAL_ERROR"; the name is the last part.
		msg := code.Error()
		name := msg[strings.LastIndex(msg, ": ")+2:]
		return fmt.Sprintf("%s (0x%X)", name, uint(code))
	}
	if err != nil && strings.Contains(err.Error(), errTokenNotFoundText) {
		return "none: no slot holds the token"
	}
	return "none"
}

// withRetry runs try until it succeeds, fails for good, or the policy's
// attempts are spent, waiting with exponential backoff in between. what and
// token name the operation in logs and errors.
func withRetry[T any](ctx context.Context, p RetryPolicy, what, token string, try func() (T, error)) (T, error) {
	p = p.withDefaults()
	wait := p.Initial
	var zero T
	for attempt := 1; ; attempt++ {
		v, err := try()
		switch {
		case err == nil:
			if attempt > 1 {
				p.Logger.Info("hsm: "+what+" succeeded after retries", "token", token, "attempts", attempt)
			}
			return v, nil
		case isPINError(err):
			return zero, fmt.Errorf("%w %q: %w: %w", ErrOpen, token, ErrPIN, err)
		case !IsTransient(err):
			return zero, fmt.Errorf("%w %q: %w", ErrOpen, token, err)
		case attempt >= p.Attempts:
			return zero, fmt.Errorf("%w %q: gave up after %d attempts: %w", ErrOpen, token, attempt, err)
		}
		d := p.Jitter(wait)
		p.Logger.Warn("hsm: "+what+" failed, retrying", "token", token, "attempt", attempt, "of", p.Attempts,
			"ckr", returnValue(err), "wait", d, "err", err)
		if serr := p.Sleep(ctx, d); serr != nil {
			return zero, fmt.Errorf("%w %q: %w (last failure: %w)", ErrOpen, token, serr, err)
		}
		wait = min(2*wait, p.Max)
	}
}
