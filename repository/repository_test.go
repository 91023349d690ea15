package repository_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	xocsp "golang.org/x/crypto/ocsp"

	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/ocsp"
	"github.com/madoguchi/madoguchi/internal/ocsp/ocsptest"
	"github.com/madoguchi/madoguchi/internal/reasons"
	"github.com/madoguchi/madoguchi/internal/verifier"
	"github.com/madoguchi/madoguchi/repository"
)

// fakeCRLs stands in for the CRL publisher (tested in its own package).
type fakeCRLs struct{}

var crlDay = time.Date(2026, 4, 1, 0, 0, 0, 0, time.FixedZone("JST", 9*3600))

func (fakeCRLs) Latest(_ context.Context, kind ca.Kind, partition string) ([]byte, time.Time, time.Time, error) {
	if partition == "999999" {
		return nil, time.Time{}, time.Time{}, fmt.Errorf("no such partition: %w", repository.ErrNotFound)
	}
	now := time.Now().UTC().Truncate(time.Second)
	return []byte("CRL " + string(kind) + " " + partition), now, now.Add(24 * time.Hour), nil
}

func (fakeCRLs) DailyFile(_ context.Context, kind ca.Kind, day time.Time) ([]byte, error) {
	if !day.Equal(crlDay) {
		return nil, fmt.Errorf("no file: %w", repository.ErrNotFound)
	}
	return []byte("FILE " + string(kind) + " " + day.Format(time.DateOnly)), nil
}

type stack struct {
	env  *ocsptest.Env
	url  string
	resp *ocsp.Responder
	pair ocsptest.Pair
	keys map[string]string // by role set
}

func newStack(t *testing.T) *stack {
	t.Helper()
	env := ocsptest.New(t, "")
	ctx := context.Background()
	st := &stack{env: env, pair: env.IssuePair(t), keys: map[string]string{}}
	resp, err := ocsp.New(ctx, env.Pool, env.HSM, env.CA, ocsp.Options{Logger: ocsptest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	st.resp = resp
	for name, reg := range map[string]verifier.Registration{
		"sign":     {Category: verifier.CategoryAccreditedCA, Roles: []verifier.Role{verifier.RoleSignature}},
		"auth":     {Category: verifier.CategoryDesignated, Roles: []verifier.Role{verifier.RoleUserAuth}},
		"group":    {Category: verifier.CategoryGroupProvider, Roles: []verifier.Role{verifier.RoleGroupSignature}},
		"both":     {Category: verifier.CategoryAdministrative, Roles: []verifier.Role{verifier.RoleSignature, verifier.RoleUserAuth}},
		"disabled": {Category: verifier.CategoryCourt, Roles: []verifier.Role{verifier.RoleSignature, verifier.RoleUserAuth}},
	} {
		reg.Name = "test " + name
		v, key, err := verifier.Register(ctx, env.Pool, reg)
		if err != nil {
			t.Fatal(err)
		}
		if name == "disabled" {
			if err := verifier.Disable(ctx, env.Pool, v.ID); err != nil {
				t.Fatal(err)
			}
		}
		st.keys[name] = key
	}
	st.keys["forged"] = verifier.KeyPrefix + "0123456789abcdef_" + strings.Repeat("A", 43)
	reg, err := verifier.NewRegistry(ctx, env.Pool, ocsptest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	go func() { _ = resp.Run(runCtx) }()
	go func() { _ = reg.Run(runCtx) }()
	t.Cleanup(cancel)
	srv, err := repository.New(repository.Config{Pool: env.Pool, OCSP: resp, Verifiers: reg, CRLs: fakeCRLs{}, Logger: ocsptest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	st.url = hs.URL
	waitUntil(t, "the responder's listener connected", resp.Listening)
	return st
}

// waitUntil polls cond until it holds. The deadline is generous on purpose:
// the tests wait on the condition, never on the clock; how fast a status
// change is answered is measured by the benchmark (docs/REPOSITORY.md).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (st *stack) do(t *testing.T, method, path, key string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, st.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/ocsp-request")
	}
	if key != "" {
		req.Header.Set(verifier.HeaderName, key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

// ocspPOST and ocspGET return the OCSP response status and, when
// successful, the parsed answer verified against the issuing CA.
func (st *stack) ocsp(t *testing.T, get bool, key string, cert *x509.Certificate, kind ca.Kind) (ocsp.ResponseStatus, *xocsp.Response) {
	t.Helper()
	issuer := st.env.Issuer(t, kind)
	der, err := xocsp.CreateRequest(cert, issuer, &xocsp.RequestOptions{Hash: crypto.SHA1})
	if err != nil {
		t.Fatal(err)
	}
	var res *http.Response
	var body []byte
	if get {
		res, body = st.do(t, http.MethodGet, "/ocsp/"+base64.StdEncoding.EncodeToString(der), key, nil)
	} else {
		res, body = st.do(t, http.MethodPost, "/ocsp", key, der)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/ocsp-response" {
		t.Fatalf("HTTP %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	r, err := xocsp.ParseResponseForCert(body, cert, issuer)
	var re xocsp.ResponseError
	if errors.As(err, &re) {
		return ocsp.ResponseStatus(re.Status), nil
	}
	if err != nil {
		t.Fatalf("answer does not verify: %v", err)
	}
	return ocsp.StatusSuccessful, r
}

func TestOCSPAccessRights(t *testing.T) {
	st := newStack(t)
	tests := []struct {
		caller     string
		sign, auth bool
	}{
		{"sign", true, false},
		{"auth", false, true},
		{"group", true, false},
		{"both", true, true},
		{"disabled", false, false},
		{"forged", false, false},
		{"", false, false},
	}
	for _, tc := range tests {
		for _, get := range []bool{false, true} {
			for kind, want := range map[ca.Kind]bool{ca.KindSign: tc.sign, ca.KindAuth: tc.auth} {
				cert := st.pair.Sign
				if kind == ca.KindAuth {
					cert = st.pair.Auth
				}
				status, r := st.ocsp(t, get, st.keys[tc.caller], cert, kind)
				if want && (status != ocsp.StatusSuccessful || r.Status != xocsp.Good) {
					t.Errorf("caller %q GET=%v %s: status %v, want a good answer", tc.caller, get, kind, status)
				}
				if !want && status != ocsp.StatusUnauthorized {
					t.Errorf("caller %q GET=%v %s: status %v, want unauthorized", tc.caller, get, kind, status)
				}
			}
		}
	}
}

func TestOCSPOverHTTP(t *testing.T) {
	st := newStack(t)
	key := st.keys["both"]

	// Malformed: from a registered caller → malformedRequest; from anyone
	// else → unauthorized (nothing learned before authentication).
	for name, path := range map[string]string{"not base64": "/ocsp/%25%25!", "not DER": "/ocsp/" + base64.StdEncoding.EncodeToString([]byte("hello")), "empty": "/ocsp/"} {
		res, body := st.do(t, http.MethodGet, path, key, nil)
		if res.StatusCode != http.StatusOK || !bytes.Equal(body, ocsp.ErrorResponse(ocsp.StatusMalformedRequest)) {
			t.Errorf("%s: HTTP %d body %x, want malformedRequest", name, res.StatusCode, body)
		}
	}
	if _, body := st.do(t, http.MethodPost, "/ocsp", key, []byte("garbage")); !bytes.Equal(body, ocsp.ErrorResponse(ocsp.StatusMalformedRequest)) {
		t.Errorf("POST garbage: %x", body)
	}
	if _, body := st.do(t, http.MethodPost, "/ocsp", key, make([]byte, 100_000)); !bytes.Equal(body, ocsp.ErrorResponse(ocsp.StatusMalformedRequest)) {
		t.Errorf("POST 100 kB: %x", body)
	}
	if _, body := st.do(t, http.MethodPost, "/ocsp", "", []byte("garbage")); !bytes.Equal(body, ocsp.ErrorResponse(ocsp.StatusUnauthorized)) {
		t.Errorf("unregistered garbage: %x", body)
	}
	if res, _ := st.do(t, http.MethodPut, "/ocsp", key, nil); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT: HTTP %d", res.StatusCode)
	}

	// GET encodings: RFC 6960 App. A's URL-encoded base64, raw base64 with
	// '/' and '+' as clients send it, and the URL-safe alphabet.
	issuer := st.env.Issuer(t, ca.KindSign)
	der, _ := xocsp.CreateRequest(st.pair.Sign, issuer, &xocsp.RequestOptions{Hash: crypto.SHA256})
	b64 := base64.StdEncoding.EncodeToString(der)
	for name, path := range map[string]string{
		"raw":         "/ocsp/" + b64,
		"url-encoded": "/ocsp/" + strings.NewReplacer("/", "%2F", "+", "%2B", "=", "%3D").Replace(b64),
		"url-safe":    "/ocsp/" + base64.RawURLEncoding.EncodeToString(der),
	} {
		res, body := st.do(t, http.MethodGet, path, key, nil)
		r, err := xocsp.ParseResponseForCert(body, st.pair.Sign, issuer)
		if res.StatusCode != http.StatusOK || err != nil || r.Status != xocsp.Good {
			t.Errorf("GET %s: HTTP %d, %v", name, res.StatusCode, err)
		}
	}
	if res, _ := st.do(t, http.MethodGet, "/ocsp/"+b64, key, nil); res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", res.Header.Get("Cache-Control"))
	}

	// A revocation reaches HTTP clients, replacing the cached good answer.
	if s, r := st.ocsp(t, false, key, st.pair.Sign, ca.KindSign); s != ocsp.StatusSuccessful || r.Status != xocsp.Good {
		t.Fatalf("before revocation: %v", s)
	}
	start := time.Now()
	if _, err := st.env.CA.Revoke(context.Background(), ca.RevokeRequest{RequestID: "http/revoke", Serial: st.pair.Result.Sign.Serial,
		Reason: reasons.CessationOfOperation}); err != nil {
		t.Fatal(err)
	}
	var revoked *xocsp.Response
	waitUntil(t, "revocation answered over HTTP", func() bool {
		_, revoked = st.ocsp(t, false, key, st.pair.Sign, ca.KindSign)
		return revoked.Status == xocsp.Revoked
	})
	t.Logf("revoked over HTTP after %v", time.Since(start))
	if revoked.RevocationReason != xocsp.CessationOfOperation {
		t.Fatalf("reason %d", revoked.RevocationReason)
	}
}

func TestCounterpart(t *testing.T) {
	st := newStack(t)
	signSerial, authSerial := st.pair.Result.Sign.Serial, st.pair.Result.Auth.Serial
	res, body := st.do(t, http.MethodGet, "/counterpart/"+strings.ToUpper(signSerial), st.keys["both"], nil)
	var c repository.Counterpart
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &c) != nil {
		t.Fatalf("HTTP %d %s", res.StatusCode, body)
	}
	if c.Serial != signSerial || c.Kind != ca.KindSign || c.CounterpartSerial != authSerial || c.CounterpartKind != ca.KindAuth {
		t.Fatalf("counterpart %+v", c)
	}
	res, body = st.do(t, http.MethodGet, "/counterpart/"+authSerial, st.keys["both"], nil)
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &c) != nil || c.CounterpartSerial != signSerial {
		t.Fatalf("auth → sign: HTTP %d %s", res.StatusCode, body)
	}
	for _, tc := range []struct {
		caller, serial string
		code           int
	}{
		{"sign", signSerial, http.StatusForbidden},
		{"auth", signSerial, http.StatusForbidden},
		{"group", signSerial, http.StatusForbidden},
		{"disabled", signSerial, http.StatusUnauthorized},
		{"", signSerial, http.StatusUnauthorized},
		{"both", "abcdef0123456789abcdef", http.StatusNotFound},
		{"both", "not-hex", http.StatusBadRequest},
	} {
		if res, body := st.do(t, http.MethodGet, "/counterpart/"+tc.serial, st.keys[tc.caller], nil); res.StatusCode != tc.code {
			t.Errorf("caller %q serial %s: HTTP %d %s, want %d", tc.caller, tc.serial, res.StatusCode, body, tc.code)
		}
	}
}

func TestCRLsAndFiles(t *testing.T) {
	st := newStack(t)
	// CRLs and past daily files follow the one rule of OCSP: registered
	// verifiers, each for its certificate type (法第18条, 第37条).
	for _, tc := range []struct {
		caller, path string
		code         int
	}{
		{"sign", "/crl/sign/131016.crl", http.StatusOK},
		{"group", "/crl/sign/131016.crl", http.StatusOK},
		{"both", "/crl/sign/full.crl", http.StatusOK},
		{"auth", "/crl/auth/s07.crl", http.StatusOK},
		{"auth", "/crl/auth/full.crl", http.StatusOK},
		{"auth", "/crl/auth/131016.crl", http.StatusOK}, // a partition of certificates issued before the shards
		{"both", "/crl/auth/s63.crl", http.StatusOK},
		{"auth", "/crl/sign/131016.crl", http.StatusForbidden},
		{"sign", "/crl/auth/s07.crl", http.StatusForbidden},
		{"group", "/crl/auth/full.crl", http.StatusForbidden},
		{"", "/crl/sign/131016.crl", http.StatusUnauthorized},
		{"", "/crl/auth/full.crl", http.StatusUnauthorized},
		{"disabled", "/crl/sign/131016.crl", http.StatusUnauthorized},
		{"forged", "/crl/auth/s07.crl", http.StatusUnauthorized},
		{"sign", "/crl/sign/999999.crl", http.StatusNotFound}, // a partition without a CRL, only to a verifier
		{"", "/crl/sign/999999.crl", http.StatusUnauthorized},
		// Addresses that can never be a CRL: 404 for anyone.
		{"", "/crl/other/131016.crl", http.StatusNotFound},
		{"both", "/crl/sign/13101.crl", http.StatusNotFound},
		{"both", "/crl/sign/s07.crl", http.StatusNotFound}, // signing partitions are municipalities
		{"both", "/crl/auth/s64.crl", http.StatusNotFound},
		{"both", "/crl/sign/131016", http.StatusNotFound},
		{"both", "/crl/sign/../auth/full.crl", http.StatusNotFound},
	} {
		res, body := st.do(t, http.MethodGet, tc.path, st.keys[tc.caller], nil)
		if res.StatusCode != tc.code {
			t.Errorf("caller %q %s: HTTP %d %s, want %d", tc.caller, tc.path, res.StatusCode, body, tc.code)
			continue
		}
		switch tc.code {
		case http.StatusOK:
			kind, file, _ := strings.Cut(strings.TrimPrefix(tc.path, "/crl/"), "/")
			if want := "CRL " + kind + " " + strings.TrimSuffix(file, ".crl"); string(body) != want ||
				res.Header.Get("Content-Type") != "application/pkix-crl" || res.Header.Get("Last-Modified") == "" ||
				res.Header.Get("Expires") == "" || !strings.HasPrefix(res.Header.Get("Cache-Control"), "private, max-age=") {
				t.Errorf("%s: %q %v, want %q", tc.path, body, res.Header, want)
			}
		case http.StatusUnauthorized, http.StatusForbidden:
			var e map[string]string
			if json.Unmarshal(body, &e) != nil || e["error"] == "" || strings.Contains(string(body), "CRL ") {
				t.Errorf("%s: refusal body %q", tc.path, body)
			}
		}
	}
	if res, body := st.do(t, http.MethodHead, "/crl/sign/131016.crl", "", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("HEAD without a key: HTTP %d %s", res.StatusCode, body)
	}
	// Past daily files: the same rule.
	for _, tc := range []struct {
		caller, path string
		code         int
	}{
		{"sign", "/files/sign/2026-04-01", http.StatusOK},
		{"group", "/files/sign/2026-04-01", http.StatusOK},
		{"auth", "/files/auth/2026-04-01", http.StatusOK},
		{"auth", "/files/sign/2026-04-01", http.StatusForbidden},
		{"sign", "/files/auth/2026-04-01", http.StatusForbidden},
		{"", "/files/sign/2026-04-01", http.StatusUnauthorized},
		{"disabled", "/files/sign/2026-04-01", http.StatusUnauthorized},
		{"both", "/files/sign/2026-03-31", http.StatusNotFound},
		{"both", "/files/sign/2026-13-01", http.StatusNotFound},
	} {
		res, body := st.do(t, http.MethodGet, tc.path, st.keys[tc.caller], nil)
		if res.StatusCode != tc.code {
			t.Errorf("caller %q %s: HTTP %d %s, want %d", tc.caller, tc.path, res.StatusCode, body, tc.code)
		}
		if tc.code == http.StatusOK && !strings.HasPrefix(string(body), "FILE ") {
			t.Errorf("%s: body %q", tc.path, body)
		}
	}
	// The real source (package crl) on this fresh schema: nothing issued yet.
	real, err := repository.New(repository.Config{Pool: st.env.Pool, OCSP: st.resp, Verifiers: allowAll{},
		CRLs: repository.NewCRLSource(st.env.Pool), Logger: ocsptest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/crl/sign/full.crl", "/crl/auth/s01.crl"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set(verifier.HeaderName, "any")
		real.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s before any CRL: HTTP %d %s", path, rec.Code, rec.Body)
		}
	}

	res, body := st.do(t, http.MethodGet, "/healthz", "", nil)
	var h repository.Health
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &h) != nil || !h.OK || !h.OCSPCaching {
		t.Errorf("healthz: %d %s", res.StatusCode, body)
	}
}

// allowAll authenticates any key as a verifier of both types.
type allowAll struct{}

func (allowAll) Authenticate(string) *verifier.Verifier {
	return &verifier.Verifier{ID: 1, Name: "any", Signature: true, UserAuth: true}
}
