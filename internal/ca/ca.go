// Package ca is the Organization's (機構, J-LIS) certification authority:
// the two issuing CAs (署名用 and 利用者証明用) with RSA-2048 keys in an HSM
// behind PKCS#11, idempotent issuance that can never produce two different
// certificates for one request, the issuance records (発行記録) and the
// revocation state (revoke, hold, release, status) in the jlis Postgres
// database, ready for the CRL and OCSP publishers.
//
// Every operation that a Temporal activity may retry takes a caller-chosen
// RequestID (the business key) and returns the same result when repeated.
// Errors a retry cannot fix match IsPermanent.
package ca

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/madoguchi/madoguchi/internal/ca/hsm"
	"github.com/madoguchi/madoguchi/internal/ca/profile"
)

// Kind is the kind of certificate, and so of issuing CA.
type Kind = profile.Kind

// The two kinds.
const (
	KindSign = profile.KindSign // 署名用電子証明書
	KindAuth = profile.KindAuth // 利用者証明用電子証明書
)

// PersonalInfo is the basic 4 information plus 旧氏/通称 (see profile).
type PersonalInfo = profile.PersonalInfo

// Sex is the recorded sex; see profile.SexMale and profile.SexFemale.
type Sex = profile.Sex

// The values of Sex.
const (
	SexMale   = profile.SexMale
	SexFemale = profile.SexFemale
)

// ValidationError names the request field that is wrong. It matches
// ErrInvalidRequest, and ErrInvalidPublicKey for the public key.
type ValidationError = profile.ValidationError

// Validation sentinels (aliases of the profile package's).
var (
	ErrInvalidRequest   = profile.ErrInvalidRequest
	ErrInvalidPublicKey = profile.ErrInvalidPublicKey
)

// Business errors. All of them match IsPermanent: retrying cannot help.
var (
	// ErrRequestConflict: the RequestID was already used with other content.
	ErrRequestConflict = errors.New("ca: request id already used with different content")
	// ErrPublicKeyMismatch: the RequestID was already used with another
	// public key (a ConflictError matches both this and ErrRequestConflict).
	ErrPublicKeyMismatch = errors.New("ca: request id already used with a different public key")
	// ErrPublicKeyReused: this public key is already certified under another
	// RequestID; every certificate needs a key pair freshly made on the card.
	ErrPublicKeyReused = errors.New("ca: public key already certified")
	// ErrUnknownCertificate: no issued certificate has this serial.
	ErrUnknownCertificate = errors.New("ca: unknown certificate")
	// ErrExpired: the certificate has expired; its status no longer changes.
	ErrExpired = errors.New("ca: certificate expired")
	// ErrAlreadyRevoked: the certificate is already (permanently) revoked.
	ErrAlreadyRevoked = errors.New("ca: certificate already revoked")
	// ErrAlreadyOnHold: the certificate is already on hold.
	ErrAlreadyOnHold = errors.New("ca: certificate already on hold")
	// ErrNotOnHold: release of a certificate that is not on hold.
	ErrNotOnHold = errors.New("ca: certificate not on hold")
	// ErrHoldNotAllowed: only user-authentication certificates can be held.
	ErrHoldNotAllowed = errors.New("ca: only user-authentication certificates can be put on hold")
)

// Setup errors (not request errors).
var (
	// ErrNotBootstrapped: Load found no active issuing CA of a kind.
	ErrNotBootstrapped = errors.New("ca: issuing CA not bootstrapped")
	// ErrIssuerKeyMismatch: the HSM key under the issuer's label is not the
	// key of the stored CA certificate.
	ErrIssuerKeyMismatch = errors.New("ca: HSM key does not match the stored CA certificate")
	// ErrPartitionMismatch: the CRL partition the database assigned to a
	// reservation is not the one its certificate would name (the SQL and Go
	// definitions of the partition disagree); nothing is signed.
	ErrPartitionMismatch = errors.New("ca: CRL partition of the reservation differs from the profile's")
)

// ConflictError reports a RequestID reused with different content. Field is
// the first differing field (FieldPublicKey for the key, "request"
// otherwise); values are never included.
type ConflictError struct {
	RequestID string
	Field     string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("ca: request %q already used with a different %s", e.RequestID, e.Field)
}

// Is matches ErrRequestConflict, and ErrPublicKeyMismatch when the public key
// differs.
func (e *ConflictError) Is(target error) bool {
	return target == ErrRequestConflict || (target == ErrPublicKeyMismatch && e.Field == profile.FieldPublicKey)
}

// IsPermanent reports whether err is a business or validation error that a
// retry cannot fix; Temporal activities should return it as a non-retryable
// application error. Database and HSM failures are not permanent.
func IsPermanent(err error) bool {
	for _, target := range []error{
		ErrInvalidRequest, ErrRequestConflict, ErrPublicKeyReused, ErrUnknownCertificate,
		ErrExpired, ErrAlreadyRevoked, ErrAlreadyOnHold, ErrNotOnHold, ErrHoldNotAllowed,
		ErrUnknownRequest, ErrNotCompiled, ErrUnknownLetter, ErrBadCorrection,
		ErrUnknownRenewalCode, ErrRenewalCodeUsed, ErrRenewalCodeExpired,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// Environment and defaults.
const (
	EnvRepositoryURL     = "MADOGUCHI_REPOSITORY_URL"
	DefaultRepositoryURL = "http://127.0.0.1:8090"
	DefaultSignKeyLabel  = "jlis-sign-ca"
	DefaultAuthKeyLabel  = "jlis-auth-ca"
	// DefaultCAYears is the validity of a bootstrapped issuing CA; subject
	// certificates (at most about six years) must end before it.
	DefaultCAYears = 20
)

// Options configure a CA. The zero value is usable.
type Options struct {
	// RepositoryURL is the base of CRL and OCSP addresses; empty means
	// $MADOGUCHI_REPOSITORY_URL, then DefaultRepositoryURL.
	RepositoryURL string
	// SignKeyLabel and AuthKeyLabel are the HSM labels of the issuer keys
	// made by Bootstrap.
	SignKeyLabel string
	AuthKeyLabel string
	// CAYears is the validity of CA certificates made by Bootstrap.
	CAYears int
	// Now is the clock (tests move it); nil means time.Now.
	Now func() time.Time
	// Logger receives one line per issuance and status change, never
	// personal data or resident codes; nil means slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.RepositoryURL == "" {
		o.RepositoryURL = os.Getenv(EnvRepositoryURL)
	}
	if o.RepositoryURL == "" {
		o.RepositoryURL = DefaultRepositoryURL
	}
	if o.SignKeyLabel == "" {
		o.SignKeyLabel = DefaultSignKeyLabel
	}
	if o.AuthKeyLabel == "" {
		o.AuthKeyLabel = DefaultAuthKeyLabel
	}
	if o.CAYears == 0 {
		o.CAYears = DefaultCAYears
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

func (o Options) label(kind Kind) string {
	if kind == KindSign {
		return o.SignKeyLabel
	}
	return o.AuthKeyLabel
}

// issuer is one loaded issuing CA.
type issuer struct {
	id     int64
	kind   Kind
	label  string
	cert   *x509.Certificate
	signer crypto.Signer
}

// CA issues and revokes certificates. It is safe for concurrent use; it does
// not own the pool or the HSM.
type CA struct {
	pool    *pgxpool.Pool
	hsm     *hsm.HSM
	opts    Options
	issuers map[Kind]*issuer
	byID    map[int64]*issuer
	crls    atomic.Pointer[partitionCRLs]
}

// Bootstrap makes sure both issuing CAs exist and returns a CA ready to
// issue. On the first run it generates each RSA-2048 issuer key inside the
// HSM (labels Options.SignKeyLabel/AuthKeyLabel), self-signs a SHA-256 CA
// certificate with it and stores it in the database; later runs load what
// exists and check that the HSM key matches the stored certificate. It holds
// an advisory lock so concurrent bootstraps cannot make two keys. A key left
// in the HSM by a bootstrap that crashed before storing its certificate is
// reused. When pemDir is not empty the CA certificates are written there as
// sign-ca.pem and auth-ca.pem. Call Migrate first.
func Bootstrap(ctx context.Context, pool *pgxpool.Pool, h *hsm.HSM, pemDir string, opts Options) (*CA, error) {
	opts = opts.withDefaults()
	if err := profile.CheckRepositoryURL(opts.RepositoryURL); err != nil {
		return nil, fmt.Errorf("ca: options: %w", err)
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(bootstrapLockKey)); err != nil {
			return fmt.Errorf("ca: bootstrap lock: %w", err)
		}
		for _, kind := range []Kind{KindSign, KindAuth} {
			var exists bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM ca_issuers WHERE kind = $1 AND active)", kind).Scan(&exists); err != nil {
				return fmt.Errorf("ca: look up %s CA: %w", kind, err)
			}
			if exists {
				continue
			}
			if err := createIssuer(ctx, tx, h, kind, opts); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c, err := Load(ctx, pool, h, opts)
	if err != nil {
		return nil, err
	}
	if pemDir != "" {
		if err := c.ExportPEM(pemDir); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// bootstrapLockKey serializes Bootstrap across processes.
const bootstrapLockKey = 0x6d61646f_63610002

func createIssuer(ctx context.Context, tx pgx.Tx, h *hsm.HSM, kind Kind, opts Options) error {
	label := opts.label(kind)
	var used bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM ca_issuers WHERE key_label = $1)", label).Scan(&used); err != nil {
		return fmt.Errorf("ca: check key label: %w", err)
	}
	if used {
		// The label belongs to a retired CA; reusing it would re-activate a
		// possibly compromised key.
		return fmt.Errorf("ca: key label %q belongs to a retired %s CA; choose a new label", label, kind)
	}
	signer, created, err := h.FindOrGenerateRSAKey(label, profile.RSABits)
	if err != nil {
		return fmt.Errorf("ca: %s CA key: %w", kind, err)
	}
	pub, ok := signer.Public().(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("ca: %s CA key is not RSA", kind)
	}
	serial, err := newSerial()
	if err != nil {
		return err
	}
	now := opts.Now().UTC().Truncate(time.Second)
	tmpl, err := profile.CATemplate(profile.CAParams{
		Kind: kind, Serial: serial, NotBefore: now, NotAfter: now.AddDate(opts.CAYears, 0, 0), PublicKey: pub,
	})
	if err != nil {
		return fmt.Errorf("ca: %s CA template: %w", kind, err)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, signer)
	if err != nil {
		return fmt.Errorf("ca: self-sign %s CA: %w", kind, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("ca: parse %s CA: %w", kind, err)
	}
	spki := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	_, err = tx.Exec(ctx, `INSERT INTO ca_issuers (kind, key_label, serial, subject, cert_der, spki_sha256, not_before, not_after)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		kind, label, FormatSerial(serial), cert.Subject.String(), der, spki[:], cert.NotBefore, cert.NotAfter)
	if err != nil {
		return fmt.Errorf("ca: store %s CA: %w", kind, err)
	}
	opts.Logger.Info("ca: issuing CA created", "kind", string(kind), "key_label", label, "key_generated", created, "serial", FormatSerial(serial))
	return nil
}

// Load returns a CA for the active issuing CAs in the database, finding their
// keys in the HSM. It fails with ErrNotBootstrapped when a kind is missing
// and ErrIssuerKeyMismatch when the HSM key is not the certificate's.
func Load(ctx context.Context, pool *pgxpool.Pool, h *hsm.HSM, opts Options) (*CA, error) {
	opts = opts.withDefaults()
	if err := profile.CheckRepositoryURL(opts.RepositoryURL); err != nil {
		return nil, fmt.Errorf("ca: options: %w", err)
	}
	c := &CA{pool: pool, hsm: h, opts: opts, issuers: map[Kind]*issuer{}, byID: map[int64]*issuer{}}
	rows, err := pool.Query(ctx, "SELECT id, kind, key_label, cert_der FROM ca_issuers ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("ca: load issuers: %w", err)
	}
	type row struct {
		id    int64
		kind  Kind
		label string
		der   []byte
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.kind, &r.label, &r.der); err != nil {
			rows.Close()
			return nil, fmt.Errorf("ca: load issuers: %w", err)
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ca: load issuers: %w", err)
	}
	active := map[int64]bool{}
	if err := func() error {
		rs, err := pool.Query(ctx, "SELECT id FROM ca_issuers WHERE active")
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var id int64
			if err := rs.Scan(&id); err != nil {
				return err
			}
			active[id] = true
		}
		return rs.Err()
	}(); err != nil {
		return nil, fmt.Errorf("ca: load issuers: %w", err)
	}
	for _, r := range all {
		cert, err := x509.ParseCertificate(r.der)
		if err != nil {
			return nil, fmt.Errorf("ca: stored %s CA certificate: %w", r.kind, err)
		}
		iss := &issuer{id: r.id, kind: r.kind, label: r.label, cert: cert}
		if active[r.id] {
			signer, err := h.FindRSAKey(r.label, profile.RSABits)
			if err != nil {
				return nil, fmt.Errorf("ca: %s CA key %q: %w", r.kind, r.label, err)
			}
			certPub, _ := cert.PublicKey.(*rsa.PublicKey)
			if certPub == nil || !certPub.Equal(signer.Public()) {
				return nil, fmt.Errorf("%w: %s CA, label %q", ErrIssuerKeyMismatch, r.kind, r.label)
			}
			iss.signer = signer
			c.issuers[r.kind] = iss
		}
		// Retired issuers stay known so old certificates can be looked up
		// and checked; they cannot sign.
		c.byID[r.id] = iss
	}
	for _, kind := range []Kind{KindSign, KindAuth} {
		if c.issuers[kind] == nil {
			return nil, fmt.Errorf("%w: %s", ErrNotBootstrapped, kind)
		}
	}
	return c, nil
}

// IssuerCertificate returns the active issuing CA certificate of kind.
func (c *CA) IssuerCertificate(kind Kind) (*x509.Certificate, error) {
	iss := c.issuers[kind]
	if iss == nil {
		return nil, &ValidationError{Field: "Kind", Problem: "must be sign or auth"}
	}
	return iss.cert, nil
}

// IssuerSigner returns the HSM signer of the active issuing CA of kind, for
// the CRL and OCSP publishers.
func (c *CA) IssuerSigner(kind Kind) (crypto.Signer, error) {
	iss := c.issuers[kind]
	if iss == nil {
		return nil, &ValidationError{Field: "Kind", Problem: "must be sign or auth"}
	}
	return iss.signer, nil
}

// PEMFileName is the file ExportPEM writes for kind: sign-ca.pem, auth-ca.pem.
func PEMFileName(kind Kind) string { return string(kind) + "-ca.pem" }

// ExportPEM writes the active CA certificates to dir (created if missing) as
// sign-ca.pem and auth-ca.pem, each replaced atomically.
func (c *CA) ExportPEM(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("ca: export PEM: %w", err)
	}
	for _, kind := range []Kind{KindSign, KindAuth} {
		body := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.issuers[kind].cert.Raw})
		tmp, err := os.CreateTemp(dir, ".ca-*.pem")
		if err != nil {
			return fmt.Errorf("ca: export PEM: %w", err)
		}
		_, werr := tmp.Write(body)
		cerr := tmp.Close()
		if werr == nil {
			werr = cerr
		}
		if werr == nil {
			werr = os.Chmod(tmp.Name(), 0o644)
		}
		if werr == nil {
			werr = os.Rename(tmp.Name(), filepath.Join(dir, PEMFileName(kind)))
		}
		if werr != nil {
			_ = os.Remove(tmp.Name())
			return fmt.Errorf("ca: export PEM %s: %w", kind, werr)
		}
	}
	return nil
}

// now is the CA clock, truncated to whole seconds because certificates and
// CRLs carry seconds only and a stored time must rebuild the same bytes.
func (c *CA) now() time.Time { return c.opts.Now().UTC().Truncate(time.Second) }
