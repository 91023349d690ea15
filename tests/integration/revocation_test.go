package integration

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/internal/letter"
	"github.com/madoguchi/madoguchi/internal/verifier"
	"github.com/madoguchi/madoguchi/workflows"
)

// statusChangeRepository starts the Organization's repository and registers
// a verifier of both kinds, returning its key.
func statusChangeRepository(t *testing.T) string {
	t.Helper()
	start(t, "repository", "repository", nil, "serve")
	waitHTTP(t, cfg.RepositoryURL+"/healthz")
	return registerVerifier(t, "signature,user_auth", string(verifier.CategoryAdministrative))
}

// certPEM writes the certificate a serial names, from the CA's records, to a
// PEM file for openssl.
func certPEM(t *testing.T, serial string) string {
	t.Helper()
	var der []byte
	if err := jlis(t).QueryRow(context.Background(), `SELECT cert_der FROM ca_certificates WHERE serial = $1`, serial).Scan(&der); err != nil {
		t.Fatalf("certificate %s: %v", serial, err)
	}
	path := filepath.Join(t.TempDir(), serial+".pem")
	writePEM(t, path, "CERTIFICATE", der)
	return path
}

func caPEM(kind string) string {
	k := ca.KindSign
	if kind == contract.KindUserAuth {
		k = ca.KindAuth
	}
	return filepath.Join(cfg.State, "ca", ca.PEMFileName(k))
}

// ocspSays asks the repository with openssl ocsp and returns its verdict
// line for the certificate ("good", "revoked") and the whole answer.
func ocspSays(t *testing.T, key, kind, certFile string) (string, string) {
	t.Helper()
	out, err := exec.Command("openssl", "ocsp", "-issuer", caPEM(kind), "-cert", certFile, "-url", cfg.RepositoryURL+"/ocsp",
		"-header", "X-JPKI-Verifier-Key="+key, "-CAfile", caPEM(kind), "-no_nonce").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl ocsp: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, certFile+": "); ok {
			return strings.TrimSpace(v), string(out)
		}
	}
	t.Fatalf("openssl ocsp gave no verdict:\n%s", out)
	return "", ""
}

// waitOCSP polls until OCSP says want (the responder replaces its signed
// answers when a status changes).
func waitOCSP(t *testing.T, key, kind, certFile, want string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, all := ocspSays(t, key, kind, certFile)
		if got == want {
			return all
		}
		if time.Now().After(deadline) {
			t.Fatalf("OCSP says %q for %s, want %q:\n%s", got, certFile, want, all)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// crlVerify publishes the CRLs and runs openssl verify -crl_check with the
// certificate's partition CRL, fetched from its distribution point.
func crlVerify(t *testing.T, key, kind, certFile string) (bool, string) {
	t.Helper()
	tc := dialTemporal(t)
	run, err := workflows.StartPublishRevocationLists(context.Background(), tc, fmt.Sprintf("revocation-test-%d", time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(context.Background(), nil); err != nil {
		t.Fatalf("publish CRLs: %v", err)
	}
	out, err := exec.Command("openssl", "x509", "-in", certFile, "-noout", "-ext", "crlDistributionPoints").CombinedOutput()
	if err != nil {
		t.Fatalf("read the CRL distribution point: %v\n%s", err, out)
	}
	var dp string
	for _, f := range strings.Fields(string(out)) {
		if u, ok := strings.CutPrefix(f, "URI:"); ok {
			dp = u
		}
	}
	if dp == "" {
		t.Fatalf("no CRL distribution point in %s", out)
	}
	crl := filepath.Join(t.TempDir(), "partition.crl")
	writePEM(t, crl, "X509 CRL", fetchCRL(t, dp, key, http.StatusOK))
	vout, err := exec.Command("openssl", "verify", "-crl_check", "-CAfile", caPEM(kind), "-CRLfile", crl, certFile).CombinedOutput()
	return err == nil, string(vout)
}

// caStatus is the CA's revocation reason code for a serial (0: good).
func caStatus(t *testing.T, serial string) int {
	t.Helper()
	var reason *int16
	if err := jlis(t).QueryRow(context.Background(), `SELECT revocation_reason FROM ca_certificates WHERE serial = $1`, serial).Scan(&reason); err != nil {
		t.Fatal(err)
	}
	if reason == nil {
		return 0
	}
	return int(*reason)
}

// startStatusChange starts a procedure through the gateway and returns the
// case number.
func startStatusChange(t *testing.T, clerk *api, procedure string, body map[string]any) string {
	t.Helper()
	var started struct{ CaseNumber string }
	if code := clerk.do("POST", "/api/procedures/"+procedure, body, &started); code != http.StatusCreated {
		t.Fatalf("start %s: HTTP %d", procedure, code)
	}
	return started.CaseNumber
}

func checkIdentity(t *testing.T, clerk *api, caseNumber string, proxy bool) {
	t.Helper()
	clerk.waitStep(caseNumber, time.Minute, workflows.StepIdentityCheck)
	body := map[string]any{"documentType": "individual_number_card", "verified": true}
	if proxy {
		body = map[string]any{"documentType": "drivers_license", "verified": true, "powerOfAttorney": true}
	}
	var res map[string]any
	if code := clerk.do("POST", "/api/cases/"+caseNumber+"/identity-check", body, &res); code != http.StatusOK {
		t.Fatalf("identity check: HTTP %d %v", code, res)
	}
}

// TestRevocationInPersonAndByProxy: the holder revokes the signing
// certificate only, with the card at the counter (the user-authentication
// one stays good); then a proxy reports the card lost and revokes the
// user-authentication one as compromised. OCSP and the CRL say so, the
// notice names what was revoked, and bad requests change nothing.
func TestRevocationInPersonAndByProxy(t *testing.T) {
	beginTest(t)
	key := statusChangeRepository(t)
	r := demo.Find(demo.ResidentRevoke)
	startTerminal(t, r.CardSerial, r.CardExpiry, false)
	clerk := login(t, "clerk1")
	_, st := issue(t, clerk, application(demo.ResidentRevoke, true, true))
	if st["status"] != workflows.StatusCompleted {
		t.Fatalf("issuance: %v", st)
	}
	certs := certsOf(st)
	sign, auth := certs[contract.KindSigning]["serial"].(string), certs[contract.KindUserAuth]["serial"].(string)
	signPEM, authPEM := certPEM(t, sign), certPEM(t, auth)

	// Bad requests: 4xx, and no case is opened.
	cases := func() (n int) {
		if err := municipalDB(t).QueryRow(context.Background(), `SELECT count(*) FROM cases`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := cases()
	yokohama := login(t, "yokohama1")
	for _, bad := range []struct {
		who    *api
		body   map[string]any
		status int
		code   string
	}{
		{yokohama, map[string]any{"residentCode": demo.ResidentRevoke, "signing": true, "reason": "cessationOfOperation"}, http.StatusForbidden, "other_municipality_resident"},
		{clerk, map[string]any{"residentCode": demo.ResidentRevoke, "serials": []string{"abcdef0123"}, "reason": "keyCompromise"}, http.StatusNotFound, "unknown_certificate"},
		{clerk, map[string]any{"residentCode": demo.ResidentRevoke, "signing": true, "reason": "superseded"}, http.StatusBadRequest, "reason_not_allowed"},
	} {
		var e apiErr
		if code := bad.who.do("POST", "/api/procedures/inperson-revocation", bad.body, &e); code != bad.status || e.Error.Code != bad.code {
			t.Errorf("%v: HTTP %d %+v, want %d %s", bad.body, code, e, bad.status, bad.code)
		}
	}
	if after := cases(); after != before {
		t.Errorf("bad requests opened %d cases", after-before)
	}

	// 第2 2(1): in person, the signing certificate only, the card brought.
	n := startStatusChange(t, clerk, "inperson-revocation", map[string]any{"residentCode": demo.ResidentRevoke, "signing": true,
		"reason": "cessationOfOperation", "terminalId": "T0001"})
	checkIdentity(t, clerk, n, false)
	done := clerk.waitStep(n, time.Minute, workflows.StepDone, workflows.StepRejected)
	if done["status"] != workflows.StatusCompleted {
		t.Fatalf("in-person revocation: %v", done)
	}
	if got := caStatus(t, sign); got != 5 {
		t.Errorf("signing certificate reason %d at the CA, want 5 (cessationOfOperation)", got)
	}
	if got := caStatus(t, auth); got != 0 {
		t.Errorf("the user-authentication certificate was touched (reason %d)", got)
	}
	if all := waitOCSP(t, key, contract.KindSigning, signPEM, "revoked"); !strings.Contains(all, "cessationOfOperation") {
		t.Errorf("OCSP does not give the reason:\n%s", all)
	}
	waitOCSP(t, key, contract.KindUserAuth, authPEM, "good")
	if ok, out := crlVerify(t, key, contract.KindSigning, signPEM); ok {
		t.Errorf("openssl verify -crl_check accepted the revoked certificate:\n%s", out)
	}
	// The notice (失効通知書) names the holder and the revoked certificate.
	pdf := clerk.raw("GET", "/api/cases/"+n+"/revocation-notice.pdf")
	pages, err := letter.ReadBack(pdf)
	if err != nil {
		t.Fatalf("revocation notice: %v", err)
	}
	var text strings.Builder
	for _, p := range pages {
		text.WriteString(p.Text())
	}
	for _, want := range []string{"電子証明書失効通知書", r.Name + "　様", "シリアル番号　" + sign, "利用者の意思によるサービスの停止"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the notice does not say %q", want)
		}
	}
	if strings.Contains(text.String(), auth) {
		t.Error("the notice names the certificate that was not revoked")
	}

	// 第2 2(2): a proxy reports the card lost; the user-authentication
	// certificate is revoked as compromised, the card is recorded lost.
	n = startStatusChange(t, clerk, "proxy-revocation", map[string]any{"residentCode": demo.ResidentRevoke, "userAuth": true,
		"reason": "keyCompromise", "cardLost": true, "proxy": map[string]any{"name": "代理 花子", "address": "東京都千代田区一番町1番地", "relationship": "spouse"}})
	checkIdentity(t, clerk, n, true)
	done = clerk.waitStep(n, time.Minute, workflows.StepDone, workflows.StepRejected)
	if done["status"] != workflows.StatusCompleted {
		t.Fatalf("proxy revocation: %v", done)
	}
	if got := caStatus(t, auth); got != 1 {
		t.Errorf("user-authentication certificate reason %d, want 1 (keyCompromise)", got)
	}
	waitOCSP(t, key, contract.KindUserAuth, authPEM, "revoked")
	var cardStatus string
	var docs int
	db := municipalDB(t)
	_ = db.QueryRow(context.Background(), `SELECT status FROM cards WHERE card_serial = $1`, r.CardSerial).Scan(&cardStatus)
	_ = db.QueryRow(context.Background(), `SELECT count(*) FROM documents WHERE case_number = $1 AND doc_type IN ('power_of_attorney', 'revocation_notice')`, n).Scan(&docs)
	if cardStatus != "lost" || docs != 2 {
		t.Errorf("card %q, %d of the power of attorney and the notice recorded", cardStatus, docs)
	}
}

// TestLossReportAndHoldRelease: the Organization's operator takes a loss
// report by card serial; the user-authentication certificate is held, the
// signing one revoked. The holder finds the card and has the hold released
// at the counter, with the PIN verified on the card after a wrong try: OCSP
// says good again and the CRL no longer lists it. A release for another
// card, or of a revoked certificate, is refused.
func TestLossReportAndHoldRelease(t *testing.T) {
	beginTest(t)
	key := statusChangeRepository(t)
	r := demo.Find(demo.ResidentLostCard)
	startTerminal(t, r.CardSerial, r.CardExpiry, false)
	clerk := login(t, "clerk1")
	_, st := issue(t, clerk, application(demo.ResidentLostCard, true, true))
	if st["status"] != workflows.StatusCompleted {
		t.Fatalf("issuance: %v", st)
	}
	certs := certsOf(st)
	sign, auth := certs[contract.KindSigning]["serial"].(string), certs[contract.KindUserAuth]["serial"].(string)
	signPEM, authPEM := certPEM(t, sign), certPEM(t, auth)

	// The 24-hour line: the card's serial only.
	operator := login(t, "jlis1")
	var e apiErr
	if code := operator.do("POST", "/api/procedures/loss-report", map[string]any{"cardSerial": "C999999999999"}, &e); code != http.StatusNotFound || e.Error.Code != "unknown_card" {
		t.Errorf("unknown card: HTTP %d %+v", code, e)
	}
	if code := clerk.do("POST", "/api/procedures/loss-report", map[string]any{"cardSerial": r.CardSerial}, &e); code != http.StatusForbidden {
		t.Errorf("a municipal clerk took a loss report: HTTP %d", code)
	}
	var rep struct {
		CaseNumber string
		Status     string
		Detail     workflows.StatusChanges
	}
	reported := time.Now()
	if code := operator.do("POST", "/api/procedures/loss-report", map[string]any{"cardSerial": r.CardSerial}, &rep); code != http.StatusCreated || rep.Status != workflows.StatusCompleted {
		t.Fatalf("loss report: HTTP %d %+v", code, rep)
	}
	answered := time.Since(reported)
	if len(rep.Detail.Held) != 1 || rep.Detail.Held[0].Serial != auth || len(rep.Detail.Revoked) != 1 || rep.Detail.Revoked[0].Serial != sign {
		t.Errorf("loss report did %+v, want %s held and %s revoked", rep.Detail, auth, sign)
	}
	if all := waitOCSP(t, key, contract.KindUserAuth, authPEM, "revoked"); !strings.Contains(all, "certificateHold") {
		t.Errorf("OCSP does not say certificateHold:\n%s", all)
	}
	// A figure for the note, not an assertion: the report's answer, and
	// OCSP saying held (through openssl, process start included).
	t.Logf("loss report answered in %v; OCSP said certificateHold %v after the report was sent", answered, time.Since(reported))
	if all := waitOCSP(t, key, contract.KindSigning, signPEM, "revoked"); !strings.Contains(all, "keyCompromise") {
		t.Errorf("OCSP does not say keyCompromise:\n%s", all)
	}
	if ok, out := crlVerify(t, key, contract.KindUserAuth, authPEM); ok {
		t.Errorf("openssl verify -crl_check accepted the held certificate:\n%s", out)
	}
	// The operator sees the case; the municipality does not.
	if code := clerk.do("GET", "/api/cases/"+rep.CaseNumber, nil, &e); code != http.StatusNotFound {
		t.Errorf("a municipal clerk read the Organization's case: HTTP %d", code)
	}

	// 第3 2(1): the found card at the counter; a wrong PIN first.
	n := startStatusChange(t, clerk, "inperson-hold-release", map[string]any{"residentCode": demo.ResidentLostCard,
		"cardSerial": r.CardSerial, "terminalId": "T0001"})
	checkIdentity(t, clerk, n, false)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	verifyPINAt(t, ctx, panelURL, contract.KindUserAuth, "0000")
	verifyPINAt(t, ctx, panelURL, contract.KindUserAuth, testPINs[contract.KindUserAuth])
	done := clerk.waitStep(n, time.Minute, workflows.StepDone, workflows.StepRejected)
	if done["status"] != workflows.StatusCompleted {
		t.Fatalf("hold release: %v", done)
	}
	waitOCSP(t, key, contract.KindUserAuth, authPEM, "good")
	if ok, out := crlVerify(t, key, contract.KindUserAuth, authPEM); !ok {
		t.Errorf("openssl verify -crl_check rejects the released certificate:\n%s", out)
	}
	if got := caStatus(t, sign); got != 1 {
		t.Errorf("the signing certificate is no longer revoked (reason %d)", got)
	}

	// Lost again, found again; 第3 2(2): a proxy brings it with the power of
	// attorney and types the PIN the holder entrusted to them.
	if code := operator.do("POST", "/api/procedures/loss-report", map[string]any{"cardSerial": r.CardSerial}, &rep); code != http.StatusCreated || len(rep.Detail.Held) != 1 {
		t.Fatalf("second loss report: HTTP %d %+v", code, rep)
	}
	waitOCSP(t, key, contract.KindUserAuth, authPEM, "revoked")
	n = startStatusChange(t, clerk, "proxy-hold-release", map[string]any{"residentCode": demo.ResidentLostCard,
		"cardSerial": r.CardSerial, "terminalId": "T0001", "proxy": map[string]any{"name": "代理 次郎", "address": "東京都千代田区二番町2番地", "relationship": "child"}})
	checkIdentity(t, clerk, n, true)
	verifyPINAt(t, ctx, panelURL, contract.KindUserAuth, testPINs[contract.KindUserAuth])
	if done := clerk.waitStep(n, time.Minute, workflows.StepDone, workflows.StepRejected); done["status"] != workflows.StatusCompleted {
		t.Fatalf("proxy hold release: %v", done)
	}
	waitOCSP(t, key, contract.KindUserAuth, authPEM, "good")

	// Refusals: the card of another person; a revoked (not held)
	// certificate — here the holder then revokes it at the counter.
	var e2 apiErr
	if code := clerk.do("POST", "/api/procedures/inperson-hold-release", map[string]any{"residentCode": demo.ResidentLostCard,
		"cardSerial": demo.Find(demo.ResidentRevoke).CardSerial, "terminalId": "T0001"}, &e2); code != http.StatusForbidden || e2.Error.Code != "not_holder" {
		t.Errorf("another person's card: HTTP %d %+v", code, e2)
	}
	n = startStatusChange(t, clerk, "inperson-revocation", map[string]any{"residentCode": demo.ResidentLostCard, "userAuth": true,
		"reason": "keyCompromise"})
	checkIdentity(t, clerk, n, false)
	if done := clerk.waitStep(n, time.Minute, workflows.StepDone, workflows.StepRejected); done["status"] != workflows.StatusCompleted {
		t.Fatalf("revocation: %v", done)
	}
	n = startStatusChange(t, clerk, "inperson-hold-release", map[string]any{"residentCode": demo.ResidentLostCard,
		"cardSerial": r.CardSerial, "terminalId": "T0001"})
	done = clerk.waitStep(n, time.Minute, workflows.StepRejected, workflows.StepDone)
	rej, _ := done["rejection"].(map[string]any)
	if done["status"] != workflows.StatusRejected || rej["code"] != "revoked_not_held" {
		t.Errorf("hold release of a revoked certificate: %v", done)
	}
	waitOCSP(t, key, contract.KindUserAuth, authPEM, "revoked")
}
