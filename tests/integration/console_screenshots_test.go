package integration

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/workflows"
)

// screenshotDir is where `make screenshots` writes the console's pictures
// (docs/console/, linked from the README).
const screenshotDir = "../../docs/console"

// TestConsoleScreenshots opens the console's main pages (sign-in, waiting
// list, a start form, a correction request's form with two items, a case
// page, a history page, the deadline list, the access log) in a
// fixed-size window and asserts each renders; with MADOGUCHI_SCREENSHOTS=1
// (`make screenshots`) it writes each as a PNG under docs/console/. Its
// case is a proxy issuance of demo.ResidentConsole waiting on the
// identity check, cancelled after.
func TestConsoleScreenshots(t *testing.T) {
	beginTest(t)
	write := os.Getenv("MADOGUCHI_SCREENSHOTS") == "1"
	if write {
		if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	clerk := login(t, "clerk1")
	var started struct{ CaseNumber string }
	if code := clerk.do("POST", "/api/procedures/proxy-issuance", map[string]any{
		"terminalId": "T0001", "application": application(demo.ResidentConsole, true, true),
		"proxy": map[string]string{"name": "代理 人子", "address": "東京都港区芝公園1丁目1番1号", "relationship": "子"},
	}, &started); code != http.StatusCreated {
		t.Fatalf("start proxy issuance: HTTP %d", code)
	}
	n := started.CaseNumber
	t.Cleanup(func() {
		clerk.do("POST", "/api/cases/"+n+"/cancel", map[string]any{"reason": "console screenshots"}, nil)
	})
	clerk.waitStep(n, time.Minute, workflows.StepIdentityCheck)

	shot := func(b *tab, name, url, ready string) {
		t.Helper()
		if url != "" {
			b.do("open "+name, chromedp.Navigate(gatewayURL+url))
		}
		b.do(name+" renders", chromedp.WaitVisible(chromedp.CSS(ready)), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if !write {
			return
		}
		ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
		defer cancel()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	window := []chromedp.ExecAllocatorOption{chromedp.Flag("lang", "ja"), chromedp.WindowSize(1280, 860), chromedp.Flag("hide-scrollbars", true)}

	b := newTabWith(t, window...)
	shot(b, "signin", "/console/login", "#login-form")
	b.signIn("clerk1")
	shot(b, "waiting", "/console/", "#nav-home")
	shot(b, "start-form", "/console/start/proxy-issuance", "#start-form")
	shot(b, "case", "/console/cases/"+n, `#status[data-step="`+workflows.StepIdentityCheck+`"]`)
	// A correction request's form with two item rows (the second added by its button).
	b.do("the correction form", chromedp.Navigate(gatewayURL+"/console/start/inperson-correction-request"),
		chromedp.WaitVisible(chromedp.CSS("#f-items-add")), chromedp.Click(chromedp.CSS("#f-items-add")))
	shot(b, "correction-form", "", "#f-items-1-serial")

	m := newTabWith(t, window...)
	m.signIn("manager1")
	shot(m, "history", "/console/cases/"+n+"/history", "#history")
	shot(m, "deadlines", "/console/deadlines", "#nav-deadlines")
	shot(m, "access-log", "/console/access-log", "#access-filter")
	shot(m, "fees", "/console/fees", "#fees-day")
	shot(m, "disposals", "/console/disposals", "#disposal-day")
}
