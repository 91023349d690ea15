package ca

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/madoguchi/madoguchi/internal/ca/profile"
)

// Expiry notices (有効期限通知書, issue 12; migration 0008): the Organization
// writes to the holder of a certificate that expires within the coming 3
// months, once per certificate, with a renewal code a proxy brings back on
// the notice's proxy-renewal form.

var (
	// ErrUnknownRenewalCode: no notice carries this renewal code.
	ErrUnknownRenewalCode = errors.New("ca: unknown renewal code")
	// ErrRenewalCodeUsed: another renewal case already used the code.
	ErrRenewalCodeUsed = errors.New("ca: renewal code already used")
	// ErrRenewalCodeExpired: the certificate expired; the code opens no
	// renewal any more (a new issuance is needed).
	ErrRenewalCodeExpired = errors.New("ca: renewal code expired")
)

// NoticeMonths is how long before its expiry a certificate's holder is
// told: renewal opens 3 months before expiry (規則13, 49).
const NoticeMonths = 3

// NoticeHorizon is the latest expiry a run at now notices: the same wall
// time 3 months on in Japan (a day Go normalises forward when the month is
// shorter: 30 November notices until 2 March, not 28 February).
func NoticeHorizon(now time.Time) time.Time {
	return now.In(profile.JST).AddDate(0, NoticeMonths, 0)
}

// ExpiryFacts is what the selection rule reads of a certificate.
type ExpiryFacts struct {
	NotAfter time.Time
	// Revoked includes a hold: a held card is reported lost.
	Revoked bool
	// Superseded: a newer certificate of the same kind was issued to the
	// same holder (a renewal already happened).
	Superseded bool
	// Noticed: its notice was already produced.
	Noticed bool
}

// NoticeDue is the selection rule of the expiry notices: a certificate
// still valid at now, expiring by NoticeHorizon(now), neither revoked nor
// superseded, without a notice. ExpiringCertificates is this rule in SQL.
func NoticeDue(f ExpiryFacts, now time.Time) bool {
	return f.NotAfter.After(now) && !f.NotAfter.After(NoticeHorizon(now)) && !f.Revoked && !f.Superseded && !f.Noticed
}

// ExpiringCertificate is a certificate whose holder is due a notice.
type ExpiringCertificate struct {
	Serial           string
	Kind             Kind
	MunicipalityCode string
	ResidentCode     string
	NotAfter         time.Time
}

// maxExpiringChunk bounds one selection.
const maxExpiringChunk = 1000

// ExpiringCertificates selects, in serial order after the serial after
// ("" from the first), up to limit certificates due a notice at now
// (NoticeDue).
func (c *CA) ExpiringCertificates(ctx context.Context, now time.Time, after string, limit int) ([]ExpiringCertificate, error) {
	if limit < 1 || limit > maxExpiringChunk {
		return nil, &ValidationError{Field: "Limit", Problem: fmt.Sprintf("must be 1 to %d", maxExpiringChunk)}
	}
	rows, err := c.pool.Query(ctx, `SELECT c.serial, c.kind, c.municipality_code, c.resident_code, c.not_after
		FROM ca_certificates c
		WHERE c.cert_der IS NOT NULL AND c.revoked_at IS NULL
		  AND c.not_after > $1 AND c.not_after <= $2 AND c.serial > $3
		  AND NOT EXISTS (SELECT 1 FROM ca_expiry_notices n WHERE n.serial = c.serial)
		  AND NOT EXISTS (SELECT 1 FROM ca_certificates s WHERE s.resident_code = c.resident_code AND s.kind = c.kind
		                  AND s.cert_der IS NOT NULL AND s.issued_at > c.issued_at)
		ORDER BY c.serial LIMIT $4`, now, NoticeHorizon(now), after, limit)
	if err != nil {
		return nil, fmt.Errorf("ca: select expiring certificates: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ExpiringCertificate, error) {
		var e ExpiringCertificate
		err := r.Scan(&e.Serial, &e.Kind, &e.MunicipalityCode, &e.ResidentCode, &e.NotAfter)
		e.NotAfter = e.NotAfter.UTC()
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("ca: select expiring certificates: %w", err)
	}
	return out, nil
}

// ExpiryNoticeNumber is the number a certificate's notice is printed
// under: derived from the serial (so a retry prints the same letter)
// without showing it.
func ExpiryNoticeNumber(serial string) string {
	h := sha256.Sum256([]byte("madoguchi/expiry-notice/v1\x00" + serial))
	return "EN-" + strings.ToUpper(hex.EncodeToString(h[:6]))
}

// ExpiryNotice is a produced notice.
type ExpiryNotice struct {
	Serial        string
	NoticeNumber  string
	RunID         string
	CodeHash      string
	CodeExpiresAt time.Time
	// PDF is nil once the letter was mailed or the code used.
	PDF          []byte
	ProducedAt   time.Time
	MailedAt     time.Time
	MailedBy     string
	UsedByCase   string
	UsedByOffice string
	UsedAt       time.Time
}

// RecordExpiryNotice records a certificate's notice once: a second one for
// the same certificate is dropped (ON CONFLICT DO NOTHING) and created is
// false.
func (c *CA) RecordExpiryNotice(ctx context.Context, n ExpiryNotice) (created bool, err error) {
	switch {
	case len(n.PDF) == 0:
		return false, &ValidationError{Field: "PDF", Problem: "is empty"}
	case n.Serial == "" || n.RunID == "" || n.CodeHash == "":
		return false, &ValidationError{Field: "ExpiryNotice", Problem: "needs the serial, the run and the code's hash"}
	}
	tag, err := c.pool.Exec(ctx, `INSERT INTO ca_expiry_notices (serial, notice_number, run_id, code_hash, code_expires_at, pdf, produced_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (serial) DO NOTHING`,
		n.Serial, ExpiryNoticeNumber(n.Serial), n.RunID, n.CodeHash, n.CodeExpiresAt, n.PDF, n.ProducedAt)
	if err != nil {
		return false, fmt.Errorf("ca: record expiry notice: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// HasExpiryNotice reports whether the certificate's notice was produced.
func (c *CA) HasExpiryNotice(ctx context.Context, serial string) (bool, error) {
	var ok bool
	if err := c.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM ca_expiry_notices WHERE serial = $1)`, serial).Scan(&ok); err != nil {
		return false, fmt.Errorf("ca: expiry notice: %w", err)
	}
	return ok, nil
}

const expiryCols = `serial, notice_number, run_id, code_hash, code_expires_at, pdf, produced_at, mailed_at, mailed_by, used_by_case, used_by_office, used_at`

func scanExpiryNotice(row pgx.Row) (ExpiryNotice, error) {
	var n ExpiryNotice
	var usedBy, office, mailedBy *string
	var usedAt, mailedAt *time.Time
	if err := row.Scan(&n.Serial, &n.NoticeNumber, &n.RunID, &n.CodeHash, &n.CodeExpiresAt, &n.PDF, &n.ProducedAt,
		&mailedAt, &mailedBy, &usedBy, &office, &usedAt); err != nil {
		return ExpiryNotice{}, err
	}
	n.CodeExpiresAt, n.ProducedAt = n.CodeExpiresAt.UTC(), n.ProducedAt.UTC()
	if mailedAt != nil {
		n.MailedAt, n.MailedBy = mailedAt.UTC(), *mailedBy
	}
	if usedBy != nil {
		n.UsedByCase, n.UsedByOffice, n.UsedAt = *usedBy, *office, usedAt.UTC()
	}
	return n, nil
}

// ExpiryNoticeOf returns a certificate's notice, or an error wrapping
// ErrUnknownLetter.
func (c *CA) ExpiryNoticeOf(ctx context.Context, serial string) (ExpiryNotice, error) {
	n, err := scanExpiryNotice(c.pool.QueryRow(ctx, `SELECT `+expiryCols+` FROM ca_expiry_notices WHERE serial = $1`, serial))
	if errors.Is(err, pgx.ErrNoRows) {
		return ExpiryNotice{}, fmt.Errorf("%w: expiry notice of %s", ErrUnknownLetter, serial)
	}
	if err != nil {
		return ExpiryNotice{}, fmt.Errorf("ca: expiry notice: %w", err)
	}
	return n, nil
}

// UnmailedExpiryNotices lists up to limit notices produced and not yet
// mailed, oldest first, with their letters: the mail room's queue.
func (c *CA) UnmailedExpiryNotices(ctx context.Context, limit int) ([]ExpiryNotice, error) {
	if limit < 1 || limit > maxExpiringChunk {
		return nil, &ValidationError{Field: "Limit", Problem: fmt.Sprintf("must be 1 to %d", maxExpiringChunk)}
	}
	rows, err := c.pool.Query(ctx, `SELECT `+expiryCols+` FROM ca_expiry_notices
		WHERE mailed_at IS NULL AND pdf IS NOT NULL ORDER BY produced_at, serial LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("ca: unmailed expiry notices: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ExpiryNotice, error) { return scanExpiryNotice(r) })
	if err != nil {
		return nil, fmt.Errorf("ca: unmailed expiry notices: %w", err)
	}
	return out, nil
}

// MarkExpiryNoticeMailed records that the mail room mailed a notice, once
// (a repeat keeps the first time and clerk), and wipes the letter, which
// holds the renewal code in the clear. An unknown notice number wraps
// ErrUnknownLetter.
func (c *CA) MarkExpiryNoticeMailed(ctx context.Context, noticeNumber, by string, at time.Time) (ExpiryNotice, error) {
	if by == "" {
		return ExpiryNotice{}, &ValidationError{Field: "By", Problem: "who mailed it is required"}
	}
	n, err := scanExpiryNotice(c.pool.QueryRow(ctx, `UPDATE ca_expiry_notices
		SET mailed_at = coalesce(mailed_at, $3), mailed_by = coalesce(mailed_by, $2), pdf = NULL
		WHERE notice_number = $1 RETURNING `+expiryCols, noticeNumber, by, at))
	if errors.Is(err, pgx.ErrNoRows) {
		return ExpiryNotice{}, fmt.Errorf("%w: expiry notice %s", ErrUnknownLetter, noticeNumber)
	}
	if err != nil {
		return ExpiryNotice{}, fmt.Errorf("ca: mark expiry notice mailed: %w", err)
	}
	return n, nil
}

// RenewalHolder is what a renewal code opens: the certificate and its
// holder (the resident code, which the counter checks against its
// register), and the code's use.
type RenewalHolder struct {
	Serial           string
	Kind             Kind
	MunicipalityCode string
	ResidentCode     string
	NotAfter         time.Time
	CodeExpiresAt    time.Time
	UsedByCase       string
}

const renewalCols = `n.serial, c.kind, c.municipality_code, c.resident_code, c.not_after, n.code_expires_at, coalesce(n.used_by_case, '')`

func scanRenewal(row pgx.Row) (RenewalHolder, error) {
	var h RenewalHolder
	err := row.Scan(&h.Serial, &h.Kind, &h.MunicipalityCode, &h.ResidentCode, &h.NotAfter, &h.CodeExpiresAt, &h.UsedByCase)
	h.NotAfter, h.CodeExpiresAt = h.NotAfter.UTC(), h.CodeExpiresAt.UTC()
	return h, err
}

// RenewalCode finds the notice of a renewal code's hash, used or not; an
// unknown one wraps ErrUnknownRenewalCode.
func (c *CA) RenewalCode(ctx context.Context, codeHash string) (RenewalHolder, error) {
	h, err := scanRenewal(c.pool.QueryRow(ctx, `SELECT `+renewalCols+`
		FROM ca_expiry_notices n JOIN ca_certificates c USING (serial) WHERE n.code_hash = $1`, codeHash))
	if errors.Is(err, pgx.ErrNoRows) {
		return RenewalHolder{}, ErrUnknownRenewalCode
	}
	if err != nil {
		return RenewalHolder{}, fmt.Errorf("ca: renewal code: %w", err)
	}
	return h, nil
}

// RedeemRenewalCode marks a renewal code used by a renewal case, once: the
// same case again is answered as the first time (a retried activity); any
// other case is refused with ErrRenewalCodeUsed, a code past its
// certificate's expiry with ErrRenewalCodeExpired. The letter's bytes,
// which hold the code, are wiped.
func (c *CA) RedeemRenewalCode(ctx context.Context, codeHash, caseNumber, office string, at time.Time) (RenewalHolder, error) {
	if caseNumber == "" || office == "" {
		return RenewalHolder{}, &ValidationError{Field: "CaseNumber", Problem: "the case and its office are required"}
	}
	var out RenewalHolder
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		h, err := scanRenewal(tx.QueryRow(ctx, `SELECT `+renewalCols+`
			FROM ca_expiry_notices n JOIN ca_certificates c USING (serial) WHERE n.code_hash = $1 FOR UPDATE OF n`, codeHash))
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrUnknownRenewalCode
		}
		if err != nil {
			return fmt.Errorf("ca: redeem renewal code: %w", err)
		}
		switch {
		case h.UsedByCase == caseNumber:
			out = h
			return nil
		case h.UsedByCase != "":
			return fmt.Errorf("%w (by %s)", ErrRenewalCodeUsed, h.UsedByCase)
		case !at.Before(h.CodeExpiresAt):
			return ErrRenewalCodeExpired
		}
		if _, err := tx.Exec(ctx, `UPDATE ca_expiry_notices SET used_by_case = $2, used_by_office = $3, used_at = $4, pdf = NULL
			WHERE code_hash = $1`, codeHash, caseNumber, office, at); err != nil {
			return fmt.Errorf("ca: redeem renewal code: %w", err)
		}
		h.UsedByCase = caseNumber
		out = h
		return nil
	})
	return out, err
}
