package municipal

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/storage"
)

// AuditStore is what the audit trail's anchoring needs of the database.
type AuditStore interface {
	VerifyAndAnchor(ctx context.Context, day time.Time, offices []string) ([]storage.ChainReport, []storage.AuditAnchor, error)
	RecordChainBreak(ctx context.Context, rep storage.ChainReport, actor string, at time.Time) (bool, error)
}

// Audit holds the audit trail's activities (docs/AUDIT.md).
type Audit struct {
	Store AuditStore
}

// AnchorAuditChains verifies every office's chain and records the day's
// anchor of each intact one; a broken chain is reported, never anchored.
func (a *Audit) AnchorAuditChains(ctx context.Context, in contract.AnchorAuditChainsInput) (contract.AnchorAuditChainsResult, error) {
	day, err := time.ParseInLocation(time.DateOnly, in.Day, storage.Tokyo)
	if err != nil {
		return contract.AnchorAuditChainsResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("anchor day %q: %v", in.Day, err), contract.ErrTypeInvalid, nil)
	}
	reps, anchors, err := a.Store.VerifyAndAnchor(ctx, day, nil)
	if err != nil {
		return contract.AnchorAuditChainsResult{}, err
	}
	res := contract.AnchorAuditChainsResult{Verified: len(reps), Anchored: len(anchors)}
	for _, r := range reps {
		if !r.OK {
			res.Broken = append(res.Broken, r.Office)
			activity.GetLogger(ctx).Error("audit chain broken", "office", r.Office, "seq", r.Break.Seq, "reason", r.Break.Reason)
			// Recorded as an attempt (第3 10), once per break: a retry records nothing twice.
			if _, err := a.Store.RecordChainBreak(ctx, r, "daily anchor", time.Now()); err != nil {
				return contract.AnchorAuditChainsResult{}, err
			}
		}
	}
	return res, nil
}
