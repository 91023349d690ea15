package crl

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"

	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/ca/profile"
	"github.com/madoguchi/madoguchi/internal/reasons"
)

// parsed checks a stored CRL as a verifier would: it parses, is signed by
// the CA of kind, names the CA, and passes zlint's RFC 5280 and community
// lints. It returns the entries as serial → reason code.
func (e *env) parsed(t *testing.T, kind ca.Kind, der []byte) (*x509.RevocationList, map[string]int) {
	t.Helper()
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatalf("ParseRevocationList: %v", err)
	}
	caCert, _ := e.ca.IssuerCertificate(kind)
	if err := rl.CheckSignatureFrom(caCert); err != nil {
		t.Fatalf("%s CRL does not verify with the %s CA: %v", kind, kind, err)
	}
	if !bytes.Equal(rl.RawIssuer, caCert.RawSubject) || !bytes.Equal(rl.AuthorityKeyId, caCert.SubjectKeyId) {
		t.Fatalf("CRL issuer/AKI do not name the %s CA", kind)
	}
	if rl.SignatureAlgorithm != x509.SHA256WithRSA {
		t.Fatalf("signature algorithm %v", rl.SignatureAlgorithm)
	}
	lintCRL(t, der)
	got := map[string]int{}
	for _, en := range rl.RevokedCertificateEntries {
		got[ca.FormatSerial(en.SerialNumber)] = en.ReasonCode
	}
	return rl, got
}

// lintCRL runs zlint (the same sources as internal/ca/certlint) on a CRL.
func lintCRL(t *testing.T, der []byte) {
	t.Helper()
	zrl, err := zx509.ParseRevocationList(der)
	if err != nil {
		t.Fatalf("zcrypto parse: %v", err)
	}
	reg, err := lint.GlobalRegistry().Filter(lint.FilterOptions{IncludeSources: lint.SourceList{lint.RFC5280, lint.Community}})
	if err != nil {
		t.Fatal(err)
	}
	res := zlint.LintRevocationListEx(zrl, reg)
	applied := 0
	for name, r := range res.Results {
		switch r.Status {
		case lint.NA, lint.NE:
			continue
		case lint.Warn, lint.Error, lint.Fatal:
			t.Errorf("zlint %s: %s %s", name, r.Status, r.Details)
		}
		applied++
	}
	if applied < 5 {
		t.Errorf("only %d CRL lints applied", applied)
	}
}

func (e *env) latest(t *testing.T, kind ca.Kind, partition string) []byte {
	t.Helper()
	der, tu, nu, err := Latest(ctx, e.pool, kind, partition)
	if err != nil {
		t.Fatalf("Latest(%s, %q): %v", kind, partition, err)
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	if !rl.ThisUpdate.Equal(tu) || !rl.NextUpdate.Equal(nu) {
		t.Fatalf("Latest times %v/%v, CRL says %v/%v", tu, nu, rl.ThisUpdate, rl.NextUpdate)
	}
	return der
}

func (e *env) publish(t *testing.T, run string) map[ca.Kind]Summary {
	t.Helper()
	out := map[ca.Kind]Summary{}
	for _, kind := range []ca.Kind{ca.KindSign, ca.KindAuth} {
		var calls int
		s, err := e.pub.Publish(ctx, kind, run, func(done, total int) {
			calls++
			if done != calls || total < done {
				t.Errorf("progress(%d, %d) at call %d", done, total, calls)
			}
		})
		if err != nil {
			t.Fatalf("Publish(%s, %s): %v", kind, run, err)
		}
		if calls != s.Partitions+1 {
			t.Errorf("progress called %d times for %d partitions + full", calls, s.Partitions)
		}
		out[kind] = s
	}
	return out
}

func (e *env) revoke(t *testing.T, serial string, r reasons.Reason) {
	t.Helper()
	if _, err := e.ca.Revoke(ctx, ca.RevokeRequest{RequestID: "revoke/" + serial, Serial: serial, Reason: r}); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
}

func equalSet(t *testing.T, what string, got, want map[string]int) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d entries %v, want %d %v", what, len(got), got, len(want), want)
		return
	}
	for s, r := range want {
		if g, ok := got[s]; !ok || g != r {
			t.Errorf("%s: entry %s reason %d (present %v), want %d", what, s, g, ok, r)
		}
	}
}

// shardOf is the user-authentication partition of an issued certificate,
// as its distribution point names it.
func shardOf(t *testing.T, r ca.IssueResult) string {
	t.Helper()
	cert, err := x509.ParseCertificate(r.CertificateDER)
	if err != nil {
		t.Fatal(err)
	}
	p := profile.CRLPartition(ca.KindAuth, cert.SerialNumber, "")
	if len(cert.CRLDistributionPoints) != 1 || cert.CRLDistributionPoints[0] != profile.CRLURL(testRepo, ca.KindAuth, p) {
		t.Fatalf("auth certificate DP %v, want shard %s", cert.CRLDistributionPoints, p)
	}
	return p
}

// The whole life of the lists: revoked certificates listed with the right
// reasons in their partition (municipality or serial shard) and the full
// CRL, holds listed then dropped after release, expired certificates left
// out from the first CRL after their notAfter (a certificate expiring at
// thisUpdate is still valid then, and listed), numbers increasing, retries of
// a run issuing nothing, and the daily files of past days still served.
func TestPublicationLifecycle(t *testing.T) {
	e := newEnv(t)
	t0 := e.clock.now()
	far := jst(2031, 1, 2, 23, 59)
	s1 := e.issue(t, ca.KindSign, "131016", far)
	s2 := e.issue(t, ca.KindSign, "131016", far)
	s3 := e.issue(t, ca.KindSign, "271004", far)
	s4 := e.issue(t, ca.KindSign, "131016", t0.Add(48*time.Hour))
	s5 := e.issue(t, ca.KindSign, "271004", t0.Add(96*time.Hour))             // run 2's thisUpdate
	s6 := e.issue(t, ca.KindSign, "271004", t0.Add(96*time.Hour-time.Second)) // a second before it
	a1 := e.issue(t, ca.KindAuth, "131016", far)
	a2 := e.issue(t, ca.KindAuth, "131016", far)
	a3 := e.issue(t, ca.KindAuth, "012025", far)
	shard := map[string]string{a1.Serial: shardOf(t, a1), a2.Serial: shardOf(t, a2), a3.Serial: shardOf(t, a3)}
	// authWant spreads the user-authentication entries over the shards of
	// a1–a3 (each of which has a CRL, empty or not).
	authWant := func(want map[string]map[string]int, entries map[string]int) {
		for _, p := range shard {
			want["auth/"+p] = map[string]int{}
		}
		for serial, reason := range entries {
			want["auth/"+shard[serial]][serial] = reason
		}
		want["auth/"] = entries
	}
	nAuth := len(map[string]bool{shard[a1.Serial]: true, shard[a2.Serial]: true, shard[a3.Serial]: true})
	e.clock.add(30 * time.Minute)
	e.revoke(t, s1.Serial, reasons.KeyCompromise)
	e.revoke(t, s3.Serial, reasons.Superseded)
	e.revoke(t, s4.Serial, reasons.AffiliationChanged)
	e.revoke(t, s5.Serial, reasons.CessationOfOperation)
	e.revoke(t, s6.Serial, reasons.KeyCompromise)
	e.revoke(t, a2.Serial, reasons.CessationOfOperation)
	if _, err := e.ca.Hold(ctx, ca.HoldRequest{RequestID: "hold/a1", Serial: a1.Serial}); err != nil {
		t.Fatal(err)
	}
	_ = s2 // good: listed nowhere

	// Run 1, 2026-04-01 09:30 JST.
	e.clock.add(30 * time.Minute)
	now1 := e.clock.now()
	sum := e.publish(t, "run-1")
	if s := sum[ca.KindSign]; s.Partitions != 2 || s.Issued != 2 || s.Skipped != 0 || s.Full.Number != 1 || s.Full.Entries != 5 || s.Full.Day != "2026-04-01" {
		t.Fatalf("sign summary %+v", s)
	}
	if s := sum[ca.KindAuth]; s.Partitions != nAuth || s.Issued != nAuth || s.Full.Entries != 2 {
		t.Fatalf("auth summary %+v, want %d shards", s, nAuth)
	}
	want := map[string]map[string]int{
		"sign/131016": {s1.Serial: 1, s4.Serial: 3},
		"sign/271004": {s3.Serial: 4, s5.Serial: 5, s6.Serial: 1},
		"sign/":       {s1.Serial: 1, s3.Serial: 4, s4.Serial: 3, s5.Serial: 5, s6.Serial: 1},
	}
	authWant(want, map[string]int{a1.Serial: 6, a2.Serial: 5})
	check := func(run string, number int64, thisUpdate time.Time) map[string][]byte {
		t.Helper()
		ders := map[string][]byte{}
		for scope, entries := range want {
			kind, partition := ca.Kind(scope[:4]), scope[5:]
			der := e.latest(t, kind, partition)
			ders[scope] = der
			rl, got := e.parsed(t, kind, der)
			equalSet(t, run+" "+scope, got, entries)
			if rl.Number.Int64() != number {
				t.Errorf("%s %s: CRL number %v, want %d", run, scope, rl.Number, number)
			}
			if !rl.ThisUpdate.Equal(thisUpdate) || !rl.NextUpdate.Equal(thisUpdate.Add(30*time.Hour)) {
				t.Errorf("%s %s: thisUpdate %v nextUpdate %v, want %v + 30h", run, scope, rl.ThisUpdate, rl.NextUpdate, thisUpdate)
			}
			if len(entries) == 0 && len(rl.RevokedCertificateEntries) != 0 {
				t.Errorf("empty partition has entries")
			}
			idp := findExt(rl, oidIssuingDP)
			if partition == "" {
				if idp != nil {
					t.Errorf("%s: full CRL has an issuingDistributionPoint", scope)
				}
				continue
			}
			// The IDP names exactly the DP the partition's certificates carry,
			// which is what lets a verifier accept this CRL for them.
			if idp == nil || !idp.Critical {
				t.Fatalf("%s: no critical issuingDistributionPoint", scope)
			}
			wantURI := profile.CRLURL(testRepo, kind, partition)
			if !bytes.Contains(idp.Value, []byte(wantURI)) {
				t.Errorf("%s: IDP %x does not name %s", scope, idp.Value, wantURI)
			}
		}
		return ders
	}
	run1 := check("run-1", 1, now1)
	// Each certificate's CRL DP is the partition whose CRL lists it.
	for p, r := range map[string]ca.IssueResult{"131016": s1, "271004": s3, shard[a3.Serial]: a3} {
		cert, _ := x509.ParseCertificate(r.CertificateDER)
		if len(cert.CRLDistributionPoints) != 1 || cert.CRLDistributionPoints[0] != profile.CRLURL(testRepo, r.Kind, p) {
			t.Errorf("certificate DP %v, want the %s partition", cert.CRLDistributionPoints, p)
		}
	}
	day1, err := DailyFile(ctx, e.pool, ca.KindSign, jst(2026, 4, 1, 0, 0))
	if err != nil || !bytes.Equal(day1, run1["sign/"]) {
		t.Fatalf("daily file of 2026-04-01 is not run 1's full CRL (err %v)", err)
	}

	// A retried run issues nothing and reports what it had issued.
	e.clock.add(time.Minute)
	again := e.publish(t, "run-1")
	if s := again[ca.KindSign]; s.Issued != 0 || s.Skipped != 2 || !s.Full.Skipped || s.Full.Number != 1 || s.Full.Entries != 5 {
		t.Fatalf("retried run: %+v", s)
	}
	if !bytes.Equal(e.latest(t, ca.KindSign, ""), run1["sign/"]) {
		t.Fatal("a retried run replaced the full CRL")
	}

	// Release the hold; four days later s4 has been expired for two days
	// and s6 for one second (both left out: 有効期間満了となった電子証明書に係る
	// 失効情報は失効記録には記載されない), while s5 expires at this very
	// thisUpdate, still within its validity (listed).
	e.clock.add(time.Hour)
	if _, err := e.ca.Release(ctx, ca.HoldRequest{RequestID: "release/a1", Serial: a1.Serial}); err != nil {
		t.Fatal(err)
	}
	e.clock.set(t0.Add(96 * time.Hour))
	now2 := e.clock.now()
	e.publish(t, "run-2")
	want["sign/131016"] = map[string]int{s1.Serial: 1}
	want["sign/271004"] = map[string]int{s3.Serial: 4, s5.Serial: 5}
	want["sign/"] = map[string]int{s1.Serial: 1, s3.Serial: 4, s5.Serial: 5}
	authWant(want, map[string]int{a2.Serial: 5})
	run2 := check("run-2", 2, now2)
	// Run 1 retried after run 2 overtook it (a late activity retry) signs
	// nothing either, and run 2's lists stay current.
	if s := e.publish(t, "run-1")[ca.KindSign]; s.Issued != 0 || s.Skipped != 2 || !s.Full.Skipped || s.Full.Number != 1 {
		t.Fatalf("overtaken run retried: %+v", s)
	}
	if !bytes.Equal(e.latest(t, ca.KindSign, ""), run2["sign/"]) {
		t.Fatal("an overtaken run replaced the current CRL")
	}

	// A day later s5 has expired too: gone.
	e.clock.set(t0.Add(120 * time.Hour))
	now3 := e.clock.now()
	e.publish(t, "run-3")
	want["sign/271004"] = map[string]int{s3.Serial: 4}
	want["sign/"] = map[string]int{s1.Serial: 1, s3.Serial: 4}
	check("run-3", 3, now3)

	// An on-demand run later the same day replaces that day's file.
	e.clock.add(2 * time.Hour)
	e.revoke(t, s2.Serial, reasons.KeyCompromise)
	e.revoke(t, a3.Serial, reasons.KeyCompromise)
	now4 := e.clock.now()
	e.publish(t, "run-4")
	want["sign/131016"] = map[string]int{s1.Serial: 1, s2.Serial: 1}
	want["sign/"] = map[string]int{s1.Serial: 1, s2.Serial: 1, s3.Serial: 4}
	authWant(want, map[string]int{a2.Serial: 5, a3.Serial: 1})
	run4 := check("run-4", 4, now4)

	// Daily files: 04-01 (run 1), 04-05 (run 2), 04-06 (run 4, not 3);
	// none for 04-02. Any instant of the JST day names it.
	for _, c := range []struct {
		day  time.Time
		want []byte
	}{
		{jst(2026, 4, 1, 23, 59), run1["sign/"]},
		{time.Date(2026, 4, 5, 0, 0, 0, 0, time.UTC), run2["sign/"]},
		{jst(2026, 4, 6, 0, 0), run4["sign/"]},
	} {
		got, err := DailyFile(ctx, e.pool, ca.KindSign, c.day)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("DailyFile(%v): err %v, right file %v", c.day, err, bytes.Equal(got, c.want))
		}
	}
	if got, err := DailyFile(ctx, e.pool, ca.KindAuth, jst(2026, 4, 6, 12, 0)); err != nil || !bytes.Equal(got, run4["auth/"]) {
		t.Errorf("auth daily file of 04-06: %v", err)
	}
	if _, err := DailyFile(ctx, e.pool, ca.KindSign, jst(2026, 4, 2, 12, 0)); !errors.Is(err, ErrNotFound) {
		t.Errorf("DailyFile of a day without publication: %v, want ErrNotFound", err)
	}

	// Disposal: eight days on, the CRLs neither current nor a daily file
	// go; all daily files are young.
	later := e.clock.now().Add(8 * 24 * time.Hour)
	d, err := Dispose(ctx, e.pool, later)
	if err != nil {
		t.Fatal(err)
	}
	// 4 runs × (2 + nAuth partitions + 2 full CRLs); kept: run 4's (the
	// current ones, also the 04-06 files) + 4 full CRLs of runs 1 and 2 (the
	// 04-01 and 04-05 files).
	perRun := int64(4 + nAuth)
	if d.DailyFiles != 0 || d.CRLs != 4*perRun-perRun-4 {
		t.Errorf("Dispose = %+v, want 0 daily files and %d CRLs", d, 4*perRun-perRun-4)
	}
	// Make 04-01's files older than ten years: they and their CRLs go.
	if _, err := e.pool.Exec(ctx, "UPDATE crl_daily_files SET day = '2016-04-13' WHERE day = '2026-04-01'"); err != nil {
		t.Fatal(err)
	}
	d, err = Dispose(ctx, e.pool, jst(2026, 4, 14, 0, 30))
	if err != nil || d.DailyFiles != 2 || d.CRLs != 2 {
		t.Errorf("Dispose = %+v, %v; want 2 daily files and their 2 CRLs", d, err)
	}
	if _, err := DailyFile(ctx, e.pool, ca.KindSign, jst(2016, 4, 13, 12, 0)); !errors.Is(err, ErrNotFound) {
		t.Errorf("disposed file still served: %v", err)
	}
	if _, err := DailyFile(ctx, e.pool, ca.KindSign, jst(2026, 4, 5, 12, 0)); err != nil {
		t.Errorf("kept file gone: %v", err)
	}
	if !bytes.Equal(e.latest(t, ca.KindSign, ""), run4["sign/"]) {
		t.Error("Dispose touched the current CRL")
	}
}

func findExt(rl *x509.RevocationList, oid asn1.ObjectIdentifier) *struct {
	Critical bool
	Value    []byte
} {
	for _, x := range rl.Extensions {
		if x.Id.Equal(oid) {
			return &struct {
				Critical bool
				Value    []byte
			}{x.Critical, x.Value}
		}
	}
	return nil
}

func TestReadErrors(t *testing.T) {
	e := newEnv(t)
	a := e.issue(t, ca.KindAuth, "131016", jst(2031, 1, 2, 23, 59))
	shard := shardOf(t, a)
	for _, c := range []struct {
		kind      ca.Kind
		partition string
	}{
		{ca.KindSign, ""}, {ca.KindAuth, shard}, {ca.KindAuth, "131016"}, // nothing published yet
		{"other", ""}, {ca.KindSign, "13101"}, {ca.KindSign, "../x"}, {ca.KindSign, "s01"}, {ca.KindAuth, "s64"},
	} {
		if _, _, _, err := Latest(ctx, e.pool, c.kind, c.partition); !errors.Is(err, ErrNotFound) {
			t.Errorf("Latest(%q, %q) = %v, want ErrNotFound", c.kind, c.partition, err)
		}
	}
	if _, err := DailyFile(ctx, e.pool, "x", time.Now()); !errors.Is(err, ErrNotFound) {
		t.Errorf("DailyFile(bad kind) = %v", err)
	}
	for _, c := range []struct {
		kind           ca.Kind
		partition, run string
		want           error
	}{
		{ca.KindAuth, shard, "", ErrInvalid},
		{"x", "", "r", ErrInvalid},
		{ca.KindAuth, "1310", "r", ErrInvalid},
		{ca.KindSign, shard, "r", ErrInvalid},     // signing partitions are municipalities
		{ca.KindAuth, "131016", "r", ErrNotFound}, // the municipality is no user-authentication partition
		{ca.KindSign, "131016", "r", ErrNotFound}, // none of this kind there
	} {
		if _, err := e.pub.IssueCRL(ctx, c.kind, c.partition, c.run); !errors.Is(err, c.want) {
			t.Errorf("IssueCRL(%q, %q, %q) = %v, want %v", c.kind, c.partition, c.run, err, c.want)
		}
	}
	r, err := e.pub.IssueCRL(ctx, ca.KindAuth, shard, "r")
	if err != nil || r.Number != 1 || r.Entries != 0 || r.Day != "" {
		t.Fatalf("IssueCRL = %+v, %v", r, err)
	}
	// The database's active CA no longer being the loaded one stops
	// publication (a re-key needs a restarted worker).
	if _, err := e.pool.Exec(ctx, "UPDATE ca_issuers SET active = false WHERE kind = 'auth'"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pub.IssueCRL(ctx, ca.KindAuth, "", "r2"); !errors.Is(err, ErrIssuerChanged) {
		t.Errorf("IssueCRL after deactivation = %v, want ErrIssuerChanged", err)
	}
}

// Concurrent publishers (say two CA workers) of one scope get distinct,
// consecutive numbers, and a higher number never has an earlier thisUpdate
// or fewer entries (a revocation is made while the publishers queue).
func TestNumbersUnderConcurrency(t *testing.T) {
	e := newEnv(t)
	far := jst(2031, 1, 2, 23, 59)
	var serials []string
	for i := 0; i < 4; i++ {
		serials = append(serials, e.issue(t, ca.KindSign, "131016", far).Serial)
	}
	e.revoke(t, serials[0], reasons.KeyCompromise)
	const n = 4
	var wg sync.WaitGroup
	results := make([]Result, n)
	errs := make([]error, n)
	var once sync.Once
	for i := 0; i < n; i++ {
		p := NewPublisher(e.ca, e.pool, Options{Now: e.clock.now, Logger: e.pub.log})
		// The first to hold the number lock revokes another certificate
		// before taking its snapshot; those queued behind must see it.
		p.wait = func() {
			once.Do(func() { e.revoke(t, serials[1], reasons.Superseded) })
			e.clock.add(time.Second)
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i], errs[i] = p.IssueCRL(ctx, ca.KindSign, "", fmt.Sprintf("conc-%d", i))
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	sort.Slice(results, func(i, j int) bool { return results[i].Number < results[j].Number })
	for i, r := range results {
		if r.Number != int64(i+1) {
			t.Fatalf("numbers %v", results)
		}
		if r.Entries != 2 {
			t.Errorf("CRL %d has %d entries, want 2", r.Number, r.Entries)
		}
		if i > 0 && r.ThisUpdate.Before(results[i-1].ThisUpdate) {
			t.Errorf("CRL %d thisUpdate %v before CRL %d's %v", r.Number, r.ThisUpdate, i, results[i-1].ThisUpdate)
		}
	}
	der := e.latest(t, ca.KindSign, "")
	rl, _ := e.parsed(t, ca.KindSign, der)
	if rl.Number.Int64() != n {
		t.Errorf("latest is number %v", rl.Number)
	}
}

func TestDisposeCutoff(t *testing.T) {
	for _, c := range []struct {
		now  time.Time
		want string
	}{
		{jst(2036, 4, 1, 10, 0), "2026-04-01"},
		{time.Date(2036, 3, 31, 16, 0, 0, 0, time.UTC), "2026-04-01"}, // 01:00 JST on 04-01
		{time.Date(2036, 3, 31, 14, 59, 0, 0, time.UTC), "2026-03-31"},
		{jst(2036, 2, 29, 12, 0), "2026-03-01"}, // no 2026-02-29: 02-28's file is 10 years old
	} {
		if got := DisposeCutoff(c.now).Format(time.DateOnly); got != c.want {
			t.Errorf("DisposeCutoff(%v) = %s, want %s", c.now, got, c.want)
		}
	}
}
