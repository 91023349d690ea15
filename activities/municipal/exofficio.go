package municipal

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/register"
	"github.com/madoguchi/madoguchi/internal/storage"
)

// RegisterChangeStore is what the ex-officio revocation needs of the
// municipal database.
type RegisterChangeStore interface {
	RegisterEventsOfCase(ctx context.Context, caseNumber string, after int64, limit int) ([]storage.RegisterEvent, int, error)
	RegisterEventsByID(ctx context.Context, ids []int64) ([]storage.RegisterEvent, error)
	CompleteRegisterEvents(ctx context.Context, ids []int64, revs []storage.CertificateRevocation, at time.Time) (int, error)
}

// RegisterChanges holds the municipal side of the ex-officio revocation
// (第2 2(3)): the register's changes as recorded, and the municipality's
// records of the certificates the Organization revoked.
type RegisterChanges struct {
	Store RegisterChangeStore
}

// MaxChunk bounds one chunk of a batch.
const MaxChunk = 5000

// ReadRegisterChanges reads the next chunk of a case's register changes.
func (m *RegisterChanges) ReadRegisterChanges(ctx context.Context, in contract.ReadRegisterChangesInput) (contract.ReadRegisterChangesResult, error) {
	if in.Limit <= 0 || in.Limit > MaxChunk {
		return contract.ReadRegisterChangesResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("a chunk of 1 to %d changes", MaxChunk), contract.ErrTypeInvalid, nil)
	}
	evs, total, err := m.Store.RegisterEventsOfCase(ctx, in.BatchCase, in.After, in.Limit)
	if err != nil {
		return contract.ReadRegisterChangesResult{}, err
	}
	out := contract.ReadRegisterChangesResult{Total: total}
	for _, e := range evs {
		out.Changes.EventIDs = append(out.Changes.EventIDs, e.ID)
		out.Changes.ResidentCodes = append(out.Changes.ResidentCodes, e.ResidentCode)
		out.Changes.Kinds = append(out.Changes.Kinds, e.Kind)
		out.Changes.Dates = append(out.Changes.Dates, e.Date.Format(time.DateOnly))
	}
	return out, nil
}

// CompleteRegisterChanges marks the municipality's records of the
// certificates the changes revoked (those written before the day of the
// change ended) and the changes done; repeating it is harmless.
func (m *RegisterChanges) CompleteRegisterChanges(ctx context.Context, in contract.CompleteRegisterChangesInput) (contract.CompleteRegisterChangesResult, error) {
	evs, err := m.Store.RegisterEventsByID(ctx, in.EventIDs)
	if err != nil {
		return contract.CompleteRegisterChangesResult{}, err
	}
	revs, err := certificateRevocations(evs, in.Municipality)
	if err != nil {
		return contract.CompleteRegisterChangesResult{}, temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrTypeInvalid, err)
	}
	n, err := m.Store.CompleteRegisterEvents(ctx, in.EventIDs, revs, in.At)
	if err != nil {
		return contract.CompleteRegisterChangesResult{}, err
	}
	return contract.CompleteRegisterChangesResult{Marked: n}, nil
}

// certificateRevocations turns recorded changes into the certificate
// kinds they revoke (register.Revocations). Every event must be the
// municipality's.
func certificateRevocations(evs []storage.RegisterEvent, municipality string) ([]storage.CertificateRevocation, error) {
	var out []storage.CertificateRevocation
	for _, e := range evs {
		if e.MunicipalityCode != municipality {
			return nil, fmt.Errorf("register event %d is not %s's", e.ID, municipality)
		}
		kind, err := register.ParseChange(e.Kind)
		if err != nil {
			return nil, err
		}
		revs, _ := register.Revocations(kind)
		for _, r := range revs {
			out = append(out, storage.CertificateRevocation{ResidentCode: e.ResidentCode, Kind: r.Kind, Day: e.Date})
		}
	}
	return out, nil
}
