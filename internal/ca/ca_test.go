package ca

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/ca/certlint"
	"github.com/madoguchi/madoguchi/internal/ca/profile"
	"github.com/madoguchi/madoguchi/internal/reasons"
)

var ctx = context.Background()

func signRequest(t *testing.T, e *env, id string) IssueRequest {
	_, der := newKey(t)
	return IssueRequest{
		RequestID:        id,
		Kind:             KindSign,
		MunicipalityCode: "131016",
		ResidentCode:     "12345678901",
		Personal:         testPersonal(),
		PublicKeyDER:     der,
		NotAfter:         jst(2031, 1, 2, 23, 59, 59),
	}
}

func authRequest(t *testing.T, e *env, id string) IssueRequest {
	_, der := newKey(t)
	return IssueRequest{
		RequestID:        id,
		Kind:             KindAuth,
		MunicipalityCode: "131016",
		ResidentCode:     "12345678901",
		PublicKeyDER:     der,
		NotAfter:         jst(2031, 1, 2, 23, 59, 59),
	}
}

func TestBootstrapIdempotentAndPEM(t *testing.T) {
	e := newEnv(t)
	for _, kind := range []Kind{KindSign, KindAuth} {
		cert, err := e.ca.IssuerCertificate(kind)
		if err != nil {
			t.Fatal(err)
		}
		if err := cert.CheckSignatureFrom(cert); err != nil {
			t.Errorf("%s CA is not validly self-signed: %v", kind, err)
		}
		if cert.SignatureAlgorithm != x509.SHA256WithRSA || cert.PublicKey.(interface{ Size() int }).Size() != 256 {
			t.Errorf("%s CA: %v, key size %d", kind, cert.SignatureAlgorithm, cert.PublicKey.(interface{ Size() int }).Size())
		}
		if !cert.IsCA || cert.MaxPathLen != 0 || !cert.MaxPathLenZero || cert.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
			t.Errorf("%s CA constraints wrong: IsCA=%v MaxPathLen=%d KeyUsage=%v", kind, cert.IsCA, cert.MaxPathLen, cert.KeyUsage)
		}
		// One attribute per RDN, in the real JPKI order (pkix.Name.String
		// would merge the two OUs, so look at the DER).
		wantUnit := map[Kind]string{KindSign: "JPKI for digital signature", KindAuth: "JPKI for user authentication"}[kind]
		var rdns pkix.RDNSequence
		if rest, err := asn1.Unmarshal(cert.RawSubject, &rdns); err != nil || len(rest) != 0 {
			t.Fatalf("subject DER: %v", err)
		}
		want := []string{"2.5.4.6=JP", "2.5.4.10=JPKI", "2.5.4.11=" + wantUnit, "2.5.4.11=Japan Agency for Local Authority Information Systems"}
		if len(rdns) != len(want) {
			t.Fatalf("%s CA subject has %d RDNs, want %d", kind, len(rdns), len(want))
		}
		for i, rdn := range rdns {
			if len(rdn) != 1 || fmt.Sprintf("%v=%v", rdn[0].Type, rdn[0].Value) != want[i] {
				t.Errorf("%s CA subject RDN %d = %v, want %s", kind, i, rdn, want[i])
			}
		}
		if !bytes.Equal(cert.RawIssuer, cert.RawSubject) {
			t.Errorf("%s CA issuer differs from subject", kind)
		}
		// The PEM file holds the same certificate.
		body, err := os.ReadFile(filepath.Join(e.pem, PEMFileName(kind)))
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(body)
		if block == nil || block.Type != "CERTIFICATE" || !bytes.Equal(block.Bytes, cert.Raw) {
			t.Errorf("%s PEM does not hold the CA certificate", kind)
		}
		// The private key is in the HSM under the label, and it is the CA's.
		signer, err := e.hsm.FindRSAKey(map[Kind]string{KindSign: DefaultSignKeyLabel, KindAuth: DefaultAuthKeyLabel}[kind], 2048)
		if err != nil {
			t.Fatalf("%s key not in HSM: %v", kind, err)
		}
		if !signer.Public().(*rsa.PublicKey).Equal(cert.PublicKey) {
			t.Errorf("%s HSM key differs from the CA certificate", kind)
		}
	}
	signCA, _ := e.ca.IssuerCertificate(KindSign)
	authCA, _ := e.ca.IssuerCertificate(KindAuth)
	if bytes.Equal(signCA.RawSubjectPublicKeyInfo, authCA.RawSubjectPublicKeyInfo) {
		t.Fatal("both CAs share one key")
	}

	// A second run (another process, later) loads what exists.
	e.clock.add(48 * time.Hour)
	dir2 := t.TempDir()
	again, err := Bootstrap(ctx, e.pool, e.hsm, dir2, Options{Now: e.clock.now})
	if err != nil {
		t.Fatalf("second Bootstrap: %v", err)
	}
	for _, kind := range []Kind{KindSign, KindAuth} {
		a, _ := e.ca.IssuerCertificate(kind)
		b, _ := again.IssuerCertificate(kind)
		if !bytes.Equal(a.Raw, b.Raw) {
			t.Errorf("second Bootstrap made a new %s CA", kind)
		}
	}
	var n int
	if err := e.pool.QueryRow(ctx, "SELECT count(*) FROM ca_issuers").Scan(&n); err != nil || n != 2 {
		t.Fatalf("ca_issuers has %d rows (%v), want 2", n, err)
	}
	if _, err := os.Stat(filepath.Join(dir2, "auth-ca.pem")); err != nil {
		t.Errorf("second Bootstrap did not export PEM: %v", err)
	}

	// Migrate again is a no-op.
	if err := Migrate(ctx, e.pool); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	files, _ := fs.Glob(migrationFS, "migrations/*.sql") // one row per migration file, however many
	if err := e.pool.QueryRow(ctx, "SELECT count(*) FROM schema_migrations WHERE version LIKE 'ca/%'").Scan(&n); err != nil || n != len(files) {
		t.Fatalf("schema_migrations has %d ca rows (%v)", n, err)
	}
}

func TestOptionsRejectHTTPSRepository(t *testing.T) {
	e := newEnv(t)
	for _, u := range []string{"https://repo.test", "ftp://repo.test", "repo.test", "http://repo.test/?x=1"} {
		if _, err := Load(ctx, e.pool, e.hsm, Options{RepositoryURL: u}); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("Load with repository %q: %v", u, err)
		}
	}
	if _, err := Load(ctx, e.pool, e.hsm, Options{RepositoryURL: "http://repo.test/base/"}); err != nil {
		t.Errorf("Load with a path: %v", err)
	}
}

func TestLoadRequiresBootstrap(t *testing.T) {
	if os.Getenv(envDSN) == "" {
		t.Skip(envDSN + " not set")
	}
	pool := testDB(t)
	if err := Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t) // another schema with a bootstrapped CA, for its HSM
	if _, err := Load(ctx, pool, e.hsm, Options{}); !errors.Is(err, ErrNotBootstrapped) {
		t.Fatalf("Load on an empty schema: %v, want ErrNotBootstrapped", err)
	}
}

func TestIssueSigningCertificate(t *testing.T) {
	e := newEnv(t)
	req := signRequest(t, e, "2026-000123/sign")
	res, err := e.ca.Issue(ctx, req)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if res.Existing {
		t.Error("first Issue reported an existing certificate")
	}
	cert, err := x509.ParseCertificate(res.CertificateDER)
	if err != nil {
		t.Fatal(err)
	}
	signCA, _ := e.ca.IssuerCertificate(KindSign)
	authCA, _ := e.ca.IssuerCertificate(KindAuth)
	roots := x509.NewCertPool()
	roots.AddCert(signCA)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: e.clock.now().Add(time.Hour), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Fatalf("certificate does not verify against the signing CA: %v", err)
	}
	if err := cert.CheckSignatureFrom(authCA); err == nil {
		t.Fatal("signing certificate verifies against the auth CA")
	}
	if !bytes.Equal(cert.RawSubjectPublicKeyInfo, req.PublicKeyDER) {
		t.Error("certificate certifies another key")
	}
	if cert.SignatureAlgorithm != x509.SHA256WithRSA {
		t.Errorf("signature algorithm %v", cert.SignatureAlgorithm)
	}
	if got := cert.SerialNumber.Text(16); got != res.Serial || cert.SerialNumber.Sign() <= 0 || cert.SerialNumber.BitLen() <= 64 {
		t.Errorf("serial %s (result %s), %d bits", got, res.Serial, cert.SerialNumber.BitLen())
	}

	got, err := profile.ParsePersonalInfo(cert)
	if err != nil {
		t.Fatal(err)
	}
	if got != *req.Personal {
		t.Errorf("SAN decodes to %+v\nwant %+v", fmt.Sprint(got.Name, got.DateOfBirth, got.Sex, got.Address), fmt.Sprint(req.Personal.Name, req.Personal.DateOfBirth, req.Personal.Sex, req.Personal.Address))
	}
	names, _ := profile.OtherNames(cert)
	if names["1.2.392.200149.8.5.5.4"] != "419900102" || names["1.2.392.200149.8.5.5.3"] != "2" || names["1.2.392.200149.8.5.5.7"] != "鈴木" {
		t.Errorf("otherName values: DOB %q, sex %q, former surname %q", names["1.2.392.200149.8.5.5.4"], names["1.2.392.200149.8.5.5.3"], names["1.2.392.200149.8.5.5.7"])
	}

	if cert.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment {
		t.Errorf("key usage %v", cert.KeyUsage)
	}
	exts := map[string]bool{}
	for _, x := range cert.Extensions {
		exts[x.Id.String()] = x.Critical
	}
	if crit, ok := exts["2.5.29.15"]; !ok || !crit {
		t.Error("key usage missing or not critical")
	}
	if crit, ok := exts["2.5.29.17"]; !ok || crit {
		t.Error("subjectAltName missing or critical")
	}
	if len(cert.PolicyIdentifiers) != 1 || !cert.PolicyIdentifiers[0].Equal(profile.OIDPolicySign) {
		t.Errorf("policies %v", cert.PolicyIdentifiers)
	}
	if len(cert.CRLDistributionPoints) != 1 || cert.CRLDistributionPoints[0] != "http://repo.test:8090/crl/sign/131016.crl" {
		t.Errorf("CRL DP %v", cert.CRLDistributionPoints)
	}
	if len(cert.OCSPServer) != 1 || cert.OCSPServer[0] != "http://repo.test:8090/ocsp" {
		t.Errorf("OCSP %v", cert.OCSPServer)
	}
	if !bytes.Equal(cert.AuthorityKeyId, signCA.SubjectKeyId) || len(cert.SubjectKeyId) != 20 {
		t.Error("key identifiers wrong")
	}
	if strings.Contains(cert.Subject.String(), "山田") || cert.Subject.CommonName == "" || len(cert.Subject.Locality) != 1 || cert.Subject.Locality[0] != "131016" {
		t.Errorf("subject %q", cert.Subject.String())
	}
	if !cert.NotAfter.Equal(req.NotAfter) || !cert.NotBefore.Equal(e.clock.now().Truncate(time.Second)) {
		t.Errorf("validity %v – %v", cert.NotBefore, cert.NotAfter)
	}

	rec, err := e.ca.Certificate(ctx, strings.ToUpper(res.Serial))
	if err != nil {
		t.Fatal(err)
	}
	if rec.ResidentCode != req.ResidentCode || rec.MunicipalityCode != "131016" || rec.Kind != KindSign ||
		rec.RequestID != req.RequestID || !bytes.Equal(rec.CertificateDER, res.CertificateDER) || rec.Status.State != StateGood {
		t.Errorf("record %v resident ok=%v", rec, rec.ResidentCode == req.ResidentCode)
	}
	// Expiry 2031-01-02 (JST) → kept through 2041-01-02.
	if want := time.Date(2041, 1, 2, 0, 0, 0, 0, time.UTC); !rec.RetainUntil.Equal(want) || !res.RetainUntil.Equal(want) {
		t.Errorf("retain until %v / %v, want %v", rec.RetainUntil, res.RetainUntil, want)
	}
	if _, err := e.ca.CertificateByRequest(ctx, req.RequestID); err != nil {
		t.Error(err)
	}
	if _, err := e.ca.CertificateByRequest(ctx, "nope"); !errors.Is(err, ErrUnknownCertificate) {
		t.Errorf("CertificateByRequest(nope): %v", err)
	}
	// The resident code is recorded, but it is not in the certificate.
	if bytes.Contains(res.CertificateDER, []byte(req.ResidentCode)) {
		t.Error("resident code found in the certificate")
	}
}

func TestPairAndNoPersonalDataInAuth(t *testing.T) {
	e := newEnv(t)
	sign := signRequest(t, e, "case-7/sign")
	auth := authRequest(t, e, "case-7/auth")
	pair, err := e.ca.IssuePair(ctx, sign, auth)
	if err != nil {
		t.Fatalf("IssuePair: %v", err)
	}
	if pair.Sign.CounterpartSerial != pair.Auth.Serial || pair.Auth.CounterpartSerial != pair.Sign.Serial {
		t.Fatalf("counterparts: sign→%s auth→%s (serials %s, %s)", pair.Sign.CounterpartSerial, pair.Auth.CounterpartSerial, pair.Sign.Serial, pair.Auth.Serial)
	}
	for _, s := range []string{pair.Sign.Serial, pair.Auth.Serial} {
		rec, err := e.ca.Certificate(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		other := map[string]string{pair.Sign.Serial: pair.Auth.Serial, pair.Auth.Serial: pair.Sign.Serial}[s]
		if rec.CounterpartSerial != other {
			t.Errorf("record %s counterpart %q, want %q", s, rec.CounterpartSerial, other)
		}
	}

	authCert, err := x509.ParseCertificate(pair.Auth.CertificateDER)
	if err != nil {
		t.Fatal(err)
	}
	authCA, _ := e.ca.IssuerCertificate(KindAuth)
	if err := authCert.CheckSignatureFrom(authCA); err != nil {
		t.Fatalf("auth certificate does not verify: %v", err)
	}
	p := sign.Personal
	dob, _ := profile.EncodeDateOfBirth(p.DateOfBirth)
	needles := map[string][]byte{
		"name": []byte(p.Name), "address": []byte(p.Address), "former surname": []byte(p.FormerSurname),
		"alias": []byte(p.Alias), "date of birth": []byte(dob), "date of birth (plain)": []byte("19900102"),
		"resident code": []byte(sign.ResidentCode), "personal-data arc": mustOID(t, profile.OIDPersonalData),
	}
	for what, needle := range needles {
		if bytes.Contains(pair.Auth.CertificateDER, needle) {
			t.Errorf("auth certificate contains the %s", what)
		}
	}
	// The same search finds them in the signing certificate, so it works.
	for _, what := range []string{"name", "address", "former surname", "alias", "date of birth", "personal-data arc"} {
		if !bytes.Contains(pair.Sign.CertificateDER, needles[what]) {
			t.Errorf("search for the %s does not find it in the signing certificate", what)
		}
	}
	if _, err := profile.ParsePersonalInfo(authCert); !errors.Is(err, profile.ErrNoPersonalInfo) {
		t.Errorf("auth certificate personal info: %v", err)
	}
	if len(authCert.Subject.Names) != 2 || authCert.Subject.CommonName == "" || len(authCert.Subject.Country) != 1 {
		t.Errorf("auth subject %q has more than C and a random CN", authCert.Subject.String())
	}
	if authCert.KeyUsage != x509.KeyUsageDigitalSignature || len(authCert.ExtKeyUsage) != 1 || authCert.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Errorf("auth usages %v %v", authCert.KeyUsage, authCert.ExtKeyUsage)
	}
	if len(authCert.PolicyIdentifiers) != 1 || !authCert.PolicyIdentifiers[0].Equal(profile.OIDPolicyAuth) {
		t.Errorf("auth policies %v", authCert.PolicyIdentifiers)
	}
	// The user-authentication CRL partition is a shard of the serial: the
	// municipality (where the holder lives) is nowhere in the certificate.
	wantDP := fmt.Sprintf("http://repo.test:8090/crl/auth/s%02d.crl", new(big.Int).Mod(authCert.SerialNumber, big.NewInt(64)).Int64())
	if len(authCert.CRLDistributionPoints) != 1 || authCert.CRLDistributionPoints[0] != wantDP {
		t.Errorf("auth CRL DP %v, want %s", authCert.CRLDistributionPoints, wantDP)
	}
	if bytes.Contains(pair.Auth.CertificateDER, []byte(auth.MunicipalityCode)) {
		t.Error("auth certificate names the municipality")
	}
	for _, x := range authCert.Extensions {
		if x.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 17}) {
			t.Error("auth certificate has a subjectAltName")
		}
	}

	// The log says what was issued, and nothing personal.
	logs := e.logs.String()
	if !strings.Contains(logs, pair.Sign.Serial) || !strings.Contains(logs, pair.Auth.Serial) {
		t.Errorf("issuance not logged:\n%s", logs)
	}
	for what, needle := range needles {
		if strings.Contains(logs, string(needle)) {
			t.Errorf("log contains the %s", what)
		}
	}

	// The HSM-signed certificates and their CAs pass the applicable lints.
	signCA, _ := e.ca.IssuerCertificate(KindSign)
	for name, der := range map[string][]byte{"sign": pair.Sign.CertificateDER, "auth": pair.Auth.CertificateDER, "sign CA": signCA.Raw, "auth CA": authCA.Raw} {
		findings, applied, err := certlint.Lint(der)
		if err != nil {
			t.Fatal(err)
		}
		if applied < 40 {
			t.Errorf("%s: only %d lints applied", name, applied)
		}
		for _, f := range findings {
			t.Errorf("%s: %s", name, f)
		}
	}

	// Retrying the pair returns the same two certificates.
	again, err := e.ca.IssuePair(ctx, sign, auth)
	if err != nil {
		t.Fatalf("IssuePair retry: %v", err)
	}
	if !bytes.Equal(again.Sign.CertificateDER, pair.Sign.CertificateDER) || !bytes.Equal(again.Auth.CertificateDER, pair.Auth.CertificateDER) || !again.Sign.Existing {
		t.Fatal("IssuePair retry gave other certificates")
	}
}

func mustOID(t *testing.T, oid asn1.ObjectIdentifier) []byte {
	der, err := asn1.Marshal(oid)
	if err != nil {
		t.Fatal(err)
	}
	return der[2:] // contents only: a prefix of every child arc's encoding
}

func TestIssueIdempotentAndConflicts(t *testing.T) {
	e := newEnv(t)
	req := signRequest(t, e, "case-1/sign")
	first, err := e.ca.Issue(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.add(3 * time.Hour) // a retry much later
	second, err := e.ca.Issue(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.CertificateDER, second.CertificateDER) || first.Serial != second.Serial || !second.Existing {
		t.Fatal("a repeated Issue returned a different certificate")
	}

	otherKey := req
	_, otherKey.PublicKeyDER = newKey(t)
	_, err = e.ca.Issue(ctx, otherKey)
	if !errors.Is(err, ErrPublicKeyMismatch) || !errors.Is(err, ErrRequestConflict) || !IsPermanent(err) {
		t.Fatalf("same RequestID, other key: %v", err)
	}
	otherDate := req
	otherDate.NotAfter = req.NotAfter.Add(-24 * time.Hour)
	_, err = e.ca.Issue(ctx, otherDate)
	if !errors.Is(err, ErrRequestConflict) || errors.Is(err, ErrPublicKeyMismatch) {
		t.Fatalf("same RequestID, other NotAfter: %v", err)
	}
	otherName := req
	p := *req.Personal
	p.Address = "東京都港区"
	otherName.Personal = &p
	if _, err := e.ca.Issue(ctx, otherName); !errors.Is(err, ErrRequestConflict) {
		t.Fatalf("same RequestID, other address: %v", err)
	}
	if strings.Contains(fmt.Sprint(err), "港区") {
		t.Fatal("error leaks personal data")
	}
	reused := req
	reused.RequestID = "case-2/sign"
	if _, err := e.ca.Issue(ctx, reused); !errors.Is(err, ErrPublicKeyReused) || !IsPermanent(err) {
		t.Fatalf("same key, new RequestID: %v", err)
	}
	var n int
	if err := e.pool.QueryRow(ctx, "SELECT count(*) FROM ca_certificates").Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d certificate rows (%v), want 1", n, err)
	}
}

func TestConcurrentIssueOneRecord(t *testing.T) {
	e := newEnv(t)
	req := signRequest(t, e, "case-concurrent/sign")
	const workers = 8
	results := make([]IssueResult, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			results[i], errs[i] = e.ca.Issue(ctx, req)
		}(i)
	}
	close(start)
	wg.Wait()
	fresh := 0
	for i := 0; i < workers; i++ {
		if errs[i] != nil {
			t.Fatalf("worker %d: %v", i, errs[i])
		}
		if !bytes.Equal(results[i].CertificateDER, results[0].CertificateDER) {
			t.Fatalf("worker %d got different bytes", i)
		}
		if !results[i].Existing {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d workers signed, want exactly 1", fresh)
	}
	var n int
	if err := e.pool.QueryRow(ctx, "SELECT count(*) FROM ca_certificates WHERE request_id = $1", req.RequestID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d rows for the request (%v)", n, err)
	}
	if err := e.pool.QueryRow(ctx, "SELECT count(*) FROM ca_certificates").Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d rows in total (%v)", n, err)
	}
}

func TestCrashAfterReservationAndAfterSigning(t *testing.T) {
	e := newEnv(t)
	req := signRequest(t, e, "case-crash/sign")
	n, err := validateStatic(req)
	if err != nil {
		t.Fatal(err)
	}
	// Crash 1: the reservation was committed, nothing else happened.
	row, err := e.ca.reserve(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	// Crash 2: the HSM signed, the process died before storing the DER.
	lost, err := e.ca.sign(row, n)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.add(10 * time.Minute)
	res, err := e.ca.Issue(ctx, req) // the activity's retry
	if err != nil {
		t.Fatal(err)
	}
	if res.Serial != row.Serial {
		t.Fatalf("retry used serial %s, reservation had %s", res.Serial, row.Serial)
	}
	if !bytes.Equal(res.CertificateDER, lost) {
		t.Fatal("the retry produced a certificate different from the one signed before the crash")
	}
	if res.Existing {
		t.Error("the retry should have completed the reservation itself")
	}
}

func TestSerialsDifferAndAreLong(t *testing.T) {
	e := newEnv(t)
	seen := map[string]bool{}
	for i := 0; i < 6; i++ {
		r := authRequest(t, e, fmt.Sprintf("serials-%d/auth", i))
		res, err := e.ca.Issue(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if seen[res.Serial] {
			t.Fatalf("serial %s issued twice", res.Serial)
		}
		seen[res.Serial] = true
		n, _ := new(big.Int).SetString(res.Serial, 16)
		if n.BitLen() <= 64 {
			t.Errorf("serial %s has only %d bits", res.Serial, n.BitLen())
		}
	}
	// Subject identifiers are random too.
	var distinct int
	if err := e.pool.QueryRow(ctx, "SELECT count(DISTINCT subject_id) FROM ca_certificates").Scan(&distinct); err != nil || distinct != 6 {
		t.Fatalf("%d distinct subject ids (%v)", distinct, err)
	}
}

func TestIssueValidation(t *testing.T) {
	e := newEnv(t)
	base := signRequest(t, e, "v/sign")
	authBase := authRequest(t, e, "v/auth")
	authRes, err := e.ca.Issue(ctx, authBase)
	if err != nil {
		t.Fatal(err)
	}
	mutate := func(f func(r *IssueRequest)) IssueRequest {
		r := base
		p := *base.Personal
		r.Personal = &p
		f(&r)
		return r
	}
	tests := []struct {
		name  string
		req   IssueRequest
		field string
		key   bool
	}{
		{"empty request id", mutate(func(r *IssueRequest) { r.RequestID = "" }), "RequestID", false},
		{"bad kind", mutate(func(r *IssueRequest) { r.Kind = "both" }), "Kind", false},
		{"short municipality", mutate(func(r *IssueRequest) { r.MunicipalityCode = "13101" }), "MunicipalityCode", false},
		{"resident code letters", mutate(func(r *IssueRequest) { r.ResidentCode = "1234567890A" }), "ResidentCode", false},
		{"garbage key", mutate(func(r *IssueRequest) { r.PublicKeyDER = []byte("not a key") }), "PublicKeyDER", true},
		{"no key", mutate(func(r *IssueRequest) { r.PublicKeyDER = nil }), "PublicKeyDER", true},
		{"EC key", mutate(func(r *IssueRequest) { r.PublicKeyDER = ecKeyDER(t) }), "PublicKeyDER", true},
		{"RSA-1024", mutate(func(r *IssueRequest) { r.PublicKeyDER = rsaKeyDER(t, 1024, 65537) }), "PublicKeyDER", true},
		{"RSA-3072", mutate(func(r *IssueRequest) { r.PublicKeyDER = rsaKeyDER(t, 3072, 65537) }), "PublicKeyDER", true},
		{"exponent 3", mutate(func(r *IssueRequest) { r.PublicKeyDER = rsaKeyDER(t, 2048, 3) }), "PublicKeyDER", true},
		{"trailing bytes", mutate(func(r *IssueRequest) { r.PublicKeyDER = append(append([]byte{}, base.PublicKeyDER...), 0) }), "PublicKeyDER", true},
		{"no personal data for sign", mutate(func(r *IssueRequest) { r.Personal = nil }), "Personal", false},
		{"personal data for auth", mutate(func(r *IssueRequest) { r.Kind = KindAuth }), "Personal", false},
		{"no name", mutate(func(r *IssueRequest) { r.Personal.Name = "" }), "Personal.Name", false},
		{"bad sex", mutate(func(r *IssueRequest) { r.Personal.Sex = "男性" }), "Personal.Sex", false},
		{"bad date of birth", mutate(func(r *IssueRequest) { r.Personal.DateOfBirth = "1990/01/02" }), "Personal.DateOfBirth", false},
		{"under 15", mutate(func(r *IssueRequest) { r.Personal.DateOfBirth = "2011-04-02" }), "Personal.DateOfBirth", false},
		{"control character", mutate(func(r *IssueRequest) { r.Personal.Address = "東京都\n千代田区" }), "Personal.Address", false},
		{"no NotAfter", mutate(func(r *IssueRequest) { r.NotAfter = time.Time{} }), "NotAfter", false},
		{"NotAfter in the past", mutate(func(r *IssueRequest) { r.NotAfter = e.clock.now().Add(-time.Second) }), "NotAfter", false},
		{"NotAfter too far", mutate(func(r *IssueRequest) { r.NotAfter = e.clock.now().AddDate(7, 0, 0) }), "NotAfter", false},
		{"unknown counterpart", mutate(func(r *IssueRequest) { r.CounterpartSerial = "abcdef0123456789" }), "CounterpartSerial", false},
		{"counterpart not a serial", mutate(func(r *IssueRequest) { r.CounterpartSerial = "xyz" }), "CounterpartSerial", false},
		{"counterpart of another resident", mutate(func(r *IssueRequest) {
			r.CounterpartSerial = authRes.Serial
			r.ResidentCode = "98765432109"
		}), "CounterpartSerial", false},
		{"sign outlives auth", mutate(func(r *IssueRequest) {
			r.CounterpartSerial = authRes.Serial
			r.NotAfter = authBase.NotAfter.Add(time.Hour)
		}), "NotAfter", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.ca.Issue(ctx, tc.req)
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalidRequest) || !IsPermanent(err) {
				t.Fatalf("err = %v, want a ValidationError", err)
			}
			if ve.Field != tc.field {
				t.Errorf("field %q, want %q (%v)", ve.Field, tc.field, err)
			}
			if errors.Is(err, ErrInvalidPublicKey) != tc.key {
				t.Errorf("ErrInvalidPublicKey match = %v, want %v", !tc.key, tc.key)
			}
			for _, secret := range []string{base.Personal.Name, base.Personal.Address, base.ResidentCode} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error text leaks a value: %v", err)
				}
			}
		})
	}
	// Turning 15 on the day of issue is enough (birthday = anniversary).
	ok := mutate(func(r *IssueRequest) {
		r.RequestID = "v/sign-15"
		r.Personal.DateOfBirth = "2011-04-01"
		_, r.PublicKeyDER = newKey(t)
	})
	if _, err := e.ca.Issue(ctx, ok); err != nil {
		t.Fatalf("15 today: %v", err)
	}
	// Refused requests left no rows behind.
	var n int
	if err := e.pool.QueryRow(ctx, "SELECT count(*) FROM ca_certificates").Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d rows (%v), want 2", n, err)
	}
}

func TestRevocationRules(t *testing.T) {
	e := newEnv(t)
	pair, err := e.ca.IssuePair(ctx, signRequest(t, e, "r/sign"), authRequest(t, e, "r/auth"))
	if err != nil {
		t.Fatal(err)
	}
	sign, auth := pair.Sign.Serial, pair.Auth.Serial
	e.clock.add(time.Hour)
	at := e.clock.now().Add(-10 * time.Minute)

	ev, err := e.ca.Revoke(ctx, RevokeRequest{RequestID: "rv-1", Serial: sign, Reason: reasons.Superseded, At: at})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Existing || ev.Reason != reasons.Superseded || !ev.At.Equal(at) || ev.Action != ActionRevoke {
		t.Fatalf("event %+v", ev)
	}
	st, err := e.ca.Status(ctx, sign)
	if err != nil || st.State != StateRevoked || st.Reason != reasons.Superseded || !st.RevokedAt.Equal(at) || st.Kind != KindSign {
		t.Fatalf("status %+v %v", st, err)
	}
	// Same RequestID again: the recorded event, nothing new.
	ev2, err := e.ca.Revoke(ctx, RevokeRequest{RequestID: "rv-1", Serial: sign, Reason: reasons.Superseded})
	if err != nil || !ev2.Existing || !ev2.At.Equal(at) {
		t.Fatalf("repeat: %+v %v", ev2, err)
	}
	// Same RequestID for something else: conflict.
	if _, err := e.ca.Revoke(ctx, RevokeRequest{RequestID: "rv-1", Serial: sign, Reason: reasons.KeyCompromise}); !errors.Is(err, ErrRequestConflict) {
		t.Fatalf("reused RequestID: %v", err)
	}
	// A second revocation is refused and changes nothing.
	if _, err := e.ca.Revoke(ctx, RevokeRequest{RequestID: "rv-2", Serial: sign, Reason: reasons.KeyCompromise}); !errors.Is(err, ErrAlreadyRevoked) || !IsPermanent(err) {
		t.Fatalf("revoke twice: %v", err)
	}
	if st2, _ := e.ca.Status(ctx, sign); st2 != st {
		t.Fatalf("status changed by a refused revocation: %+v", st2)
	}
	// Unknown serial, bad reasons, hold of a signing certificate.
	if _, err := e.ca.Revoke(ctx, RevokeRequest{RequestID: "rv-3", Serial: "123456789abcdef", Reason: reasons.KeyCompromise}); !errors.Is(err, ErrUnknownCertificate) {
		t.Fatalf("unknown serial: %v", err)
	}
	for _, r := range []reasons.Reason{reasons.CertificateHold, "unspecified", ""} {
		if _, err := e.ca.Revoke(ctx, RevokeRequest{RequestID: "rv-4", Serial: auth, Reason: r}); !errors.Is(err, ErrInvalidRequest) {
			t.Fatalf("reason %q: %v", r, err)
		}
	}
	if _, err := e.ca.Revoke(ctx, RevokeRequest{RequestID: "rv-5", Serial: auth, Reason: reasons.KeyCompromise, At: e.clock.now().Add(time.Hour)}); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("future revocation time: %v", err)
	}
	if _, err := e.ca.Hold(ctx, HoldRequest{RequestID: "h-0", Serial: pair.Sign.Serial}); !errors.Is(err, ErrAlreadyRevoked) {
		t.Fatalf("hold of a revoked signing certificate: %v", err)
	}

	// Hold and release of the user-authentication certificate.
	if _, err := e.ca.Release(ctx, HoldRequest{RequestID: "rl-0", Serial: auth}); !errors.Is(err, ErrNotOnHold) {
		t.Fatalf("release of a good certificate: %v", err)
	}
	if _, err := e.ca.Hold(ctx, HoldRequest{RequestID: "h-1", Serial: auth}); err != nil {
		t.Fatal(err)
	}
	st, _ = e.ca.Status(ctx, auth)
	if st.State != StateRevoked || st.Reason != reasons.CertificateHold {
		t.Fatalf("held status %+v", st)
	}
	if _, err := e.ca.Hold(ctx, HoldRequest{RequestID: "h-2", Serial: auth}); !errors.Is(err, ErrAlreadyOnHold) {
		t.Fatalf("hold twice: %v", err)
	}
	if _, err := e.ca.Release(ctx, HoldRequest{RequestID: "rl-1", Serial: auth}); err != nil {
		t.Fatal(err)
	}
	if st, _ = e.ca.Status(ctx, auth); st.State != StateGood || st.Reason != "" || !st.RevokedAt.IsZero() {
		t.Fatalf("released status %+v", st)
	}
	// Held, then revoked for good: release is no longer possible.
	if _, err := e.ca.Hold(ctx, HoldRequest{RequestID: "h-3", Serial: auth}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ca.Revoke(ctx, RevokeRequest{RequestID: "rv-6", Serial: auth, Reason: reasons.KeyCompromise}); err != nil {
		t.Fatalf("revoke a held certificate: %v", err)
	}
	if _, err := e.ca.Release(ctx, HoldRequest{RequestID: "rl-2", Serial: auth}); !errors.Is(err, ErrAlreadyRevoked) {
		t.Fatalf("release after revocation: %v", err)
	}
	if st, _ = e.ca.Status(ctx, auth); st.Reason != reasons.KeyCompromise {
		t.Fatalf("status %+v", st)
	}
	var events int
	if err := e.pool.QueryRow(ctx, "SELECT count(*) FROM ca_status_events").Scan(&events); err != nil || events != 5 {
		t.Fatalf("%d status events (%v), want 5 (revoke, hold, release, hold, revoke)", events, err)
	}
	if st, err := e.ca.Status(ctx, "0abc"); err != nil || st.State != StateUnknown {
		t.Fatalf("unknown status %+v %v", st, err)
	}
}

func TestHoldOfSigningCertificateRefused(t *testing.T) {
	e := newEnv(t)
	res, err := e.ca.Issue(ctx, signRequest(t, e, "hs/sign"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ca.Hold(ctx, HoldRequest{RequestID: "hs-1", Serial: res.Serial}); !errors.Is(err, ErrHoldNotAllowed) || !IsPermanent(err) {
		t.Fatalf("hold of a signing certificate: %v", err)
	}
	if st, _ := e.ca.Status(ctx, res.Serial); st.State != StateGood {
		t.Fatalf("status after refused hold %+v", st)
	}
}

func TestRevokeExpired(t *testing.T) {
	e := newEnv(t)
	r := authRequest(t, e, "exp/auth")
	r.NotAfter = e.clock.now().Add(2 * time.Hour)
	res, err := e.ca.Issue(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	// Revoked within validity, repeated after expiry: still the same answer.
	if _, err := e.ca.Hold(ctx, HoldRequest{RequestID: "exp-h", Serial: res.Serial}); err != nil {
		t.Fatal(err)
	}
	e.clock.add(3 * time.Hour)
	if ev, err := e.ca.Hold(ctx, HoldRequest{RequestID: "exp-h", Serial: res.Serial}); err != nil || !ev.Existing {
		t.Fatalf("repeat after expiry: %v", err)
	}
	for _, call := range []func() error{
		func() error {
			_, err := e.ca.Revoke(ctx, RevokeRequest{RequestID: "exp-1", Serial: res.Serial, Reason: reasons.CessationOfOperation})
			return err
		},
		func() error {
			_, err := e.ca.Release(ctx, HoldRequest{RequestID: "exp-2", Serial: res.Serial})
			return err
		},
	} {
		if err := call(); !errors.Is(err, ErrExpired) || !IsPermanent(err) {
			t.Fatalf("change of an expired certificate: %v", err)
		}
	}
	st, _ := e.ca.Status(ctx, res.Serial)
	if st.Reason != reasons.CertificateHold || !st.Expired(e.clock.now()) {
		t.Fatalf("status %+v", st)
	}
}

func TestConcurrentRevokeSameRequest(t *testing.T) {
	e := newEnv(t)
	res, err := e.ca.Issue(ctx, authRequest(t, e, "cr/auth"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	evs := make([]Event, 6)
	errs := make([]error, 6)
	for i := range evs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			evs[i], errs[i] = e.ca.Revoke(ctx, RevokeRequest{RequestID: "cr-1", Serial: res.Serial, Reason: reasons.CessationOfOperation})
		}(i)
	}
	wg.Wait()
	fresh := 0
	for i := range evs {
		if errs[i] != nil {
			t.Fatalf("worker %d: %v", i, errs[i])
		}
		if !evs[i].At.Equal(evs[0].At) {
			t.Fatal("workers saw different revocation times")
		}
		if !evs[i].Existing {
			fresh++
		}
	}
	if fresh != 1 {
		t.Fatalf("%d workers recorded the revocation", fresh)
	}
}

func TestRetentionDate(t *testing.T) {
	tests := []struct {
		notAfter time.Time
		want     string
	}{
		{jst(2030, 6, 1, 23, 59, 59), "2040-06-01"},
		{jst(2030, 6, 1, 0, 0, 0), "2040-06-01"},
		// 15:30 UTC is already the next day in Tokyo.
		{time.Date(2030, 6, 1, 15, 30, 0, 0, time.UTC), "2040-06-02"},
		{time.Date(2030, 6, 1, 14, 59, 59, 0, time.UTC), "2040-06-01"},
		// Expiry on 28 Feb of a leap year: counting starts on 29 Feb, and
		// the period ends at the end of February ten years later.
		{jst(2028, 2, 28, 23, 59, 59), "2038-02-28"},
		// Expiry on 29 Feb: counting starts 1 March.
		{jst(2028, 2, 29, 23, 59, 59), "2038-02-28"},
		{jst(2027, 2, 28, 23, 59, 59), "2037-02-28"},
		{jst(2029, 2, 28, 23, 59, 59), "2039-02-28"},
		{jst(2030, 12, 31, 23, 59, 59), "2040-12-31"},
	}
	for _, tc := range tests {
		if got := RetentionDate(tc.notAfter).Format(time.DateOnly); got != tc.want {
			t.Errorf("RetentionDate(%v) = %s, want %s", tc.notAfter, got, tc.want)
		}
	}
}

func TestParseSerial(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"0a1b", "a1b", true},
		{"0x0A1B", "a1b", true},
		{"0A:1B", "a1b", true},
		{" ABCDEF ", "abcdef", true},
		{"", "", false},
		{"0", "", false},
		{"-1", "", false},
		{"+1", "", false},
		{"xyz", "", false},
		{strings.Repeat("f", 41), "", false},
	}
	for _, tc := range tests {
		got, err := CanonicalSerial(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("CanonicalSerial(%q) = %q, %v", tc.in, got, err)
		}
	}
	// newSerial draws positive values of more than 64 bits, all different.
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		n, err := newSerial()
		if err != nil || n.Sign() <= 0 || n.BitLen() <= 64 || n.BitLen() > 127 {
			t.Fatalf("serial %v (%d bits) %v", n, n.BitLen(), err)
		}
		if seen[n.String()] {
			t.Fatal("duplicate serial")
		}
		seen[n.String()] = true
	}
}

func TestRequestDigestCoversEveryField(t *testing.T) {
	_, key := newKey(t)
	base := IssueRequest{RequestID: "d", Kind: KindSign, MunicipalityCode: "131016", ResidentCode: "12345678901",
		Personal: testPersonal(), PublicKeyDER: key, NotAfter: jst(2030, 1, 1, 23, 59, 59)}
	digest := func(r IssueRequest) [32]byte {
		n, err := validateStatic(r)
		if err != nil {
			t.Fatal(err)
		}
		return [32]byte(n.digest)
	}
	ref := digest(base)
	// The RequestID is the key, not content.
	other := base
	other.RequestID = "e"
	if digest(other) != ref {
		t.Error("digest depends on RequestID")
	}
	// Sub-second differences vanish (certificates carry seconds).
	other = base
	other.NotAfter = base.NotAfter.Add(300 * time.Millisecond)
	if digest(other) != ref {
		t.Error("digest depends on sub-second NotAfter")
	}
	changes := map[string]func(r *IssueRequest){
		"municipality": func(r *IssueRequest) { r.MunicipalityCode = "131024" },
		"resident":     func(r *IssueRequest) { r.ResidentCode = "12345678902" },
		"not after":    func(r *IssueRequest) { r.NotAfter = r.NotAfter.Add(time.Second) },
		"counterpart":  func(r *IssueRequest) { r.CounterpartSerial = "abc" },
		"name":         func(r *IssueRequest) { r.Personal.Name = "山田 花子" },
		"name subst":   func(r *IssueRequest) { r.Personal.NameSubstitute = "" },
		"dob":          func(r *IssueRequest) { r.Personal.DateOfBirth = "1990-01-03" },
		"sex":          func(r *IssueRequest) { r.Personal.Sex = SexMale },
		"address":      func(r *IssueRequest) { r.Personal.Address += "A" },
		"addr subst":   func(r *IssueRequest) { r.Personal.AddressSubstitute = "x" },
		"former":       func(r *IssueRequest) { r.Personal.FormerSurname = "" },
		"former subst": func(r *IssueRequest) { r.Personal.FormerSurnameSubstitute = "x" },
		"alias":        func(r *IssueRequest) { r.Personal.Alias = "" },
		"alias subst":  func(r *IssueRequest) { r.Personal.AliasSubstitute = "x" },
	}
	for name, f := range changes {
		r := base
		p := *base.Personal
		r.Personal = &p
		f(&r)
		if digest(r) == ref {
			t.Errorf("digest ignores %s", name)
		}
	}
}

func TestBootstrapReusesOrphanKeyAndDetectsMismatch(t *testing.T) {
	e := newEnv(t)
	// A bootstrap that crashed after generating its key but before storing
	// the certificate left a key in the HSM: the next bootstrap uses it.
	pool := testDB(t)
	if err := Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	orphan, err := e.hsm.GenerateRSAKey("orphan-sign", 2048)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Bootstrap(ctx, pool, e.hsm, "", Options{SignKeyLabel: "orphan-sign", AuthKeyLabel: "orphan-auth", Now: e.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := c.IssuerCertificate(KindSign)
	if !orphan.Public().(*rsa.PublicKey).Equal(cert.PublicKey) {
		t.Fatal("bootstrap generated a new key instead of using the one in the HSM")
	}
	if n, err := e.hsm.FindRSAKey("orphan-auth", 2048); err != nil || n == nil {
		t.Fatalf("auth key not generated: %v", err)
	}
	// The stored certificate names a label whose HSM key is another one.
	if _, err := e.hsm.GenerateRSAKey("impostor", 2048); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "UPDATE ca_issuers SET key_label = 'impostor' WHERE kind = 'sign'"); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(ctx, pool, e.hsm, Options{}); !errors.Is(err, ErrIssuerKeyMismatch) {
		t.Fatalf("Load with a foreign key: %v, want ErrIssuerKeyMismatch", err)
	}
}
