package ca

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/madoguchi/madoguchi/internal/ca/profile"
)

// IssueRequest asks for one certificate. RequestID is the business key (e.g.
// "<case number>/sign"): issuing it again returns the same certificate, and
// reusing it with different content is a ConflictError.
type IssueRequest struct {
	RequestID        string        `json:"request_id"`
	Kind             Kind          `json:"kind"`
	MunicipalityCode string        `json:"municipality_code"`  // issuing (address) municipality, 6 digits
	ResidentCode     string        `json:"resident_code"`      // 住民票コード, 11 digits; recorded, never in the certificate
	Personal         *PersonalInfo `json:"personal,omitempty"` // signing certificate only; nil for auth
	PublicKeyDER     []byte        `json:"public_key_der"`     // SubjectPublicKeyInfo, RSA-2048, e=65537
	NotAfter         time.Time     `json:"not_after"`          // computed by the caller (規則 13, 49)
	// CounterpartSerial is the serial of the same person's certificate of
	// the other kind issued earlier (対応証明書), if any. The link is recorded
	// both ways.
	CounterpartSerial string `json:"counterpart_serial,omitempty"`
}

// String identifies the request without its personal data or resident code.
func (r IssueRequest) String() string {
	return fmt.Sprintf("ca.IssueRequest{RequestID:%q Kind:%s Municipality:%s}", r.RequestID, r.Kind, r.MunicipalityCode)
}

// GoString is String.
func (r IssueRequest) GoString() string { return r.String() }

// IssueResult is an issued certificate.
type IssueResult struct {
	RequestID         string    `json:"request_id"`
	Kind              Kind      `json:"kind"`
	Serial            string    `json:"serial"` // lower-case hex
	CertificateDER    []byte    `json:"certificate_der"`
	NotBefore         time.Time `json:"not_before"`
	NotAfter          time.Time `json:"not_after"`
	RetainUntil       time.Time `json:"retain_until"` // civil date, see RetentionDate
	CounterpartSerial string    `json:"counterpart_serial,omitempty"`
	// Existing is true when the certificate had been issued by an earlier
	// call with the same RequestID.
	Existing bool `json:"existing"`
}

// PairResult holds the two certificates of IssuePair.
type PairResult struct {
	Sign IssueResult `json:"sign"`
	Auth IssueResult `json:"auth"`
}

// Limits on request fields.
const (
	maxRequestIDBytes = 200
	// maxValidityYears bounds NotAfter: at most the 6th birthday after issue
	// (renewal) — a little over six years with the 23:59:59 convention.
	maxValidityYears = 6
	// clockSkew tolerates callers whose clock is slightly ahead.
	clockSkew = 5 * time.Minute
)

// certRow is one ca_certificates row.
type certRow struct {
	Serial        string
	RequestID     string
	Kind          Kind
	IssuerID      int64
	Municipality  string
	CRLPartition  string // what the CRL distribution point names (migration 0004 assigns it)
	ResidentCode  string
	SubjectID     string
	PublicKeyDER  []byte
	RequestDigest []byte
	RepositoryURL string
	NotBefore     time.Time
	NotAfter      time.Time
	RetainUntil   time.Time
	Counterpart   *string
	CertDER       []byte
	IssuedAt      *time.Time
	RevReason     *int16
	RevokedAt     *time.Time
}

const certCols = `serial, request_id, kind, issuer_id, municipality_code, crl_partition, resident_code, subject_id,
	public_key_der, request_digest, repository_url, not_before, not_after, retain_until,
	counterpart_serial, cert_der, issued_at, revocation_reason, revoked_at`

func scanCert(row pgx.Row) (*certRow, error) {
	var r certRow
	var kind string
	err := row.Scan(&r.Serial, &r.RequestID, &kind, &r.IssuerID, &r.Municipality, &r.CRLPartition, &r.ResidentCode, &r.SubjectID,
		&r.PublicKeyDER, &r.RequestDigest, &r.RepositoryURL, &r.NotBefore, &r.NotAfter, &r.RetainUntil,
		&r.Counterpart, &r.CertDER, &r.IssuedAt, &r.RevReason, &r.RevokedAt)
	if err != nil {
		return nil, err
	}
	r.Kind = Kind(kind)
	return &r, nil
}

// queryer is what pool, conn and tx share.
type queryer interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// rowsQueryer is a queryer that also reads many rows.
type rowsQueryer interface {
	queryer
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func getCert(ctx context.Context, q queryer, where string, arg any) (*certRow, error) {
	r, err := scanCert(q.QueryRow(ctx, "SELECT "+certCols+" FROM ca_certificates WHERE "+where, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ca: read certificate: %w", err)
	}
	return r, nil
}

// normalized is a statically validated IssueRequest.
type normalized struct {
	req         IssueRequest
	pub         *rsa.PublicKey
	notAfter    time.Time
	counterpart string
	digest      []byte
}

// validateStatic checks everything that does not depend on the clock or the
// database, so that a retry of an already reserved request is never refused
// because time passed.
func validateStatic(r IssueRequest) (*normalized, error) {
	if err := checkRequestID(r.RequestID); err != nil {
		return nil, err
	}
	if !r.Kind.Valid() {
		return nil, &ValidationError{Field: "Kind", Problem: `must be "sign" or "auth"`}
	}
	if !profile.ValidMunicipalityCode(r.MunicipalityCode) {
		return nil, &ValidationError{Field: "MunicipalityCode", Problem: "must be 6 digits"}
	}
	if !allDigits(r.ResidentCode, 11) {
		return nil, &ValidationError{Field: "ResidentCode", Problem: "must be 11 digits"}
	}
	pub, err := profile.ParsePublicKey(r.PublicKeyDER)
	if err != nil {
		return nil, err
	}
	if r.NotAfter.IsZero() {
		return nil, &ValidationError{Field: "NotAfter", Problem: "is required"}
	}
	switch r.Kind {
	case KindSign:
		if r.Personal == nil || r.Personal.IsZero() {
			return nil, &ValidationError{Field: "Personal", Problem: "is required for a signing certificate"}
		}
		if _, err := profile.ParseDate(r.Personal.DateOfBirth); err != nil {
			return nil, &ValidationError{Field: "Personal.DateOfBirth", Problem: err.Error()}
		}
	case KindAuth:
		if r.Personal != nil && !r.Personal.IsZero() {
			return nil, &ValidationError{Field: "Personal", Problem: "must be empty: a user-authentication certificate carries no personal information"}
		}
	}
	n := &normalized{req: r, pub: pub, notAfter: r.NotAfter.UTC().Truncate(time.Second)}
	if r.CounterpartSerial != "" {
		s, err := CanonicalSerial(r.CounterpartSerial)
		if err != nil {
			return nil, &ValidationError{Field: "CounterpartSerial", Problem: "is not a serial number"}
		}
		n.counterpart = s
	}
	n.digest = requestDigest(n)
	return n, nil
}

func checkRequestID(id string) error {
	if id == "" {
		return &ValidationError{Field: "RequestID", Problem: "is required"}
	}
	if len(id) > maxRequestIDBytes || !utf8.ValidString(id) {
		return &ValidationError{Field: "RequestID", Problem: fmt.Sprintf("must be valid UTF-8 of at most %d bytes", maxRequestIDBytes)}
	}
	if strings.IndexFunc(id, unicode.IsControl) >= 0 || strings.TrimSpace(id) != id {
		return &ValidationError{Field: "RequestID", Problem: "contains control characters or surrounding space"}
	}
	return nil
}

func allDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// requestDigest fingerprints everything a request asks for except the
// RequestID, length-prefixed so that no two requests share an encoding.
func requestDigest(n *normalized) []byte {
	h := sha256.New()
	put := func(h hash.Hash, s string) {
		var l [4]byte
		binary.BigEndian.PutUint32(l[:], uint32(len(s)))
		h.Write(l[:])
		h.Write([]byte(s))
	}
	r := n.req
	put(h, "madoguchi/ca/issue-request/v1")
	put(h, string(r.Kind))
	put(h, r.MunicipalityCode)
	put(h, r.ResidentCode)
	put(h, string(r.PublicKeyDER))
	put(h, strconv.FormatInt(n.notAfter.Unix(), 10))
	put(h, n.counterpart)
	if p := r.Personal; p != nil && !p.IsZero() {
		for _, v := range []string{"personal", p.Name, p.NameSubstitute, p.DateOfBirth, string(p.Sex), p.Address,
			p.AddressSubstitute, p.FormerSurname, p.FormerSurnameSubstitute, p.Alias, p.AliasSubstitute} {
			put(h, v)
		}
	} else {
		put(h, "no-personal")
	}
	return h.Sum(nil)
}

// Issue issues one certificate, exactly once per RequestID.
//
// The first call reserves a row (INSERT … ON CONFLICT (request_id) DO
// NOTHING) holding the random serial, subject identifier, notBefore and the
// request's digest, and commits it; then, holding that row's lock, it builds
// the certificate from the row and the request (verified equal by the
// digest), has the HSM sign it (PKCS#1 v1.5, deterministic), checks it and
// stores the DER. A crash anywhere leaves either nothing, a reservation that
// the retry completes with the same serial and bytes, or the finished
// certificate that the retry returns. Concurrent calls with one RequestID
// serialize on the row and return byte-identical results.
func (c *CA) Issue(ctx context.Context, req IssueRequest) (IssueResult, error) {
	n, err := validateStatic(req)
	if err != nil {
		return IssueResult{}, err
	}
	row, err := getCert(ctx, c.pool, "request_id = $1", n.req.RequestID)
	if err != nil {
		return IssueResult{}, err
	}
	if row == nil {
		if row, err = c.reserve(ctx, n); err != nil {
			return IssueResult{}, err
		}
	}
	if err := sameRequest(row, n); err != nil {
		return IssueResult{}, err
	}
	c.holdAt(ctx, faultReserved, row) // the crash test's fault point; a no-op in production builds
	return c.complete(ctx, row, n)
}

// validateNew checks the clock- and database-dependent rules of a new
// request: validity bounds, the age rule, the counterpart.
func (c *CA) validateNew(ctx context.Context, n *normalized, notBefore time.Time) error {
	iss := c.issuers[n.req.Kind]
	if !n.notAfter.After(notBefore) {
		return &ValidationError{Field: "NotAfter", Problem: "is not in the future"}
	}
	if n.notAfter.After(notBefore.AddDate(maxValidityYears, 0, 2)) {
		return &ValidationError{Field: "NotAfter", Problem: fmt.Sprintf("is more than %d years after issue", maxValidityYears)}
	}
	if n.notAfter.After(iss.cert.NotAfter) {
		return &ValidationError{Field: "NotAfter", Problem: "is after the issuing CA's expiry"}
	}
	if n.req.Kind == KindSign {
		if err := n.req.Personal.Validate(notBefore); err != nil {
			return err
		}
		dob, _ := profile.ParseDate(n.req.Personal.DateOfBirth)
		if !profile.AgeReached(dob, profile.DateIn(notBefore, profile.JST), 15) {
			return &ValidationError{Field: "Personal.DateOfBirth", Problem: "a signing certificate is not issued to a person under 15"}
		}
	}
	if n.counterpart == "" {
		return nil
	}
	cp, err := getCert(ctx, c.pool, "serial = $1", n.counterpart)
	if err != nil {
		return err
	}
	switch {
	case cp == nil || cp.CertDER == nil:
		return &ValidationError{Field: "CounterpartSerial", Problem: "names no issued certificate"}
	case cp.Kind == n.req.Kind:
		return &ValidationError{Field: "CounterpartSerial", Problem: "names a certificate of the same kind"}
	case cp.ResidentCode != n.req.ResidentCode:
		return &ValidationError{Field: "CounterpartSerial", Problem: "names another resident's certificate"}
	case n.req.Kind == KindSign && n.notAfter.After(cp.NotAfter):
		// 規則13 (B): the signing certificate ends no later than the
		// user-authentication certificate.
		return &ValidationError{Field: "NotAfter", Problem: "is after the user-authentication certificate's expiry"}
	}
	return nil
}

// reserve inserts the reservation row, or returns the row a concurrent call
// with the same RequestID inserted first.
func (c *CA) reserve(ctx context.Context, n *normalized) (*certRow, error) {
	notBefore := c.now()
	if err := c.validateNew(ctx, n, notBefore); err != nil {
		return nil, err
	}
	iss := c.issuers[n.req.Kind]
	spki := sha256.Sum256(n.req.PublicKeyDER)
	for attempt := 0; ; attempt++ {
		serial, err := newSerial()
		if err != nil {
			return nil, err
		}
		subjectID, err := newSubjectID()
		if err != nil {
			return nil, err
		}
		var counterpart *string
		if n.counterpart != "" {
			counterpart = &n.counterpart
		}
		_, err = c.pool.Exec(ctx, `INSERT INTO ca_certificates (serial, request_id, kind, issuer_id, municipality_code,
				resident_code, subject_id, public_key_der, spki_sha256, request_digest, repository_url, not_before,
				not_after, retain_until, counterpart_serial)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
			ON CONFLICT (request_id) DO NOTHING`,
			FormatSerial(serial), n.req.RequestID, string(n.req.Kind), iss.id, n.req.MunicipalityCode,
			n.req.ResidentCode, subjectID, n.req.PublicKeyDER, spki[:], n.digest, c.opts.RepositoryURL, notBefore,
			n.notAfter, RetentionDate(n.notAfter), counterpart)
		if err == nil {
			break
		}
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
			return nil, fmt.Errorf("ca: reserve %s: %w", n.req.RequestID, err)
		}
		// A unique index other than request_id fired. A concurrent call
		// with our RequestID may have won the race on the key index;
		// then its row is ours.
		row, rerr := getCert(ctx, c.pool, "request_id = $1", n.req.RequestID)
		if rerr != nil {
			return nil, rerr
		}
		if row != nil {
			return row, nil
		}
		switch pgErr.ConstraintName {
		case "ca_certificates_spki_sha256_key":
			return nil, fmt.Errorf("%w (request %q)", ErrPublicKeyReused, n.req.RequestID)
		case "ca_certificates_pkey":
			if attempt < 3 { // a 127-bit collision: draw again
				continue
			}
		}
		return nil, fmt.Errorf("ca: reserve %s: %w", n.req.RequestID, err)
	}
	row, err := getCert(ctx, c.pool, "request_id = $1", n.req.RequestID)
	if err != nil {
		return nil, err
	}
	if row == nil {
		return nil, fmt.Errorf("ca: reservation of %q vanished", n.req.RequestID)
	}
	return row, nil
}

// sameRequest refuses a RequestID reused with different content.
func sameRequest(row *certRow, n *normalized) error {
	if bytes.Equal(row.RequestDigest, n.digest) {
		return nil
	}
	field := "request"
	if !bytes.Equal(row.PublicKeyDER, n.req.PublicKeyDER) {
		field = profile.FieldPublicKey
	}
	return &ConflictError{RequestID: n.req.RequestID, Field: field}
}

// complete signs and stores the certificate of a reserved row unless it is
// already there, and returns it.
func (c *CA) complete(ctx context.Context, row *certRow, n *normalized) (IssueResult, error) {
	if row.CertDER != nil {
		return resultOf(row, true), nil
	}
	// The certificate names its partition's CRL: that CRL must answer
	// before the certificate exists (docs/CRL.md). Outside the row lock, as
	// it may wait for a CRL another publication is making.
	if err := c.ensurePartitionCRL(ctx, row); err != nil {
		return IssueResult{}, err
	}
	existing := false
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		locked, err := getCert(ctx, tx, "serial = $1 FOR UPDATE", row.Serial)
		if err != nil {
			return err
		}
		if locked == nil {
			return fmt.Errorf("ca: reservation %s vanished", row.Serial)
		}
		if locked.CertDER != nil {
			*row = *locked
			existing = true
			return nil
		}
		der, err := c.sign(locked, n)
		if err != nil {
			return err
		}
		issuedAt := c.now()
		if _, err := tx.Exec(ctx, "UPDATE ca_certificates SET cert_der = $1, issued_at = $2 WHERE serial = $3",
			der, issuedAt, locked.Serial); err != nil {
			return fmt.Errorf("ca: store certificate %s: %w", locked.Serial, err)
		}
		if locked.Counterpart != nil {
			// Link the counterpart back to this, its newest partner.
			if _, err := tx.Exec(ctx, "UPDATE ca_certificates SET counterpart_serial = $1 WHERE serial = $2",
				locked.Serial, *locked.Counterpart); err != nil {
				return fmt.Errorf("ca: link counterpart of %s: %w", locked.Serial, err)
			}
		}
		locked.CertDER, locked.IssuedAt = der, &issuedAt
		*row = *locked
		return nil
	})
	if err != nil {
		return IssueResult{}, err
	}
	if !existing {
		c.holdAt(ctx, faultSigned, row) // the crash test's fault point; a no-op in production builds
		c.opts.Logger.Info("ca: certificate issued", "kind", string(row.Kind), "serial", row.Serial,
			"request_id", row.RequestID, "municipality", row.Municipality, "not_after", row.NotAfter)
	}
	return resultOf(row, existing), nil
}

// sign builds the certificate from the row (serial, subject id, validity,
// repository, issuer) and the verified request (key, personal data), signs it
// in the HSM and checks the result.
func (c *CA) sign(row *certRow, n *normalized) ([]byte, error) {
	iss := c.byID[row.IssuerID]
	if iss == nil || iss.signer == nil {
		return nil, fmt.Errorf("ca: issuer %d of reservation %s is not active", row.IssuerID, row.Serial)
	}
	serial, err := ParseSerial(row.Serial)
	if err != nil {
		return nil, err
	}
	pub, err := profile.ParsePublicKey(row.PublicKeyDER)
	if err != nil {
		return nil, err
	}
	// The database assigned the partition (and keeps the CRL for it); the
	// profile derives the one the certificate names. They must agree, or
	// the certificate would name a CRL nobody publishes.
	if want := profile.CRLPartition(row.Kind, serial, row.Municipality); row.CRLPartition != want {
		return nil, fmt.Errorf("%w: reservation %s is in CRL partition %q, its certificate would name %q",
			ErrPartitionMismatch, row.Serial, row.CRLPartition, want)
	}
	var personal *PersonalInfo
	if row.Kind == KindSign {
		personal = n.req.Personal
	}
	tmpl, err := profile.LeafTemplate(profile.LeafParams{
		Kind: row.Kind, Serial: serial, SubjectID: row.SubjectID, MunicipalityCode: row.Municipality,
		NotBefore: row.NotBefore, NotAfter: row.NotAfter, PublicKey: pub, Personal: personal,
		RepositoryURL: row.RepositoryURL,
	})
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, iss.cert, pub, iss.signer)
	if err != nil {
		return nil, fmt.Errorf("ca: sign %s: %w", row.Serial, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ca: parse issued %s: %w", row.Serial, err)
	}
	if err := cert.CheckSignatureFrom(iss.cert); err != nil {
		return nil, fmt.Errorf("ca: issued %s does not verify: %w", row.Serial, err)
	}
	if !bytes.Equal(cert.RawSubjectPublicKeyInfo, row.PublicKeyDER) {
		return nil, fmt.Errorf("ca: issued %s certifies another key", row.Serial)
	}
	return der, nil
}

func resultOf(r *certRow, existing bool) IssueResult {
	res := IssueResult{
		RequestID: r.RequestID, Kind: r.Kind, Serial: r.Serial, CertificateDER: r.CertDER,
		NotBefore: r.NotBefore.UTC(), NotAfter: r.NotAfter.UTC(), RetainUntil: r.RetainUntil, Existing: existing,
	}
	if r.Counterpart != nil {
		res.CounterpartSerial = *r.Counterpart
	}
	return res
}

// IssuePair issues a user-authentication and a signing certificate for one
// person together and links them as counterparts (対応証明書) both ways. The
// authentication certificate is issued first, so the signing request's
// CounterpartSerial is set to it (leave it empty, or equal); the signing
// certificate may not outlive the authentication one. Retrying with the same
// two requests returns the same pair.
func (c *CA) IssuePair(ctx context.Context, sign, auth IssueRequest) (PairResult, error) {
	if sign.Kind != KindSign {
		return PairResult{}, &ValidationError{Field: "sign.Kind", Problem: `must be "sign"`}
	}
	if auth.Kind != KindAuth {
		return PairResult{}, &ValidationError{Field: "auth.Kind", Problem: `must be "auth"`}
	}
	if auth.CounterpartSerial != "" {
		return PairResult{}, &ValidationError{Field: "auth.CounterpartSerial", Problem: "must be empty in a pair"}
	}
	if sign.ResidentCode != auth.ResidentCode || sign.MunicipalityCode != auth.MunicipalityCode {
		return PairResult{}, &ValidationError{Field: "sign", Problem: "resident and municipality must equal the auth request's"}
	}
	if sign.RequestID == auth.RequestID {
		return PairResult{}, &ValidationError{Field: "sign.RequestID", Problem: "must differ from the auth request's"}
	}
	if sign.NotAfter.After(auth.NotAfter) {
		return PairResult{}, &ValidationError{Field: "sign.NotAfter", Problem: "is after the user-authentication certificate's expiry"}
	}
	// Refuse a signing request that can never succeed before issuing the
	// authentication certificate.
	if _, err := validateStatic(sign); err != nil {
		return PairResult{}, err
	}
	if existing, err := getCert(ctx, c.pool, "request_id = $1", sign.RequestID); err != nil {
		return PairResult{}, err
	} else if existing == nil {
		dob, _ := profile.ParseDate(sign.Personal.DateOfBirth)
		if !profile.AgeReached(dob, profile.DateIn(c.now(), profile.JST), 15) {
			return PairResult{}, &ValidationError{Field: "Personal.DateOfBirth", Problem: "a signing certificate is not issued to a person under 15"}
		}
	}
	a, err := c.Issue(ctx, auth)
	if err != nil {
		return PairResult{}, fmt.Errorf("ca: pair, auth: %w", err)
	}
	if sign.CounterpartSerial != "" {
		if cs, err := CanonicalSerial(sign.CounterpartSerial); err != nil || cs != a.Serial {
			return PairResult{}, &ValidationError{Field: "sign.CounterpartSerial", Problem: "must be empty or the auth certificate's serial"}
		}
	}
	sign.CounterpartSerial = a.Serial
	s, err := c.Issue(ctx, sign)
	if err != nil {
		return PairResult{}, fmt.Errorf("ca: pair, sign: %w", err)
	}
	// The auth row was linked to the signing certificate when the latter was
	// stored; report it as it is now.
	row, err := getCert(ctx, c.pool, "serial = $1", a.Serial)
	if err != nil {
		return PairResult{}, err
	}
	if row != nil && row.Counterpart != nil {
		a.CounterpartSerial = *row.Counterpart
	}
	return PairResult{Sign: s, Auth: a}, nil
}
