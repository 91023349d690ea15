package org

import (
	"github.com/madoguchi/madoguchi/contract"

	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/madoguchi/madoguchi/internal/ca/profile"
	"github.com/madoguchi/madoguchi/internal/crl"
)

// CRL holds the Organization's revocation-publication activities (manual
// 第1 4 (3): CRLs every 24 hours and the daily revocation-information files).
// They run on the CA worker ("jlis-ca"), the only process with the HSM.
type CRL struct {
	// CA signs: *ca.CA implements crl.Issuer.
	CA crl.Issuer
	// DB is the Organization's database: *pgxpool.Pool implements crl.DB.
	DB crl.DB
	// Now is the clock; nil means time.Now (tests set it).
	Now func() time.Time
	// Publisher, if set, is the one the CA also ensures first partition
	// CRLs with (ca.SetPartitionCRLs); nil makes one from CA and DB.
	Publisher *crl.Publisher

	once      sync.Once
	publisher *crl.Publisher
}

func (a *CRL) pub() *crl.Publisher {
	// Activities of one worker share the struct; a Publisher makes one CRL
	// at a time, so sharing one (with the CA's issuance too) keeps the pool
	// safe.
	a.once.Do(func() {
		a.publisher = a.Publisher
		if a.publisher == nil {
			a.publisher = crl.NewPublisher(a.CA, a.DB, crl.Options{Now: a.Now})
		}
	})
	return a.publisher
}

// IssueRevocationLists issues the CRL of every partition (municipalities for
// signing, serial shards for user authentication) and then the full CRL
// (the day's file) of one CA. It heartbeats after each CRL.
func (a *CRL) IssueRevocationLists(ctx context.Context, in contract.IssueRevocationListsInput) (contract.IssueRevocationListsResult, error) {
	progress := func(done, total int) { activity.RecordHeartbeat(ctx, done, total) }
	s, err := a.pub().Publish(ctx, profile.Kind(in.Kind), in.RunID, progress)
	if errors.Is(err, crl.ErrInvalid) {
		return contract.IssueRevocationListsResult{}, temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrTypeInvalid, err)
	}
	if err != nil {
		// Database, HSM, or a re-keyed CA (ErrIssuerChanged: fixed by
		// restarting the worker): retry.
		return contract.IssueRevocationListsResult{}, fmt.Errorf("issue revocation lists: %w", err)
	}
	return contract.IssueRevocationListsResult{
		Kind: string(s.Kind), Partitions: s.Partitions, Issued: s.Issued, Skipped: s.Skipped,
		FullNumber: s.Full.Number, Entries: s.Full.Entries, Bytes: s.Full.Bytes, ThisUpdate: s.Full.ThisUpdate, Day: s.Full.Day,
	}, nil
}

// DisposeRevocationFiles removes the daily revocation-information files
// older than 10 years and CRLs superseded for more than a week. The
// workflow history is the record of each disposal.
func (a *CRL) DisposeRevocationFiles(ctx context.Context) (contract.DisposeRevocationFilesResult, error) {
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	d, err := crl.Dispose(ctx, a.DB, now)
	if err != nil {
		return contract.DisposeRevocationFilesResult{}, fmt.Errorf("dispose revocation files: %w", err)
	}
	return contract.DisposeRevocationFilesResult{DailyFiles: d.DailyFiles, CRLs: d.CRLs,
		KeptFrom: crl.DisposeCutoff(now).Format(time.DateOnly)}, nil
}
