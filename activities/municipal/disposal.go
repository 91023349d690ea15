package municipal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/storage"
)

// DisposalStore is what the retention and disposal needs of the database
// (internal/storage/disposal.go).
type DisposalStore interface {
	DisposalOffices(ctx context.Context) ([]string, error)
	DrawUpDisposalList(ctx context.Context, office string, day time.Time, caseNumber, workflowID string, recordsProcedures []string, at time.Time) (storage.DisposalList, error)
	SubmitDisposalList(ctx context.Context, office string, day time.Time, by string, at time.Time) error
	ApproveDisposalList(ctx context.Context, office string, day time.Time, by string, at time.Time) error
	DisposeList(ctx context.Context, office string, day time.Time, recordsProcedures []string, at time.Time) (storage.DisposalList, error)
	CloseDisposalList(ctx context.Context, office string, day time.Time, status string, at time.Time) error
}

// Disposal holds the activities of the retention and disposal (第3 3).
// Each is idempotent: the list is keyed by office and day, each disposal by
// its item.
type Disposal struct {
	Store DisposalStore
}

// invalid is a non-retryable refusal of malformed input.
func invalid(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), contract.ErrTypeInvalid, nil)
}

// disposalDay reads a list's day as storage compares dates.
func disposalDay(s string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, invalid("disposal day %q: %v", s, err)
	}
	return d, nil
}

func listResult(l storage.DisposalList) contract.DisposalListResult {
	return contract.DisposalListResult{Status: l.Status, Due: l.Due(), Held: len(l.Items) - l.Due()}
}

// DisposalOffices lists the municipalities the day's lists are drawn up for.
func (d *Disposal) DisposalOffices(ctx context.Context, _ contract.DisposalOfficesInput) (contract.DisposalOfficesResult, error) {
	codes, err := d.Store.DisposalOffices(ctx)
	return contract.DisposalOfficesResult{Offices: codes}, err
}

// DrawUpDisposalList draws up the municipality's list of the day (or
// returns the one drawn up already).
func (d *Disposal) DrawUpDisposalList(ctx context.Context, in contract.DrawUpDisposalListInput) (contract.DisposalListResult, error) {
	day, err := disposalDay(in.Day)
	if err != nil {
		return contract.DisposalListResult{}, err
	}
	l, err := d.Store.DrawUpDisposalList(ctx, in.Office, day, in.CaseNumber, in.WorkflowID, contract.HoldingProcedures, in.At)
	if err != nil {
		return contract.DisposalListResult{}, fmt.Errorf("draw up disposal list: %w", err)
	}
	return listResult(l), nil
}

// RecordDisposalStep records a manager's submission or approval of the
// list; an approval of one's own list is refused for good.
func (d *Disposal) RecordDisposalStep(ctx context.Context, in contract.DisposalListStepInput) (contract.DisposalListStepResult, error) {
	day, err := disposalDay(in.Day)
	if err != nil {
		return contract.DisposalListStepResult{}, err
	}
	switch in.Step {
	case "submit":
		err = d.Store.SubmitDisposalList(ctx, in.Office, day, in.Manager, in.At)
	case "approve":
		err = d.Store.ApproveDisposalList(ctx, in.Office, day, in.Manager, in.At)
	default:
		return contract.DisposalListStepResult{}, invalid("disposal step %q", in.Step)
	}
	if errors.Is(err, storage.ErrOwnDisposalList) {
		// A submission raced the validator's check: the same refusal.
		return contract.DisposalListStepResult{}, contract.Reject(contract.CodeOwnDisposalList,
			"自分が提出した廃棄リストは承認できません / A manager cannot approve a list they submitted")
	}
	if errors.Is(err, storage.ErrDisposalListState) || errors.Is(err, storage.ErrNotFound) {
		return contract.DisposalListStepResult{}, temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrTypeInvalid, err)
	}
	return contract.DisposalListStepResult{}, err
}

// DisposeList disposes of the approved list's items not held.
func (d *Disposal) DisposeList(ctx context.Context, in contract.DisposeListInput) (contract.DisposalListResult, error) {
	day, err := disposalDay(in.Day)
	if err != nil {
		return contract.DisposalListResult{}, err
	}
	l, err := d.Store.DisposeList(ctx, in.Office, day, contract.HoldingProcedures, in.At)
	if errors.Is(err, storage.ErrDisposalNotApproved) || errors.Is(err, storage.ErrNotFound) {
		return contract.DisposalListResult{}, temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrTypeInvalid, err)
	}
	if err != nil {
		return contract.DisposalListResult{}, fmt.Errorf("dispose: %w", err)
	}
	return listResult(l), nil
}

// CloseDisposalList ends a list never approved.
func (d *Disposal) CloseDisposalList(ctx context.Context, in contract.CloseDisposalListInput) (contract.CloseDisposalListResult, error) {
	day, err := disposalDay(in.Day)
	if err != nil {
		return contract.CloseDisposalListResult{}, err
	}
	if err := d.Store.CloseDisposalList(ctx, in.Office, day, in.Status, in.At); err != nil {
		if errors.Is(err, storage.ErrDisposalListState) {
			return contract.CloseDisposalListResult{}, invalid("%v", err)
		}
		return contract.CloseDisposalListResult{}, err
	}
	return contract.CloseDisposalListResult{}, nil
}
