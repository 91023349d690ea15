package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/workflows"
)

// The Temporal UI that `temporal server start-dev` serves (scripts/lib.sh,
// --ui-codec-endpoint on the gateway's /codec) shows a case's history
// decoded to a manager of the case's municipality, signed in through
// /codec/login, once the UI's codec settings include cross-origin
// credentials (docs/CODEC.md); to a manager of another municipality the
// codec endpoint answers 403 and the history stays ciphertext.

// uiTab is a browser (its own profile: its own cookies and local storage)
// that records the status of every answer of the gateway's codec endpoint.
type uiTab struct {
	*tab
	mu       sync.Mutex
	decodes  []int64 // statuses of POST /codec/decode, as the browser got them
	codecURL string
}

func newUITab(t *testing.T) *uiTab {
	t.Helper()
	// Wide and tall enough that the codec settings fit the window.
	b := &uiTab{tab: newTabWith(t, chromedp.WindowSize(1600, 1400), chromedp.Flag("lang", "en-US")), codecURL: gatewayURL + "/codec"}
	if err := chromedp.Listen(b.ctx, func(ev any) {
		if r, ok := ev.(*network.EventResponseReceived); ok && r.Response != nil && r.Response.URL == b.codecURL+"/decode" {
			b.mu.Lock()
			b.decodes = append(b.decodes, r.Response.Status)
			b.mu.Unlock()
		}
	}); err != nil {
		t.Fatalf("listen to the browser's network: %v", err)
	}
	return b
}

// decodeStatuses are the statuses the codec endpoint answered the UI.
func (b *uiTab) decodeStatuses() []int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int64(nil), b.decodes...)
}

// codecSignIn signs a demo clerk in on the gateway's /codec/login page, as
// a manager does before opening the UI; the browser keeps the codec cookie.
func (b *uiTab) codecSignIn(login string) string {
	b.t.Helper()
	b.do("sign in at /codec/login as "+login,
		chromedp.Navigate(gatewayURL+"/codec/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="login"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="login"]`), login),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "madoguchi-demo"),
		chromedp.Click(chromedp.CSS(`#f button`)),
		chromedp.WaitVisible(chromedp.CSS(`#out:not(:empty)`)))
	return b.text("#out")
}

// configureCodec sets the UI's codec settings as a manager does, once per
// browser: Configure Codec Server, "Use my browser setting and ignore
// Cluster-level setting", the gateway's /codec as the browser endpoint,
// "Include cross-origin credentials" on, Apply.
func (b *uiTab) configureCodec() {
	b.t.Helper()
	status := chromedp.CSS(`[data-testid^="data-encoder-status"]`)
	b.do("open the codec settings",
		chromedp.Navigate(cfg.TemporalUI+"/namespaces/"+cfg.TemporalNamespace+"/workflows"),
		chromedp.WaitVisible(status),
		chromedp.Click(status),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="confirm-data-encoder-button"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="override-accordion"] > button`)),
		chromedp.WaitVisible(chromedp.CSS(`#use-local-endpoint-radio`)),
		chromedp.Click(chromedp.CSS(`#use-local-endpoint-radio`)),
		chromedp.SendKeys(chromedp.CSS(`#data-encoder-endpoint-input`), b.codecURL),
		// The switch is a visually hidden checkbox: a keyboard user's
		// Space toggles it (a click at its place may land on the header).
		chromedp.Focus(chromedp.CSS(`#pass-access-credentials`), chromedp.NodeReady),
		chromedp.KeyEvent(" "))
	if on := b.eval(`document.getElementById("pass-access-credentials").checked`); on != true {
		b.t.Fatalf("Include cross-origin credentials is not on after toggling it")
	}
	b.do("apply the codec settings",
		chromedp.Click(chromedp.CSS(`[data-testid="confirm-data-encoder-button"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`[data-testid="confirm-data-encoder-button"]`)))
	// What the UI keeps of it, in its origin's local storage (JSON values).
	got, _ := b.eval(`JSON.stringify({endpoint: localStorage.getItem("endpoint"), includeCredentials: localStorage.getItem("includeCredentials"),
		override: localStorage.getItem("overrideRemoteCodecConfiguration"), passAccessToken: localStorage.getItem("passAccessToken")})`).(string)
	want, _ := json.Marshal(map[string]string{"endpoint": `"` + b.codecURL + `"`, "includeCredentials": "true", "override": "true", "passAccessToken": "false"})
	if got != string(want) {
		b.t.Fatalf("the UI's codec settings in local storage: %s, want %s", got, want)
	}
}

// openHistory opens a workflow's history page in the UI.
func (b *uiTab) openHistory(workflowID, runID string) {
	b.t.Helper()
	b.do("open the history of "+workflowID,
		chromedp.Navigate(cfg.TemporalUI+"/namespaces/"+cfg.TemporalNamespace+"/workflows/"+url.PathEscape(workflowID)+"/"+runID+"/history"),
		chromedp.WaitVisible(chromedp.CSS(`main`)))
}

// pageText is all the text of the page, hidden parts included.
func (b *uiTab) pageText() string {
	s, _ := b.eval(`document.body.textContent`).(string)
	return s
}

// waitFor polls until cond holds, failing the test with what it waited for.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func TestTemporalUIDecodesForOwnManagerOnly(t *testing.T) {
	beginTest(t)
	r := demo.Find(demo.ResidentAdult)
	clerk := login(t, "clerk1")
	var started struct{ CaseNumber string }
	if code := clerk.do("POST", "/api/procedures/inperson-issuance", map[string]any{"terminalId": "T0001", "application": application(demo.ResidentAdult, true, true)}, &started); code != http.StatusCreated {
		t.Fatalf("start: HTTP %d", code)
	}
	n := started.CaseNumber
	t.Cleanup(func() { clerk.do("POST", "/api/cases/"+n+"/cancel", map[string]any{"reason": "Temporal UI test"}, nil) })
	clerk.waitStep(n, time.Minute, workflows.StepIdentityCheck)
	workflowID := "inperson-issuance/" + n

	// As stored, the history holds the applicant's name only encrypted.
	tc := dialTemporal(t)
	evs := historyEvents(t, tc, workflowID)
	start := evs[0].GetWorkflowExecutionStartedEventAttributes()
	if start == nil || len(start.GetInput().GetPayloads()) == 0 {
		t.Fatalf("the first event of %s is not a start with input: %v", workflowID, evs[0])
	}
	for _, p := range start.GetInput().GetPayloads() {
		if bytes.Contains(p.GetData(), []byte(r.Name)) {
			t.Fatal("the history holds the applicant's name in clear")
		}
	}
	desc, err := tc.DescribeWorkflowExecution(context.Background(), workflowID, "")
	if err != nil {
		t.Fatalf("describe %s: %v", workflowID, err)
	}
	runID := desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()

	// 千代田区's manager reads the input decoded.
	m := newUITab(t)
	if out := m.codecSignIn("manager1"); !strings.Contains(out, "Signed in") || !strings.Contains(out, "131016") {
		t.Fatalf("manager1 at /codec/login: %q", out)
	}
	m.configureCodec()
	m.openHistory(workflowID, runID)
	waitFor(t, "manager1 sees the applicant's name in the history page", time.Minute, func() bool {
		return strings.Contains(m.pageText(), r.Name)
	})
	if !strings.Contains(m.pageText(), r.Address) {
		t.Error("manager1's page shows the name but not the applicant's address")
	}
	if st := m.decodeStatuses(); !containsStatus(st, http.StatusOK) {
		t.Errorf("the codec endpoint answered manager1's UI %v, no 200", st)
	}

	// 川崎市's manager, signed in and set up the same way, is refused.
	k := newUITab(t)
	if out := k.codecSignIn("kawasaki1"); !strings.Contains(out, "Signed in") || strings.Contains(out, "131016") {
		t.Fatalf("kawasaki1 at /codec/login: %q", out)
	}
	k.configureCodec()
	k.openHistory(workflowID, runID)
	waitFor(t, "the codec endpoint refuses kawasaki1's UI", time.Minute, func() bool {
		return containsStatus(k.decodeStatuses(), http.StatusForbidden)
	})
	// Refused, the UI shows the input as stored: the encrypted payload, its
	// metadata in base64.
	encrypted := base64.StdEncoding.EncodeToString([]byte("binary/encrypted"))
	waitFor(t, "kawasaki1's UI shows the input encrypted", time.Minute, func() bool {
		return strings.Contains(k.pageText(), encrypted)
	})
	if st := k.decodeStatuses(); containsStatus(st, http.StatusOK) {
		t.Errorf("the codec endpoint decoded for kawasaki1's UI: %v", st)
	}
	if text := k.pageText(); strings.Contains(text, r.Name) || strings.Contains(text, r.Address) {
		t.Error("kawasaki1's UI shows the applicant of 千代田区's case")
	}
	// The gateway logged the refusal, with the manager's login.
	logText, err := os.ReadFile(filepath.Join(logDir, "gateway.log"))
	if err != nil {
		t.Fatal(err)
	}
	// The gateway logs JSON, a line an entry (internal/logs).
	refused := false
	for _, line := range strings.Split(string(logText), "\n") {
		var e map[string]any
		if json.Unmarshal([]byte(line), &e) == nil && e["msg"] == "codec refused" && e["login"] == "kawasaki1" && e["reason"] == "another scope" {
			refused = true
		}
	}
	if !refused {
		t.Error("the gateway's log has no refusal of kawasaki1's decode for another scope")
	}
}

func containsStatus(st []int64, code int64) bool {
	for _, s := range st {
		if s == code {
			return true
		}
	}
	return false
}
