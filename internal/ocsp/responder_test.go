package ocsp_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	xocsp "golang.org/x/crypto/ocsp"

	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/ca/certlint"
	"github.com/madoguchi/madoguchi/internal/ca/profile"
	"github.com/madoguchi/madoguchi/internal/ocsp"
	"github.com/madoguchi/madoguchi/internal/ocsp/ocsptest"
	"github.com/madoguchi/madoguchi/internal/reasons"
)

type fixture struct {
	env  *ocsptest.Env
	resp *ocsp.Responder
	pair ocsptest.Pair
}

// newFixture bootstraps a CA on a fresh schema and token, issues one pair and
// starts a responder; listen runs its notification listener.
func newFixture(t *testing.T, listen bool, opts ocsp.Options) *fixture {
	t.Helper()
	env := ocsptest.New(t, "")
	ctx := context.Background()
	if opts.Logger == nil {
		opts.Logger = ocsptest.Logger(t)
	}
	r, err := ocsp.New(ctx, env.Pool, env.HSM, env.CA, opts)
	if err != nil {
		t.Fatalf("ocsp.New: %v", err)
	}
	// Issued before the listener starts, so that no late issuance
	// notification invalidates what a test has just cached.
	f := &fixture{env: env, resp: r, pair: env.IssuePair(t)}
	if listen {
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { _ = r.Run(runCtx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		waitFor(t, settleLimit, "listener connected", r.Listening)
	}
	return f
}

// settleLimit bounds a wait for a condition that normally holds within
// milliseconds (a notification read, a cache refilled). It is generous on
// purpose: the tests wait on the condition, never on the clock, and how fast
// a status change is answered is measured by the repository's benchmark.
const settleLimit = 30 * time.Second

// barrierSerial is a serial of no certificate: its change notification,
// sent after others, tells when those were read, as notifications arrive
// in commit order.
const barrierSerial = "ba77e5"

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start)
}

func request(t *testing.T, cert, issuer *x509.Certificate, h crypto.Hash) []byte {
	t.Helper()
	der, err := xocsp.CreateRequest(cert, issuer, &xocsp.RequestOptions{Hash: h})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// check asks about cert and verifies the answer with x/crypto against the
// issuing CA: the responder certificate must be signed by the CA and carry
// id-kp-OCSPSigning, and the answer must be signed by it.
func (f *fixture) check(t *testing.T, cert *x509.Certificate, kind ca.Kind, h crypto.Hash) (*xocsp.Response, ocsp.Answer) {
	t.Helper()
	issuer := f.env.Issuer(t, kind)
	a := f.resp.Respond(context.Background(), request(t, cert, issuer, h), nil)
	if a.Status != ocsp.StatusSuccessful {
		t.Fatalf("status %v (%v)", a.Status, a.Err)
	}
	r, err := xocsp.ParseResponseForCert(a.DER, cert, issuer)
	if err != nil {
		t.Fatalf("answer does not verify against the %s CA: %v", kind, err)
	}
	if r.Certificate == nil || !bytes.Equal(r.Certificate.RawIssuer, issuer.RawSubject) {
		t.Fatal("answer must carry the delegated responder certificate issued by the CA")
	}
	if r.SerialNumber.Cmp(cert.SerialNumber) != 0 || r.IssuerHash != h {
		t.Fatalf("answer is for serial %x hash %v", r.SerialNumber, r.IssuerHash)
	}
	if !r.NextUpdate.After(time.Now()) || r.ThisUpdate.After(time.Now().Add(time.Second)) {
		t.Fatalf("thisUpdate %v nextUpdate %v", r.ThisUpdate, r.NextUpdate)
	}
	return r, a
}

func TestAnswers(t *testing.T) {
	f := newFixture(t, true, ocsp.Options{})
	ctx := context.Background()
	// A second pair: its signing certificate gets revoked, its
	// authentication certificate held and released.
	other := f.env.IssuePair(t)

	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA512} {
		r, _ := f.check(t, f.pair.Sign, ca.KindSign, h)
		if r.Status != xocsp.Good {
			t.Fatalf("%v: fresh signing certificate is %d, want good", h, r.Status)
		}
	}
	if r, _ := f.check(t, f.pair.Auth, ca.KindAuth, crypto.SHA1); r.Status != xocsp.Good {
		t.Fatalf("fresh auth certificate is %d", r.Status)
	}

	revokedAt := other.Sign.NotBefore.UTC() // a backdated revocation time, as the CA allows
	if _, err := f.env.CA.Revoke(ctx, ca.RevokeRequest{RequestID: "t/revoke", Serial: other.Result.Sign.Serial,
		Reason: reasons.KeyCompromise, At: revokedAt}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, settleLimit, "revocation answered", func() bool {
		r, _ := f.check(t, other.Sign, ca.KindSign, crypto.SHA1)
		return r.Status == xocsp.Revoked
	})
	r, _ := f.check(t, other.Sign, ca.KindSign, crypto.SHA1)
	if !r.RevokedAt.Equal(revokedAt) || r.RevocationReason != xocsp.KeyCompromise {
		t.Fatalf("revoked at %v reason %d, want %v keyCompromise", r.RevokedAt, r.RevocationReason, revokedAt)
	}

	if _, err := f.env.CA.Hold(ctx, ca.HoldRequest{RequestID: "t/hold", Serial: other.Result.Auth.Serial}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, settleLimit, "hold answered", func() bool {
		r, _ := f.check(t, other.Auth, ca.KindAuth, crypto.SHA1)
		return r.Status == xocsp.Revoked && r.RevocationReason == xocsp.CertificateHold
	})
	if _, err := f.env.CA.Release(ctx, ca.HoldRequest{RequestID: "t/release", Serial: other.Result.Auth.Serial}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, settleLimit, "release answered", func() bool {
		r, _ := f.check(t, other.Auth, ca.KindAuth, crypto.SHA1)
		return r.Status == xocsp.Good
	})

	// Unknown: a serial never issued, and a signing certificate's serial
	// asked of the user-authentication CA.
	ghost := *f.pair.Sign
	ghost.SerialNumber = new(big.Int).Add(f.pair.Sign.SerialNumber, big.NewInt(1))
	if r, _ := f.check(t, &ghost, ca.KindSign, crypto.SHA1); r.Status != xocsp.Unknown {
		t.Fatalf("never-issued serial is %d, want unknown", r.Status)
	}
	cross := *f.pair.Sign
	cross.RawIssuer = f.env.Issuer(t, ca.KindAuth).RawSubject
	if r, _ := f.check(t, &cross, ca.KindAuth, crypto.SHA1); r.Status != xocsp.Unknown {
		t.Fatalf("signing serial under the auth CA is %d, want unknown", r.Status)
	}
}

func TestHotPathDoesNoRSA(t *testing.T) {
	f := newFixture(t, true, ocsp.Options{})
	req := request(t, f.pair.Sign, f.env.Issuer(t, ca.KindSign), crypto.SHA1)
	first := f.resp.Respond(context.Background(), req, nil)
	if first.Status != ocsp.StatusSuccessful || first.Cached {
		t.Fatalf("first answer: %v cached=%v", first.Status, first.Cached)
	}
	signed := f.resp.Stats().Signatures
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				a := f.resp.Respond(context.Background(), req, nil)
				if !a.Cached || !bytes.Equal(a.DER, first.DER) {
					t.Error("repeat answer not served from the cache")
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := f.resp.Stats().Signatures; got != signed {
		t.Fatalf("1600 cached answers made %d signatures", got-signed)
	}
}

func TestConcurrentFirstRequestsSignOnce(t *testing.T) {
	f := newFixture(t, true, ocsp.Options{})
	req := request(t, f.pair.Auth, f.env.Issuer(t, ca.KindAuth), crypto.SHA256)
	before := f.resp.Stats().Signatures
	var wg sync.WaitGroup
	answers := make([][]byte, 16)
	for i := range answers {
		wg.Add(1)
		go func() { defer wg.Done(); answers[i] = f.resp.Respond(context.Background(), req, nil).DER }()
	}
	wg.Wait()
	for _, a := range answers[1:] {
		if !bytes.Equal(a, answers[0]) {
			t.Fatal("concurrent first requests got different answers")
		}
	}
	if n := f.resp.Stats().Signatures - before; n != 1 {
		t.Fatalf("16 concurrent first requests made %d signatures, want 1", n)
	}
}

func TestRevocationReplacesCachedAnswer(t *testing.T) {
	f := newFixture(t, true, ocsp.Options{})
	issuer := f.env.Issuer(t, ca.KindSign)
	req := request(t, f.pair.Sign, issuer, crypto.SHA1)
	for i := 0; i < 2; i++ { // the second is a cache hit
		if a := f.resp.Respond(context.Background(), req, nil); a.State != ocsp.Good {
			t.Fatalf("state %v", a.State)
		}
	}
	start := time.Now()
	if _, err := f.env.CA.Revoke(context.Background(), ca.RevokeRequest{RequestID: "t/r", Serial: f.pair.Result.Sign.Serial,
		Reason: reasons.AffiliationChanged}); err != nil {
		t.Fatal(err)
	}
	took := waitFor(t, settleLimit, "revoked answer", func() bool {
		return f.resp.Respond(context.Background(), req, nil).State == ocsp.Revoked
	})
	t.Logf("revocation committed → revoked answer in %v (measured from before Revoke: %v)", took, time.Since(start))
	r, err := xocsp.ParseResponseForCert(f.resp.Respond(context.Background(), req, nil).DER, f.pair.Sign, issuer)
	if err != nil || r.RevocationReason != xocsp.AffiliationChanged {
		t.Fatalf("answer %v, %v", r, err)
	}
	// The status change re-signed the hot answer in the background: the
	// next request is a cache hit.
	waitFor(t, settleLimit, "re-signed answer cached", func() bool {
		return f.resp.Respond(context.Background(), req, nil).Cached
	})
}

func TestWithoutListenerNothingIsCached(t *testing.T) {
	f := newFixture(t, false, ocsp.Options{})
	req := request(t, f.pair.Sign, f.env.Issuer(t, ca.KindSign), crypto.SHA1)
	for i := 0; i < 3; i++ {
		if a := f.resp.Respond(context.Background(), req, nil); a.Cached || a.State != ocsp.Good {
			t.Fatalf("answer %d: cached=%v state=%v", i, a.Cached, a.State)
		}
	}
	if got := f.resp.Stats().Signatures; got != 3 {
		t.Fatalf("%d signatures, want 3: without change notifications every answer is signed fresh", got)
	}
	// So a revocation is seen at once even then.
	if _, err := f.env.CA.Revoke(context.Background(), ca.RevokeRequest{RequestID: "t/r", Serial: f.pair.Result.Sign.Serial,
		Reason: reasons.Superseded}); err != nil {
		t.Fatal(err)
	}
	if a := f.resp.Respond(context.Background(), req, nil); a.State != ocsp.Revoked {
		t.Fatalf("state %v after revocation", a.State)
	}
}

func TestErrorStatuses(t *testing.T) {
	f := newFixture(t, true, ocsp.Options{})
	ctx := context.Background()
	signIssuer := f.env.Issuer(t, ca.KindSign)
	onlyAuth := func(k ca.Kind) bool { return k == ca.KindAuth }

	foreign := foreignIssuer(t, ca.KindSign) // another CA, same name, another key
	cases := []struct {
		name string
		der  []byte
		may  ocsp.Authorizer
		want ocsp.ResponseStatus
		err  error
	}{
		{"malformed", []byte("not an OCSP request"), nil, ocsp.StatusMalformedRequest, ocsp.ErrMalformed},
		{"empty", nil, nil, ocsp.StatusMalformedRequest, ocsp.ErrMalformed},
		{"unknown issuer", request(t, f.pair.Sign, foreign, crypto.SHA1), nil, ocsp.StatusUnauthorized, ocsp.ErrUnknownIssuer},
		{"wrong type for caller", request(t, f.pair.Sign, signIssuer, crypto.SHA1), onlyAuth, ocsp.StatusUnauthorized, ocsp.ErrNotAllowed},
		{"right type for caller", request(t, f.pair.Auth, f.env.Issuer(t, ca.KindAuth), crypto.SHA1), onlyAuth, ocsp.StatusSuccessful, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := f.resp.Respond(ctx, tc.der, tc.may)
			if a.Status != tc.want || (tc.err != nil && !errors.Is(a.Err, tc.err)) {
				t.Fatalf("status %v err %v, want %v %v", a.Status, a.Err, tc.want, tc.err)
			}
			if tc.want == ocsp.StatusSuccessful {
				return
			}
			_, err := xocsp.ParseResponse(a.DER, nil)
			var re xocsp.ResponseError
			if !errors.As(err, &re) || int(re.Status) != int(tc.want) {
				t.Fatalf("x/crypto reads %v", err)
			}
		})
	}
}

func TestDelegatedResponders(t *testing.T) {
	env := ocsptest.New(t, "")
	ctx := context.Background()
	first, err := ocsp.EnsureResponders(ctx, env.Pool, env.HSM, env.CA, ocsp.DelegateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	again, err := ocsp.EnsureResponders(ctx, env.Pool, env.HSM, env.CA, ocsp.DelegateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []ca.Kind{ca.KindSign, ca.KindAuth} {
		d, d2 := first[kind], again[kind]
		if !d.Created || d2.Created || !bytes.Equal(d.Certificate.Raw, d2.Certificate.Raw) {
			t.Fatalf("%s: second EnsureResponders must reuse the certificate (created %v/%v)", kind, d.Created, d2.Created)
		}
		c := d.Certificate
		if err := c.CheckSignatureFrom(env.Issuer(t, kind)); err != nil {
			t.Fatalf("%s responder not issued by its CA: %v", kind, err)
		}
		if len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageOCSPSigning || c.KeyUsage != x509.KeyUsageDigitalSignature {
			t.Fatalf("%s responder usages: %v %v", kind, c.ExtKeyUsage, c.KeyUsage)
		}
		nocheck := false
		for _, e := range c.Extensions {
			if e.Id.String() == "1.3.6.1.5.5.7.48.1.5" && bytes.Equal(e.Value, []byte{5, 0}) && !e.Critical {
				nocheck = true
			}
		}
		if !nocheck {
			t.Fatalf("%s responder lacks id-pkix-ocsp-nocheck", kind)
		}
		if v := c.NotAfter.Sub(c.NotBefore); v > ocsp.DefaultResponderValidity+time.Minute {
			t.Fatalf("%s responder valid %v", kind, v)
		}
		// The key is in the HSM under its label, not exportable.
		if _, err := env.HSM.FindRSAKey(d.KeyLabel, 2048); err != nil {
			t.Fatalf("%s responder key: %v", kind, err)
		}
		findings, applied, err := certlint.Lint(c.Raw)
		if err != nil || applied == 0 {
			t.Fatalf("lint: %v (%d applied)", err, applied)
		}
		for _, f := range findings {
			t.Errorf("%s responder certificate: zlint %s", kind, f)
		}
	}
	// Close to expiry: a new certificate for the same key.
	later, err := ocsp.EnsureResponders(ctx, env.Pool, env.HSM, env.CA, ocsp.DelegateOptions{
		Now: func() time.Time {
			return time.Now().Add(ocsp.DefaultResponderValidity - ocsp.DefaultResponderRenewBefore + time.Hour)
		}})
	if err != nil {
		t.Fatal(err)
	}
	for kind, d := range later {
		if !d.Created || d.Certificate.SerialNumber.Cmp(first[kind].Certificate.SerialNumber) == 0 ||
			!d.Certificate.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(first[kind].Certificate.PublicKey) {
			t.Fatalf("%s: renewal must certify the same key anew", kind)
		}
	}
	var n int
	if err := env.Pool.QueryRow(ctx, "SELECT count(*) FROM ocsp_responders").Scan(&n); err != nil || n != 4 {
		t.Fatalf("ocsp_responders rows %d, %v; want 4", n, err)
	}
}

// foreignIssuer is a software CA with the same name as ours and another key.
func foreignIssuer(t *testing.T, kind ca.Kind) *x509.Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := profile.CATemplate(profile.CAParams{Kind: kind, Serial: big.NewInt(1 << 62), NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().AddDate(1, 0, 0), PublicKey: &key.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestChangeNotifications(t *testing.T) {
	f := newFixture(t, true, ocsp.Options{})
	ctx := context.Background()
	req := request(t, f.pair.Sign, f.env.Issuer(t, ca.KindSign), crypto.SHA1)
	cacheIt := func() {
		t.Helper()
		f.resp.Respond(ctx, req, nil)
		waitFor(t, settleLimit, "answer cached", func() bool { return f.resp.Respond(ctx, req, nil).Cached })
	}
	cacheIt()
	var schema string
	if err := f.env.Pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}

	notify := func(payload string) {
		t.Helper()
		if _, err := f.env.Pool.Exec(ctx, "SELECT pg_notify('ca_certificate_changed', $1)", payload); err != nil {
			t.Fatal(err)
		}
	}

	// Another schema's changes (another test's CA) are not ours: once our
	// own barrier notification, sent after them, is counted, they were read
	// and did nothing.
	before := f.resp.Stats()
	notify("some_other_schema:*")
	notify("some_other_schema:" + f.pair.Result.Sign.Serial)
	notify(schema + ":" + barrierSerial)
	waitFor(t, settleLimit, "barrier notification", func() bool { return f.resp.Stats().Invalidations > before.Invalidations })
	if st := f.resp.Stats(); st.Flushes != before.Flushes || st.Invalidations != before.Invalidations+1 || st.Signatures != before.Signatures || !f.resp.Respond(ctx, req, nil).Cached {
		t.Fatalf("another schema's notification acted on our cache: %+v then %+v", before, st)
	}

	// A bulk load (over 100 rows in one statement) announces one flush.
	_, err := f.env.Pool.Exec(ctx, `INSERT INTO ca_certificates (serial, request_id, kind, issuer_id, municipality_code,
		resident_code, subject_id, public_key_der, spki_sha256, request_digest, repository_url, not_before, not_after,
		retain_until, cert_der, issued_at)
		SELECT to_hex(1000000 + g), 'bulk/' || g, kind, issuer_id, municipality_code, resident_code, subject_id,
			public_key_der, sha256(convert_to('bulk' || g, 'UTF8')), request_digest, repository_url, not_before, not_after,
			retain_until, cert_der, issued_at
		FROM ca_certificates, generate_series(1, 150) AS g WHERE serial = $1`, f.pair.Result.Sign.Serial)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, settleLimit, "flush", func() bool { return f.resp.Stats().Flushes > before.Flushes })
	if f.resp.Respond(ctx, req, nil).Cached {
		t.Fatal("answer survived the flush")
	}
	cacheIt()

	// A statement that changes no status (the counterpart link) is silent;
	// one that does names the serial.
	before = f.resp.Stats()
	if _, err := f.env.Pool.Exec(ctx, "UPDATE ca_certificates SET counterpart_serial = counterpart_serial WHERE serial = $1", f.pair.Result.Sign.Serial); err != nil {
		t.Fatal(err)
	}
	if _, err := f.env.Pool.Exec(ctx, "UPDATE ca_certificates SET revocation_reason = 4, revoked_at = now() WHERE serial = 'f4241'"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, settleLimit, "invalidation", func() bool { return f.resp.Stats().Invalidations > before.Invalidations })
	if !f.resp.Respond(ctx, req, nil).Cached {
		t.Fatal("an unrelated serial's change dropped our answer")
	}
	// A flush sent last is the barrier: once it is counted, every
	// notification of the two statements was read.
	notify(schema + ":*")
	waitFor(t, settleLimit, "barrier flush", func() bool { return f.resp.Stats().Flushes > before.Flushes })
	if st := f.resp.Stats(); st.Invalidations != before.Invalidations+1 || st.Flushes != before.Flushes+1 {
		t.Fatalf("want exactly one invalidation: %+v then %+v", before, st)
	}
}

// testClock is a settable clock for the responder and its certificates.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// The responder certificates are renewed while the responder serves, before
// they expire, without a restart: with a two-hour lifetime renewed in its
// last hour, moving the clock 61 minutes on makes Run's check certify the
// same HSM keys anew, and answers signed from then on carry (and verify
// under) the new certificates. An answer never outlives the certificate that
// signs it.
func TestResponderCertificatesRenewedWhileServing(t *testing.T) {
	clk := &testClock{t: time.Now().UTC().Truncate(time.Second)}
	f := newFixture(t, false, ocsp.Options{Now: clk.now, RenewCheck: 10 * time.Millisecond,
		Delegate: ocsp.DelegateOptions{Validity: 2 * time.Hour, RenewBefore: time.Hour}})
	ctx := context.Background()
	first := f.resp.Delegates()
	certs := map[ca.Kind]*x509.Certificate{ca.KindSign: f.pair.Sign, ca.KindAuth: f.pair.Auth}
	for kind, cert := range certs {
		r, _ := f.check(t, cert, kind, crypto.SHA256)
		if !bytes.Equal(r.Certificate.Raw, first[kind].Raw) {
			t.Fatalf("%s answer carries another responder certificate", kind)
		}
		// A day's answer would outlive the two-hour certificate.
		if !r.NextUpdate.Equal(first[kind].NotAfter) {
			t.Errorf("%s answer nextUpdate %v, responder certificate ends %v", kind, r.NextUpdate, first[kind].NotAfter)
		}
	}
	// Nothing is due yet.
	if renewed, err := f.resp.RenewResponders(ctx); err != nil || len(renewed) != 0 {
		t.Fatalf("RenewResponders before the window = %v, %v", renewed, err)
	}

	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = f.resp.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, settleLimit, "listener connected", f.resp.Listening)

	clk.add(61 * time.Minute)
	waitFor(t, settleLimit, "both responder certificates renewed by Run", func() bool {
		now := f.resp.Delegates()
		return now[ca.KindSign].SerialNumber.Cmp(first[ca.KindSign].SerialNumber) != 0 &&
			now[ca.KindAuth].SerialNumber.Cmp(first[ca.KindAuth].SerialNumber) != 0
	})
	second := f.resp.Delegates()
	for kind, cert := range certs {
		c := second[kind]
		if err := c.CheckSignatureFrom(f.env.Issuer(t, kind)); err != nil {
			t.Fatalf("renewed %s responder certificate: %v", kind, err)
		}
		if !c.PublicKey.(*rsa.PublicKey).Equal(first[kind].PublicKey) {
			t.Errorf("renewed %s responder certificate certifies another key", kind)
		}
		if at := clk.now(); at.Before(c.NotBefore) || !c.NotAfter.After(at.Add(time.Hour)) {
			t.Errorf("renewed %s certificate valid %v–%v at %v", kind, c.NotBefore, c.NotAfter, at)
		}
		// A fresh answer (the cached one is dropped as a status change
		// would) is signed under the new certificate.
		f.resp.Invalidate(ca.FormatSerial(cert.SerialNumber))
		issuer := f.env.Issuer(t, kind)
		a := f.resp.Respond(ctx, request(t, cert, issuer, crypto.SHA1), nil)
		if a.Status != ocsp.StatusSuccessful {
			t.Fatalf("%s after renewal: %v (%v)", kind, a.Status, a.Err)
		}
		r, err := xocsp.ParseResponseForCert(a.DER, cert, issuer)
		if err != nil {
			t.Fatalf("%s answer after renewal does not verify: %v", kind, err)
		}
		if !bytes.Equal(r.Certificate.Raw, c.Raw) || r.Status != xocsp.Good {
			t.Errorf("%s answer after renewal carries serial %x, want the new %x", kind, r.Certificate.SerialNumber, c.SerialNumber)
		}
	}
	// Renewed once: the next checks find the new certificates current.
	if renewed, err := f.resp.RenewResponders(ctx); err != nil || len(renewed) != 0 {
		t.Fatalf("RenewResponders after renewal = %v, %v", renewed, err)
	}
	var n int
	if err := f.env.Pool.QueryRow(ctx, "SELECT count(*) FROM ocsp_responders").Scan(&n); err != nil || n != 4 {
		t.Fatalf("ocsp_responders rows %d, %v; want 4 (the old ones kept for the record)", n, err)
	}
}
