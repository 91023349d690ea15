package integration

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/ca/profile"
	"github.com/madoguchi/madoguchi/internal/cardclient"
	"github.com/madoguchi/madoguchi/internal/cardproto"
	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/internal/validity"
	"github.com/madoguchi/madoguchi/workflows"
)

// PINs used by the tests: distinctive, so the privacy scan can look for them.
var testPINs = map[string]string{contract.KindSigning: "QZ7PIN93XK", contract.KindUserAuth: "8613"}

// application builds the application of a demo resident as written on the form.
func application(code string, signing, auth bool) contract.Application {
	r := demo.Find(code)
	return contract.Application{ResidentCode: code, Name: r.Name, BirthDate: demo.BirthDate(code), Sex: r.Sex,
		Address: r.Address, FormerSurname: r.FormerSurname, Alias: r.Alias, Signing: signing, UserAuth: auth}
}

// issue drives an in-person issuance through the gateway and returns its
// final state. It answers the clerk's identity check and the touch panel.
func issue(t *testing.T, clerk *api, app contract.Application) (string, map[string]any) {
	t.Helper()
	var started struct{ CaseNumber string }
	code := clerk.do("POST", "/api/procedures/inperson-issuance", map[string]any{"terminalId": "T0001", "application": app}, &started)
	if code != http.StatusCreated {
		t.Fatalf("start issuance: HTTP %d", code)
	}
	clerk.waitStep(started.CaseNumber, time.Minute, workflows.StepIdentityCheck, workflows.StepRejected)
	var res map[string]any
	if code := clerk.do("POST", "/api/cases/"+started.CaseNumber+"/identity-check",
		map[string]any{"documentType": "individual_number_card", "verified": true}, &res); code != http.StatusOK {
		t.Fatalf("identity check: HTTP %d %v", code, res)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := clerk.waitStep(started.CaseNumber, time.Minute, workflows.StepPINSetting, workflows.StepKeyGeneration,
		workflows.StepIssuance, workflows.StepCardWrite, workflows.StepDone, workflows.StepRejected)
	if st["step"] == workflows.StepPINSetting {
		enterPINs(t, ctx, testPINs)
	}
	return started.CaseNumber, clerk.waitStep(started.CaseNumber, 2*time.Minute, workflows.StepDone, workflows.StepRejected)
}

// readCard opens the virtual card over PC/SC, as a verifier's tool would.
// The returned func disconnects; it is also called at the test's end.
func readCard(t *testing.T) (*cardclient.Client, func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := cardclient.OpenReader(ctx, "Virtual PCD 00 00")
	if err != nil {
		t.Fatalf("open reader: %v", err)
	}
	var once sync.Once
	closeFn := func() { once.Do(func() { r.Close() }) }
	t.Cleanup(closeFn)
	c := cardclient.New(r)
	if err := c.SelectJPKI(); err != nil {
		t.Fatalf("select JPKI: %v", err)
	}
	return c, closeFn
}

// loadCA reads the Organization's CA certificate exported by setup.
func loadCA(t *testing.T, kind cardproto.Kind) *x509.Certificate {
	t.Helper()
	k := ca.KindAuth
	if kind == cardproto.Signing {
		k = ca.KindSign
	}
	b, err := os.ReadFile(filepath.Join(cfg.State, "ca", ca.PEMFileName(k)))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatal("CA PEM does not decode")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func certsOf(st map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	iss, _ := st["issuance"].(map[string]any)
	list, _ := iss["certificates"].([]any)
	for _, c := range list {
		m := c.(map[string]any)
		out[m["kind"].(string)] = m
	}
	return out
}

func jlis(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), cfg.JLISDSN)
	if err != nil {
		t.Fatalf("connect jlis: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestInPersonIssuanceAndRenewal(t *testing.T) {
	beginTest(t)
	r := demo.Find(demo.ResidentLeapDay)
	startTerminal(t, r.CardSerial, r.CardExpiry, false)
	clerk := login(t, "clerk1")

	caseNumber, st := issue(t, clerk, application(demo.ResidentLeapDay, true, true))
	if st["status"] != workflows.StatusCompleted {
		t.Fatalf("issuance did not complete: %v", st)
	}
	first := certsOf(st)
	if len(first) != 2 {
		t.Fatalf("want 2 certificates, state says %v", st["issuance"])
	}

	// Read both certificates back from the card over PC/SC and check them.
	card, closeCard := readCard(t)
	for _, kind := range []cardproto.Kind{cardproto.Signing, cardproto.UserAuth} {
		if kind == cardproto.Signing {
			if _, err := card.ReadCertificate(kind); err == nil {
				t.Fatal("the signing certificate was readable before the signing PIN was verified")
			}
			if err := card.Verify(kind, []byte(testPINs[contract.KindSigning])); err != nil {
				t.Fatalf("verify signing PIN: %v", err)
			}
		}
		der, err := card.ReadCertificate(kind)
		if err != nil {
			t.Fatalf("read %v certificate: %v", kind, err)
		}
		caDER, err := card.ReadCACertificate(kind)
		if err != nil {
			t.Fatalf("read %v CA certificate: %v", kind, err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		caCert, err := x509.ParseCertificate(caDER)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(caCert.Raw, loadCA(t, kind).Raw) {
			t.Fatalf("%v: the card's CA certificate is not the Organization's", kind)
		}
		if err := cert.CheckSignatureFrom(caCert); err != nil {
			t.Fatalf("%v certificate does not verify against the CA: %v", kind, err)
		}
		wantKind := contract.KindUserAuth
		if kind == cardproto.Signing {
			wantKind = contract.KindSigning
		}
		if got := cert.SerialNumber.Text(16); !strings.EqualFold(got, first[wantKind]["serial"].(string)) {
			t.Fatalf("%v: card holds serial %s, procedure issued %v", kind, got, first[wantKind]["serial"])
		}
		if kind == cardproto.Signing {
			pi, err := profile.ParsePersonalInfo(cert)
			if err != nil {
				t.Fatalf("signing certificate personal info: %v", err)
			}
			if pi.Name != r.Name || pi.Address != r.Address || pi.DateOfBirth != demo.BirthDate(r.ResidentCode) || pi.FormerSurname != r.FormerSurname {
				t.Fatalf("signing certificate does not carry the register's 4 information")
			}
			// Born 1992-02-29, issued today: valid to the 5th birthday after
			// issue (28 February in a non-leap year) or the card's expiry.
			checkNotAfter(t, cert, validity.Input{IssueDate: cert.NotBefore, BirthDate: mustDate(t, demo.BirthDate(r.ResidentCode)), CardExpiry: mustDate(t, r.CardExpiry)})
			// The card signs a digest after VERIFY; the signature verifies
			// with the certificate's public key.
			digest := sha256.Sum256([]byte("madoguchi integration test"))
			di, err := cardproto.DigestInfo(crypto.SHA256, digest[:])
			if err != nil {
				t.Fatal(err)
			}
			sig, err := card.Sign(cardproto.Signing, di)
			if err != nil {
				t.Fatalf("card SIGN: %v", err)
			}
			if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
				t.Fatalf("card signature does not verify: %v", err)
			}
		} else {
			if _, err := profile.ParsePersonalInfo(cert); err == nil {
				t.Fatal("the user-authentication certificate carries personal information")
			}
			for _, s := range []string{r.Name, r.Address, r.FormerSurname, "佐藤", "千代田区"} {
				if bytes.Contains(der, []byte(s)) {
					t.Fatalf("the user-authentication certificate contains personal data")
				}
			}
		}
	}
	closeCard()

	// Renewal: a second issuance for the same resident supersedes the first.
	renewCase, st2 := issue(t, clerk, application(demo.ResidentLeapDay, true, true))
	if st2["status"] != workflows.StatusCompleted || st2["issuance"].(map[string]any)["renewal"] != true {
		t.Fatalf("renewal did not complete as a renewal: %v", st2)
	}
	second := certsOf(st2)
	db := jlis(t)
	for _, kind := range []string{contract.KindSigning, contract.KindUserAuth} {
		oldSerial := first[kind]["serial"].(string)
		var reason *int
		if err := db.QueryRow(context.Background(), `SELECT revocation_reason FROM ca_certificates WHERE serial = $1`, oldSerial).Scan(&reason); err != nil {
			t.Fatalf("old %s certificate %s: %v", kind, oldSerial, err)
		}
		if reason == nil || *reason != 4 { // RFC 5280 superseded
			t.Fatalf("old %s certificate %s is not revoked as superseded (reason %v)", kind, oldSerial, reason)
		}
		if second[kind]["serial"] == oldSerial {
			t.Fatalf("renewal reused the serial %s", oldSerial)
		}
		// The renewal rule: the current certificate had more than 3 months
		// left, so the new one still counts 5 birthdays from today.
		oldNotAfter, _ := time.Parse(time.RFC3339, first[kind]["notAfter"].(string))
		newNotAfter, _ := time.Parse(time.RFC3339, second[kind]["notAfter"].(string))
		newNotBefore, _ := time.Parse(time.RFC3339, second[kind]["notBefore"].(string))
		want, err := validity.UserAuth(validity.Input{IssueDate: newNotBefore, BirthDate: mustDate(t, demo.BirthDate(r.ResidentCode)),
			CardExpiry: mustDate(t, r.CardExpiry), Renewal: true, CurrentNotAfter: oldNotAfter})
		if err != nil {
			t.Fatal(err)
		}
		if !newNotAfter.Equal(want.NotAfter) {
			t.Fatalf("renewed %s NotAfter %v, want %v", kind, newNotAfter, want.NotAfter)
		}
	}
	t.Logf("issued in %s, renewed in %s", caseNumber, renewCase)
}

func mustDate(t *testing.T, s string) validity.Date {
	t.Helper()
	d, err := validity.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func checkNotAfter(t *testing.T, cert *x509.Certificate, in validity.Input) {
	t.Helper()
	want, err := validity.UserAuth(in)
	if err != nil {
		t.Fatal(err)
	}
	if !cert.NotAfter.Equal(want.NotAfter) {
		t.Fatalf("certificate NotAfter %v, want %v (%s)", cert.NotAfter, want.NotAfter, want.Limit)
	}
}

// TestUserAuthOnlyIssuance asks for the user-authentication certificate
// alone: only it is issued, written and recorded; the card gets no signing
// key or certificate.
func TestUserAuthOnlyIssuance(t *testing.T) {
	beginTest(t)
	r := demo.Find(demo.ResidentSecondCard)
	startTerminal(t, r.CardSerial, r.CardExpiry, false)
	clerk := login(t, "clerk2")
	caseNumber, st := issue(t, clerk, application(demo.ResidentSecondCard, false, true))
	if st["status"] != workflows.StatusCompleted {
		t.Fatalf("issuance did not complete: %v", st)
	}
	certs := certsOf(st)
	if len(certs) != 1 || certs[contract.KindUserAuth] == nil {
		t.Fatalf("want only a user-authentication certificate, state says %v", st["issuance"])
	}
	card, closeCard := readCard(t)
	defer closeCard()
	der, err := card.ReadCertificate(cardproto.UserAuth)
	if err != nil {
		t.Fatalf("read user-authentication certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.EqualFold(cert.SerialNumber.Text(16), certs[contract.KindUserAuth]["serial"].(string)) {
		t.Fatal("the card holds another certificate than the one issued")
	}
	if has, err := card.HasKey(cardproto.Signing); err != nil || has {
		t.Fatalf("the card got a signing key (has=%v, err=%v)", has, err)
	}
	var n int
	if err := jlis(t).QueryRow(context.Background(), `SELECT count(*) FROM ca_certificates WHERE request_id LIKE $1`, caseNumber+"/%").Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d certificates issued for the case, want 1 (%v)", n, err)
	}
	t.Logf("issued in %s", caseNumber)
}
