package crl

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/madoguchi/madoguchi/internal/ca/profile"
)

// Latest returns the latest CRL of the active issuing CA of kind for a
// partition (what the certificates' CRL distribution point
// <repo>/crl/<kind>/<partition>.crl names: profile.ValidCRLPartition), or
// with partition "" its full CRL. It answers ErrNotFound when none was issued
// yet (no certificate names the partition), and for a malformed kind or
// partition.
func Latest(ctx context.Context, pool Queryer, kind Kind, partition string) (der []byte, thisUpdate, nextUpdate time.Time, err error) {
	if !kind.Valid() || (partition != "" && !profile.ValidCRLPartition(kind, partition)) {
		return nil, time.Time{}, time.Time{}, fmt.Errorf("%w: %s CRL %q", ErrNotFound, kind, partition)
	}
	err = pool.QueryRow(ctx, `SELECT i.der, i.this_update, i.next_update
		FROM crl_current c
		JOIN ca_issuers s ON s.id = c.issuer_id AND s.active
		JOIN crl_issued i ON i.id = c.crl_id
		WHERE s.kind = $1 AND c.scope = $2`, string(kind), partition).Scan(&der, &thisUpdate, &nextUpdate)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, time.Time{}, time.Time{}, fmt.Errorf("%w: %s", ErrNotFound, scopeName(kind, partition))
	}
	if err != nil {
		return nil, time.Time{}, time.Time{}, fmt.Errorf("crl: read %s: %w", scopeName(kind, partition), err)
	}
	return der, thisUpdate.UTC(), nextUpdate.UTC(), nil
}

// DailyFile returns the revocation-information file (失効情報ファイル) of the
// CA of kind for a day: the full CRL (DER) issued last on that day. The day
// is the Asia/Tokyo civil date of the instant day, so midnight JST or
// midnight UTC of a date both name that date. Files are kept for
// RetentionYears; ErrNotFound for a day without one.
func DailyFile(ctx context.Context, pool Queryer, kind Kind, day time.Time) ([]byte, error) {
	if !kind.Valid() {
		return nil, fmt.Errorf("%w: kind %q", ErrNotFound, kind)
	}
	d := profile.DateIn(day, profile.JST).Format(time.DateOnly)
	var der []byte
	// After a CA re-key two issuers of one kind may have a file for the
	// same day; the newer list answers.
	err := pool.QueryRow(ctx, `SELECT i.der FROM crl_daily_files f
		JOIN ca_issuers s ON s.id = f.issuer_id
		JOIN crl_issued i ON i.id = f.crl_id
		WHERE s.kind = $1 AND f.day = $2::date
		ORDER BY i.this_update DESC, f.issuer_id DESC LIMIT 1`, string(kind), d).Scan(&der)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s revocation file of %s", ErrNotFound, kind, d)
	}
	if err != nil {
		return nil, fmt.Errorf("crl: read %s revocation file of %s: %w", kind, d, err)
	}
	return der, nil
}

// Execer runs a statement; *pgxpool.Pool implements it.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Disposed counts what Dispose removed.
type Disposed struct {
	// DailyFiles are the day entries older than RetentionYears.
	DailyFiles int64 `json:"dailyFiles"`
	// CRLs are the stored lists no longer referenced (superseded for more
	// than KeepSuperseded, or the CRL of a disposed day).
	CRLs int64 `json:"crls"`
}

// DisposeCutoff is the first day whose file is still kept at now: the files
// of days before it are more than RetentionYears old. The file of day D is
// kept through D + 10 years and disposable from the day after.
func DisposeCutoff(now time.Time) time.Time {
	return profile.DateIn(now, profile.JST).AddDate(-RetentionYears, 0, 0)
}

// Dispose removes the daily files older than RetentionYears at now and the
// CRLs nothing refers to any more that were issued more than KeepSuperseded
// before now. The PublishRevocationLists workflow runs it after each daily
// publication, so it follows the same Temporal Schedule.
func Dispose(ctx context.Context, db Execer, now time.Time) (Disposed, error) {
	var out Disposed
	tag, err := db.Exec(ctx, "DELETE FROM crl_daily_files WHERE day < $1::date", DisposeCutoff(now).Format(time.DateOnly))
	if err != nil {
		return out, fmt.Errorf("crl: dispose daily files: %w", err)
	}
	out.DailyFiles = tag.RowsAffected()
	tag, err = db.Exec(ctx, `DELETE FROM crl_issued i WHERE i.this_update < $1
		AND NOT EXISTS (SELECT 1 FROM crl_current c WHERE c.crl_id = i.id)
		AND NOT EXISTS (SELECT 1 FROM crl_daily_files f WHERE f.crl_id = i.id)`, now.Add(-KeepSuperseded))
	if err != nil {
		return out, fmt.Errorf("crl: dispose superseded CRLs: %w", err)
	}
	out.CRLs = tag.RowsAffected()
	return out, nil
}
