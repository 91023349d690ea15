// Package caworker runs the Organization's CA worker (機構): issuance,
// revocation, hold and release through the HSM, and the publication of
// revocation lists. It is its own binary (cmd/caworker), so the municipal
// worker links no PKCS#11 and this one no municipal database code.
package caworker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/activities/org"
	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/ca/profile"
	"github.com/madoguchi/madoguchi/internal/config"
	"github.com/madoguchi/madoguchi/internal/crl"
	"github.com/madoguchi/madoguchi/internal/logs"
	"github.com/madoguchi/madoguchi/internal/metrics"
	"github.com/madoguchi/madoguchi/internal/temporalclient"
	"github.com/madoguchi/madoguchi/workflows"
)

// Issuer adapts the Organization's CA (internal/ca) to the CA activities.
type Issuer struct {
	CA *ca.CA
}

// Issue issues one certificate, or a counterpart pair when both kinds are
// asked for together.
func (i Issuer) Issue(ctx context.Context, reqs []contract.CertificateRequest) ([]contract.IssuedCertificate, error) {
	conv := make([]ca.IssueRequest, len(reqs))
	for n, r := range reqs {
		c, err := toCARequest(r)
		if err != nil {
			return nil, err
		}
		conv[n] = c
	}
	var results []ca.IssueResult
	// The CA's signing latency, per request: a pair's time is split between
	// its two certificates.
	began := time.Now()
	switch {
	case len(conv) == 2 && conv[0].Kind == ca.KindSign && conv[1].Kind == ca.KindAuth:
		pair, err := i.CA.IssuePair(ctx, conv[0], conv[1])
		observeSigning(began, 2, err)
		if err != nil {
			return nil, caErr(err)
		}
		results = []ca.IssueResult{pair.Sign, pair.Auth}
	case len(conv) == 1:
		r, err := i.CA.Issue(ctx, conv[0])
		observeSigning(began, 1, err)
		if err != nil {
			return nil, caErr(err)
		}
		results = []ca.IssueResult{r}
	default:
		return nil, fmt.Errorf("%w: ask for one certificate, or a signing and a user-authentication certificate in that order", org.ErrInvalidRequest)
	}
	// The card each certificate goes onto, for loss reports (idempotent,
	// like the issuance: a retry links the same serials again).
	for n, r := range results {
		if reqs[n].CardSerial != "" {
			if err := i.CA.LinkCard(ctx, reqs[n].CardSerial, r.Serial); err != nil {
				return nil, err
			}
		}
	}
	out := make([]contract.IssuedCertificate, len(results))
	for n, r := range results {
		issuer, err := i.CA.IssuerCertificate(r.Kind)
		if err != nil {
			return nil, err
		}
		out[n] = contract.IssuedCertificate{Kind: string(r.Kind), Serial: r.Serial, NotBefore: r.NotBefore,
			NotAfter: r.NotAfter, DER: r.CertificateDER, CADER: issuer.Raw}
	}
	return out, nil
}

func toCARequest(r contract.CertificateRequest) (ca.IssueRequest, error) {
	req := ca.IssueRequest{RequestID: r.RequestID, Kind: ca.Kind(r.Kind), MunicipalityCode: r.MunicipalityCode,
		ResidentCode: r.ResidentCode, PublicKeyDER: r.SPKIDER, NotAfter: r.NotAfter, CounterpartSerial: r.CounterpartSerial}
	if p := r.Person; p != nil {
		sex, err := profile.ParseSex(p.Sex)
		if err != nil {
			return ca.IssueRequest{}, fmt.Errorf("%w: %w", org.ErrInvalidRequest, err)
		}
		req.Personal = &ca.PersonalInfo{Name: p.Name, DateOfBirth: p.BirthDate, Sex: sex, Address: p.Address,
			FormerSurname: p.FormerSurname, Alias: p.Alias}
	}
	return req, nil
}

// caErr marks errors no retry can fix.
func caErr(err error) error {
	if ca.IsPermanent(err) {
		return fmt.Errorf("%w: %w", org.ErrInvalidRequest, err)
	}
	return err
}

// Register registers the CA activities on w.
func Register(w sdkworker.Registry, c *ca.CA) {
	w.RegisterActivity(&org.CA{Issuer: Issuer{CA: c}})
	// 第2 2(3): ex-officio revocation after register changes, a chunk per call.
	w.RegisterActivity(&org.ExOfficio{CA: c})
	// 法第58条〜第61条: disclosure and correction of the certification
	// records, on the Organization's database beside the CA's.
	w.RegisterActivity(&org.Records{CA: c})
	// Issue 12: the daily expiry notices and the renewal codes they carry.
	w.RegisterActivity(&org.Expiry{CA: c})
	w.RegisterWorkflowWithOptions(workflows.ExpiryNotices, workflow.RegisterOptions{Name: workflows.ExpiryNoticesWorkflow})
	w.RegisterWorkflowWithOptions(workflows.RenewalCodeCheck, workflow.RegisterOptions{Name: workflows.RenewalCodeCheckWorkflow})
	// The operator's console prints the records procedures' letters through it.
	w.RegisterWorkflowWithOptions(workflows.ReadRecordsLetter, workflow.RegisterOptions{Name: workflows.ReadRecordsLetterWorkflow})
	// The Organization's CRL publication runs on this worker with its activities.
	w.RegisterWorkflowWithOptions(workflows.PublishRevocationLists, workflow.RegisterOptions{Name: workflows.PublishRevocationListsWorkflow})
	// One publisher for the daily lists and for the first CRL of a
	// partition, which the CA has issued before it signs the partition's
	// first certificate (docs/CRL.md).
	pub := crl.NewPublisher(c, c.Pool(), crl.Options{})
	c.SetPartitionCRLs(pub)
	w.RegisterActivity(&org.CRL{CA: c, DB: c.Pool(), Publisher: pub})
}

// Run runs the Organization's CA worker until ctx ends. It alone holds the
// HSM session and the jlis database credentials.
func Run(ctx context.Context, cfg config.Config) error {
	if err := config.Require("MADOGUCHI_JLIS_DSN", cfg.JLISDSN, "MADOGUCHI_PKCS11_PIN", cfg.PKCS11PIN); err != nil {
		return err
	}
	conn, err := ca.Connect(ctx, cfg.JLISDSN)
	if err != nil {
		return fmt.Errorf("ca worker: %w", err)
	}
	defer conn.Close()
	c, err := conn.Load(ctx, ca.Options{RepositoryURL: cfg.RepositoryURL, Logger: logs.New(os.Stderr, slog.LevelInfo)})
	if err != nil {
		return fmt.Errorf("ca worker: load the CA (run setup first): %w", err)
	}
	if err := metrics.Serve(ctx, cfg.MetricsAddr); err != nil {
		return fmt.Errorf("ca worker: metrics: %w", err)
	}
	tc, err := temporalclient.Dial(cfg)
	if err != nil {
		return err
	}
	defer tc.Close()
	w := sdkworker.New(tc, contract.CATaskQueue, Options())
	Register(w, c)
	if err := w.Start(); err != nil {
		return fmt.Errorf("ca worker: start: %w", err)
	}
	<-ctx.Done()
	w.Stop()
	return nil
}

// Setup migrates the jlis database and bootstraps both issuing CAs in the
// HSM (idempotent), exporting their certificates to <state>/ca.
func Setup(ctx context.Context, cfg config.Config) error {
	if err := config.Require("MADOGUCHI_JLIS_DSN", cfg.JLISDSN, "MADOGUCHI_PKCS11_PIN", cfg.PKCS11PIN); err != nil {
		return err
	}
	conn, err := ca.Connect(ctx, cfg.JLISDSN)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := ca.Migrate(ctx, conn.Pool); err != nil {
		return err
	}
	_, err = ca.Bootstrap(ctx, conn.Pool, conn.HSM, filepath.Join(cfg.State, "ca"), ca.Options{RepositoryURL: cfg.RepositoryURL})
	return err
}

// Revoke revokes a certificate; revoking one that is already revoked, has
// expired or is unknown changes nothing and says so.
func (i Issuer) Revoke(ctx context.Context, in contract.RevokeCertificateInput) (contract.RevokeCertificateResult, error) {
	if err := in.Reason.Validate(); err != nil {
		return contract.RevokeCertificateResult{}, fmt.Errorf("%w: %w", org.ErrInvalidRequest, err)
	}
	ev, err := i.CA.Revoke(ctx, ca.RevokeRequest{RequestID: in.RequestID, Serial: in.Serial, Reason: in.Reason, At: in.At})
	switch {
	case err == nil:
		return contract.RevokeCertificateResult{Outcome: "revoked", RevokedAt: ev.At}, nil
	case errors.Is(err, ca.ErrAlreadyRevoked):
		return contract.RevokeCertificateResult{Outcome: "already_revoked"}, nil
	case errors.Is(err, ca.ErrExpired):
		return contract.RevokeCertificateResult{Outcome: "expired"}, nil
	case errors.Is(err, ca.ErrUnknownCertificate):
		return contract.RevokeCertificateResult{Outcome: "unknown"}, nil
	}
	return contract.RevokeCertificateResult{}, caErr(err)
}

// Hold puts a user-authentication certificate on hold.
func (i Issuer) Hold(ctx context.Context, in contract.HoldCertificateInput) (contract.HoldCertificateResult, error) {
	ev, err := i.CA.Hold(ctx, ca.HoldRequest{RequestID: in.RequestID, Serial: in.Serial, At: in.At})
	if err == nil {
		return contract.HoldCertificateResult{Outcome: "held", At: ev.At}, nil
	}
	if o := unchanged(err); o != "" {
		return contract.HoldCertificateResult{Outcome: o}, nil
	}
	return contract.HoldCertificateResult{}, caErr(err)
}

// Release ends the hold of a user-authentication certificate.
func (i Issuer) Release(ctx context.Context, in contract.ReleaseHoldInput) (contract.ReleaseHoldResult, error) {
	ev, err := i.CA.Release(ctx, ca.HoldRequest{RequestID: in.RequestID, Serial: in.Serial, At: in.At})
	if err == nil {
		return contract.ReleaseHoldResult{Outcome: "released", At: ev.At}, nil
	}
	if errors.Is(err, ca.ErrNotOnHold) {
		return contract.ReleaseHoldResult{Outcome: "not_on_hold"}, nil
	}
	if o := unchanged(err); o != "" {
		return contract.ReleaseHoldResult{Outcome: o}, nil
	}
	return contract.ReleaseHoldResult{}, caErr(err)
}

// CardCertificates lists the certificates issued for a card.
func (i Issuer) CardCertificates(ctx context.Context, cardSerial string) ([]contract.CertificateStatus, error) {
	sts, err := i.CA.CardCertificates(ctx, cardSerial)
	if err != nil {
		return nil, err
	}
	out := make([]contract.CertificateStatus, len(sts))
	for n, st := range sts {
		out[n] = statusOf(st)
	}
	return out, nil
}

// Status tells one certificate's status; a malformed serial is unknown.
func (i Issuer) Status(ctx context.Context, serial string) (contract.CertificateStatus, error) {
	st, err := i.CA.Status(ctx, serial)
	if err != nil {
		if ca.IsPermanent(err) {
			return contract.CertificateStatus{Serial: serial, State: string(ca.StateUnknown)}, nil
		}
		return contract.CertificateStatus{}, err
	}
	return statusOf(st), nil
}

func statusOf(st ca.CertStatus) contract.CertificateStatus {
	return contract.CertificateStatus{Serial: st.Serial, Kind: string(st.Kind), State: string(st.State), Reason: st.Reason,
		NotAfter: st.NotAfter, RevokedAt: st.RevokedAt}
}

// unchanged names why a status change changed nothing, or "".
func unchanged(err error) string {
	switch {
	case errors.Is(err, ca.ErrAlreadyRevoked):
		return "already_revoked"
	case errors.Is(err, ca.ErrExpired):
		return "expired"
	case errors.Is(err, ca.ErrUnknownCertificate):
		return "unknown"
	}
	return ""
}

// Options tunes the CA worker: issuance is short HSM work.
func Options() sdkworker.Options {
	return sdkworker.Options{MaxConcurrentActivityTaskPollers: 8}
}

// observeSigning records n certificate requests' share of the time since
// began on the CA signing histogram.
func observeSigning(began time.Time, n int, err error) {
	per := time.Since(began).Seconds() / float64(n)
	o := metrics.CASigning.WithLabelValues(metrics.Result(err))
	for range n {
		o.Observe(per)
	}
}
