package hsm_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/pkcs11"

	"github.com/madoguchi/madoguchi/internal/ca/hsm"
	"github.com/madoguchi/madoguchi/internal/ca/hsmtest"
)

// lockedBuffer collects log lines written from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// recorded gives a policy that records its waits instead of waiting and
// logs into a buffer.
func recorded(attempts int) (hsm.RetryPolicy, *[]time.Duration, *lockedBuffer) {
	var waits []time.Duration
	logs := &lockedBuffer{}
	return hsm.RetryPolicy{
		Attempts: attempts,
		Sleep:    func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil },
		Logger:   slog.New(slog.NewTextHandler(logs, nil)),
	}, &waits, logs
}

func TestOpenWrongPINFailsAtOnce(t *testing.T) {
	cfg := hsmtest.NewToken(t)
	cfg.PIN = "WRONG-PIN-123456"
	var waits *[]time.Duration
	cfg.Retry, waits, _ = recorded(0)
	_, err := hsm.Open(cfg)
	if !errors.Is(err, hsm.ErrPIN) || !errors.Is(err, hsm.ErrOpen) || !errors.Is(err, pkcs11.Error(pkcs11.CKR_PIN_INCORRECT)) {
		t.Fatalf("Open with a wrong PIN: %v, want ErrOpen, ErrPIN and CKR_PIN_INCORRECT", err)
	}
	if len(*waits) != 0 {
		t.Fatalf("a wrong PIN was retried (waits %v)", *waits)
	}
	if strings.Contains(err.Error(), cfg.PIN) {
		t.Fatalf("error text contains the PIN: %v", err)
	}
}

func TestOpenUnknownTokenIsRetried(t *testing.T) {
	cfg := hsmtest.NewToken(t)
	cfg.TokenLabel = "no-such-token"
	var (
		waits *[]time.Duration
		logs  *lockedBuffer
	)
	cfg.Retry, waits, logs = recorded(3)
	_, err := hsm.Open(cfg)
	if !errors.Is(err, hsm.ErrOpen) || !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Fatalf("Open of a missing token: %v, want ErrOpen after 3 attempts", err)
	}
	if len(*waits) != 2 {
		t.Fatalf("waits %v, want 2", *waits)
	}
	if n := strings.Count(logs.String(), "no slot holds the token"); n != 2 {
		t.Fatalf("%d retries logged with the reason, want 2:\n%s", n, logs)
	}
}

// TestOpenTwiceInOneProcess: the second login on a token this process is
// logged into answers CKR_USER_ALREADY_LOGGED_IN, which counts as success.
func TestOpenTwiceInOneProcess(t *testing.T) {
	h1, cfg := hsmtest.Open(t)
	var waits *[]time.Duration
	cfg.Retry, waits, _ = recorded(0)
	h2, err := hsm.Open(cfg)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer h2.Close()
	if len(*waits) != 0 {
		t.Fatalf("second Open retried (waits %v)", *waits)
	}
	s, err := h2.GenerateRSAKey("twice", 2048)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h1.FindRSAKey("twice", 2048); err != nil {
		t.Fatalf("the first HSM does not see the second's key: %v", err)
	}
	_ = s
}

var lostRE = regexp.MustCompile(`session lost while signing.* ckr="CKR_[A-Z_]+ \(0x[0-9A-F]+\)"`)

func TestSignReopensLostSession(t *testing.T) {
	cfg := hsmtest.NewToken(t)
	logs := &lockedBuffer{}
	cfg.Retry.Logger = slog.New(slog.NewTextHandler(logs, nil))
	h, err := hsm.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	k1, err := h.GenerateRSAKey("k1", 2048)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := h.GenerateRSAKey("k2", 2048)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(k crypto.Signer, msg string) error {
		d := sha256.Sum256([]byte(msg))
		sig, err := k.Sign(nil, d[:], crypto.SHA256)
		if err != nil {
			return err
		}
		return rsa.VerifyPKCS1v15(k.Public().(*rsa.PublicKey), crypto.SHA256, d[:], sig)
	}
	if err := sign(k1, "before"); err != nil {
		t.Fatal(err)
	}

	hsmtest.CloseAllSessions(t, cfg.TokenLabel)
	// Signers in 8 goroutines all find their sessions gone; the token is
	// reopened once between them and every signature is good.
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, k := range []crypto.Signer{k1, k2} {
				if err := sign(k, fmt.Sprint("after ", g)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("sign after the sessions were lost: %v", err)
	}
	out := logs.String()
	// SoftHSM answers CKR_OBJECT_HANDLE_INVALID for the key of a closed
	// session, other tokens CKR_SESSION_HANDLE_INVALID: either is logged.
	if !lostRE.MatchString(out) {
		t.Errorf("the lost session is not logged with its return value:\n%s", out)
	}
	if n := strings.Count(out, "hsm: token reopened"); n != 1 {
		t.Errorf("token reopened %d times, want once:\n%s", n, out)
	}
	// And the HSM goes on: lookups and signatures on the new context.
	if _, err := h.FindRSAKey("k2", 2048); err != nil {
		t.Fatal(err)
	}
	if err := sign(k2, "later"); err != nil {
		t.Fatal(err)
	}
}

func TestSignAfterCloseFails(t *testing.T) {
	h, _ := hsmtest.Open(t)
	k, err := h.GenerateRSAKey("k", 2048)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256([]byte("x"))
	if _, err := k.Sign(nil, d[:], crypto.SHA256); !errors.Is(err, hsm.ErrSign) || !errors.Is(err, hsm.ErrClosed) {
		t.Fatalf("Sign after Close: %v, want ErrSign and ErrClosed", err)
	}
}
