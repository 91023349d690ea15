package ca

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"testing"

	"github.com/miekg/pkcs11"

	"github.com/madoguchi/madoguchi/internal/ca/hsm"
	"github.com/madoguchi/madoguchi/internal/ca/hsmtest"
)

// failingSigner fails, while fail is set, as the HSM's signer does when the
// token answers an error.
type failingSigner struct {
	crypto.Signer
	fail atomic.Bool
}

func (f *failingSigner) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if f.fail.Load() {
		return nil, fmt.Errorf("%w with %q: %w", hsm.ErrSign, "test", pkcs11.Error(pkcs11.CKR_GENERAL_ERROR))
	}
	return f.Signer.Sign(rand, digest, opts)
}

// TestSigningFailureIsRetryable: a PKCS#11 failure while signing is an
// ordinary error — not a permanent one, which the CA worker would turn into
// a non-retryable activity failure — and the same request issued again once
// the HSM signs completes the certificate it reserved.
func TestSigningFailureIsRetryable(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name  string
		kind  Kind // the issuer whose HSM fails
		issue func(sign, auth IssueRequest) ([]IssueResult, error)
	}{
		{"single", KindAuth, func(_, auth IssueRequest) ([]IssueResult, error) {
			r, err := e.ca.Issue(ctx, auth)
			return []IssueResult{r}, err
		}},
		// The authentication certificate is issued first; the signing one
		// fails and the retry finds the first already made.
		{"pair", KindSign, func(sign, auth IssueRequest) ([]IssueResult, error) {
			p, err := e.ca.IssuePair(ctx, sign, auth)
			return []IssueResult{p.Sign, p.Auth}, err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			iss := e.ca.issuers[tc.kind]
			orig := iss.signer
			f := &failingSigner{Signer: orig}
			iss.signer = f
			defer func() { iss.signer = orig }()

			id := "signfail-" + tc.name
			sign, auth := signRequest(t, e, id+"/sign"), authRequest(t, e, id+"/auth")
			f.fail.Store(true)
			_, err := tc.issue(sign, auth)
			if err == nil {
				t.Fatal("issued while the HSM fails")
			}
			if IsPermanent(err) {
				t.Fatalf("a signing failure is permanent (the activity would not retry): %v", err)
			}
			var ve *ValidationError
			if errors.As(err, &ve) || errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("a signing failure reads as invalid input: %v", err)
			}
			if !errors.Is(err, hsm.ErrSign) || !errors.Is(err, pkcs11.Error(pkcs11.CKR_GENERAL_ERROR)) {
				t.Fatalf("error %v does not carry the HSM failure", err)
			}

			// Temporal's retry: the same requests, the HSM signing again.
			f.fail.Store(false)
			results, err := tc.issue(sign, auth)
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			for _, r := range results {
				cert, err := x509.ParseCertificate(r.CertificateDER)
				if err != nil {
					t.Fatal(err)
				}
				issuer, _ := e.ca.IssuerCertificate(r.Kind)
				if err := cert.CheckSignatureFrom(issuer); err != nil {
					t.Fatalf("%s certificate does not verify: %v", r.Kind, err)
				}
			}
		})
	}
}

// TestIssueAfterLostSession: when the token forgets the CA's sessions (a
// restart), the issuer key's signer reopens the token and issuance goes on.
func TestIssueAfterLostSession(t *testing.T) {
	e := newEnv(t)
	if _, err := e.ca.Issue(ctx, authRequest(t, e, "lost/1")); err != nil {
		t.Fatal(err)
	}
	hsmtest.CloseAllSessions(t, e.hsm.TokenLabel())
	r, err := e.ca.Issue(ctx, authRequest(t, e, "lost/2"))
	if err != nil {
		t.Fatalf("issue after the sessions were lost: %v", err)
	}
	if r.Existing || len(r.CertificateDER) == 0 {
		t.Fatalf("result %+v", r)
	}
}
