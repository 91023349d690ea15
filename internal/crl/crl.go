// Package crl issues the Organization's certificate revocation lists
// (失効記録, RFC 5280 v2 CRLs) and keeps the daily revocation-information
// files (失効情報ファイル), manual 第1 4 (3).
//
// Each issuing CA (signing, user authentication) publishes one CRL per
// partition — what every certificate's CRL distribution point names: the
// issuing municipality for signing certificates, a shard of the serial for
// user-authentication ones (profile.CRLPartition) — and one full CRL. A
// partition's first CRL is issued when its first certificate is about to be
// signed (EnsurePartition), later ones by every publication. The full CRL
// issued last on a day (Asia/Tokyo) is that day's revocation-information
// file, kept for 10 years.
//
// Generation streams: entries are read from a database cursor, DER-encoded
// and hashed as they go and copied to the database in PostgreSQL's binary
// COPY format, so memory does not grow with the number of entries. The
// digest is signed once by the CA's key in the HSM.
//
// This package does not import internal/ca (it would bring the PKCS#11
// module into every binary that links the activities); it reads the CA's
// tables and signs through the narrow Issuer interface, which *ca.CA
// implements.
package crl

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/madoguchi/madoguchi/internal/ca/profile"
)

// Kind is the certificate kind, and so the issuing CA (= ca.Kind).
type Kind = profile.Kind

// Timing of the lists.
const (
	// Period is how often CRLs are issued (every 24 hours, 第1 4 (3)).
	Period = 24 * time.Hour
	// Grace is added to nextUpdate beyond Period so that a publication
	// delayed by a worker restart or activity retries does not leave
	// verifiers with an expired CRL.
	Grace = 6 * time.Hour
	// KeepSuperseded is how long a CRL that is neither the latest of its
	// scope nor a daily file is kept (for inquiries) before Dispose removes
	// it.
	KeepSuperseded = 7 * 24 * time.Hour
	// RetentionYears is how long daily revocation-information files are
	// kept.
	RetentionYears = 10
)

// Errors.
var (
	// ErrNotFound: no such CRL or daily file (also for a malformed kind or
	// partition, which can never exist).
	ErrNotFound = errors.New("crl: not found")
	// ErrInvalid: a malformed request (kind, partition, run id); retrying
	// cannot help.
	ErrInvalid = errors.New("crl: invalid request")
	// ErrIssuerChanged: the database's active issuing CA is not the one the
	// running CA loaded (a re-key happened); restart the CA worker.
	ErrIssuerChanged = errors.New("crl: active issuing CA differs from the loaded one")
)

// Issuer is what the publisher needs of the CA: *ca.CA implements it.
type Issuer interface {
	IssuerCertificate(kind profile.Kind) (*x509.Certificate, error)
	IssuerSigner(kind profile.Kind) (crypto.Signer, error)
}

// Queryer reads one row; *pgxpool.Pool, *pgx.Conn and pgx.Tx implement it.
type Queryer interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// DB is the Organization's database as the publisher uses it:
// *pgxpool.Pool implements it. Each CRL takes two connections at once, one
// reading a snapshot, one copying the result.
type DB interface {
	Queryer
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Options configure a Publisher; the zero value is usable.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger gets one line per full CRL and per publication; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Publisher issues CRLs. It is safe for concurrent use but makes one CRL at
// a time; publishers in other processes serialize per scope on its
// crl_current row.
type Publisher struct {
	ca   Issuer
	db   DB
	now  func() time.Time
	log  *slog.Logger
	wait func() // test hook: runs after the number lock, before the snapshot
	// sem lets one CRL at a time be made: each holds two connections (the
	// writer waits for a reader), so publishers sharing a pool could
	// otherwise take every connection as writers and wait for ever.
	sem chan struct{}
}

// NewPublisher returns a Publisher signing with c's issuing CAs.
func NewPublisher(c Issuer, db DB, opts Options) *Publisher {
	p := &Publisher{ca: c, db: db, now: opts.Now, log: opts.Logger, sem: make(chan struct{}, 1)}
	if p.now == nil {
		p.now = time.Now
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	return p
}

// Result describes one CRL.
type Result struct {
	Kind       Kind      `json:"kind"`
	Partition  string    `json:"partition"` // municipality code or "s00"–"s63"; "" = full CRL
	Number     int64     `json:"number"`
	ThisUpdate time.Time `json:"thisUpdate"`
	NextUpdate time.Time `json:"nextUpdate"`
	Entries    int64     `json:"entries"`
	Bytes      int64     `json:"bytes"`
	// Day is the daily file this full CRL became (YYYY-MM-DD, JST); empty
	// for partitions.
	Day string `json:"day,omitempty"`
	// Skipped: this run had already issued this scope (a retry); Number
	// etc. describe that CRL. Also set, with nothing else, when
	// EnsurePartition found the partition published meanwhile.
	Skipped bool `json:"skipped"`
}

// Summary describes a publication of one CA.
type Summary struct {
	Kind       Kind   `json:"kind"`
	Partitions int    `json:"partitions"`
	Issued     int    `json:"issued"`  // partition CRLs issued now
	Skipped    int    `json:"skipped"` // partition CRLs this run had issued before
	Full       Result `json:"full"`
}

// issuerInfo is the active CA of a kind.
type issuerInfo struct {
	id     int64
	kind   Kind
	cert   *x509.Certificate
	signer crypto.Signer
	keyID  []byte
}

func (p *Publisher) issuer(ctx context.Context, kind Kind) (*issuerInfo, error) {
	if !kind.Valid() {
		return nil, fmt.Errorf("%w: kind %q", ErrInvalid, kind)
	}
	cert, err := p.ca.IssuerCertificate(kind)
	if err != nil {
		return nil, fmt.Errorf("crl: %s CA: %w", kind, err)
	}
	signer, err := p.ca.IssuerSigner(kind)
	if err != nil {
		return nil, fmt.Errorf("crl: %s CA signer: %w", kind, err)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || signer == nil || !pub.Equal(signer.Public()) {
		return nil, fmt.Errorf("crl: %s CA: signer does not match the CA certificate", kind)
	}
	var id int64
	var der []byte
	err = p.db.QueryRow(ctx, "SELECT id, cert_der FROM ca_issuers WHERE kind = $1 AND active", string(kind)).Scan(&id, &der)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: no active %s CA in the database", ErrIssuerChanged, kind)
	}
	if err != nil {
		return nil, fmt.Errorf("crl: look up %s CA: %w", kind, err)
	}
	if string(der) != string(cert.Raw) {
		return nil, fmt.Errorf("%w: %s", ErrIssuerChanged, kind)
	}
	keyID := cert.SubjectKeyId
	if len(keyID) == 0 {
		// RFC 5280 §4.2.1.2 method (1), as profile.KeyID.
		sum := sha1.Sum(x509.MarshalPKCS1PublicKey(pub))
		keyID = sum[:]
	}
	return &issuerInfo{id: id, kind: kind, cert: cert, signer: signer, keyID: keyID}, nil
}

// checkRunID: the run id is the business key stored with every CRL.
func checkRunID(runID string) error {
	if runID == "" || len(runID) > 200 {
		return fmt.Errorf("%w: run id must be 1 to 200 bytes", ErrInvalid)
	}
	return nil
}

// IssueCRL issues one CRL of the active CA of kind: the CRL of a partition
// (profile.ValidCRLPartition), or with partition "" the full CRL, which also
// becomes the day's revocation-information file. runID is the business key
// of the publication: if this run already issued the scope, nothing is
// issued and Skipped is set, so a retried activity does not sign twice.
func (p *Publisher) IssueCRL(ctx context.Context, kind Kind, partition, runID string) (Result, error) {
	if err := checkRunID(runID); err != nil {
		return Result{}, err
	}
	if partition != "" && !profile.ValidCRLPartition(kind, partition) {
		return Result{}, fmt.Errorf("%w: %s partition %q", ErrInvalid, kind, partition)
	}
	iss, err := p.issuer(ctx, kind)
	if err != nil {
		return Result{}, err
	}
	var bases []string
	if partition != "" {
		bases, err = p.partitionBases(ctx, iss, partition)
		if err != nil {
			return Result{}, err
		}
	}
	return p.issue(ctx, iss, scope{partition: partition, bases: bases}, runID)
}

// EnsurePartition makes sure a current CRL of the active CA of kind names
// <repositoryURL>/crl/<kind>/<partition>.crl in its issuingDistributionPoint,
// issuing the partition's CRL now (under runID) if none does yet. The CA
// calls it before it signs a certificate naming that distribution point
// (ca.PartitionCRLs), so a verifier never finds it missing; once the
// partition is published it costs two indexed lookups. Concurrent callers
// for one partition make one CRL: the second finds it published under the
// partition's lock.
func (p *Publisher) EnsurePartition(ctx context.Context, kind Kind, partition, repositoryURL, runID string) error {
	if err := checkRunID(runID); err != nil {
		return err
	}
	if !profile.ValidCRLPartition(kind, partition) {
		return fmt.Errorf("%w: %s partition %q", ErrInvalid, kind, partition)
	}
	iss, err := p.issuer(ctx, kind)
	if err != nil {
		return err
	}
	published, err := p.published(ctx, p.db, iss, partition, repositoryURL)
	if err != nil || published {
		return err
	}
	bases, err := p.partitionBases(ctx, iss, partition)
	if err != nil {
		return err
	}
	res, err := p.issue(ctx, iss, scope{partition: partition, bases: bases, ensureBase: repositoryURL}, runID)
	if err == nil && !res.Skipped {
		p.log.Info("crl: first CRL of a partition issued", "kind", string(kind), "partition", partition,
			"number", res.Number, "run", runID)
	}
	return err
}

// published reports whether a current CRL covers the partition's URI under
// base. No crl_partitions row (no certificate was reserved there) is
// ErrNotFound.
func (p *Publisher) published(ctx context.Context, q Queryer, iss *issuerInfo, partition, base string) (bool, error) {
	var published bool
	err := q.QueryRow(ctx, `SELECT published FROM crl_partitions
		WHERE issuer_id = $1 AND partition = $2 AND repository_url = $3`, iss.id, partition, base).Scan(&published)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, fmt.Errorf("%w: no %s certificate names partition %s under %s", ErrNotFound, iss.kind, partition, base)
	}
	if err != nil {
		return false, fmt.Errorf("crl: partition %s: %w", partition, err)
	}
	return published, nil
}

// partitionBases are the repository URLs under which the certificates of a
// partition name its CRL.
func (p *Publisher) partitionBases(ctx context.Context, iss *issuerInfo, partition string) ([]string, error) {
	rows, err := p.db.Query(ctx, `SELECT repository_url FROM crl_partitions
		WHERE issuer_id = $1 AND partition = $2 ORDER BY repository_url`, iss.id, partition)
	if err != nil {
		return nil, fmt.Errorf("crl: partition %s: %w", partition, err)
	}
	bases, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("crl: partition %s: %w", partition, err)
	}
	if len(bases) == 0 {
		return nil, fmt.Errorf("%w: the %s CA has issued no certificate in partition %s", ErrNotFound, iss.kind, partition)
	}
	return bases, nil
}

// scope is what one CRL covers: a partition with the repository URLs its
// certificates were issued under (its IDP names each), or the full CRL
// (partition ""). ensureBase is set by EnsurePartition: the CRL is not
// issued if, under the partition's lock, that URI turns out published.
type scope struct {
	partition  string
	bases      []string
	ensureBase string
}

func (s scope) uris(kind Kind) []string {
	uris := make([]string, len(s.bases))
	for i, b := range s.bases {
		uris[i] = profile.CRLURL(b, kind, s.partition)
	}
	return uris
}

// Publish issues every partition CRL of the active CA of kind, then its full
// CRL (the day's file). progress, if set, is called after each CRL with the
// number done and the total (the activity heartbeats with it).
func (p *Publisher) Publish(ctx context.Context, kind Kind, runID string, progress func(done, total int)) (Summary, error) {
	if err := checkRunID(runID); err != nil {
		return Summary{}, err
	}
	iss, err := p.issuer(ctx, kind)
	if err != nil {
		return Summary{}, err
	}
	rows, err := p.db.Query(ctx, `SELECT partition, array_agg(repository_url ORDER BY repository_url)
		FROM crl_partitions WHERE issuer_id = $1 GROUP BY partition ORDER BY partition`, iss.id)
	if err != nil {
		return Summary{}, fmt.Errorf("crl: list partitions: %w", err)
	}
	parts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (scope, error) {
		var sc scope
		err := r.Scan(&sc.partition, &sc.bases)
		return sc, err
	})
	if err != nil {
		return Summary{}, fmt.Errorf("crl: list partitions: %w", err)
	}
	sum := Summary{Kind: kind, Partitions: len(parts)}
	for i, sc := range parts {
		res, err := p.issue(ctx, iss, sc, runID)
		if err != nil {
			return sum, err
		}
		if res.Skipped {
			sum.Skipped++
		} else {
			sum.Issued++
		}
		if progress != nil {
			progress(i+1, len(parts)+1)
		}
	}
	sum.Full, err = p.issue(ctx, iss, scope{}, runID)
	if err != nil {
		return sum, err
	}
	if progress != nil {
		progress(len(parts)+1, len(parts)+1)
	}
	p.log.Info("crl: published", "kind", string(kind), "run", runID, "partitions", sum.Partitions,
		"issued", sum.Issued, "skipped", sum.Skipped, "full_number", sum.Full.Number, "full_entries", sum.Full.Entries,
		"day", sum.Full.Day)
	return sum, nil
}

// entryFilter selects the entries of a scope: $1 kind, $2 issuer, $3
// thisUpdate, $4 the partition for a partition CRL. The covering partial
// index ca_certificates_crl_entries (migrations 0002, 0004) makes both
// queries index-only scans. revoked_at is NULL for a released hold, so it
// drops out. A certificate whose validity ended before thisUpdate is not
// listed (manual 第1 4 (3) イ: 有効期間満了となった電子証明書に係る失効情報は失効記録には
// 記載されない; notAfter itself is still within the validity, RFC 5280
// §4.1.2.5). A revocation dated after thisUpdate (the CA accepts times a few
// minutes ahead of its clock) is not in effect yet and waits for the next
// CRL.
func entryFilter(partition string) string {
	f := "kind = $1 AND issuer_id = $2 AND revoked_at IS NOT NULL AND not_after >= $3 AND revoked_at <= $3"
	if partition != "" {
		f += " AND crl_partition = $4"
	}
	return f
}

// issue issues one CRL. The write transaction first locks the scope's
// crl_current row (allocating the next number); only then does the read
// transaction take its snapshot, so a CRL with a higher number never lists
// less than one with a lower number.
func (p *Publisher) issue(ctx context.Context, iss *issuerInfo, sc scope, runID string) (Result, error) {
	partition, uris := sc.partition, sc.uris(iss.kind)
	res := Result{Kind: iss.kind, Partition: partition}
	select {
	case p.sem <- struct{}{}:
		defer func() { <-p.sem }()
	case <-ctx.Done():
		return res, ctx.Err()
	}
	wtx, err := p.db.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return res, fmt.Errorf("crl: begin: %w", err)
	}
	defer func() { _ = wtx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := wtx.Exec(ctx, `INSERT INTO crl_current (issuer_id, scope) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
		iss.id, partition); err != nil {
		return res, fmt.Errorf("crl: number row: %w", err)
	}
	var (
		last    int64
		curThis *time.Time
	)
	err = wtx.QueryRow(ctx, `SELECT c.last_number, i.this_update
		FROM crl_current c LEFT JOIN crl_issued i ON i.id = c.crl_id
		WHERE c.issuer_id = $1 AND c.scope = $2 FOR UPDATE OF c`, iss.id, partition).Scan(&last, &curThis)
	if err != nil {
		return res, fmt.Errorf("crl: lock number: %w", err)
	}
	// Under the lock, a CRL of this scope from this run is final: a retry
	// (or a run another run overtook) reports it instead of signing again.
	err = wtx.QueryRow(ctx, `SELECT crl_number, this_update, next_update, entries, octet_length(der) FROM crl_issued
		WHERE issuer_id = $1 AND scope = $2 AND run_id = $3 ORDER BY crl_number DESC LIMIT 1`, iss.id, partition, runID).
		Scan(&res.Number, &res.ThisUpdate, &res.NextUpdate, &res.Entries, &res.Bytes)
	switch {
	case err == nil:
		res.Skipped, res.ThisUpdate, res.NextUpdate = true, res.ThisUpdate.UTC(), res.NextUpdate.UTC()
		if partition == "" {
			res.Day = profile.DateIn(res.ThisUpdate, profile.JST).Format(time.DateOnly)
		}
		return res, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return res, fmt.Errorf("crl: look up run: %w", err)
	}
	if sc.ensureBase != "" {
		// Another issuance (or the daily run) may have published the
		// partition while this one waited for the lock.
		published, err := p.published(ctx, wtx, iss, partition, sc.ensureBase)
		if err != nil {
			return res, err
		}
		if published {
			res.Skipped = true
			return res, nil
		}
	}
	number := last + 1
	if p.wait != nil {
		p.wait()
	}

	rtx, err := p.db.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return res, fmt.Errorf("crl: begin snapshot: %w", err)
	}
	defer func() { _ = rtx.Rollback(context.WithoutCancel(ctx)) }()
	// The snapshot is taken by the first statement; thisUpdate is read
	// after it, so every revocation the snapshot sees is dated no later
	// than thisUpdate (but for the future-dated ones filtered out).
	if _, err := rtx.Exec(ctx, "SELECT 1"); err != nil {
		return res, fmt.Errorf("crl: snapshot: %w", err)
	}
	thisUpdate := p.now().UTC().Truncate(time.Second)
	if curThis != nil && thisUpdate.Before(*curThis) {
		// Never go back in time within a scope (clock skew between
		// workers): verifiers pick the CRL with the latest thisUpdate.
		thisUpdate = curThis.UTC()
	}
	nextUpdate := thisUpdate.Add(Period + Grace)
	args := []any{string(iss.kind), iss.id, thisUpdate}
	if partition != "" {
		args = append(args, partition)
	}
	var sz sizes
	// Mirrors serialContentLen, needsGenTime and the reason rule of
	// appendEntry; writeList checks that the entries add up exactly.
	// Serials are stored canonical (lower-case hex, no leading zeros): the
	// INTEGER content is half the digits rounded up, plus a 0x00 when an
	// even count starts with 8–f (ASCII ≥ '8'). A stored serial breaking
	// that rule makes writeList fail, never a wrong CRL.
	err = rtx.QueryRow(ctx, `SELECT count(*),
			coalesce(sum((octet_length(serial) + 1) / 2 + (octet_length(serial) % 2 = 0 AND ascii(serial) >= 56)::int), 0),
			count(*) FILTER (WHERE revoked_at >= '2050-01-01 00:00:00+00' OR revoked_at < '1950-01-01 00:00:00+00'),
			count(*) FILTER (WHERE revocation_reason <> 0)
		FROM ca_certificates WHERE `+entryFilter(partition), args...).
		Scan(&sz.Count, &sz.SerialBytes, &sz.GenTimes, &sz.WithReason)
	if err != nil {
		return res, fmt.Errorf("crl: count entries: %w", err)
	}
	params := listParams{
		IssuerName: iss.cert.RawSubject, KeyID: iss.keyID, ThisUpdate: thisUpdate, NextUpdate: nextUpdate,
		Number: number, DPURIs: uris, SigLen: iss.cert.PublicKey.(*rsa.PublicKey).Size(),
	}
	lay, err := newLayout(params, sz)
	if err != nil {
		return res, err
	}
	if lay.total >= 1<<30 {
		return res, fmt.Errorf("crl: a CRL of %d bytes exceeds what one bytea holds; partition it further", lay.total)
	}
	order := ""
	if partition != "" {
		order = " ORDER BY serial" // small: sorted for readability; the full list streams in index order
	}
	rows, err := rtx.Query(ctx, "SELECT serial, revoked_at, revocation_reason FROM ca_certificates WHERE "+
		entryFilter(partition)+order, args...)
	if err != nil {
		return res, fmt.Errorf("crl: read entries: %w", err)
	}
	defer rows.Close()
	src := &rowSource{rows: rows}

	pub := iss.cert.PublicKey.(*rsa.PublicKey)
	sign := func(digest []byte) ([]byte, error) {
		sig, err := iss.signer.Sign(rand.Reader, digest, crypto.SHA256)
		if err != nil {
			return nil, fmt.Errorf("crl: sign with the %s CA key: %w", iss.kind, err)
		}
		// A faulty HSM answer must not become a published CRL.
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest, sig); err != nil {
			return nil, fmt.Errorf("crl: HSM signature does not verify: %w", err)
		}
		return sig, nil
	}

	pr, pw := io.Pipe()
	genDone := make(chan error, 1)
	go func() {
		err := func() error {
			prefix := copyRowPrefix(iss.id, partition, number, thisUpdate, nextUpdate, sz.Count, runID, lay.total)
			if _, err := pw.Write(prefix); err != nil {
				return err
			}
			if _, err := writeList(pw, lay, src, sign); err != nil {
				return err
			}
			_, err := pw.Write(copyTrailer)
			return err
		}()
		pw.CloseWithError(err) // nil: a clean EOF ends the COPY
		genDone <- err
	}()
	_, copyErr := wtx.Conn().PgConn().CopyFrom(ctx, pr,
		"COPY crl_issued ("+copyColumns+") FROM STDIN (FORMAT binary)")
	_ = pr.CloseWithError(errors.New("crl: copy ended")) // unblocks the generator if COPY failed first
	genErr := <-genDone
	if genErr != nil {
		return res, fmt.Errorf("crl: generate %s: %w", scopeName(iss.kind, partition), genErr)
	}
	if copyErr != nil {
		return res, fmt.Errorf("crl: store %s: %w", scopeName(iss.kind, partition), copyErr)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("crl: read entries: %w", err)
	}
	_ = rtx.Rollback(ctx) // read-only: nothing to commit

	var id int64
	if err := wtx.QueryRow(ctx, "SELECT id FROM crl_issued WHERE issuer_id = $1 AND scope = $2 AND crl_number = $3",
		iss.id, partition, number).Scan(&id); err != nil {
		return res, fmt.Errorf("crl: find stored CRL: %w", err)
	}
	if _, err := wtx.Exec(ctx, "UPDATE crl_current SET last_number = $3, crl_id = $4 WHERE issuer_id = $1 AND scope = $2",
		iss.id, partition, number, id); err != nil {
		return res, fmt.Errorf("crl: update current: %w", err)
	}
	if partition != "" {
		// The URIs this CRL's IDP names answer from now on.
		if _, err := wtx.Exec(ctx, `UPDATE crl_partitions SET published = true
			WHERE issuer_id = $1 AND partition = $2 AND repository_url = ANY($3) AND NOT published`,
			iss.id, partition, sc.bases); err != nil {
			return res, fmt.Errorf("crl: mark %s published: %w", scopeName(iss.kind, partition), err)
		}
	}
	res.Number, res.ThisUpdate, res.NextUpdate, res.Entries, res.Bytes = number, thisUpdate, nextUpdate, sz.Count, lay.total
	if partition == "" {
		day := profile.DateIn(thisUpdate, profile.JST).Format(time.DateOnly)
		// The last full CRL of a day is its file: a later one replaces
		// an earlier one, never the reverse.
		if _, err := wtx.Exec(ctx, `INSERT INTO crl_daily_files (issuer_id, day, crl_id) VALUES ($1, $2::date, $3)
			ON CONFLICT (issuer_id, day) DO UPDATE SET crl_id = EXCLUDED.crl_id
			WHERE (SELECT crl_number FROM crl_issued WHERE id = crl_daily_files.crl_id) < $4`,
			iss.id, day, id, number); err != nil {
			return res, fmt.Errorf("crl: daily file: %w", err)
		}
		res.Day = day
	}
	if err := wtx.Commit(ctx); err != nil {
		return res, fmt.Errorf("crl: commit %s: %w", scopeName(iss.kind, partition), err)
	}
	if partition == "" {
		p.log.Info("crl: full CRL issued", "kind", string(iss.kind), "number", number, "entries", sz.Count,
			"bytes", lay.total, "this_update", thisUpdate, "day", res.Day, "run", runID)
	}
	return res, nil
}

func scopeName(kind Kind, partition string) string {
	if partition == "" {
		return string(kind) + " full CRL"
	}
	return string(kind) + " CRL of " + partition
}

// rowSource encodes the rows of the entry query. With pgx's binary result
// format (the default) it decodes the raw values without allocating; any
// other format falls back to Scan.
type rowSource struct {
	rows    pgx.Rows
	checked bool
	raw     bool
}

func (s *rowSource) Next(b []byte) ([]byte, bool, error) {
	if !s.rows.Next() {
		return b, false, s.rows.Err()
	}
	if !s.checked {
		fd := s.rows.FieldDescriptions()
		s.raw = len(fd) == 3 && fd[1].Format == pgx.BinaryFormatCode && fd[2].Format == pgx.BinaryFormatCode
		s.checked = true
	}
	if s.raw {
		v := s.rows.RawValues()
		if len(v[1]) != 8 || len(v[2]) != 2 {
			return b, false, errors.New("crl: unexpected binary row")
		}
		us := int64(binary.BigEndian.Uint64(v[1]))
		sec := us / 1e6
		if us%1e6 < 0 {
			sec-- // floor, as time.Truncate
		}
		at := time.Unix(sec+pgEpoch.Unix(), 0)
		reason := int(int16(binary.BigEndian.Uint16(v[2])))
		return encodeEntry(b, v[0], at, reason)
	}
	var serial string
	var at time.Time
	var reason int16
	if err := s.rows.Scan(&serial, &at, &reason); err != nil {
		return b, false, err
	}
	return encodeEntry(b, []byte(serial), at, int(reason))
}

func encodeEntry(b, serial []byte, at time.Time, reason int) ([]byte, bool, error) {
	out, err := appendEntry(b, serial, at, reason)
	if err != nil {
		return b, false, err
	}
	return out, true, nil
}
