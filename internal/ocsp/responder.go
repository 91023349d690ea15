// Package ocsp is the Organization's OCSP responder (RFC 6960) for the two
// issuing CAs: it answers good, revoked (time and reason; certificateHold
// while a user-authentication certificate is held) or unknown from the CA's
// tables, signing with a delegated OCSP-signing key per CA held in the HSM.
//
// The hot path does no RSA: an answer is signed once, on the first request
// for a certificate (or again when its status changes), and then served from
// memory until shortly before its nextUpdate. A statement trigger on
// ca_certificates (migration 0003) announces every status change over
// Postgres LISTEN/NOTIFY; the responder drops the cached answer at once and
// re-signs it in the background, so a revocation is answered as revoked
// within milliseconds. While the notification connection is down nothing is
// cached (every answer is signed fresh), and everything is dropped when it
// comes back, so a lost notification can never leave a stale answer.
//
// Requests carry one certificate each (RFC 5019). Nonces are not echoed:
// answers are pre-signed (RFC 5019 §2.2.1, RFC 8954).
package ocsp

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/ca/hsm"
)

// Errors reported in Answer.Err; the status sent is in Answer.Status.
var (
	// ErrUnknownIssuer: the CertID names no issuing CA of ours
	// (unauthorized, RFC 6960 §2.3).
	ErrUnknownIssuer = errors.New("ocsp: request names an issuer this responder does not serve")
	// ErrNotAllowed: the caller may not ask about this kind of certificate
	// (unauthorized).
	ErrNotAllowed = errors.New("ocsp: caller not authorized for this certificate type")
	// ErrBusy: no signing slot became free in time (tryLater).
	ErrBusy = errors.New("ocsp: signer busy")
	// ErrSignerFailed: the HSM failed to sign the answer (tryLater). The
	// failure says nothing about the certificate; nothing is cached, so the
	// next request signs afresh (the HSM reopens a lost session itself).
	ErrSignerFailed = errors.New("ocsp: the HSM could not sign the answer")
)

// Defaults of Options.
const (
	DefaultValidity       = 24 * time.Hour
	DefaultMaxEntries     = 200_000
	DefaultSignSlots      = 4
	DefaultSignWait       = 3 * time.Second
	DefaultLookupTimeout  = 5 * time.Second
	DefaultRenewCheck     = time.Hour
	notifyChannel         = "ca_certificate_changed"
	sweepInterval         = 10 * time.Second
	reconnectMaxBackoff   = 5 * time.Second
	notificationFlushMark = "*"
)

// Options configure a Responder. The zero value is usable.
type Options struct {
	// Validity is nextUpdate − thisUpdate of an answer (24 h, the CRL
	// cycle). Status changes replace answers long before.
	Validity time.Duration
	// RefreshBefore: an answer this close to its nextUpdate is re-signed in
	// the background while still being served; default Validity/8.
	RefreshBefore time.Duration
	// MaxEntries bounds the cache (about 1.7 KB per answer).
	MaxEntries int
	// SignSlots bounds concurrent HSM signatures, so a burst of first
	// requests cannot starve the CA; SignWait is how long a request waits
	// for a slot before it is answered tryLater.
	SignSlots int
	SignWait  time.Duration
	// Delegate configures the responder certificates (EnsureResponders).
	Delegate DelegateOptions
	// RenewCheck is how often Run checks the responder certificates and
	// replaces one with less than Delegate.RenewBefore left, while serving
	// (default DefaultRenewCheck; the renewal window is a month).
	RenewCheck time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Validity <= 0 {
		o.Validity = DefaultValidity
	}
	if o.RefreshBefore <= 0 || o.RefreshBefore >= o.Validity {
		o.RefreshBefore = o.Validity / 8
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.SignSlots <= 0 {
		o.SignSlots = DefaultSignSlots
	}
	if o.SignWait <= 0 {
		o.SignWait = DefaultSignWait
	}
	if o.RenewCheck <= 0 {
		o.RenewCheck = DefaultRenewCheck
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Delegate.Now == nil {
		o.Delegate.Now = o.Now
	}
	o.Delegate = o.Delegate.withDefaults()
	return o
}

// issuer is one issuing CA the responder answers for.
type issuer struct {
	index    int
	kind     ca.Kind
	id       int64
	cert     *x509.Certificate
	nameHash [][]byte // per hashes index
	keyHash  [][]byte
	// responder is the delegated responder signing now; a renewal swaps
	// it while requests are served.
	responder atomic.Pointer[responderKey]
}

// responderKey is a delegated responder with its byKey ResponderID.
type responderKey struct {
	delegate  *Delegate
	respKeyID []byte // SHA-1 of the responder's public key bits (byKey)
}

func newResponderKey(d *Delegate) (*responderKey, error) {
	var resp struct {
		Algorithm asn1.RawValue
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(d.Certificate.RawSubjectPublicKeyInfo, &resp); err != nil {
		return nil, fmt.Errorf("ocsp: %s responder public key: %w", d.Kind, err)
	}
	id := sha1.Sum(resp.PublicKey.RightAlign())
	return &responderKey{delegate: d, respKeyID: id[:]}, nil
}

// Responder answers OCSP requests. It is safe for concurrent use.
type Responder struct {
	pool      *pgxpool.Pool
	hsm       *hsm.HSM
	authority *ca.CA
	opts      Options
	issuers   []*issuer
	cache     *cache
	slots     chan struct{}
	listening atomic.Bool
	stats     counters
}

type counters struct {
	hits, fills, signs, unknownIssuer, notAllowed, malformed, failures atomic.Uint64
	invalidations, flushes                                             atomic.Uint64
}

// Stats are the responder's counters since start.
type Stats struct {
	Hits, Fills, Signatures, Malformed, UnknownIssuer, NotAllowed, Failures uint64
	Invalidations, Flushes                                                  uint64
	Cached                                                                  int
	Listening                                                               bool
}

// New makes sure the delegated responders exist (EnsureResponders) and
// returns a responder for the active issuing CAs. Call Run to receive status
// changes; until it is connected, answers are signed per request and not
// cached.
func New(ctx context.Context, pool *pgxpool.Pool, h *hsm.HSM, authority *ca.CA, opts Options) (*Responder, error) {
	opts = opts.withDefaults()
	delegates, err := EnsureResponders(ctx, pool, h, authority, opts.Delegate)
	if err != nil {
		return nil, err
	}
	for _, d := range delegates {
		if d.Created {
			opts.Logger.Info("ocsp: delegated responder certificate issued", "kind", string(d.Kind),
				"serial", ca.FormatSerial(d.Certificate.SerialNumber), "not_after", d.Certificate.NotAfter, "key_label", d.KeyLabel)
		}
	}
	r := &Responder{pool: pool, hsm: h, authority: authority, opts: opts, cache: newCache(opts.MaxEntries), slots: make(chan struct{}, opts.SignSlots)}
	for i, kind := range []ca.Kind{ca.KindSign, ca.KindAuth} {
		d := delegates[kind]
		iss, err := newIssuer(i, d)
		if err != nil {
			return nil, err
		}
		r.issuers = append(r.issuers, iss)
	}
	return r, nil
}

func newIssuer(index int, d *Delegate) (*issuer, error) {
	var spki struct {
		Algorithm asn1.RawValue
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(d.Issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil, fmt.Errorf("ocsp: %s CA public key: %w", d.Kind, err)
	}
	rk, err := newResponderKey(d)
	if err != nil {
		return nil, err
	}
	iss := &issuer{index: index, kind: d.Kind, id: d.IssuerID, cert: d.Issuer}
	iss.responder.Store(rk)
	for _, h := range hashes {
		nh := h.hash.New()
		nh.Write(d.Issuer.RawSubject)
		kh := h.hash.New()
		kh.Write(spki.PublicKey.RightAlign())
		iss.nameHash = append(iss.nameHash, nh.Sum(nil))
		iss.keyHash = append(iss.keyHash, kh.Sum(nil))
	}
	return iss, nil
}

// Delegates returns the responder certificate in use for each kind.
func (r *Responder) Delegates() map[ca.Kind]*x509.Certificate {
	out := map[ca.Kind]*x509.Certificate{}
	for _, iss := range r.issuers {
		out[iss.kind] = iss.responder.Load().delegate.Certificate
	}
	return out
}

// ErrIssuerChanged: the database's active issuing CA is no longer the one
// the responder was started with (a re-key); restart the repository.
var ErrIssuerChanged = errors.New("ocsp: the active issuing CA changed; restart the repository")

// RenewResponders replaces each responder certificate with less than
// Options.Delegate.RenewBefore left (EnsureResponders: a new certificate for
// the same HSM key, or the one another repository process made), without a
// restart: answers signed from now on carry the new certificate, cached
// ones signed under the old certificate are served until their own refresh
// (within a day; the old certificate has a month left). It returns the kinds
// renewed. Run calls it every Options.RenewCheck.
func (r *Responder) RenewResponders(ctx context.Context) ([]ca.Kind, error) {
	ds, err := EnsureResponders(ctx, r.pool, r.hsm, r.authority, r.opts.Delegate)
	if err != nil {
		return nil, err
	}
	var renewed []ca.Kind
	for _, iss := range r.issuers {
		d := ds[iss.kind]
		if d == nil || d.IssuerID != iss.id {
			return renewed, fmt.Errorf("%w (%s)", ErrIssuerChanged, iss.kind)
		}
		old := iss.responder.Load().delegate.Certificate
		if bytes.Equal(old.Raw, d.Certificate.Raw) {
			continue
		}
		rk, err := newResponderKey(d)
		if err != nil {
			return renewed, err
		}
		iss.responder.Store(rk)
		renewed = append(renewed, iss.kind)
		r.opts.Logger.Info("ocsp: delegated responder certificate renewed", "kind", string(iss.kind),
			"serial", ca.FormatSerial(d.Certificate.SerialNumber), "not_after", d.Certificate.NotAfter,
			"replaces", ca.FormatSerial(old.SerialNumber), "issued_now", d.Created)
	}
	return renewed, nil
}

// renewLoop checks the responder certificates every RenewCheck until ctx
// ends. A failure is logged and retried at the next check: the window is
// long (RenewBefore), and an expiring certificate is logged as an error.
func (r *Responder) renewLoop(ctx context.Context) {
	t := time.NewTicker(r.opts.RenewCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := r.RenewResponders(ctx); err != nil && ctx.Err() == nil {
			lvl := slog.LevelWarn
			for _, iss := range r.issuers {
				if left := iss.responder.Load().delegate.Certificate.NotAfter.Sub(r.opts.Now()); left < r.opts.Delegate.RenewBefore/2 {
					lvl = slog.LevelError
				}
			}
			r.opts.Logger.Log(ctx, lvl, "ocsp: responder certificate renewal failed; retrying at the next check", "err", err)
		}
	}
}

// Answer is the outcome of Respond.
type Answer struct {
	// DER is the OCSPResponse to send: signed for StatusSuccessful, the
	// bare status otherwise. Shared; do not modify.
	DER []byte
	// Status is the OCSP response status.
	Status ResponseStatus
	// Kind is the certificate type asked about, when the issuer is known.
	Kind ca.Kind
	// State is the certificate's status in a successful answer.
	State CertState
	// Cached reports whether the answer came from the cache.
	Cached bool
	// Err says why Status is not successful (for logs; never sent).
	Err error
}

// Authorizer tells whether the caller may learn the status of certificates
// of a kind. Nil allows every kind.
type Authorizer func(kind ca.Kind) bool

// Respond answers a DER OCSPRequest. malformedRequest for anything
// ParseRequest refuses, unauthorized for an issuer that is not one of ours or
// a kind the caller may not ask about, tryLater when no HSM signing slot is
// free in time or the HSM fails to sign (ErrSignerFailed), internalError on a
// database failure. It never panics.
func (r *Responder) Respond(ctx context.Context, der []byte, may Authorizer) (a Answer) {
	defer func() {
		if p := recover(); p != nil {
			r.stats.failures.Add(1)
			a = Answer{DER: ErrorResponse(StatusInternalError), Status: StatusInternalError, Err: fmt.Errorf("ocsp: panic: %v", p)}
		}
	}()
	req, err := ParseRequest(der)
	if err != nil {
		r.stats.malformed.Add(1)
		return Answer{DER: ErrorResponse(StatusMalformedRequest), Status: StatusMalformedRequest, Err: err}
	}
	return r.RespondTo(ctx, req, may)
}

// RespondTo answers a parsed request; see Respond.
func (r *Responder) RespondTo(ctx context.Context, req Request, may Authorizer) Answer {
	iss, hashIdx := r.match(req)
	if iss == nil {
		r.stats.unknownIssuer.Add(1)
		return Answer{DER: ErrorResponse(StatusUnauthorized), Status: StatusUnauthorized, Err: ErrUnknownIssuer}
	}
	if may != nil && !may(iss.kind) {
		r.stats.notAllowed.Add(1)
		return Answer{DER: ErrorResponse(StatusUnauthorized), Status: StatusUnauthorized, Kind: iss.kind, Err: ErrNotAllowed}
	}
	key, ok := makeKey(iss.index, hashIdx, req.Serial)
	if !ok {
		r.stats.malformed.Add(1)
		return Answer{DER: ErrorResponse(StatusMalformedRequest), Status: StatusMalformedRequest, Err: malformed("bad serial")}
	}
	now := r.opts.Now()
	if e := r.cache.get(key); e != nil && now.Before(e.nextUpdate) {
		if !now.Before(e.refreshAt) && e.refreshing.CompareAndSwap(false, true) {
			go r.refresh(key)
		}
		r.stats.hits.Add(1)
		return Answer{DER: e.der, Status: StatusSuccessful, Kind: iss.kind, State: e.state, Cached: true}
	}
	e, err := r.fill(ctx, key)
	if err != nil {
		r.stats.failures.Add(1)
		st := StatusInternalError
		if errors.Is(err, ErrBusy) || errors.Is(err, ErrSignerFailed) {
			st = StatusTryLater
		}
		return Answer{DER: ErrorResponse(st), Status: st, Kind: iss.kind, Err: err}
	}
	return Answer{DER: e.der, Status: StatusSuccessful, Kind: iss.kind, State: e.state}
}

// match finds the issuer whose name and key hashes the request carries.
func (r *Responder) match(req Request) (*issuer, int) {
	for hi, h := range hashes {
		if h.hash != req.HashAlgorithm {
			continue
		}
		for _, iss := range r.issuers {
			if bytes.Equal(iss.nameHash[hi], req.IssuerNameHash) && bytes.Equal(iss.keyHash[hi], req.IssuerKeyHash) {
				return iss, hi
			}
		}
		return nil, 0
	}
	return nil, 0
}

// fill signs the answer for key once, however many requests wait for it.
func (r *Responder) fill(ctx context.Context, key cacheKey) (*entry, error) {
	cl, leader := r.cache.join(key)
	if leader {
		// The fill outlives a caller that gives up: others may be waiting.
		go r.lead(key, cl)
	}
	select {
	case <-cl.done:
		return cl.e, cl.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (r *Responder) lead(key cacheKey, cl *call) {
	defer func() {
		if p := recover(); p != nil {
			r.cache.finish(key, cl, nil, fmt.Errorf("ocsp: panic while signing: %v", p), 0, time.Time{}, false)
		}
	}()
	r.stats.fills.Add(1)
	// Read the generation before the database: an invalidation announced
	// after this point keeps the answer out of the cache.
	readGen := r.cache.gen.Load()
	readAt := time.Now()
	store := r.listening.Load()
	ctx, cancel := context.WithTimeout(context.Background(), DefaultLookupTimeout+r.opts.SignWait)
	defer cancel()
	e, err := r.sign(ctx, key)
	if errors.Is(err, ErrSignerFailed) {
		// Once per fill, not per waiting request.
		r.opts.Logger.Warn("ocsp: HSM signature failed; answering tryLater", "kind", string(r.issuers[key.issuer].kind), "err", err)
	}
	r.cache.finish(key, cl, e, err, readGen, readAt, store)
}

// refresh re-signs an answer whose nextUpdate is near, or whose status just
// changed, in the background.
func (r *Responder) refresh(key cacheKey) {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultLookupTimeout+r.opts.SignWait)
	defer cancel()
	if _, err := r.fill(ctx, key); err != nil {
		r.opts.Logger.Warn("ocsp: background re-sign failed", "err", err)
	}
}

// sign looks the certificate up and signs its answer.
func (r *Responder) sign(ctx context.Context, key cacheKey) (*entry, error) {
	iss := r.issuers[key.issuer]
	serial := key.serialBytes()
	s := single{hashOID: hashes[key.hash].oid, nameHash: iss.nameHash[key.hash], keyHash: iss.keyHash[key.hash],
		serial: serial, state: Unknown}
	if serial[0]&0x80 == 0 { // negative serials are never ours
		hexSerial := new(big.Int).SetBytes(serial).Text(16)
		var (
			kind      string
			issuerID  int64
			issued    bool
			reason    *int16
			revokedAt *time.Time
		)
		err := r.pool.QueryRow(ctx, `SELECT kind, issuer_id, cert_der IS NOT NULL, revocation_reason, revoked_at
			FROM ca_certificates WHERE serial = $1`, hexSerial).Scan(&kind, &issuerID, &issued, &reason, &revokedAt)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return nil, fmt.Errorf("ocsp: look up %s: %w", hexSerial, err)
		case !issued || ca.Kind(kind) != iss.kind || issuerID != iss.id:
			// Reserved but never signed, or issued by the other CA (or a
			// retired one): not a certificate of this issuer.
		case reason != nil && revokedAt != nil:
			s.state, s.reason, s.revokedAt = Revoked, int(*reason), *revokedAt
		default:
			s.state = Good
		}
	}
	select {
	case r.slots <- struct{}{}:
	case <-time.After(r.opts.SignWait):
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
	}
	defer func() { <-r.slots }()
	now := r.opts.Now().UTC().Truncate(time.Second)
	s.thisUpdate = now
	s.nextUpdate = now.Add(r.opts.Validity)
	if s.state == Revoked && s.revokedAt.After(now) {
		// A clock behind the database's: never claim a revocation after
		// the time of the statement.
		s.thisUpdate = s.revokedAt.UTC().Truncate(time.Second)
		s.nextUpdate = s.thisUpdate.Add(r.opts.Validity)
	}
	rk := iss.responder.Load()
	if end := rk.delegate.Certificate.NotAfter; end.After(s.thisUpdate) && s.nextUpdate.After(end) {
		// An answer is not good for longer than the certificate that
		// vouches for its signature.
		s.nextUpdate = end
	}
	der, err := signedResponse(s, rk.respKeyID, rk.delegate.Certificate.Raw, markFailures{rk.delegate.Signer})
	if err != nil {
		return nil, err
	}
	r.stats.signs.Add(1)
	return &entry{der: der, state: s.state, nextUpdate: s.nextUpdate, refreshAt: s.nextUpdate.Add(-r.opts.RefreshBefore)}, nil
}

// markFailures tells a failure of the HSM's signature (ErrSignerFailed,
// answered tryLater) from one of encoding the answer (internalError).
type markFailures struct{ crypto.Signer }

func (m markFailures) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	sig, err := m.Signer.Sign(rand, digest, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSignerFailed, err)
	}
	return sig, nil
}

// Invalidate drops the cached answers for a serial (lower-case hex, as
// ca_certificates stores it) and re-signs in the background those that were
// being served. The notification listener calls it; tests and tools may too.
func (r *Responder) Invalidate(serialHex string) {
	n, ok := new(big.Int).SetString(serialHex, 16)
	if !ok || n.Sign() <= 0 {
		return
	}
	content := n.Bytes()
	if content[0]&0x80 != 0 {
		content = append([]byte{0}, content...)
	}
	var keys []cacheKey
	for i := range r.issuers {
		for h := range hashes {
			if k, ok := makeKey(i, h, content); ok {
				keys = append(keys, k)
			}
		}
	}
	r.stats.invalidations.Add(1)
	for _, k := range r.cache.invalidate(keys, time.Now()) {
		go r.refresh(k)
	}
}

// Flush drops every cached answer.
func (r *Responder) Flush() {
	r.stats.flushes.Add(1)
	r.cache.flush()
}

// Stats returns the counters.
func (r *Responder) Stats() Stats {
	c := &r.stats
	return Stats{Hits: c.hits.Load(), Fills: c.fills.Load(), Signatures: c.signs.Load(), Malformed: c.malformed.Load(),
		UnknownIssuer: c.unknownIssuer.Load(), NotAllowed: c.notAllowed.Load(), Failures: c.failures.Load(),
		Invalidations: c.invalidations.Load(), Flushes: c.flushes.Load(), Cached: r.cache.len(), Listening: r.listening.Load()}
}

// Listening reports whether status changes are being received (and answers
// cached).
func (r *Responder) Listening() bool { return r.listening.Load() }

// Run listens for status changes on a dedicated connection until ctx ends,
// reconnecting with backoff; answers are cached only while it is connected.
// It also sweeps expired answers and renews the responder certificates
// (RenewResponders every Options.RenewCheck). It returns ctx.Err().
func (r *Responder) Run(ctx context.Context) error {
	go r.renewLoop(ctx)
	go func() {
		t := time.NewTicker(sweepInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				r.cache.sweep(r.opts.Now())
			}
		}
	}()
	backoff := 100 * time.Millisecond
	for {
		err := r.listen(ctx)
		r.listening.Store(false)
		r.Flush()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.opts.Logger.Warn("ocsp: status-change listener lost; answers are signed per request until it is back", "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, reconnectMaxBackoff)
	}
}

func (r *Responder) listen(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, r.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	// Payloads are "<schema>:<serial>": the channel is shared by every
	// schema of the database, and ours is where the unqualified tables are.
	var schema string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return fmt.Errorf("current schema: %w", err)
	}
	prefix := schema + ":"
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Anything cached so far may predate a change we did not hear about.
	r.Flush()
	r.listening.Store(true)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		serial, ours := strings.CutPrefix(n.Payload, prefix)
		switch {
		case !ours:
		case serial == notificationFlushMark:
			r.Flush()
		default:
			r.Invalidate(serial)
		}
	}
}

// Issuers returns the issuing CA certificates the responder answers for.
func (r *Responder) Issuers() map[ca.Kind]*x509.Certificate {
	out := map[ca.Kind]*x509.Certificate{}
	for _, iss := range r.issuers {
		out[iss.kind] = iss.cert
	}
	return out
}
