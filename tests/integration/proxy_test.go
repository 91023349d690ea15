package integration

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/internal/inquiry"
	"github.com/madoguchi/madoguchi/workflows"
)

// startProxy starts a proxy application and gets it to the reply wait: the
// proxy's identity is checked, the letter printed and mailed. It returns the
// case number and the reply code read off the printed letter.
func startProxy(t *testing.T, clerk *api, resident string) (string, string) {
	t.Helper()
	var started struct{ CaseNumber string }
	if code := clerk.do("POST", "/api/procedures/proxy-issuance", map[string]any{
		"terminalId": "T0001", "application": application(resident, true, true),
		"proxy": map[string]string{"name": "代理 人子", "address": "東京都港区芝公園1丁目1番1号", "relationship": "子"},
	}, &started); code != http.StatusCreated {
		t.Fatalf("start proxy issuance: HTTP %d", code)
	}
	n := started.CaseNumber
	clerk.waitStep(n, time.Minute, workflows.StepIdentityCheck)
	if code := clerk.do("POST", "/api/cases/"+n+"/identity-check", map[string]any{"documentType": "drivers_license", "verified": true, "powerOfAttorney": true}, nil); code != http.StatusOK {
		t.Fatalf("proxy identity check: HTTP %d", code)
	}
	clerk.waitStep(n, time.Minute, workflows.StepInquiryMailing)
	pdf := clerk.raw("GET", "/api/cases/"+n+"/inquiry.pdf")
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("the inquiry letter is not a PDF: %q", pdf[:min(20, len(pdf))])
	}
	code := replyCodeOf(t, pdf)
	if !strings.Contains(pdfText(pdf), n) {
		t.Fatal("the inquiry letter does not show the case number")
	}
	var e apiErr
	if code := clerk.do("POST", "/api/cases/"+n+"/reply", map[string]any{"caseNumber": n, "code": code}, &e); code != http.StatusConflict {
		t.Fatalf("a reply before the letter was mailed: HTTP %d, want 409", code)
	}
	if code := clerk.do("POST", "/api/cases/"+n+"/inquiry-mailed", map[string]any{}, nil); code != http.StatusOK {
		t.Fatalf("inquiry mailed: HTTP %d", code)
	}
	clerk.waitStep(n, time.Minute, workflows.StepReplyWait)
	return n, code
}

// TestProxyIssuance: the proxy applies, the letter goes out, the proxy
// brings the reply back; a wrong code and another case's reply are refused;
// the clerk who took the reply types the PIN after another clerk confirmed.
func TestProxyIssuance(t *testing.T) {
	beginTest(t)
	r := demo.Find(demo.ResidentProxy)
	startTerminal(t, r.CardSerial, r.CardExpiry, false)
	clerk1, clerk2 := login(t, "clerk1"), login(t, "clerk2")
	n, code := startProxy(t, clerk1, demo.ResidentProxy)

	time.Sleep(testEarliestReply) // nothing is issued at the moment of application
	var e apiErr
	if c := clerk1.do("POST", "/api/cases/"+n+"/reply", map[string]any{"caseNumber": n, "code": "WRNG-WRNG-WR"}, &e); c != http.StatusConflict ||
		!strings.Contains(e.Error.Message, "attempts left") {
		t.Fatalf("wrong reply code: HTTP %d %v", c, e)
	}
	e = apiErr{}
	if c := clerk1.do("POST", "/api/cases/"+n+"/reply", map[string]any{"caseNumber": "131016-20200101-000001", "code": code}, &e); c != http.StatusConflict ||
		!strings.Contains(e.Error.Message, "another case") {
		t.Fatalf("another case's reply: HTTP %d %v", c, e)
	}
	if c := clerk1.do("POST", "/api/cases/"+n+"/reply", map[string]any{"caseNumber": n, "code": code}, &e); c != http.StatusOK {
		t.Fatalf("right reply code: HTTP %d %v", c, e)
	}
	// The proxy is identified again at the second visit.
	clerk1.waitStep(n, time.Minute, workflows.StepSecondVisit)
	if c := clerk1.do("POST", "/api/cases/"+n+"/identity-check", map[string]any{"documentType": "drivers_license", "verified": true}, &e); c != http.StatusConflict {
		t.Fatalf("a proxy's check without the power of attorney: HTTP %d, want 409", c)
	}
	if c := clerk1.do("POST", "/api/cases/"+n+"/identity-check", map[string]any{"documentType": "drivers_license", "verified": true, "powerOfAttorney": true}, &e); c != http.StatusOK {
		t.Fatalf("second-visit identity check: HTTP %d %v", c, e)
	}
	clerk1.waitStep(n, time.Minute, workflows.StepPINConfirmation)
	e = apiErr{}
	if c := clerk1.do("POST", "/api/cases/"+n+"/confirm-intent", map[string]any{}, &e); c != http.StatusConflict {
		t.Fatalf("the entering clerk confirmed their own entry: HTTP %d", c)
	}
	if !eventuallyListed(t, clerk2, "/api/waiting", n) {
		t.Fatal("the pending confirmation is not in the municipality's waiting list")
	}
	if c := clerk2.do("POST", "/api/cases/"+n+"/confirm-intent", map[string]any{"note": "本人に電話で確認"}, &e); c != http.StatusOK {
		t.Fatalf("second clerk's confirmation: HTTP %d %v", c, e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	enterPINs(t, ctx, testPINs) // typed by clerk1 from the reply
	st := clerk1.waitStep(n, 2*time.Minute, workflows.StepDone, workflows.StepRejected)
	if st["status"] != workflows.StatusCompleted || st["pinEnteredBy"] != "clerk1" || st["pinConfirmedBy"] != "clerk2" {
		t.Fatalf("proxy issuance: %v", st)
	}
	if len(certsOf(st)) != 2 {
		t.Fatalf("want 2 certificates: %v", st["issuance"])
	}
}

// TestProxyLapse: with no reply by the deadline the application lapses and
// a manager finds it among the lapsed cases.
func TestProxyLapse(t *testing.T) {
	beginTest(t)
	clerk, manager := login(t, "clerk1"), login(t, "manager1")
	n, _ := startProxy(t, clerk, demo.ResidentAdult)
	st := clerk.waitStep(n, testReplyWindow+time.Minute, workflows.StepLapsed)
	if rej, _ := st["rejection"].(map[string]any); rej["code"] != "reply_deadline_passed" {
		t.Fatalf("lapse: %v", st)
	}
	if !eventuallyListed(t, manager, "/api/cases?status=lapsed", n) {
		t.Fatal("the manager does not see the lapsed case")
	}
	var e apiErr
	if c := clerk.do("POST", "/api/cases/"+n+"/reply", map[string]any{"caseNumber": n, "code": "ABCD-EFGH-JK"}, &e); c != http.StatusConflict {
		t.Fatalf("a reply after the lapse: HTTP %d", c)
	}
}

func listed(rows []map[string]any, caseNumber string) bool {
	for _, r := range rows {
		if r["caseNumber"] == caseNumber {
			return true
		}
	}
	return false
}

// raw fetches a non-JSON answer.
func (a *api) raw(method, path string) []byte {
	a.t.Helper()
	req, _ := http.NewRequest(method, gatewayURL+path, nil)
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		a.t.Fatalf("%s %s: HTTP %d %s", method, path, resp.StatusCode, b)
	}
	return b
}

var (
	streamRE = regexp.MustCompile(`(?s)stream\r?\n(.*?)\r?\nendstream`)
	hexRE    = regexp.MustCompile(`<([0-9A-Fa-f\s]+)>`)
)

// pdfText is the text of a PDF as a reader sees it: every UTF-16BE hex
// string of its (possibly compressed) content streams, in order.
func pdfText(pdf []byte) string {
	var sb strings.Builder
	for _, m := range streamRE.FindAllSubmatch(pdf, -1) {
		data := m[1]
		if zr, err := zlib.NewReader(bytes.NewReader(data)); err == nil {
			if d, err := io.ReadAll(zr); err == nil {
				data = d
			}
		}
		for _, h := range hexRE.FindAllSubmatch(data, -1) {
			b, err := hex.DecodeString(strings.Join(strings.Fields(string(h[1])), ""))
			if err != nil || len(b)%2 != 0 {
				continue
			}
			u := make([]uint16, len(b)/2)
			for i := range u {
				u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
			}
			sb.WriteString(string(utf16.Decode(u)))
			sb.WriteString("\n")
		}
	}
	return sb.String()
}

// replyCodeOf reads the reply code off the letter, as the applicant does.
func replyCodeOf(t *testing.T, pdf []byte) string {
	t.Helper()
	text := pdfText(pdf)
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == ' ' || r == '　' }) {
		if inquiry.ValidReplyCode(inquiry.NormalizeReplyCode(f)) {
			return f
		}
	}
	t.Fatalf("no reply code found on the letter")
	return ""
}

// eventuallyListed polls a list answer (cases or waiting) until it names the
// case: lists come from Temporal's visibility, which lags a write briefly.
func eventuallyListed(t *testing.T, a *api, path, caseNumber string) bool {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var list struct {
			Cases   []map[string]any
			Waiting []map[string]any
		}
		if c := a.do("GET", path, nil, &list); c != http.StatusOK {
			t.Fatalf("GET %s: HTTP %d", path, c)
		}
		if listed(list.Cases, caseNumber) || listed(list.Waiting, caseNumber) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
}
