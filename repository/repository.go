// Package repository is the Organization's repository server (リポジトリ
// and OCSPレスポンダ, seed 図1-8) for verifiers:
//
//	GET  /ocsp/{base64 DER}       OCSP (RFC 6960 App. A)
//	POST /ocsp                    OCSP, body application/ocsp-request
//	GET  /crl/{sign|auth}/{partition}.crl  the latest CRL of a partition (the certificates' CDPs)
//	GET  /crl/{sign|auth}/full.crl     the latest full CRL of an issuing CA
//	GET  /files/{sign|auth}/{YYYY-MM-DD}  a past day's revocation-information file (失効情報ファイル)
//	GET  /counterpart/{serial}    the counterpart certificate's serial (対応証明書の発行の番号)
//	GET  /healthz                 liveness and whether OCSP answers are being cached
//
// One rule decides who gets revocation information, whatever its form (法第18条,
// 第37条; docs/REPOSITORY.md): a registered verifier, for the certificate type
// it is registered for — signing certificates to 署名検証者 and 団体署名検証者,
// user-authentication certificates to 利用者証明検証者 (verifier.MayCheck).
// Verifiers authenticate with the API key issued at registration, sent in
// the X-JPKI-Verifier-Key header (package verifier). OCSP callers without a
// valid key, or asking about a certificate type they are not registered for,
// get the OCSP status unauthorized; CRLs and files answer HTTP 401 (no valid
// key) or 403 (not registered for that type), and so does /counterpart for a
// caller not registered for both.
package repository

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/ca/profile"
	"github.com/madoguchi/madoguchi/internal/metrics"
	"github.com/madoguchi/madoguchi/internal/ocsp"
	"github.com/madoguchi/madoguchi/internal/verifier"
)

// ErrNotFound is what a CRLSource wraps when it has no such CRL or file.
var ErrNotFound = errors.New("repository: not found")

// CRLSource publishes CRLs (失効記録) and daily revocation-information files
// (失効情報ファイル). partition is a CRL partition (profile.ValidCRLPartition:
// a municipality code, or a serial shard "s00"–"s63" of the
// user-authentication CA) or "full".
type CRLSource interface {
	Latest(ctx context.Context, kind ca.Kind, partition string) (der []byte, thisUpdate, nextUpdate time.Time, err error)
	DailyFile(ctx context.Context, kind ca.Kind, day time.Time) ([]byte, error)
}

// FullPartition is the partition name of a CA's full CRL.
const FullPartition = "full"

// Authenticator finds the active verifier holding an API key, or nil.
type Authenticator interface {
	Authenticate(key string) *verifier.Verifier
}

// OCSPResponder answers OCSP requests (*ocsp.Responder).
type OCSPResponder interface {
	Respond(ctx context.Context, der []byte, may ocsp.Authorizer) ocsp.Answer
}

// Config wires a Server.
type Config struct {
	// Pool is the Organization's database (counterpart lookups).
	Pool *pgxpool.Pool
	// OCSP answers /ocsp.
	OCSP OCSPResponder
	// Verifiers authenticates callers.
	Verifiers Authenticator
	// CRLs serves /crl and /files; nil answers 503 there.
	CRLs CRLSource
	// Logger; nil means slog.Default(). Keys are never logged.
	Logger *slog.Logger
	// Now is the clock for HTTP dates; nil means time.Now.
	Now func() time.Time
}

// Server is the repository's HTTP handler.
type Server struct {
	cfg Config
}

// New checks cfg and returns the handler.
func New(cfg Config) (*Server, error) {
	if cfg.OCSP == nil || cfg.Verifiers == nil {
		return nil, errors.New("repository: OCSP responder and verifier registry are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Server{cfg: cfg}, nil
}

// Limits.
const (
	maxOCSPBody = 4096 + 1 // one more than the parser accepts, to tell "too long"
	maxGETPath  = 8192
)

var (
	keyHeader      = textproto.CanonicalMIMEHeaderKey(verifier.HeaderName)
	ctOCSPResponse = []string{"application/ocsp-response"}
	ctCRL          = []string{"application/pkix-crl"}
	ctJSON         = []string{"application/json; charset=utf-8"}
	cacheNoStore   = []string{"no-store"}
	bodyPool       = sync.Pool{New: func() any { b := make([]byte, maxOCSPBody); return &b }}
	errNoCRLs      = errors.New("repository: no CRL source configured")
)

// ServeHTTP routes without a ServeMux: a ServeMux would "clean" GET OCSP
// paths, whose base64 may hold "//".
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/ocsp" || p == "/ocsp/" || strings.HasPrefix(p, "/ocsp/"):
		s.serveOCSP(w, r)
	case strings.HasPrefix(p, "/crl/"):
		s.serveCRL(w, r)
	case strings.HasPrefix(p, "/files/"):
		s.serveFile(w, r)
	case strings.HasPrefix(p, "/counterpart/"):
		s.serveCounterpart(w, r)
	case p == "/healthz":
		s.serveHealth(w, r)
	default:
		http.NotFound(w, r)
	}
}

// caller returns the verifier the request authenticates as, or nil.
func (s *Server) caller(r *http.Request) *verifier.Verifier {
	v := r.Header[keyHeader]
	if len(v) != 1 {
		return nil
	}
	return s.cfg.Verifiers.Authenticate(v[0])
}

// Answers of the access rule, the same for CRLs and files (OCSP answers
// unauthorized instead, inside a signed-protocol error).
var (
	errNoKey = errors.New("a registered verifier's key is required in " + verifier.HeaderName)
	errRole  = map[ca.Kind]error{
		ca.KindSign: errors.New("revocation information on signing certificates is provided to signature verifiers (署名検証者, 団体署名検証者) only"),
		ca.KindAuth: errors.New("revocation information on user-authentication certificates is provided to user-authentication verifiers (利用者証明検証者) only"),
	}
)

// mayHave applies the one access rule to revocation information of kind:
// it answers 401 or 403 itself and returns nil when the caller may not have
// it.
func (s *Server) mayHave(w http.ResponseWriter, r *http.Request, kind ca.Kind) *verifier.Verifier {
	v := s.caller(r)
	if v == nil {
		s.httpError(w, http.StatusUnauthorized, errNoKey)
		return nil
	}
	if !v.MayCheck(kind) {
		s.httpError(w, http.StatusForbidden, errRole[kind])
		return nil
	}
	return v
}

func (s *Server) serveOCSP(w http.ResponseWriter, r *http.Request) {
	var der []byte
	switch r.Method {
	case http.MethodPost:
		if r.URL.Path != "/ocsp" && r.URL.Path != "/ocsp/" {
			http.NotFound(w, r)
			return
		}
		bp := bodyPool.Get().(*[]byte)
		defer bodyPool.Put(bp)
		n, err := io.ReadFull(io.LimitReader(r.Body, maxOCSPBody), *bp)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			s.writeOCSP(w, ocsp.ErrorResponse(ocsp.StatusMalformedRequest))
			return
		}
		der = (*bp)[:n]
	case http.MethodGet:
		enc := strings.TrimPrefix(r.URL.Path, "/ocsp")
		enc = strings.TrimPrefix(enc, "/")
		if len(enc) > maxGETPath {
			s.writeOCSP(w, ocsp.ErrorResponse(ocsp.StatusMalformedRequest))
			return
		}
		der = decodeBase64(enc)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	v := s.caller(r)
	if v == nil {
		// Checked after reading so the answer does not depend on whether
		// the body was well formed: an unregistered caller learns nothing.
		countOCSP(ocsp.Answer{Status: ocsp.StatusUnauthorized})
		s.writeOCSP(w, ocsp.ErrorResponse(ocsp.StatusUnauthorized))
		return
	}
	a := s.cfg.OCSP.Respond(r.Context(), der, v.MayCheck)
	countOCSP(a)
	if a.Status == ocsp.StatusInternalError {
		s.cfg.Logger.Warn("repository: OCSP internal error", "verifier", v.ID, "err", a.Err)
	}
	s.writeOCSP(w, a.DER)
}

// decodeBase64 accepts the standard alphabet with or without padding, and
// the URL-safe one some clients use; nil when it is not base64 (the parser
// then answers malformedRequest).
func decodeBase64(s string) []byte {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b
		}
	}
	return nil
}

func (s *Server) writeOCSP(w http.ResponseWriter, der []byte) {
	h := w.Header()
	h["Content-Type"] = ctOCSPResponse
	// Answers are for the authenticated verifier only, and a status change
	// replaces them at once: no shared or private HTTP caching.
	h["Cache-Control"] = cacheNoStore
	h["Content-Length"] = []string{strconv.Itoa(len(der))}
	_, _ = w.Write(der)
}

// parseKind reads "sign" or "auth".
func parseKind(s string) (ca.Kind, bool) {
	k := ca.Kind(s)
	return k, k.Valid()
}

func (s *Server) serveCRL(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// /crl/{kind}/{partition}.crl
	rest := strings.TrimPrefix(r.URL.Path, "/crl/")
	kindStr, file, ok := strings.Cut(rest, "/")
	kind, kindOK := parseKind(kindStr)
	partition, crlOK := strings.CutSuffix(file, ".crl")
	if !ok || !kindOK || !crlOK || !(partition == FullPartition || profile.ValidCRLPartition(kind, partition)) {
		http.NotFound(w, r)
		return
	}
	// After the address is checked (its shape is public), before the
	// lookup: whether a partition has a CRL is for verifiers only.
	if s.mayHave(w, r, kind) == nil {
		return
	}
	if s.cfg.CRLs == nil {
		s.httpError(w, http.StatusServiceUnavailable, errNoCRLs)
		return
	}
	der, thisUpdate, nextUpdate, err := s.cfg.CRLs.Latest(r.Context(), kind, partition)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			http.NotFound(w, r)
			return
		}
		s.cfg.Logger.Warn("repository: CRL", "kind", string(kind), "partition", partition, "err", err)
		s.httpError(w, http.StatusInternalServerError, errors.New("CRL unavailable"))
		return
	}
	h := w.Header()
	h["Content-Type"] = ctCRL
	if !nextUpdate.IsZero() {
		h.Set("Expires", nextUpdate.UTC().Format(http.TimeFormat))
		// Cacheable by the verifier until the next CRL is due, capped so
		// that an on-demand CRL is picked up within the hour; private, as
		// a shared cache would hand it to callers without a key.
		maxAge := int(min(time.Hour, max(0, nextUpdate.Sub(s.cfg.Now()))).Seconds())
		h.Set("Cache-Control", "private, max-age="+strconv.Itoa(maxAge))
	}
	if !thisUpdate.IsZero() {
		h.Set("Last-Modified", thisUpdate.UTC().Format(http.TimeFormat))
	}
	h.Set("Content-Length", strconv.Itoa(len(der)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(der)
}

// jst is the day boundary of daily files (the Organization works in Japan).
var jst = time.FixedZone("Asia/Tokyo", 9*3600)

func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, "/files/")
	kindStr, dayStr, ok := strings.Cut(rest, "/")
	kind, kindOK := parseKind(kindStr)
	day, dayErr := time.ParseInLocation(time.DateOnly, dayStr, jst)
	if !ok || !kindOK || dayErr != nil {
		http.NotFound(w, r)
		return
	}
	if s.mayHave(w, r, kind) == nil {
		return
	}
	if s.cfg.CRLs == nil {
		s.httpError(w, http.StatusServiceUnavailable, errNoCRLs)
		return
	}
	body, err := s.cfg.CRLs.DailyFile(r.Context(), kind, day)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			s.httpError(w, http.StatusNotFound, fmt.Errorf("no %s revocation-information file for %s", kind, dayStr))
			return
		}
		s.cfg.Logger.Warn("repository: daily file", "kind", string(kind), "day", dayStr, "err", err)
		s.httpError(w, http.StatusInternalServerError, errors.New("file unavailable"))
		return
	}
	h := w.Header()
	// The day's file is the full CRL issued last that day (package crl).
	h["Content-Type"] = ctCRL
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.crl"`, kind, dayStr))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// Counterpart is the answer of /counterpart/{serial}.
type Counterpart struct {
	Serial            string  `json:"serial"`
	Kind              ca.Kind `json:"kind"`
	CounterpartSerial string  `json:"counterpart_serial"`
	CounterpartKind   ca.Kind `json:"counterpart_kind"`
}

func (s *Server) serveCounterpart(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	v := s.caller(r)
	if v == nil {
		s.httpError(w, http.StatusUnauthorized, errNoKey)
		return
	}
	if !v.MayMapCounterpart() {
		s.httpError(w, http.StatusForbidden, errors.New("only a verifier registered both for signing and for user-authentication certificates may map counterparts"))
		return
	}
	serial, err := ca.CanonicalSerial(strings.TrimPrefix(r.URL.Path, "/counterpart/"))
	if err != nil {
		s.httpError(w, http.StatusBadRequest, errors.New("not a serial number"))
		return
	}
	if s.cfg.Pool == nil {
		s.httpError(w, http.StatusServiceUnavailable, errors.New("no database"))
		return
	}
	c, err := LookupCounterpart(r.Context(), s.cfg.Pool, serial)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			s.httpError(w, http.StatusNotFound, errors.New("no issued certificate with a recorded counterpart has this serial"))
			return
		}
		s.cfg.Logger.Warn("repository: counterpart", "err", err)
		s.httpError(w, http.StatusInternalServerError, errors.New("lookup failed"))
		return
	}
	s.writeJSON(w, http.StatusOK, c)
}

// LookupCounterpart returns the counterpart of an issued certificate (serial
// canonical lower-case hex), or an error wrapping ErrNotFound when the
// certificate is unknown or has no counterpart recorded.
func LookupCounterpart(ctx context.Context, pool *pgxpool.Pool, serial string) (Counterpart, error) {
	var c Counterpart
	var kind, cpKind string
	err := pool.QueryRow(ctx, `SELECT c.serial, c.kind, p.serial, p.kind
		FROM ca_certificates c JOIN ca_certificates p ON p.serial = c.counterpart_serial
		WHERE c.serial = $1 AND c.cert_der IS NOT NULL AND p.cert_der IS NOT NULL`, serial).
		Scan(&c.Serial, &kind, &c.CounterpartSerial, &cpKind)
	if errors.Is(err, pgx.ErrNoRows) {
		return Counterpart{}, fmt.Errorf("%w: counterpart of %s", ErrNotFound, serial)
	}
	if err != nil {
		return Counterpart{}, fmt.Errorf("repository: counterpart of %s: %w", serial, err)
	}
	c.Kind, c.CounterpartKind = ca.Kind(kind), ca.Kind(cpKind)
	return c, nil
}

// Health is the answer of /healthz.
type Health struct {
	OK bool `json:"ok"`
	// OCSPCaching is false while the responder cannot hear status changes
	// (answers are then signed per request).
	OCSPCaching bool `json:"ocsp_caching"`
}

func (s *Server) serveHealth(w http.ResponseWriter, _ *http.Request) {
	h := Health{OK: true}
	if l, ok := s.cfg.OCSP.(interface{ Listening() bool }); ok {
		h.OCSPCaching = l.Listening()
	}
	s.writeJSON(w, http.StatusOK, h)
}

func (s *Server) writeJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	w.Header()["Content-Type"] = ctJSON
	w.Header()["Cache-Control"] = cacheNoStore
	w.WriteHeader(code)
	_, _ = w.Write(append(body, '\n'))
}

func (s *Server) httpError(w http.ResponseWriter, code int, err error) {
	s.writeJSON(w, code, map[string]string{"error": err.Error()})
}

// ocspCounts are the OCSP answer counters by status, made once: the
// responder answers tens of thousands a second.
var ocspCounts sync.Map // string -> prometheus.Counter

// countOCSP counts an answer by the certificate's status (good, revoked,
// unknown) when successful, else by the response status.
func countOCSP(a ocsp.Answer) {
	label := a.Status.String()
	if a.Status == ocsp.StatusSuccessful {
		label = a.State.String()
	}
	c, ok := ocspCounts.Load(label)
	if !ok {
		c, _ = ocspCounts.LoadOrStore(label, metrics.OCSPRequests.WithLabelValues(label))
	}
	c.(prometheus.Counter).Inc()
}
