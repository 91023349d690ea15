package integration

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/madoguchi/madoguchi/internal/temporalclient"
	"github.com/madoguchi/madoguchi/internal/verifier"
	"github.com/madoguchi/madoguchi/workflows"
)

// TestEveryCRLDistributionPointAnswers runs last (the file name sorts after
// zz_privacy_test.go, which issues a certificate too) and checks, as a
// verifier would, every certificate the integration tests issued: its one
// CRL distribution point, fetched from the running repository server with a
// registered verifier's key, answers with a CRL that is signed by the
// certificate's issuing CA, current now and scoped to that distribution
// point (its issuingDistributionPoint names it). The user-authentication
// certificates' points are serial shards that name no municipality.
//
// First as the tests left them (the CRLs made when each partition's first
// certificate was issued, or by a publication since), then after an
// on-demand publication: each CRL's number has grown and it lists exactly
// the partition's revoked, unexpired certificates. For each point
// `openssl verify -crl_check`, with the CRL fetched by curl with the key
// header, accepts a certificate the CRL does not list and refuses one it
// lists. Callers without a key get 401, a verifier of the other type 403
// (法第18条, 第37条: one rule, as OCSP).
func TestEveryCRLDistributionPointAnswers(t *testing.T) {
	requireStack(t)
	startBackOffice(t)
	start(t, "repository", "repository", nil, "serve")
	waitHTTP(t, cfg.RepositoryURL+"/healthz")
	v := &dpCheck{t: t, dir: t.TempDir(), both: registerVerifier(t, "signature,user_auth", "administrative"),
		signOnly: registerVerifier(t, "signature", "accredited_ca"), db: jlis(t)}
	v.load()

	before := v.checkAll("as issued", false)

	ctx := context.Background()
	tc, err := temporalclient.Dial(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	run, err := workflows.StartPublishRevocationLists(ctx, tc, fmt.Sprintf("zzz-crl-dp-%d", time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var res workflows.PublishRevocationListsResult
	if err := run.Get(wctx, &res); err != nil {
		t.Fatalf("on-demand publication: %v", err)
	}
	after := v.checkAll("after a publication", true)
	for dp, n := range after {
		if n <= before[dp] {
			t.Errorf("%s: CRL number %d after the publication, %d before", dp, n, before[dp])
		}
	}
	t.Logf("openssl verify -crl_check: %d accepted, %d refused", v.accepted, v.refused)
	// The suite revokes certificates (renewals, compensations): openssl
	// must have refused some, or the refusal was never tried.
	if v.refused == 0 || v.accepted == 0 {
		t.Errorf("openssl refused %d and accepted %d certificates; want some of each", v.refused, v.accepted)
	}
}

// dpCheck checks the certificates' CRL distribution points.
type dpCheck struct {
	t                 *testing.T
	dir               string
	both, signOnly    string
	db                *pgx.Conn
	openssl, curl     string
	issuers           map[string]*x509.Certificate
	byDP              map[string][]issuedCert
	accepted, refused int
	files             int
}

type issuedCert struct {
	cert           *x509.Certificate
	kind, muni, dp string
	partition      string
	revokedAt      *time.Time
	notAfter       time.Time
}

// load reads the active CAs and every issued certificate.
func (v *dpCheck) load() {
	t := v.t
	var err error
	if v.openssl, err = exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl not found (scripts/install.sh installs it)")
	}
	if v.curl, err = exec.LookPath("curl"); err != nil {
		t.Fatal("curl not found")
	}
	ctx := context.Background()
	v.issuers = map[string]*x509.Certificate{}
	rows, err := v.db.Query(ctx, "SELECT kind, cert_der FROM ca_issuers WHERE active")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var kind string
		var der []byte
		if err := rows.Scan(&kind, &der); err != nil {
			t.Fatal(err)
		}
		if v.issuers[kind], err = x509.ParseCertificate(der); err != nil {
			t.Fatal(err)
		}
	}
	if rows.Err() != nil || len(v.issuers) != 2 {
		t.Fatalf("active issuing CAs %d, %v", len(v.issuers), rows.Err())
	}
	v.byDP = map[string][]issuedCert{}
	rows, err = v.db.Query(ctx, `SELECT kind, municipality_code, crl_partition, cert_der, revoked_at, not_after
		FROM ca_certificates WHERE cert_der IS NOT NULL ORDER BY issued_at`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var c issuedCert
		var der []byte
		if err := rows.Scan(&c.kind, &c.muni, &c.partition, &der, &c.revokedAt, &c.notAfter); err != nil {
			t.Fatal(err)
		}
		if c.cert, err = x509.ParseCertificate(der); err != nil {
			t.Fatal(err)
		}
		n++
		if len(c.cert.CRLDistributionPoints) != 1 {
			t.Errorf("%s certificate %x has CRL DPs %v, want one", c.kind, c.cert.SerialNumber, c.cert.CRLDistributionPoints)
			continue
		}
		c.dp = c.cert.CRLDistributionPoints[0]
		v.byDP[c.dp] = append(v.byDP[c.dp], c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// The suite's procedures issue certificates of both kinds; none means
	// the test ran alone, which proves nothing.
	if n < 2 {
		t.Fatalf("%d certificates in ca_certificates: run the whole integration package", n)
	}
	t.Logf("%d certificates, %d distinct CRL distribution points", n, len(v.byDP))
}

var dpShape = map[string]*regexp.Regexp{
	"sign": regexp.MustCompile(`^/crl/sign/[0-9]{6}\.crl$`),
	"auth": regexp.MustCompile(`^/crl/auth/s[0-9]{2}\.crl$`),
}

// checkAll checks every distribution point and returns its CRL number.
// exact: the CRL must list exactly the revoked, unexpired certificates of
// its partition (true right after a publication).
func (v *dpCheck) checkAll(phase string, exact bool) map[string]int64 {
	t := v.t
	numbers := map[string]int64{}
	for dp, certs := range v.byDP {
		kind := certs[0].kind
		path, ok := strings.CutPrefix(dp, cfg.RepositoryURL)
		if !ok || !dpShape[kind].MatchString(path) {
			t.Errorf("%s DP %s is not <repository>/crl/%s/<partition>.crl of this repository (%s)", kind, dp, kind, cfg.RepositoryURL)
			continue
		}
		for _, c := range certs {
			if c.kind != kind {
				t.Errorf("DP %s is named by certificates of both kinds", dp)
			}
			if kind == "auth" && strings.Contains(dp, c.muni) {
				t.Errorf("user-authentication DP %s names the holder's municipality %s", dp, c.muni)
			}
			if !strings.HasSuffix(dp, "/"+c.partition+".crl") {
				t.Errorf("DP %s is not the partition %s the CA recorded", dp, c.partition)
			}
		}
		issuer := v.issuers[kind]
		body := fetchCRL(t, dp, v.both, http.StatusOK)
		rl, err := x509.ParseRevocationList(body)
		if err != nil {
			t.Errorf("%s %s: not a CRL: %v", phase, dp, err)
			continue
		}
		numbers[dp] = rl.Number.Int64()
		if err := rl.CheckSignatureFrom(issuer); err != nil {
			t.Errorf("%s %s: CRL not signed by the %s CA: %v", phase, dp, kind, err)
		}
		if now := time.Now(); now.Before(rl.ThisUpdate) || !now.Before(rl.NextUpdate) {
			t.Errorf("%s %s: CRL not current: thisUpdate %v, nextUpdate %v", phase, dp, rl.ThisUpdate, rl.NextUpdate)
		}
		if !scopedTo(rl, dp) {
			t.Errorf("%s %s: the CRL's issuingDistributionPoint does not name it", phase, dp)
		}
		listed := map[string]bool{}
		for _, e := range rl.RevokedCertificateEntries {
			listed[e.SerialNumber.Text(16)] = true
		}
		if exact {
			want := map[string]bool{}
			for _, c := range certs {
				if c.revokedAt != nil && !c.revokedAt.After(rl.ThisUpdate) && !c.notAfter.Before(rl.ThisUpdate) {
					want[c.cert.SerialNumber.Text(16)] = true
				}
			}
			if fmt.Sprint(listed) != fmt.Sprint(want) {
				t.Errorf("%s %s lists %v, want the revoked, unexpired certificates %v", phase, dp, listed, want)
			}
		}
		v.openSSL(dp, kind, issuer, certs, listed)

		// The one rule: no key, 401; a verifier of the other type, 403.
		fetchCRL(t, dp, "", http.StatusUnauthorized)
		if kind == "auth" {
			fetchCRL(t, dp, v.signOnly, http.StatusForbidden)
		} else {
			fetchCRL(t, dp, v.signOnly, http.StatusOK)
		}
	}
	return numbers
}

// openSSL fetches the CRL of dp with curl and the key header and has
// `openssl verify -crl_check` judge one certificate it lists (refused) and
// one it does not (accepted).
func (v *dpCheck) openSSL(dp, kind string, issuer *x509.Certificate, certs []issuedCert, listed map[string]bool) {
	t := v.t
	v.files++
	crlFile := filepath.Join(v.dir, fmt.Sprintf("crl-%d.crl", v.files))
	if out, err := exec.Command(v.curl, "-sSf", "-o", crlFile, "-H", verifier.HeaderName+": "+v.both, dp).CombinedOutput(); err != nil {
		t.Errorf("curl %s: %v\n%s", dp, err, out)
		return
	}
	crlPEM := crlFile + ".pem"
	if out, err := exec.Command(v.openssl, "crl", "-inform", "DER", "-in", crlFile, "-out", crlPEM).CombinedOutput(); err != nil {
		t.Errorf("openssl crl %s: %v\n%s", dp, err, out)
		return
	}
	caFile := filepath.Join(v.dir, kind+"-ca.pem")
	writePEM(t, caFile, "CERTIFICATE", issuer.Raw)
	checked := map[bool]bool{}
	for _, c := range certs {
		revoked := listed[c.cert.SerialNumber.Text(16)]
		if checked[revoked] || time.Now().After(c.cert.NotAfter) {
			continue
		}
		checked[revoked] = true
		certFile := filepath.Join(v.dir, fmt.Sprintf("cert-%d-%v.pem", v.files, revoked))
		writePEM(t, certFile, "CERTIFICATE", c.cert.Raw)
		out, err := exec.Command(v.openssl, "verify", "-crl_check", "-CAfile", caFile, "-CRLfile", crlPEM, certFile).CombinedOutput()
		want := certFile + ": OK"
		if revoked {
			want = "certificate revoked"
		}
		if (err == nil) == revoked || !strings.Contains(string(out), want) {
			t.Errorf("openssl verify -crl_check %s (%x, listed %v) with the CRL of %s: %v\n%s", kind, c.cert.SerialNumber, revoked, dp, err, out)
			continue
		}
		if revoked {
			v.refused++
		} else {
			v.accepted++
		}
	}
}

// registerVerifier registers a verifier through the repository's command
// and returns its key (printed once, on the last line).
func registerVerifier(t *testing.T, roles, category string) string {
	t.Helper()
	name := fmt.Sprintf("zzz-crl-dp %s %d", roles, time.Now().UnixNano())
	out, err := exec.Command(filepath.Join(cfg.Bin, "repository"), "verifier", "register",
		"-name", name, "-category", category, "-roles", roles).CombinedOutput()
	if err != nil {
		t.Fatalf("repository verifier register: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	key := strings.TrimSpace(lines[len(lines)-1])
	if !strings.HasPrefix(key, verifier.KeyPrefix) {
		t.Fatalf("no key in %q", out)
	}
	return key
}

// fetchCRL gets a CRL distribution point with a verifier key (none when
// empty) and returns the body, failing unless the status is want.
func fetchCRL(t *testing.T, url, key string, want int) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set(verifier.HeaderName, key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != want {
		t.Errorf("GET %s (key %v): HTTP %d %.200s, want %d", url, key != "", res.StatusCode, body, want)
	}
	return body
}

// scopedTo reports whether the CRL's issuingDistributionPoint names uri.
func scopedTo(rl *x509.RevocationList, uri string) bool {
	for _, x := range rl.Extensions {
		if x.Id.String() == "2.5.29.28" {
			return x.Critical && bytes.Contains(x.Value, []byte(uri))
		}
	}
	return false
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
