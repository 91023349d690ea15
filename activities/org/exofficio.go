package org

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/reasons"
	"github.com/madoguchi/madoguchi/internal/register"
	"github.com/madoguchi/madoguchi/internal/validity"
)

// ChangeRevoker is what the ex-officio revocation needs of the CA: one
// transaction per chunk of register changes (ca.CA).
type ChangeRevoker interface {
	RevokeForRegisterChanges(ctx context.Context, changes []ca.RegisterRevocation, at time.Time) (ca.RegisterRevocationResult, error)
}

// ExOfficio holds the Organization's ex-officio revocation (第2 2(3)).
type ExOfficio struct {
	CA ChangeRevoker
}

// MaxChangesPerCall bounds one chunk.
const MaxChangesPerCall = 5000

// RevokeForRegisterChanges revokes what a chunk of register changes ends
// (internal/register.Revocations), with the reasons the calling procedure
// may use, in one CA transaction. A change the chunk names twice, or a
// retry, revokes once: each certificate's event is keyed by the register
// event and the serial.
func (a *ExOfficio) RevokeForRegisterChanges(ctx context.Context, in contract.RevokeForRegisterChangesInput) (contract.RevokeForRegisterChangesResult, error) {
	ch := in.Changes
	n := ch.Len()
	if n > MaxChangesPerCall || len(ch.ResidentCodes) != n || len(ch.Kinds) != n || len(ch.Dates) != n {
		return contract.RevokeForRegisterChangesResult{}, invalid(fmt.Errorf("%w: a chunk of at most %d changes, every column as long", ErrInvalidRequest, MaxChangesPerCall))
	}
	rows := make([]ca.RegisterRevocation, n)
	checked := map[reasons.Reason]bool{}
	for i := range n {
		kind, err := register.ParseChange(ch.Kinds[i])
		if err != nil {
			return contract.RevokeForRegisterChangesResult{}, invalid(fmt.Errorf("%w: change %d: %w", ErrInvalidRequest, i, err))
		}
		day, err := time.ParseInLocation(time.DateOnly, ch.Dates[i], validity.Tokyo)
		if err != nil {
			return contract.RevokeForRegisterChangesResult{}, invalid(fmt.Errorf("%w: change %d: bad date", ErrInvalidRequest, i))
		}
		revs, _ := register.Revocations(kind)
		rs := make(map[ca.Kind]reasons.Reason, len(revs))
		for _, r := range revs {
			if !checked[r.Reason] {
				if err := allowed(ctx, r.Reason); err != nil {
					return contract.RevokeForRegisterChangesResult{}, err
				}
				checked[r.Reason] = true
			}
			rs[ca.Kind(r.Kind)] = r.Reason
		}
		// A certificate issued after the day of the change was made from the
		// changed record: it stays.
		rows[i] = ca.RegisterRevocation{RequestID: contract.RegisterChangeRequestID(in.Municipality, ch.EventIDs[i]),
			ResidentCode: ch.ResidentCodes[i], Reasons: rs, IssuedBefore: day.AddDate(0, 0, 1)}
	}
	activity.RecordHeartbeat(ctx, "revoking")
	res, err := a.CA.RevokeForRegisterChanges(ctx, rows, in.At)
	if err != nil {
		if ca.IsPermanent(err) {
			return contract.RevokeForRegisterChangesResult{}, invalid(fmt.Errorf("%w: %w", ErrInvalidRequest, err))
		}
		return contract.RevokeForRegisterChangesResult{}, fmt.Errorf("revoke for register changes: %w", err)
	}
	activity.RecordHeartbeat(ctx, "revoked")
	out := contract.RevokeForRegisterChangesResult{Revoked: res.New, Replayed: res.Replayed, AlreadyRevoked: res.AlreadyRevoked}
	if in.WantSerials {
		for _, r := range res.Revoked {
			out.Certificates = append(out.Certificates, contract.RevokedForChange{EventID: ch.EventIDs[r.Change],
				Kind: string(r.Kind), Serial: r.Serial, Reason: string(r.Reason)})
		}
	}
	return out, nil
}

func invalid(err error) error {
	return temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrTypeInvalid, err)
}
