package storage

// The access log's hash chain (issue 12 item 6, 第3 10): like the case
// events' chain (audit.go), one chain per office over history_access_log,
// with its heads (access_chain_heads) and daily anchors (access_anchors),
// so that a read removed, edited or reordered in the log is found by the
// same checks. Migration 019 made it and chained the rows before it.

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
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
	h := sha256.New()
	field := func(s string) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	integer := func(v int64) {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(v))
		h.Write(b[:])
	}
	field(accessEventTag)
	field(office)
	integer(seq)
	h.Write(prev)
	field(clerkLogin)
	field(strconv.FormatInt(clerkID, 10))
	field(fromOffice)
	field(kind)
	field(caseNumber)
	field(reference)
	integer(at.UnixMicro())
	return h.Sum(nil)
}

// accessChainRow is a chained access-log row as stored.
type accessChainRow struct {
	seq                                     int64
	prev, hash                              []byte
	clerkLogin                              string
	clerkID                                 int64
	fromOffice, kind, caseNumber, reference string
	at                                      time.Time
}

// VerifyAccessChain walks an office's access-log chain in one read-only
// snapshot and reports the first broken link, as VerifyAuditChain does for
// the case events; it changes nothing.
func (db *DB) VerifyAccessChain(ctx context.Context, office string) (ChainReport, error) {
	var rep ChainReport
	err := pgx.BeginTxFunc(ctx, db.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var headSeq int64
		var headHash []byte
		if err := tx.QueryRow(ctx, `SELECT last_seq, last_hash FROM access_chain_heads WHERE office_code = $1`, office).Scan(&headSeq, &headHash); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT office_code, day, seq, head_hash FROM access_anchors WHERE office_code = $1 ORDER BY day`, office)
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
		rows, err = tx.Query(ctx, `SELECT chain_seq, prev_hash, row_hash, clerk_login, clerk_id, office_code, kind, COALESCE(case_number, ''), reference, at
			FROM history_access_log WHERE municipality_code = $1 ORDER BY chain_seq`, office)
		if err != nil {
			return err
		}
		defer rows.Close()
		var r accessChainRow
		for rows.Next() {
			if err := rows.Scan(&r.seq, &r.prev, &r.hash, &r.clerkLogin, &r.clerkID, &r.fromOffice, &r.kind, &r.caseNumber, &r.reference, &r.at); err != nil {
				return err
			}
			row := r
			k.Add(ChainRow{Office: office, Seq: r.seq, PrevHash: r.prev, RowHash: r.hash, CaseNumber: r.caseNumber, EventKey: r.kind,
				Actor: r.clerkLogin, At: r.at, rehash: func(c ChainRow) []byte {
					return AccessEventHash(office, c.Seq, c.PrevHash, row.clerkLogin, row.clerkID, row.fromOffice, row.kind, row.caseNumber, row.reference, row.at)
				}})
			if k.Broken() != nil {
				break
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		rep = k.Finish(headSeq, headHash)
		rep.Chain = AccessLogChain
		return nil
	})
	if err != nil {
		return ChainReport{}, fmt.Errorf("storage: verify access chain: %w", err)
	}
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
