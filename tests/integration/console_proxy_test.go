package integration

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/internal/inquiry"
	"github.com/madoguchi/madoguchi/internal/letter"
	"github.com/madoguchi/madoguchi/workflows"
)

// TestConsoleProxyIssuanceLetter: a proxy issuance started from the
// console's form, its identity check done in the console, to the printed
// inquiry letter, which the case page links to and the gateway serves as a
// PDF. Its resident is the console's own (demo.ResidentConsole), so the
// API proxy test keeps its fresh resident; the case is cancelled after.
func TestConsoleProxyIssuanceLetter(t *testing.T) {
	beginTest(t)
	r := demo.Find(demo.ResidentConsole)
	b := newTab(t)
	b.signIn("clerk1")
	b.do("fill the proxy issuance form",
		chromedp.Navigate(gatewayURL+"/console/start"),
		chromedp.Click(chromedp.CSS("#start-proxy-issuance")),
		chromedp.WaitVisible(chromedp.CSS("#start-form")),
		chromedp.SendKeys(chromedp.CSS("#f-terminalId"), "T0001"),
		chromedp.SendKeys(chromedp.CSS("#f-application-residentCode"), r.ResidentCode),
		chromedp.SendKeys(chromedp.CSS("#f-application-name"), r.Name),
		chromedp.SendKeys(chromedp.CSS("#f-application-birthDate"), demo.BirthDate(r.ResidentCode)),
		chromedp.SetValue(chromedp.CSS("#f-application-sex"), r.Sex),
		chromedp.SendKeys(chromedp.CSS("#f-application-address"), r.Address),
		chromedp.Click(chromedp.CSS("#f-application-signing")),
		chromedp.Click(chromedp.CSS("#f-application-userAuth")),
		chromedp.SendKeys(chromedp.CSS("#f-proxy-name"), "代理 人子"),
		chromedp.SendKeys(chromedp.CSS("#f-proxy-address"), "東京都港区芝公園1丁目1番1号"),
		chromedp.SendKeys(chromedp.CSS("#f-proxy-relationship"), "子"),
		chromedp.Click(chromedp.CSS("#start-submit")))
	n := b.caseNumber()
	clerk := login(t, "clerk1")
	t.Cleanup(func() { clerk.do("POST", "/api/cases/"+n+"/cancel", map[string]any{"reason": "console test"}, nil) })

	b.waitStep(workflows.StepIdentityCheck)
	b.do("the proxy's identity check",
		chromedp.SetValue(chromedp.CSS("#s-identity-check-documentType"), "drivers_license"),
		chromedp.Click(chromedp.CSS("#s-identity-check-verified")),
		chromedp.Click(chromedp.CSS("#s-identity-check-powerOfAttorney")),
		chromedp.Click(chromedp.CSS("#submit-identity-check")),
		chromedp.WaitVisible(chromedp.CSS(`#flash[data-of="identity-check"]`)))
	if f := b.text("#flash"); f != "受け付けました。" {
		t.Fatalf("identity check: %q (page: %s)", f, b.peek())
	}
	b.waitStep(workflows.StepInquiryMailing)
	b.do("the case page with its letter", chromedp.Navigate(gatewayURL+"/console/cases/"+n), chromedp.WaitVisible(chromedp.CSS("#letters a")))
	href, _ := b.eval(`document.querySelector("#letters a").getAttribute("href")`).(string)
	if href != "/console/cases/"+n+"/letters/inquiry.pdf" {
		t.Fatalf("the letter link is %q", href)
	}
	if label := b.text("#letters a"); label == "" {
		t.Error("the letter link has no label")
	}

	// Open the link as the browser does, with the session's cookie.
	type served struct {
		Status int    `json:"status"`
		Type   string `json:"type"`
		Body   string `json:"body"`
	}
	ctx, cancel := chromedpTimeout(b)
	defer cancel()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[served](`fetch(document.querySelector("#letters a").href, {credentials: "same-origin"}).then(async r => {
		const buf = new Uint8Array(await r.arrayBuffer());
		let s = ""; for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode.apply(null, buf.subarray(i, i + 0x8000));
		return {status: r.status, type: r.headers.get("Content-Type"), body: btoa(s)};
	})`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("open the letter: %v", err)
	}
	if got.Status != 200 || got.Type != "application/pdf" {
		t.Fatalf("the letter: HTTP %d, %q", got.Status, got.Type)
	}
	pdf, err := base64.StdEncoding.DecodeString(got.Body)
	if err != nil {
		t.Fatal(err)
	}
	pages, err := letter.ReadBack(pdf)
	if err != nil || len(pages) == 0 {
		t.Fatalf("read the letter back: %v (%d pages)", err, len(pages))
	}
	var text strings.Builder
	for _, p := range pages {
		text.WriteString(p.Text())
	}
	if !strings.Contains(text.String(), inquiry.Title) {
		t.Errorf("the letter lacks its title %q: %s", inquiry.Title, text.String())
	}
	if !strings.Contains(text.String(), n) {
		t.Errorf("the letter lacks the case number %s", n)
	}
}

// chromedpTimeout is the tab's context with the steps' timeout.
func chromedpTimeout(b *tab) (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, 2*time.Minute)
}
