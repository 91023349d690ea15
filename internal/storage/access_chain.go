package storage

// The access log's hash chain (issue 12 item 6, 第3 10): like the case
// events' chain (audit.go), one chain per office over history_access_log,
// with its heads (access_chain_heads) and daily anchors (access_anchors),
// so that a read removed, edited or reordered in the log is found by the
// same checks. Migration 019 made it and chained the rows before it.

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// accessEventTag opens the canonical encoding of an access-log row.
const accessEventTag = "madoguchi.history_access_log.v1"

// AccessEventHash is an access-log row's hash, in the case events'
// encoding (CaseEventHash) under its own tag: the office, the seq, the
// previous hash, the reader's login, id (decimal text) and office, the
// kind, the case number ("" for none), the reference and the time in
// microseconds. The migration's SQL function access_event_hash is the same.
func AccessEventHash(office string, seq int64, prev []byte, clerkLogin string, clerkID int64, fromOffice, kind, caseNumber, reference string, at time.Time) []byte {
	h := newChainHash(accessEventTag, office, seq, prev)
	h.field(clerkLogin)
	h.field(strconv.FormatInt(clerkID, 10))
	h.field(fromOffice)
	h.field(kind)
	h.field(caseNumber)
	h.field(reference)
	h.integer(at.UnixMicro())
	return h.sum()
}

// VerifyAccessChain walks an office's access-log chain in one read-only
// snapshot and reports the first broken link, as VerifyAuditChain does for
// the case events; it changes nothing.
func (db *DB) VerifyAccessChain(ctx context.Context, office string) (ChainReport, error) {
	rep, err := db.verifyChain(ctx, office, chainTables{heads: "access_chain_heads", anchors: "access_anchors",
		rows: `SELECT chain_seq, prev_hash, row_hash, clerk_login, clerk_id, office_code, kind, COALESCE(case_number, ''), reference, at
			FROM history_access_log WHERE municipality_code = $1 ORDER BY chain_seq`,
		scan: func(rows pgx.Rows) (ChainRow, error) {
			r := ChainRow{Office: office}
			var clerkID int64
			var fromOffice, reference string
			err := rows.Scan(&r.Seq, &r.PrevHash, &r.RowHash, &r.Actor, &clerkID, &fromOffice, &r.EventKey, &r.CaseNumber, &reference, &r.At)
			// The row's hash over what the access log holds (EventKey: the kind).
			r.rehash = func(c ChainRow) []byte {
				return AccessEventHash(office, c.Seq, c.PrevHash, c.Actor, clerkID, fromOffice, c.EventKey, c.CaseNumber, reference, c.At)
			}
			return r, err
		}})
	if err != nil {
		return ChainReport{}, fmt.Errorf("storage: verify access chain: %w", err)
	}
	rep.Chain = AccessLogChain
	return rep, nil
}

// accessChainOffices lists the offices with an access-log chain.
func (db *DB) accessChainOffices(ctx context.Context) ([]string, error) {
	rows, err := db.Pool.Query(ctx, `SELECT office_code FROM access_chain_heads ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// anchorAccess records the day's anchor of the offices' access-log chains
// named (never of a broken one: the caller passes the intact ones).
func (db *DB) anchorAccess(ctx context.Context, day time.Time, offices []string) ([]AuditAnchor, error) {
	rows, err := db.Pool.Query(ctx, `INSERT INTO access_anchors (office_code, day, seq, head_hash)
		SELECT office_code, $1, last_seq, last_hash FROM access_chain_heads WHERE office_code = ANY ($2)
		ON CONFLICT (office_code, day) DO NOTHING RETURNING office_code, day, seq, head_hash`, day.In(Tokyo).Format(time.DateOnly), offices)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (AuditAnchor, error) {
		var a AuditAnchor
		err := row.Scan(&a.Office, &a.Day, &a.Seq, &a.Hash)
		return a, err
	})
}
