package integration

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/workflows"
)

// The console's browser tests drive Debian's chromium (scripts/install.sh)
// headless through chromedp, against the gateway of the real stack, with
// the touch panel answered by the harness as the issuance tests answer it.

// tab is one browser (its own profile, so its own cookies) on one page.
type tab struct {
	t   *testing.T
	ctx context.Context
}

func newTab(t *testing.T) *tab {
	t.Helper()
	return newTabWith(t, chromedp.Flag("lang", "ja"))
}

// newTabWith is newTab with more of chromium's options (a window size, a
// language).
func newTabWith(t *testing.T, more ...chromedp.ExecAllocatorOption) *tab {
	t.Helper()
	// CI runs as root, where chromium needs --no-sandbox.
	opts := append(append(chromedp.DefaultExecAllocatorOptions[:], chromedp.NoSandbox, chromedp.Headless), more...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first run starts the browser, on a context without a deadline.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &tab{t: t, ctx: ctx}
}

// do runs steps, failing the test with what they were for.
func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v (page: %s)", what, err, b.peek())
	}
}

// peek is the visible text of the page's main part, for failure messages.
func (b *tab) peek() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("main") ? document.querySelector("main").innerText : document.body.innerText`))
	return s
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v (page: %s)", sel, err, b.peek())
	}
	return strings.TrimSpace(s)
}

func (b *tab) value(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("value of %s: %v", sel, err)
	}
	return s
}

func (b *tab) eval(js string) any {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[any](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// signIn signs a demo clerk in on the sign-in page.
func (b *tab) signIn(login string) {
	b.t.Helper()
	b.do("sign in as "+login,
		chromedp.Navigate(gatewayURL+"/console/"),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS("#login"), login),
		chromedp.SendKeys(chromedp.CSS("#password"), "madoguchi-demo"),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS("#who-login")))
	if got := b.text("#who-login"); got != login {
		b.t.Fatalf("signed in as %s, the header says %q", login, got)
	}
}

// waitStep waits until the case page, refreshed by its polling, shows the step.
func (b *tab) waitStep(step string) {
	b.t.Helper()
	b.do("wait for step "+step, chromedp.WaitVisible(chromedp.CSS(`#status[data-step="`+step+`"]`)))
}

func TestConsoleSignInAndOut(t *testing.T) {
	beginTest(t)
	b := newTab(t)
	b.do("open the console signed out", chromedp.Navigate(gatewayURL+"/console/cases"), chromedp.WaitVisible(chromedp.CSS("#login-form")))

	b.do("a wrong password",
		chromedp.SendKeys(chromedp.CSS("#login"), "clerk1"),
		chromedp.SendKeys(chromedp.CSS("#password"), "not-the-password"),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS("#page-error")))
	if msg := b.text("#page-error"); msg != "ログイン名またはパスワードが違います" {
		t.Errorf("wrong password: %q", msg)
	}
	if v := b.value("#login"); v != "clerk1" {
		t.Errorf("the login typed is not kept: %q", v)
	}

	b.signIn("clerk1")
	if office, role := b.text("#who-office"), b.text("#who-role"); office != "東京都千代田区 131016" || role != "窓口職員" {
		t.Errorf("header: office %q, role %q", office, role)
	}
	if k := b.text("#who-office-kind"); k != "市区町村" {
		t.Errorf("office kind %q", k)
	}
	// The session cookie is HttpOnly: no script on the page can read it.
	if c, _ := b.eval(`document.cookie`).(string); strings.Contains(c, "md_console=") {
		t.Errorf("the session cookie is readable by scripts: %q", c)
	}

	// English second, and back.
	b.do("switch to English", chromedp.Click(chromedp.CSS("#lang-switch")), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] #who-role`)))
	if role := b.text("#who-role"); role != "Counter clerk" {
		t.Errorf("in English the role is %q", role)
	}
	b.do("switch back to Japanese", chromedp.Click(chromedp.CSS("#lang-switch")), chromedp.WaitVisible(chromedp.CSS(`html[lang="ja"] #who-role`)))
	if role := b.text("#who-role"); role != "窓口職員" {
		t.Errorf("back in Japanese the role is %q", role)
	}

	b.do("sign out", chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	if f := b.text("#flash"); f != "サインアウトしました。" {
		t.Errorf("after sign-out: %q", f)
	}
	b.do("the console after sign-out", chromedp.Navigate(gatewayURL+"/console/cases"), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	if n := b.eval(`document.querySelectorAll("#who-login").length`); n != float64(0) {
		t.Error("a page after sign-out still shows a signed-in clerk")
	}
}

// fillIssuance fills the in-person issuance form of a demo resident.
func (b *tab) fillIssuance(code, birthDate string) {
	b.t.Helper()
	r := demo.Find(code)
	b.do("fill the issuance form",
		chromedp.Navigate(gatewayURL+"/console/start"),
		chromedp.Click(chromedp.CSS("#start-inperson-issuance")),
		chromedp.WaitVisible(chromedp.CSS("#start-form")),
		chromedp.SendKeys(chromedp.CSS("#f-terminalId"), "T0001"),
		chromedp.SendKeys(chromedp.CSS("#f-application-residentCode"), code),
		chromedp.SendKeys(chromedp.CSS("#f-application-name"), r.Name),
		chromedp.SendKeys(chromedp.CSS("#f-application-birthDate"), birthDate),
		chromedp.SetValue(chromedp.CSS("#f-application-sex"), r.Sex),
		chromedp.SendKeys(chromedp.CSS("#f-application-address"), r.Address),
		chromedp.Click(chromedp.CSS("#f-application-signing")),
		chromedp.Click(chromedp.CSS("#f-application-userAuth")))
	if r.FormerSurname != "" {
		b.do("former surname", chromedp.SendKeys(chromedp.CSS("#f-application-formerSurname"), r.FormerSurname))
	}
}

// caseNumber is the number of the case page shown.
func (b *tab) caseNumber() string {
	b.t.Helper()
	b.do("the case page", chromedp.WaitVisible(chromedp.CSS("#case-number")))
	return b.text("#case-number")
}

// checkIdentity does the identity check on the case page.
func (b *tab) checkIdentity() {
	b.t.Helper()
	b.waitStep(workflows.StepIdentityCheck)
	b.do("identity check",
		chromedp.SetValue(chromedp.CSS("#s-identity-check-documentType"), "individual_number_card"),
		chromedp.Click(chromedp.CSS("#s-identity-check-verified")),
		chromedp.Click(chromedp.CSS("#submit-identity-check")),
		chromedp.WaitVisible(chromedp.CSS(`#flash[data-of="identity-check"]`)))
	if f := b.text("#flash"); f != "受け付けました。" {
		b.t.Fatalf("identity check: %q (page: %s)", f, b.peek())
	}
}

// startBlankCard puts the resident's card into T0001's reader as a card
// that has no PINs yet, so the issuance sets them on the touch panel
// whichever test used the card before (a renewal onto a card with PINs
// sets none), and starts T0001's card agent.
func startBlankCard(t *testing.T, r demo.Resident) {
	t.Helper()
	stop("vcard-" + chiyodaT.id)
	if err := os.Remove(filepath.Join(cfg.State, "cards", r.CardSerial+".json")); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	insertCard(t, chiyodaT, r.CardSerial, r.CardExpiry)
	startTerminalOf(t, chiyodaT, "", "", false)
}

func TestConsoleInPersonIssuance(t *testing.T) {
	beginTest(t)
	r := demo.Find(demo.ResidentAdult)
	startBlankCard(t, r)
	b := newTab(t)
	b.signIn("clerk1")

	// A date that is not a date: the gateway's own message, beside the
	// field, with what was typed kept.
	b.fillIssuance(demo.ResidentAdult, "1980-02-30")
	b.do("submit a bad date", chromedp.Click(chromedp.CSS("#start-submit")), chromedp.WaitVisible(chromedp.CSS("#f-application-birthDate-error")))
	if msg := b.text("#f-application-birthDate-error"); msg != "生年月日が正しい日付ではありません" {
		t.Errorf("the birth date's error: %q", msg)
	}
	if name, addr := b.value("#f-application-name"), b.value("#f-application-address"); name != r.Name || addr != r.Address {
		t.Errorf("what was typed is not kept: %q, %q", name, addr)
	}
	if checked := b.eval(`document.getElementById("f-application-userAuth").checked`); checked != true {
		t.Error("the ticked certificate is not kept")
	}
	if n := b.eval(`document.querySelectorAll("input[type=password], input[name*=pin i]").length`); n != float64(0) {
		t.Error("the form asks for a PIN")
	}

	b.do("submit the corrected date",
		chromedp.SetValue(chromedp.CSS("#f-application-birthDate"), demo.BirthDate(demo.ResidentAdult)),
		chromedp.Click(chromedp.CSS("#start-submit")))
	n := b.caseNumber()
	b.checkIdentity()

	// From here the page is not reloaded: its polling shows each step.
	b.eval(`window.mdNotReloaded = true`)
	b.do("the wait on the applicant", chromedp.WaitVisible(chromedp.CSS("#at-panel")))
	if msg := b.text("#at-panel"); msg != "申請者が統合端末のタッチパネルで暗証番号を入力するのを待っています。" {
		t.Errorf("while the touch panel asks: %q", msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	enterPINs(t, ctx, testPINs)
	b.waitStep(workflows.StepDone)
	if b.eval(`window.mdNotReloaded === true`) != true {
		t.Error("the case page reloaded to show the steps")
	}
	if st := b.text("#case-status"); st != "完了" {
		t.Errorf("status %q", st)
	}
	if rows := b.eval(`document.querySelectorAll("#certificates tbody tr").length`); rows != float64(2) {
		t.Errorf("%v certificates shown, want 2", rows)
	}
	var state map[string]any
	if code := login(t, "clerk1").do("GET", "/api/cases/"+n, nil, &state); code != http.StatusOK || state["status"] != workflows.StatusCompleted {
		t.Fatalf("the API says %d %v", code, state["status"])
	}
	for _, c := range certsOf(state) {
		if !strings.Contains(b.text("#certificates"), c["serial"].(string)) {
			t.Errorf("certificate %v is not on the page", c["serial"])
		}
	}

	// The case is in the office's list of completed cases (visibility,
	// which records the ending once the workflow closes).
	deadline := time.Now().Add(time.Minute)
	for {
		b.do("the completed cases", chromedp.Navigate(gatewayURL+"/console/cases?status=completed"), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if b.eval(`document.querySelectorAll('tr[data-case="`+n+`"]').length`) == float64(1) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("case %s is not in the list of completed cases: %s", n, b.peek())
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// revokeCurrent has the holder revoke their current certificates at the
// counter (第2 2(1), the card not at hand), so that their next issuance is
// a new one, whose PINs are set, not a renewal keeping them. A resident
// with none is refused, which is as good.
func revokeCurrent(t *testing.T, clerk *api, residentCode string) {
	t.Helper()
	var started struct{ CaseNumber string }
	code := clerk.do("POST", "/api/procedures/inperson-revocation", map[string]any{"residentCode": residentCode, "signing": true, "userAuth": true,
		"reason": "cessationOfOperation"}, &started)
	if code != http.StatusCreated {
		return // nothing recorded to revoke
	}
	st := clerk.waitStep(started.CaseNumber, time.Minute, workflows.StepIdentityCheck, workflows.StepRejected, workflows.StepDone)
	if st["step"] == workflows.StepIdentityCheck {
		if code := clerk.do("POST", "/api/cases/"+started.CaseNumber+"/identity-check", map[string]any{"documentType": "drivers_license", "verified": true}, nil); code != http.StatusOK {
			t.Fatalf("revocation's identity check: HTTP %d", code)
		}
	}
	clerk.waitStep(started.CaseNumber, time.Minute, workflows.StepRejected, workflows.StepDone)
}

func TestConsoleSecondClerkConfirmation(t *testing.T) {
	beginTest(t)
	revokeCurrent(t, login(t, "clerk1"), demo.ResidentAdult)
	startBlankCard(t, demo.Find(demo.ResidentAdult))
	clerk1 := newTab(t)
	clerk1.signIn("clerk1")
	clerk1.fillIssuance(demo.ResidentAdult, demo.BirthDate(demo.ResidentAdult))
	clerk1.do("start", chromedp.Click(chromedp.CSS("#start-submit")))
	n := clerk1.caseNumber()

	// clerk1 will type the PIN for the applicant, then checks identity.
	clerk1.waitStep(workflows.StepIdentityCheck)
	clerk1.do("declare the PIN entry",
		chromedp.SendKeys(chromedp.CSS("#s-pin-entry-reason"), "タッチパネルの操作が困難"),
		chromedp.Click(chromedp.CSS("#submit-pin-entry")),
		chromedp.WaitVisible(chromedp.CSS(`#flash[data-of="pin-entry"]`)))
	clerk1.checkIdentity()

	clerk1.waitStep(workflows.StepPINConfirmation)
	if who := clerk1.text("#pin-entered-by"); who != "clerk1" {
		t.Errorf("PIN entered by %q", who)
	}
	clerk1.do("the confirmation form", chromedp.WaitVisible(chromedp.CSS("#step-confirm-intent-note")))
	clerk1.do("confirm as the entering clerk", chromedp.Click(chromedp.CSS("#submit-confirm-intent")), chromedp.WaitVisible(chromedp.CSS("#step-confirm-intent-error")))
	if msg := clerk1.text("#step-confirm-intent-error"); msg != "暗証番号を代行入力する職員とは別の職員が本人の意思を確認してください" {
		t.Errorf("the entering clerk's confirmation: %q", msg)
	}
	var st map[string]any
	if login(t, "clerk1").do("GET", "/api/cases/"+n, nil, &st); st["step"] != workflows.StepPINConfirmation || st["pinConfirmedBy"] != nil {
		t.Fatalf("the refused confirmation moved the case: %v", st)
	}

	clerk2 := newTab(t)
	clerk2.signIn("clerk2")
	clerk2.do("the case, as clerk2", chromedp.Navigate(gatewayURL+"/console/cases/"+n), chromedp.WaitVisible(chromedp.CSS("#submit-confirm-intent")))
	if c := clerk2.eval(`document.querySelectorAll("#step-confirm-intent-note").length`); c != float64(0) {
		t.Error("clerk2 is told they entered the PIN")
	}
	clerk2.do("confirm as another clerk",
		chromedp.SendKeys(chromedp.CSS("#s-confirm-intent-note"), "本人が決めたことを口頭で確認"),
		chromedp.Click(chromedp.CSS("#submit-confirm-intent")),
		chromedp.WaitVisible(chromedp.CSS(`#flash[data-of="confirm-intent"]`)))
	if f := clerk2.text("#flash"); f != "受け付けました。" {
		t.Fatalf("clerk2's confirmation: %q (page: %s)", f, clerk2.peek())
	}
	// clerk1 types the PIN on the panel; the case page says who it waits for.
	clerk2.do("the wait on the entering clerk", chromedp.WaitVisible(chromedp.CSS("#at-panel")))
	if msg := clerk2.text("#at-panel"); !strings.Contains(msg, "clerk1") {
		t.Errorf("while clerk1 types: %q", msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	enterPINs(t, ctx, testPINs)
	clerk2.waitStep(workflows.StepDone)
	if who, by := clerk2.text("#pin-entered-by"), clerk2.text("#pin-confirmed-by"); who != "clerk1" || by != "clerk2" {
		t.Errorf("entered by %q, confirmed by %q", who, by)
	}
}

func TestConsoleOtherOfficesCaseIsNotFound(t *testing.T) {
	beginTest(t)
	clerk := login(t, "clerk1")
	var started struct{ CaseNumber string }
	if code := clerk.do("POST", "/api/procedures/inperson-issuance", map[string]any{"terminalId": "T0001", "application": application(demo.ResidentAdult, true, true)}, &started); code != http.StatusCreated {
		t.Fatalf("start: HTTP %d", code)
	}
	n := started.CaseNumber
	t.Cleanup(func() { clerk.do("POST", "/api/cases/"+n+"/cancel", map[string]any{"reason": "console test"}, nil) })

	b := newTab(t)
	b.signIn("yokohama1")
	b.do("an unknown case", chromedp.Navigate(gatewayURL+"/console/cases/131016-20000101-9999"), chromedp.WaitVisible(chromedp.CSS("#not-found")))
	unknown := b.eval(`document.querySelector("main").outerHTML`)
	b.do("千代田区's case", chromedp.Navigate(gatewayURL+"/console/cases/"+n), chromedp.WaitVisible(chromedp.CSS("#not-found")))
	theirs := b.eval(`document.querySelector("main").outerHTML`)
	if unknown != theirs {
		t.Errorf("another office's case and an unknown one differ:\n%v\n%v", unknown, theirs)
	}
	if strings.Contains(theirs.(string), n) {
		t.Error("the not-found page names the case")
	}
	// The case's own office sees it.
	c := newTab(t)
	c.signIn("clerk1")
	c.do("the case, as its office", chromedp.Navigate(gatewayURL+"/console/cases/"+n), chromedp.WaitVisible(chromedp.CSS("#case-number")))
}
