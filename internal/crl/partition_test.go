package crl

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/ca/profile"
	"github.com/madoguchi/madoguchi/internal/reasons"
)

// partitionCRL is the current CRL of the partition a certificate's
// distribution point names, checked against the CA: it must exist, verify,
// be current at now and name that distribution point in its IDP.
func (e *env) partitionCRL(t *testing.T, r ca.IssueResult, now time.Time) *x509.RevocationList {
	t.Helper()
	cert, err := x509.ParseCertificate(r.CertificateDER)
	if err != nil {
		t.Fatal(err)
	}
	if len(cert.CRLDistributionPoints) != 1 {
		t.Fatalf("DPs %v", cert.CRLDistributionPoints)
	}
	dp := cert.CRLDistributionPoints[0]
	partition := profile.CRLPartition(r.Kind, cert.SerialNumber, "")
	if r.Kind == ca.KindSign {
		partition = cert.Subject.Locality[0]
	}
	if dp != profile.CRLURL(testRepo, r.Kind, partition) {
		t.Fatalf("DP %s is not partition %s's", dp, partition)
	}
	der, _, _, err := Latest(ctx, e.pool, r.Kind, partition)
	if err != nil {
		t.Fatalf("the CRL at %s: %v", dp, err)
	}
	rl, _ := e.parsed(t, r.Kind, der)
	if now.Before(rl.ThisUpdate) || !now.Before(rl.NextUpdate) {
		t.Errorf("CRL at %s not current at %v: %v–%v", dp, now, rl.ThisUpdate, rl.NextUpdate)
	}
	if idp := findExt(rl, oidIssuingDP); idp == nil || !bytes.Contains(idp.Value, []byte(dp)) {
		t.Errorf("CRL at %s does not name it in its IDP", dp)
	}
	return rl
}

// With the publisher hooked into the CA, a certificate's partition CRL
// exists as soon as the certificate does: the first certificate of a
// partition (municipality or shard) has its empty CRL issued before it is
// signed, later ones cost no CRL, publications go on numbering after it, and
// a certificate issued under a new repository URL gets a CRL naming that URI
// too.
func TestFirstCertificateOfAPartitionHasItsCRL(t *testing.T) {
	e := newEnv(t)
	e.ca.SetPartitionCRLs(e.pub)
	far := jst(2031, 1, 2, 23, 59)

	s1 := e.issue(t, ca.KindSign, "131016", far)
	if rl := e.partitionCRL(t, s1, e.clock.now()); rl.Number.Int64() != 1 || len(rl.RevokedCertificateEntries) != 0 {
		t.Errorf("first sign/131016 CRL: number %v, %d entries", rl.Number, len(rl.RevokedCertificateEntries))
	}
	a1 := e.issue(t, ca.KindAuth, "131016", far)
	if rl := e.partitionCRL(t, a1, e.clock.now()); rl.Number.Int64() != 1 {
		t.Errorf("first auth CRL of %s: number %v", shardOf(t, a1), rl.Number)
	}
	var runs []string
	rows, err := e.pool.Query(ctx, "SELECT run_id FROM crl_issued ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, r)
	}
	if fmt.Sprint(runs) != fmt.Sprint([]string{"issuance/" + s1.Serial, "issuance/" + a1.Serial}) {
		t.Errorf("CRLs issued: %v, want one per first certificate, named after it", runs)
	}

	// A second certificate of the partition: no new CRL.
	e.clock.add(time.Minute)
	e.issue(t, ca.KindSign, "131016", far)
	if rl := e.partitionCRL(t, s1, e.clock.now()); rl.Number.Int64() != 1 {
		t.Errorf("second certificate made CRL number %v", rl.Number)
	}

	// The daily run numbers on; a revocation shows there.
	e.revoke(t, s1.Serial, reasons.KeyCompromise)
	e.clock.add(time.Minute)
	e.publish(t, "run-1")
	if rl := e.partitionCRL(t, s1, e.clock.now()); rl.Number.Int64() != 2 || len(rl.RevokedCertificateEntries) != 1 {
		t.Errorf("after run-1: number %v, %d entries", rl.Number, len(rl.RevokedCertificateEntries))
	}

	// A CA issuing under another repository URL into the same partition:
	// the CRL must name that URI too before its certificate exists.
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	other, err := ca.Load(ctx, e.pool, e.h, ca.Options{RepositoryURL: "http://repo2.test", Now: e.clock.now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	other.SetPartitionCRLs(e.pub)
	e.clock.add(time.Minute)
	s3, err := other.Issue(ctx, e.signRequest(t, "131016", far))
	if err != nil {
		t.Fatal(err)
	}
	der, _, _, err := Latest(ctx, e.pool, ca.KindSign, "131016")
	if err != nil {
		t.Fatal(err)
	}
	rl, _ := e.parsed(t, ca.KindSign, der)
	idp := findExt(rl, oidIssuingDP)
	cert, _ := x509.ParseCertificate(s3.CertificateDER)
	if rl.Number.Int64() != 3 || idp == nil || !bytes.Contains(idp.Value, []byte(cert.CRLDistributionPoints[0])) ||
		!bytes.Contains(idp.Value, []byte(profile.CRLURL(testRepo, ca.KindSign, "131016"))) || len(rl.RevokedCertificateEntries) != 1 {
		t.Errorf("CRL %v after a certificate under a new URL: IDP names both URIs %v, entries %d", rl.Number, idp != nil, len(rl.RevokedCertificateEntries))
	}
}

// Concurrent first certificates of one partition make one CRL between them.
func TestConcurrentFirstCertificatesOneCRL(t *testing.T) {
	e := newEnv(t)
	e.ca.SetPartitionCRLs(e.pub)
	far := jst(2031, 1, 2, 23, 59)
	reqs := make([]ca.IssueRequest, 4)
	for i := range reqs {
		reqs[i] = e.signRequest(t, "012025", far)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(reqs))
	for i := range reqs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = e.ca.Issue(ctx, reqs[i])
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := e.pool.QueryRow(ctx, "SELECT count(*) FROM crl_issued WHERE scope = '012025'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d CRLs of the new partition, want 1", n)
	}
}

func TestEnsurePartitionErrors(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		kind                 ca.Kind
		partition, base, run string
		want                 error
	}{
		{ca.KindSign, "131016", testRepo, "", ErrInvalid},
		{ca.KindSign, "s01", testRepo, "r", ErrInvalid},
		{ca.KindAuth, "x", testRepo, "r", ErrInvalid},
		{ca.KindSign, "131016", testRepo, "r", ErrNotFound}, // no certificate names it
	} {
		if err := e.pub.EnsurePartition(ctx, c.kind, c.partition, c.base, c.run); !errors.Is(err, c.want) {
			t.Errorf("EnsurePartition(%s, %q, %q, %q) = %v, want %v", c.kind, c.partition, c.base, c.run, err, c.want)
		}
	}
}
