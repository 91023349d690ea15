package ocsp

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/pkcs11"
	xocsp "golang.org/x/crypto/ocsp"

	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/ca/hsm"
	"github.com/madoguchi/madoguchi/internal/ca/hsmtest"
	"github.com/madoguchi/madoguchi/internal/ocsp/ocsptest"
)

// flakySigner fails, while fail is set, as the HSM's signer does when the
// token answers an error: the error wraps hsm.ErrSign and a PKCS#11 return
// value.
type flakySigner struct {
	crypto.Signer
	fail  atomic.Bool
	calls atomic.Int64
}

var errDevice = pkcs11.Error(pkcs11.CKR_DEVICE_ERROR)

func (f *flakySigner) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	f.calls.Add(1)
	if f.fail.Load() {
		return nil, fmt.Errorf("%w with %q: %w", hsm.ErrSign, "test", errDevice)
	}
	return f.Signer.Sign(rand, digest, opts)
}

// syncLog collects log lines written from many goroutines.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func askOCSP(t *testing.T, r *Responder, cert, issuer *x509.Certificate) Answer {
	t.Helper()
	der, err := xocsp.CreateRequest(cert, issuer, &xocsp.RequestOptions{Hash: crypto.SHA1})
	if err != nil {
		t.Fatal(err)
	}
	return r.Respond(context.Background(), der, nil)
}

// good checks a successful answer that verifies against the issuing CA and
// says good.
func good(t *testing.T, a Answer, cert, issuer *x509.Certificate) {
	t.Helper()
	if a.Status != StatusSuccessful {
		t.Fatalf("status %v (%v), want successful", a.Status, a.Err)
	}
	resp, err := xocsp.ParseResponseForCert(a.DER, cert, issuer)
	if err != nil {
		t.Fatalf("answer does not verify: %v", err)
	}
	if resp.Status != xocsp.Good {
		t.Fatalf("certificate status %d, want good", resp.Status)
	}
}

// TestSignerFailureAnswersTryLater: when the HSM fails to sign, that request
// is answered tryLater (not internalError, not a wrong status), the other
// CA's answers go on, nothing is cached, and once the HSM signs again the
// same certificate is answered good.
func TestSignerFailureAnswersTryLater(t *testing.T) {
	for _, tc := range []struct {
		name   string
		listen bool // answers are cached only while listening
	}{{"signed per request", false}, {"cached", true}} {
		listen := tc.listen
		t.Run(tc.name, func(t *testing.T) {
			env := ocsptest.New(t, "")
			logs := &syncLog{}
			r, err := New(context.Background(), env.Pool, env.HSM, env.CA, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			pair := env.IssuePair(t)
			if listen {
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				go func() { _ = r.Run(ctx); close(done) }()
				t.Cleanup(func() { cancel(); <-done })
				for start := time.Now(); !r.Listening(); time.Sleep(5 * time.Millisecond) {
					if time.Since(start) > 30*time.Second {
						t.Fatal("listener not connected")
					}
				}
			}
			signIssuer, authIssuer := env.Issuer(t, ca.KindSign), env.Issuer(t, ca.KindAuth)
			flaky := &flakySigner{Signer: r.issuers[0].responder.Load().delegate.Signer}
			if r.issuers[0].kind != ca.KindSign {
				t.Fatal("issuer 0 is not the signing CA")
			}
			r.issuers[0].responder.Load().delegate.Signer = flaky
			flaky.fail.Store(true)

			for i := range 3 {
				a := askOCSP(t, r, pair.Sign, signIssuer)
				if a.Status != StatusTryLater {
					t.Fatalf("request %d while the HSM fails: status %v (%v), want tryLater", i, a.Status, a.Err)
				}
				if !errors.Is(a.Err, ErrSignerFailed) || !errors.Is(a.Err, errDevice) {
					t.Fatalf("Err = %v, want ErrSignerFailed wrapping the PKCS#11 error", a.Err)
				}
				resp, err := xocsp.ParseResponse(a.DER, nil)
				var re xocsp.ResponseError
				if !errors.As(err, &re) || re.Status != xocsp.TryLater || resp != nil {
					t.Fatalf("sent %v, %v; want the bare tryLater status", resp, err)
				}
			}
			if n := flaky.calls.Load(); n != 3 {
				t.Fatalf("%d signatures tried, want 3: a failure must not be cached", n)
			}
			// The other CA's signer is fine and keeps answering.
			good(t, askOCSP(t, r, pair.Auth, authIssuer), pair.Auth, authIssuer)
			if !strings.Contains(logs.String(), "HSM signature failed") || !strings.Contains(logs.String(), "CKR_DEVICE_ERROR") {
				t.Fatalf("the failure is not logged with its return value:\n%s", logs)
			}

			flaky.fail.Store(false)
			good(t, askOCSP(t, r, pair.Sign, signIssuer), pair.Sign, signIssuer)
			if st := r.Stats(); st.Failures != 3 {
				t.Fatalf("failures counted %d, want 3", st.Failures)
			}
		})
	}
}

// TestLostSessionIsReopened: when the token forgets the responder's
// sessions (a restart), the delegated key's signer reopens the token and
// the request is answered good, with no tryLater at all.
func TestLostSessionIsReopened(t *testing.T) {
	env := ocsptest.New(t, "")
	r, err := New(context.Background(), env.Pool, env.HSM, env.CA, Options{Logger: ocsptest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	pair := env.IssuePair(t)
	signIssuer, authIssuer := env.Issuer(t, ca.KindSign), env.Issuer(t, ca.KindAuth)
	good(t, askOCSP(t, r, pair.Sign, signIssuer), pair.Sign, signIssuer)
	hsmtest.CloseAllSessions(t, env.HSM.TokenLabel())
	// Not listening: nothing is cached, so both answers are signed now.
	good(t, askOCSP(t, r, pair.Sign, signIssuer), pair.Sign, signIssuer)
	good(t, askOCSP(t, r, pair.Auth, authIssuer), pair.Auth, authIssuer)
	if st := r.Stats(); st.Failures != 0 {
		t.Fatalf("%d failures, want none", st.Failures)
	}
}
