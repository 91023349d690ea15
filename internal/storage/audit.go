package storage

// The tamper-evident audit trail (issue 12, 第3 10 準拠性監査).
//
// Chained tables: case_events only, the audit trail every procedure writes
// through RecordEvent (who did which step of which case, when). It is the
// record the compliance audit reads; the other tables that record acts
// (delegation_events, register_events, and the disposals and access log of
// issue 12 once they exist) are not chained yet: docs/AUDIT.md.
//
// Each office has one chain: a row's office is its case's office
// (cases.municipality_code), copied onto the row. A row carries its place
// (chain_seq, from 1), the hash of the row before it in its office's chain
// (prev_hash, 32 zero bytes for the first) and its own hash (row_hash):
// SHA-256 over CaseEventHash's canonical encoding of the office, the seq, the
// previous hash and the row's content. RecordEvent writes the row and
// advances the office's head (audit_chain_heads) in one transaction with the
// head locked FOR UPDATE, so concurrent inserts of one office chain one after
// the other. Daily anchors (audit_anchors) keep each office's head per day.
// VerifyAuditChain walks a chain and reports the first broken link.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"time"

	"github.com/jackc/pgx/v5"
)

// caseEventTag opens the canonical encoding of a case event (its version).
const caseEventTag = "madoguchi.case_events.v1"

// GenesisHash is the previous hash of an office's first row.
var GenesisHash = make([]byte, sha256.Size)

// ChainRow is one chained case event as stored.
type ChainRow struct {
	Office     string
	Seq        int64
	PrevHash   []byte
	RowHash    []byte
	CaseNumber string
	EventKey   string
	Actor      string
	Detail     string
	At         time.Time
	// rehash, when set, recomputes the hash of a row of another chain (the
	// access log's, access_chain.go) instead of a case event's.
	rehash func(ChainRow) []byte
}

// CaseEventHash is a case event's hash: SHA-256 over its canonical encoding,
// each text field as its UTF-8 length (4 bytes, big endian) then its bytes,
// each integer as 8 bytes big endian: the tag "madoguchi.case_events.v1",
// the office, the seq, the previous hash (32 bytes, as is), the case number,
// the event key, the actor, the detail, and the time in microseconds since
// the Unix epoch (Postgres keeps microseconds). The migration's SQL function
// case_event_hash is the same encoding, for the rows it chained.
func CaseEventHash(office string, seq int64, prev []byte, caseNumber, eventKey, actor, detail string, at time.Time) []byte {
	h := newChainHash(caseEventTag, office, seq, prev)
	h.field(caseNumber)
	h.field(eventKey)
	h.field(actor)
	h.field(detail)
	h.integer(at.UnixMicro())
	return h.sum()
}

// chainHash is the canonical encoding every chain's rows are hashed in:
// text as its UTF-8 length (4 bytes, big endian) then its bytes, integers
// as 8 bytes big endian, opened by the chain's tag, the office, the seq
// and the previous hash (32 bytes, as is).
type chainHash struct{ h hash.Hash }

func newChainHash(tag, office string, seq int64, prev []byte) chainHash {
	c := chainHash{sha256.New()}
	c.field(tag)
	c.field(office)
	c.integer(seq)
	c.h.Write(prev)
	return c
}

func (c chainHash) field(s string) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(s)))
	c.h.Write(n[:])
	c.h.Write([]byte(s))
}

func (c chainHash) integer(v int64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(v))
	c.h.Write(b[:])
}

func (c chainHash) sum() []byte { return c.h.Sum(nil) }

// Hash recomputes the row's hash from its content.
func (r ChainRow) Hash() []byte {
	if r.rehash != nil {
		return r.rehash(r)
	}
	return CaseEventHash(r.Office, r.Seq, r.PrevHash, r.CaseNumber, r.EventKey, r.Actor, r.Detail, r.At)
}

// The reasons of a broken link.
const (
	// BreakChanged: the row's content no longer gives its hash (a row edited).
	BreakChanged = "row_changed"
	// BreakLink: the row does not follow the row before it (a row before it
	// deleted, replaced, or rows reordered).
	BreakLink = "link_broken"
	// BreakMissing: the chain skips a place (a row deleted or moved away).
	BreakMissing = "row_missing"
	// BreakHead: the chain ends before, or elsewhere than, its recorded head
	// (rows at the end deleted).
	BreakHead = "head_mismatch"
	// BreakAnchor: the chain disagrees with a day's anchor (rewritten since).
	BreakAnchor = "anchor_mismatch"
)

// ChainBreak is the first broken link of a chain.
type ChainBreak struct {
	// Seq is the place in the chain where it breaks.
	Seq        int64  `json:"seq"`
	CaseNumber string `json:"caseNumber,omitempty"`
	EventKey   string `json:"eventKey,omitempty"`
	Reason     string `json:"reason"`
	Message    string `json:"message"`
}

// ChainReport is the outcome of one office's verification.
type ChainReport struct {
	Office   string      `json:"office"`
	OK       bool        `json:"ok"`
	Rows     int64       `json:"rows"`
	HeadSeq  int64       `json:"headSeq"`
	HeadHash string      `json:"headHash"`
	Anchors  int         `json:"anchorsChecked"`
	Break    *ChainBreak `json:"firstBreak,omitempty"`
	// Chain names the chain: "" for the case events, "access_log" for the
	// access log's (VerifyAccessChain).
	Chain string `json:"chain,omitempty"`
	// AccessLog is the office's access-log chain's report, when the case
	// events' report carries it (GET /api/audit/chain).
	AccessLog *ChainReport `json:"accessLog,omitempty"`
}

// AccessLogChain is the Chain of the access log's reports.
const AccessLogChain = "access_log"

// AuditAnchor is an office's chain head as recorded on a day.
type AuditAnchor struct {
	// Chain is "" for the case events' chain, AccessLogChain for the
	// access log's.
	Chain  string
	Office string
	Day    time.Time
	Seq    int64
	Hash   []byte
}

// ChainChecker walks one office's chain, row by row in seq order, and keeps
// the first broken link. It holds no rows, so a chain of any length is
// checked in constant memory.
type ChainChecker struct {
	office  string
	next    int64
	prev    []byte
	rows    int64
	anchors map[int64][]AuditAnchor
	checked int
	brk     *ChainBreak
}

// NewChainChecker starts a check of an office's chain against its anchors.
func NewChainChecker(office string, anchors []AuditAnchor) *ChainChecker {
	k := &ChainChecker{office: office, next: 1, prev: GenesisHash, anchors: map[int64][]AuditAnchor{}}
	for _, a := range anchors {
		k.anchors[a.Seq] = append(k.anchors[a.Seq], a)
	}
	k.anchor(0, GenesisHash, ChainRow{})
	return k
}

// Broken is the first broken link found so far.
func (k *ChainChecker) Broken() *ChainBreak { return k.brk }

func (k *ChainChecker) fail(seq int64, r ChainRow, reason, msg string) {
	if k.brk == nil {
		k.brk = &ChainBreak{Seq: seq, CaseNumber: r.CaseNumber, EventKey: r.EventKey, Reason: reason, Message: msg}
	}
}

func (k *ChainChecker) anchor(seq int64, hash []byte, r ChainRow) {
	for _, a := range k.anchors[seq] {
		k.checked++
		if !bytes.Equal(a.Hash, hash) {
			k.fail(seq, r, BreakAnchor, fmt.Sprintf("the chain at %d is not the one anchored on %s", seq, a.Day.Format(time.DateOnly)))
		}
	}
	delete(k.anchors, seq)
}

// Add checks the next row of the chain (rows come in seq order).
func (k *ChainChecker) Add(r ChainRow) {
	if k.brk != nil {
		return
	}
	k.rows++
	switch {
	case r.Office != k.office:
		k.fail(r.Seq, r, BreakLink, "the row belongs to office "+r.Office)
	case r.Seq != k.next:
		k.fail(k.next, r, BreakMissing, fmt.Sprintf("row %d is missing (the next row is %d): deleted or moved", k.next, r.Seq))
	case !bytes.Equal(r.PrevHash, k.prev):
		k.fail(r.Seq, r, BreakLink, fmt.Sprintf("row %d does not follow row %d: a row deleted, replaced or reordered", r.Seq, r.Seq-1))
	case !bytes.Equal(r.Hash(), r.RowHash):
		k.fail(r.Seq, r, BreakChanged, fmt.Sprintf("row %d was changed after it was recorded", r.Seq))
	}
	if k.brk != nil {
		return
	}
	k.anchor(r.Seq, r.RowHash, r)
	k.prev = r.RowHash
	k.next = r.Seq + 1
}

// Finish checks the end of the chain against the office's head (headSeq 0
// and a nil hash when the office has none) and returns the report.
func (k *ChainChecker) Finish(headSeq int64, headHash []byte) ChainReport {
	if headHash == nil {
		headHash = GenesisHash
	}
	last := k.next - 1
	if k.brk == nil && (headSeq != last || !bytes.Equal(headHash, k.prev)) {
		k.fail(last+1, ChainRow{}, BreakHead, fmt.Sprintf("the chain ends at row %d, its head is row %d: rows at the end deleted, or the head changed", last, headSeq))
	}
	if k.brk == nil {
		for seq, as := range k.anchors {
			for _, a := range as {
				k.fail(last+1, ChainRow{}, BreakAnchor, fmt.Sprintf("the anchor of %s names row %d, the chain ends at %d", a.Day.Format(time.DateOnly), seq, last))
			}
		}
	}
	return ChainReport{Office: k.office, OK: k.brk == nil, Rows: k.rows, HeadSeq: headSeq,
		HeadHash: hex.EncodeToString(headHash), Anchors: k.checked, Break: k.brk}
}

// recordChainedEvent inserts a case event into its office's chain, once per
// (case, key), in tx.
func recordChainedEvent(ctx context.Context, tx pgx.Tx, number, key, actor, detail string, at time.Time) error {
	var office string
	if err := tx.QueryRow(ctx, `SELECT municipality_code FROM cases WHERE case_number = $1`, number).Scan(&office); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("case %s: %w", number, ErrNotFound)
		}
		return err
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM case_events WHERE case_number = $1 AND event_key = $2)`, number, key).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO audit_chain_heads (office_code) VALUES ($1) ON CONFLICT DO NOTHING`, office); err != nil {
		return err
	}
	var seq int64
	var prev []byte
	if err := tx.QueryRow(ctx, `SELECT last_seq, last_hash FROM audit_chain_heads WHERE office_code = $1 FOR UPDATE`, office).Scan(&seq, &prev); err != nil {
		return err
	}
	seq++
	// Postgres keeps microseconds; the hash is over the time as stored.
	at = at.Truncate(time.Microsecond)
	hash := CaseEventHash(office, seq, prev, number, key, actor, detail, at)
	tag, err := tx.Exec(ctx, `INSERT INTO case_events (case_number, event_key, actor, detail, at, office_code, chain_seq, prev_hash, row_hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (case_number, event_key) DO NOTHING`,
		number, key, actor, detail, at, office, seq, prev, hash)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return nil // recorded meanwhile by a concurrent call
	}
	_, err = tx.Exec(ctx, `UPDATE audit_chain_heads SET last_seq = $2, last_hash = $3 WHERE office_code = $1`, office, seq, hash)
	return err
}

// VerifyAuditChain walks an office's chain in one read-only snapshot and
// reports the first broken link; it changes nothing.
func (db *DB) VerifyAuditChain(ctx context.Context, office string) (ChainReport, error) {
	rep, err := db.verifyChain(ctx, office, chainTables{heads: "audit_chain_heads", anchors: "audit_anchors",
		rows: `SELECT office_code, chain_seq, prev_hash, row_hash, case_number, event_key, actor, detail, at
			FROM case_events WHERE office_code = $1 ORDER BY chain_seq`,
		scan: func(rows pgx.Rows) (ChainRow, error) {
			var r ChainRow
			err := rows.Scan(&r.Office, &r.Seq, &r.PrevHash, &r.RowHash, &r.CaseNumber, &r.EventKey, &r.Actor, &r.Detail, &r.At)
			return r, err
		}})
	if err != nil {
		return ChainReport{}, fmt.Errorf("storage: verify audit chain: %w", err)
	}
	return rep, nil
}

// chainTables is where one kind of chain lives: its heads and anchors
// tables (office_code, last_seq, last_hash / office_code, day, seq,
// head_hash), and its rows of an office ($1) in seq order, each scanned
// into a ChainRow that can recompute its hash.
type chainTables struct {
	heads, anchors, rows string
	scan                 func(pgx.Rows) (ChainRow, error)
}

// verifyChain walks one office's chain in one read-only snapshot and
// reports the first broken link.
func (db *DB) verifyChain(ctx context.Context, office string, t chainTables) (ChainReport, error) {
	var rep ChainReport
	err := pgx.BeginTxFunc(ctx, db.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var headSeq int64
		var headHash []byte
		if err := tx.QueryRow(ctx, `SELECT last_seq, last_hash FROM `+t.heads+` WHERE office_code = $1`, office).Scan(&headSeq, &headHash); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT office_code, day, seq, head_hash FROM `+t.anchors+` WHERE office_code = $1 ORDER BY day`, office)
		if err != nil {
			return err
		}
		anchors, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AuditAnchor, error) {
			var a AuditAnchor
			err := row.Scan(&a.Office, &a.Day, &a.Seq, &a.Hash)
			return a, err
		})
		if err != nil {
			return err
		}
		k := NewChainChecker(office, anchors)
		rows, err = tx.Query(ctx, t.rows, office)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := t.scan(rows)
			if err != nil {
				return err
			}
			k.Add(r)
			if k.Broken() != nil {
				break
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		rep = k.Finish(headSeq, headHash)
		return nil
	})
	return rep, err
}

// AuditChainOffices lists the offices that have a chain (a head or rows).
func (db *DB) AuditChainOffices(ctx context.Context) ([]string, error) {
	rows, err := db.Pool.Query(ctx, `SELECT office_code FROM audit_chain_heads UNION SELECT DISTINCT office_code FROM case_events ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("storage: audit chain offices: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("storage: audit chain offices: %w", err)
	}
	return out, nil
}

// AnchorAuditChains records, as the anchor of day (its date in Asia/Tokyo),
// the current head of each office's chain, or of the offices named; an
// office anchored that day already keeps its first anchor. An anchor of day
// D is the head as it was when taken on D: the daily Schedule takes it at
// 00:00, closing the day before. It returns the anchors it recorded.
func (db *DB) AnchorAuditChains(ctx context.Context, day time.Time) ([]AuditAnchor, error) {
	return db.anchor(ctx, day, nil)
}

// AnchorAuditChainsOf is AnchorAuditChains for the offices named only (none
// when none is named): those whose chains were just verified intact.
func (db *DB) AnchorAuditChainsOf(ctx context.Context, day time.Time, offices []string) ([]AuditAnchor, error) {
	if offices == nil {
		offices = []string{}
	}
	return db.anchor(ctx, day, offices)
}

// anchor anchors the offices named, or every office when only is nil.
func (db *DB) anchor(ctx context.Context, day time.Time, only []string) ([]AuditAnchor, error) {
	d := day.In(Tokyo).Format(time.DateOnly)
	rows, err := db.Pool.Query(ctx, `INSERT INTO audit_anchors (office_code, day, seq, head_hash)
		SELECT office_code, $1, last_seq, last_hash FROM audit_chain_heads WHERE $2::text[] IS NULL OR office_code = ANY ($2)
		ON CONFLICT (office_code, day) DO NOTHING RETURNING office_code, day, seq, head_hash`, d, only)
	if err != nil {
		return nil, fmt.Errorf("storage: anchor audit chains: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AuditAnchor, error) {
		var a AuditAnchor
		err := row.Scan(&a.Office, &a.Day, &a.Seq, &a.Hash)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("storage: anchor audit chains: %w", err)
	}
	return out, nil
}

// VerifyChains verifies both chains, the case events' and the access
// log's, of the offices named (nil: every office with either chain); the
// access log's reports have Chain AccessLogChain.
func (db *DB) VerifyChains(ctx context.Context, offices []string) ([]ChainReport, error) {
	events, access := offices, offices
	if offices == nil {
		var err error
		if events, err = db.AuditChainOffices(ctx); err != nil {
			return nil, err
		}
		if access, err = db.accessChainOffices(ctx); err != nil {
			return nil, fmt.Errorf("storage: access chain offices: %w", err)
		}
	}
	var reps []ChainReport
	for _, o := range events {
		rep, err := db.VerifyAuditChain(ctx, o)
		if err != nil {
			return nil, err
		}
		reps = append(reps, rep)
	}
	for _, o := range access {
		rep, err := db.VerifyAccessChain(ctx, o)
		if err != nil {
			return nil, err
		}
		reps = append(reps, rep)
	}
	return reps, nil
}

// VerifyAndAnchor verifies both chains of the offices named (nil: every
// office with a chain) and records the day's anchor of each one found
// intact, never of a broken one (an anchor vouches for the chain up to it).
// It returns every report and the anchors recorded.
func (db *DB) VerifyAndAnchor(ctx context.Context, day time.Time, offices []string) ([]ChainReport, []AuditAnchor, error) {
	reps, err := db.VerifyChains(ctx, offices)
	if err != nil {
		return nil, nil, err
	}
	intact, intactAccess := []string{}, []string{}
	for _, rep := range reps {
		switch {
		case !rep.OK:
		case rep.Chain == AccessLogChain:
			intactAccess = append(intactAccess, rep.Office)
		default:
			intact = append(intact, rep.Office)
		}
	}
	anchors, err := db.AnchorAuditChainsOf(ctx, day, intact)
	if err != nil {
		return nil, nil, err
	}
	access, err := db.anchorAccess(ctx, day, intactAccess)
	if err != nil {
		return nil, nil, fmt.Errorf("storage: anchor access chains: %w", err)
	}
	for _, a := range access {
		a.Chain = AccessLogChain
		anchors = append(anchors, a)
	}
	return reps, anchors, nil
}
