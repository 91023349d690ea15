package ca

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/madoguchi/madoguchi/internal/reasons"
)

// RegisterRevocation is one resident-register change (異動等の通知) the
// Organization revokes ex officio for (第2 2(3)): every certificate of the
// named kinds it issued to the resident before IssuedBefore, still valid, is
// revoked with the kind's reason. The Organization finds them in its own
// issuance records (発行記録), by resident code.
type RegisterRevocation struct {
	// RequestID is the change's business key; the status event of each
	// certificate it revokes is RequestID + "/" + serial, so a repeated
	// change revokes nothing twice.
	RequestID    string
	ResidentCode string
	// Reasons maps a certificate kind to its reason; a kind not named
	// survives the change.
	Reasons map[Kind]reasons.Reason
	// IssuedBefore spares certificates issued after the change took effect
	// (made from the register's new record).
	IssuedBefore time.Time
}

// RegisterRevocationResult counts what a chunk of changes did.
type RegisterRevocationResult struct {
	// Revoked are the certificates the changes revoked, in this call or an
	// earlier call with the same request ids.
	Revoked []RevokedByChange
	// New counts the certificates this call revoked; Replayed those an
	// earlier call had revoked for the same request ids.
	New, Replayed int
	// AlreadyRevoked counts certificates another request had revoked.
	AlreadyRevoked int
}

// RevokedByChange is one certificate revoked for a change.
type RevokedByChange struct {
	Change int // index of the change in the call
	Serial string
	Kind   Kind
	Reason reasons.Reason
}

// RevokeForRegisterChanges revokes, in one transaction, the certificates of
// a chunk of register changes. The rows are locked in serial order, each
// revocation is recorded in ca_status_events under its request id (ON
// CONFLICT DO NOTHING) and applied with one UPDATE, so a chunk of a
// thousand changes is a handful of statements, and the repository's
// notification trigger sends one message per statement. Expired
// certificates and certificates revoked by another request are left alone;
// a certificate on hold is revoked for good. at zero means now.
func (c *CA) RevokeForRegisterChanges(ctx context.Context, changes []RegisterRevocation, at time.Time) (RegisterRevocationResult, error) {
	now := c.now()
	if at.IsZero() {
		at = now
	}
	at = at.UTC().Truncate(time.Second)
	if at.After(now.Add(clockSkew)) {
		return RegisterRevocationResult{}, &ValidationError{Field: "At", Problem: "is in the future"}
	}
	// One row per change and kind.
	var (
		idx      []int32
		reqIDs   []string
		resident []string
		kinds    []string
		codes    []int16
		before   []time.Time
	)
	for i, ch := range changes {
		if err := checkRequestID(ch.RequestID); err != nil {
			return RegisterRevocationResult{}, err
		}
		if !allDigits(ch.ResidentCode, 11) {
			return RegisterRevocationResult{}, &ValidationError{Field: "ResidentCode", Problem: "must be 11 digits"}
		}
		if ch.IssuedBefore.IsZero() {
			return RegisterRevocationResult{}, &ValidationError{Field: "IssuedBefore", Problem: "is required"}
		}
		for _, k := range []Kind{KindSign, KindAuth} { // fixed order, not a map range
			r, ok := ch.Reasons[k]
			if !ok {
				continue
			}
			if err := r.Validate(); err != nil {
				return RegisterRevocationResult{}, &ValidationError{Field: "Reasons", Problem: "must be the manual's revocation reasons"}
			}
			idx = append(idx, int32(i))
			reqIDs = append(reqIDs, ch.RequestID)
			resident = append(resident, ch.ResidentCode)
			kinds = append(kinds, string(k))
			codes = append(codes, int16(r.Code()))
			before = append(before, ch.IssuedBefore.UTC())
		}
	}
	var out RegisterRevocationResult
	if len(idx) == 0 {
		return out, nil
	}
	sortByResident(idx, reqIDs, resident, kinds, codes, before)
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		out = RegisterRevocationResult{}
		// The resident's certificates of the kinds, found and locked by
		// resident code through its index (LATERAL: no plan scans the table
		// per change), residents in code order so that two chunks lock in
		// the same order and never deadlock, with whether this change
		// recorded their event on an earlier attempt.
		rows, err := tx.Query(ctx, `
			SELECT c.serial, c.kind, r.i, r.request_id, r.code, c.not_before, c.not_after, c.revocation_reason,
			       EXISTS (SELECT 1 FROM ca_status_events e WHERE e.request_id = r.request_id || '/' || c.serial)
			FROM unnest($1::int4[], $2::text[], $3::text[], $4::text[], $5::int2[], $6::timestamptz[])
			     AS r(i, request_id, resident_code, kind, code, issued_before)
			CROSS JOIN LATERAL (SELECT serial, kind, not_before, not_after, revocation_reason FROM ca_certificates x
				WHERE x.resident_code = r.resident_code AND x.kind = r.kind AND x.cert_der IS NOT NULL AND x.issued_at < r.issued_before
				ORDER BY x.serial FOR UPDATE) c`, idx, reqIDs, resident, kinds, codes, before)
		if err != nil {
			return fmt.Errorf("ca: select certificates of register changes: %w", err)
		}
		type target struct {
			serial    string
			kind      string
			i         int32
			requestID string
			code      int16
			notBefore time.Time
			notAfter  time.Time
			current   *int16
			mine      bool
		}
		var found []target
		for rows.Next() {
			var t target
			if err := rows.Scan(&t.serial, &t.kind, &t.i, &t.requestID, &t.code, &t.notBefore, &t.notAfter, &t.current, &t.mine); err != nil {
				rows.Close()
				return fmt.Errorf("ca: read certificates of register changes: %w", err)
			}
			found = append(found, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("ca: read certificates of register changes: %w", err)
		}
		var evIDs, evSerials []string
		var evCodes []int16
		seen := map[string]bool{}
		hold := int16(reasons.CertificateHold.Code())
		for _, t := range found {
			if seen[t.serial] {
				continue // two changes of one resident in the chunk: the first revokes
			}
			seen[t.serial] = true
			reason, _ := reasons.FromCode(int(t.code))
			switch {
			case t.mine:
				out.Replayed++
			case t.current != nil && *t.current != hold:
				out.AlreadyRevoked++
				continue
			case !t.notAfter.After(at) || t.notBefore.After(at):
				continue // expired: revocation information is not kept for it
			default:
				evIDs = append(evIDs, t.requestID+"/"+t.serial)
				evSerials = append(evSerials, t.serial)
				evCodes = append(evCodes, t.code)
				out.New++
			}
			out.Revoked = append(out.Revoked, RevokedByChange{Change: int(t.i), Serial: t.serial, Kind: Kind(t.kind), Reason: reason})
		}
		if len(evIDs) == 0 {
			return nil
		}
		tag, err := tx.Exec(ctx, `INSERT INTO ca_status_events (request_id, serial, action, reason, at)
			SELECT id, serial, 'revoke', code, $4 FROM unnest($1::text[], $2::text[], $3::int2[]) AS u(id, serial, code)
			ON CONFLICT (request_id) DO NOTHING`, evIDs, evSerials, evCodes, at)
		if err != nil {
			return fmt.Errorf("ca: record register revocations: %w", err)
		}
		if int(tag.RowsAffected()) != len(evIDs) {
			// Under the row locks no repeat of these request ids can have
			// committed; a missing row is a request id used for another serial.
			return &ConflictError{RequestID: evIDs[0], Field: "status change"}
		}
		if _, err := tx.Exec(ctx, `UPDATE ca_certificates c SET revocation_reason = u.code, revoked_at = $3
			FROM unnest($1::text[], $2::int2[]) AS u(serial, code) WHERE c.serial = u.serial`, evSerials, evCodes, at); err != nil {
			return fmt.Errorf("ca: apply register revocations: %w", err)
		}
		return nil
	})
	if err != nil {
		return RegisterRevocationResult{}, err
	}
	c.opts.Logger.Info("ca: revoked for register changes", "changes", len(changes), "revoked", out.New,
		"replayed", out.Replayed, "already_revoked", out.AlreadyRevoked, "at", at)
	return out, nil
}

// sortByResident orders the rows by resident code (stable), all columns alike.
func sortByResident(idx []int32, reqIDs, resident, kinds []string, codes []int16, before []time.Time) {
	order := make([]int, len(idx))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return resident[order[a]] < resident[order[b]] })
	i2, q2, r2, k2, c2, b2 := slices.Clone(idx), slices.Clone(reqIDs), slices.Clone(resident), slices.Clone(kinds), slices.Clone(codes), slices.Clone(before)
	for dst, src := range order {
		idx[dst], reqIDs[dst], resident[dst], kinds[dst], codes[dst], before[dst] = i2[src], q2[src], r2[src], k2[src], c2[src], b2[src]
	}
}
