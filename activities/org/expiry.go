package org

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/notice"
	"github.com/madoguchi/madoguchi/internal/renewal"
)

// ExpiryStore is what the expiry notices need of the Organization's CA
// database (ca.CA, internal/ca/expiry.go).
type ExpiryStore interface {
	ExpiringCertificates(ctx context.Context, now time.Time, after string, limit int) ([]ca.ExpiringCertificate, error)
	HasExpiryNotice(ctx context.Context, serial string) (bool, error)
	RecordExpiryNotice(ctx context.Context, n ca.ExpiryNotice) (bool, error)
	RenewalCode(ctx context.Context, codeHash string) (ca.RenewalHolder, error)
	RedeemRenewalCode(ctx context.Context, codeHash, caseNumber, office string, at time.Time) (ca.RenewalHolder, error)
}

// ErrNotExpiryCaller is a caller the expiry activity does not serve.
var ErrNotExpiryCaller = errors.New("this workflow may not use this expiry-notice activity")

// Expiry holds the Organization's expiry-notice activities (有効期限通知書):
// the daily selection, the notices, and the renewal code's look-up and use
// by a counter. Each refuses a caller it is not for, named by its
// workflow id's procedure.
type Expiry struct {
	CA ExpiryStore
	// Organization is the notices' sender; notice.DefaultOrganization when
	// empty.
	Organization string
	// Now is the clock of produced_at; time.Now when nil.
	Now func() time.Time
}

// MaxNoticesPerCall bounds one chunk of notices.
const MaxNoticesPerCall = 500

func (a *Expiry) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// caller refuses, for good, a workflow whose procedure is not want.
func caller(ctx context.Context, want string) error {
	procedure, _, _ := strings.Cut(activity.GetInfo(ctx).WorkflowExecution.ID, "/")
	if procedure != want {
		return invalid(fmt.Errorf("%w: %q", ErrNotExpiryCaller, procedure))
	}
	return nil
}

// SelectExpiringCertificates selects the next chunk of certificates due a
// notice (ca.NoticeDue).
func (a *Expiry) SelectExpiringCertificates(ctx context.Context, in contract.SelectExpiringInput) (contract.SelectExpiringResult, error) {
	if err := caller(ctx, contract.ProcExpiryNotices); err != nil {
		return contract.SelectExpiringResult{}, err
	}
	got, err := a.CA.ExpiringCertificates(ctx, in.AsOf, in.After, in.Limit)
	if err != nil {
		return contract.SelectExpiringResult{}, recordsErr("select expiring certificates", err)
	}
	out := contract.SelectExpiringResult{}
	for _, c := range got {
		out.Certificates = append(out.Certificates, contract.ExpiringCertificate{Serial: c.Serial, Kind: string(c.Kind),
			MunicipalityCode: c.MunicipalityCode, ResidentCode: c.ResidentCode, NotAfter: c.NotAfter})
	}
	return out, nil
}

// ProduceExpiryNotices renders and records each notice of a chunk, once
// per certificate: one already noticed is skipped, and of two runs racing
// on a certificate the first record stands (the other's letter, and its
// code, are dropped unprinted). It heartbeats per notice.
func (a *Expiry) ProduceExpiryNotices(ctx context.Context, in contract.ProduceExpiryNoticesInput) (contract.ProduceExpiryNoticesResult, error) {
	if err := caller(ctx, contract.ProcExpiryNotices); err != nil {
		return contract.ProduceExpiryNoticesResult{}, err
	}
	if len(in.Notices) > MaxNoticesPerCall || in.RunID == "" {
		return contract.ProduceExpiryNoticesResult{}, invalid(fmt.Errorf("%w: a run id and at most %d notices", ErrInvalidRequest, MaxNoticesPerCall))
	}
	var out contract.ProduceExpiryNoticesResult
	for i, it := range in.Notices {
		activity.RecordHeartbeat(ctx, i)
		serial := it.Certificate.Serial
		has, err := a.CA.HasExpiryNotice(ctx, serial)
		if err != nil {
			return out, err
		}
		if has {
			out.Existing++
			continue
		}
		code, err := renewal.NewCode()
		if err != nil {
			return out, err
		}
		pdf, err := notice.RenderExpiry(notice.Expiry{NoticeNumber: ca.ExpiryNoticeNumber(serial), Holder: it.Name, Address: it.Address,
			Kind: it.Certificate.Kind, NotAfter: it.Certificate.NotAfter, RenewalCode: code, IssuedOn: in.IssuedOn, Organization: a.Organization})
		if err != nil {
			return out, recordsErr("render expiry notice", err)
		}
		created, err := a.CA.RecordExpiryNotice(ctx, ca.ExpiryNotice{Serial: serial, RunID: in.RunID, CodeHash: renewal.Hash(code),
			CodeExpiresAt: it.Certificate.NotAfter, PDF: pdf, ProducedAt: a.now()})
		if err != nil {
			return out, recordsErr("record expiry notice", err)
		}
		if created {
			out.Produced = append(out.Produced, serial)
		} else {
			out.Existing++
		}
	}
	return out, nil
}

func holderOf(h ca.RenewalHolder) contract.RenewalHolder {
	return contract.RenewalHolder{Found: true, Serial: h.Serial, Kind: string(h.Kind), MunicipalityCode: h.MunicipalityCode,
		ResidentCode: h.ResidentCode, NotAfter: h.NotAfter, CodeExpiresAt: h.CodeExpiresAt, UsedByCase: h.UsedByCase}
}

// LookupRenewalCode answers a counter's look-up of a renewal code before
// any case exists: the holder, or Found false.
func (a *Expiry) LookupRenewalCode(ctx context.Context, in contract.LookupRenewalCodeInput) (contract.RenewalHolder, error) {
	if err := caller(ctx, contract.ProcRenewalCodeCheck); err != nil {
		return contract.RenewalHolder{}, err
	}
	if !renewal.ValidHash(in.CodeHash) {
		return contract.RenewalHolder{}, invalid(fmt.Errorf("%w: not a renewal code's hash", ErrInvalidRequest))
	}
	h, err := a.CA.RenewalCode(ctx, in.CodeHash)
	if errors.Is(err, ca.ErrUnknownRenewalCode) {
		return contract.RenewalHolder{}, nil
	}
	if err != nil {
		return contract.RenewalHolder{}, err
	}
	return holderOf(h), nil
}

// The refusals of a renewal code, as the case's rejection shows them.
var (
	rejectUnknownCode = contract.Reject("unknown_renewal_code", "この更新コードは有効期限通知書にありません / No expiry notice has this renewal code.")
	rejectUsedCode    = contract.Reject("renewal_code_used", "この更新コードは既に使われています / This renewal code has already been used.")
	rejectExpiredCode = contract.Reject("renewal_code_expired", "電子証明書の有効期限を過ぎたため、この更新コードは使えません / The certificate has expired; this renewal code can no longer be used.")
)

// RedeemRenewalCode marks a renewal code used by the proxy renewal that
// calls it, once (a retry of the same case is the same answer).
func (a *Expiry) RedeemRenewalCode(ctx context.Context, in contract.RedeemRenewalCodeInput) (contract.RenewalHolder, error) {
	if err := caller(ctx, contract.ProcProxyIssuance); err != nil {
		return contract.RenewalHolder{}, err
	}
	h, err := a.CA.RedeemRenewalCode(ctx, in.CodeHash, in.CaseNumber, in.Office, in.At)
	switch {
	case errors.Is(err, ca.ErrUnknownRenewalCode):
		return contract.RenewalHolder{}, rejectUnknownCode
	case errors.Is(err, ca.ErrRenewalCodeUsed):
		return contract.RenewalHolder{}, rejectUsedCode
	case errors.Is(err, ca.ErrRenewalCodeExpired):
		return contract.RenewalHolder{}, rejectExpiredCode
	case err != nil:
		return contract.RenewalHolder{}, recordsErr("redeem renewal code", err)
	}
	return holderOf(h), nil
}
