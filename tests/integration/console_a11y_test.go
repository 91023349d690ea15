package integration

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/workflows"
)

// The console's accessibility, checked in chromium on the real stack: every
// form control is named by a label or aria-label, text meets the WCAG 2.x
// contrast minimum (4.5:1, 3:1 for large text) against the background it
// is drawn on, and a clerk can start a procedure and do a step with the
// keyboard alone, seeing where the focus is.

// unlabelledJS lists the page's inputs, selects and textareas that have no
// label (for=id or wrapping, with text) and no aria-label.
const unlabelledJS = `JSON.stringify(Array.from(document.querySelectorAll("input, select, textarea")).filter(el => {
	if (el.type === "hidden") { return false; }
	const byLabel = Array.from(el.labels || []).some(l => l.textContent.trim() !== "");
	const byAria = (el.getAttribute("aria-label") || "").trim() !== "";
	return !byLabel && !byAria;
}).map(el => el.outerHTML.slice(0, 160)))`

// contrastJS computes, for every visible element drawing text (its own text
// nodes, or a form control's value), the WCAG 2.x contrast ratio of its
// colour against its effective background: the ancestors' background
// colours composited from the first opaque one up (white under them all).
const contrastJS = `(() => {
	const parse = c => {
		const m = /rgba?\(([^)]*)\)/.exec(c);
		if (!m) { return [0, 0, 0, 0]; }
		const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
		return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
	};
	const over = (top, under) => {
		const a = top[3];
		return [top[0] * a + under[0] * (1 - a), top[1] * a + under[1] * (1 - a), top[2] * a + under[2] * (1 - a), 1];
	};
	const background = el => {
		const layers = [];
		for (let e = el; e; e = e.parentElement) {
			const c = parse(getComputedStyle(e).backgroundColor);
			if (c[3] > 0) { layers.push(c); if (c[3] >= 1) { break; } }
		}
		let bg = [255, 255, 255, 1];
		for (let i = layers.length - 1; i >= 0; i--) { bg = over(layers[i], bg); }
		return bg;
	};
	const lum = c => {
		const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
		return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
	};
	const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
	const hex = c => "#" + c.slice(0, 3).map(v => Math.round(v).toString(16).padStart(2, "0")).join("");
	const bad = [];
	let checked = 0;
	for (const el of document.body.querySelectorAll("*")) {
		if (["SCRIPT", "STYLE", "OPTION", "TEMPLATE"].includes(el.tagName)) { continue; }
		const control = ["SELECT", "TEXTAREA"].includes(el.tagName) || (el.tagName === "INPUT" && !["hidden", "checkbox", "radio"].includes(el.type));
		const own = Array.from(el.childNodes).some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim() !== "");
		if (!own && !control) { continue; }
		const st = getComputedStyle(el);
		if (st.visibility !== "visible" || st.display === "none" || el.getClientRects().length === 0) { continue; }
		const bg = background(el);
		const fg = over(parse(st.color), bg);
		const size = parseFloat(st.fontSize), weight = parseInt(st.fontWeight, 10) || 400;
		const large = size >= 24 || (size >= 18.66 && weight >= 700);
		const need = large ? 3 : 4.5, r = ratio(fg, bg);
		checked++;
		if (r < need) {
			const what = (el.id ? "#" + el.id : el.tagName.toLowerCase() + (el.className ? "." + String(el.className).split(" ").join(".") : ""));
			bad.push(what + " «" + (el.innerText || el.value || "").trim().slice(0, 30) + "» " + hex(fg) + " on " + hex(bg) + ": " + r.toFixed(2) + " < " + need);
		}
	}
	return JSON.stringify({checked: checked, bad: bad});
})()`

// checkA11y fails the test for the page's unlabelled controls and its text
// below the contrast minimum.
func (b *tab) checkA11y(page string) {
	b.t.Helper()
	var unlabelled []string
	if err := json.Unmarshal([]byte(b.eval(unlabelledJS).(string)), &unlabelled); err != nil {
		b.t.Fatalf("%s: the label check: %v", page, err)
	}
	if len(unlabelled) > 0 {
		b.t.Errorf("%s: %d controls have no label or aria-label:\n  %s", page, len(unlabelled), strings.Join(unlabelled, "\n  "))
	}
	var contrast struct {
		Checked int
		Bad     []string
	}
	if err := json.Unmarshal([]byte(b.eval(contrastJS).(string)), &contrast); err != nil {
		b.t.Fatalf("%s: the contrast check: %v", page, err)
	}
	if contrast.Checked == 0 {
		b.t.Errorf("%s: no text was checked for contrast", page)
	}
	if len(contrast.Bad) > 0 {
		b.t.Errorf("%s: %d of %d texts lack contrast:\n  %s", page, len(contrast.Bad), contrast.Checked, strings.Join(contrast.Bad, "\n  "))
	}
}

// open navigates to a console page and checks it.
func (b *tab) openAndCheck(page, path, ready string) {
	b.t.Helper()
	b.do("open "+page, chromedp.Navigate(gatewayURL+path), chromedp.WaitVisible(chromedp.CSS(ready)), chromedp.WaitVisible(chromedp.CSS("main h1")))
	b.checkA11y(page)
}

// --- the keyboard only ---

// press sends keys to the page, as the keyboard does.
func (b *tab) press(what, keys string, opts ...chromedp.KeyOption) {
	b.t.Helper()
	b.do(what, chromedp.KeyEvent(keys, opts...))
}

// focused is the id of the element that has the focus.
func (b *tab) focused() string {
	b.t.Helper()
	id, _ := b.eval(`document.activeElement ? document.activeElement.id : ""`).(string)
	return id
}

// tabTo presses Tab until the element with the id has the focus, and
// checks that the focus is drawn: a visible outline.
func (b *tab) tabTo(id string) {
	b.t.Helper()
	for range 80 {
		if b.focused() == id {
			style, _ := b.eval(`(() => { const s = getComputedStyle(document.activeElement); return s.outlineStyle + " " + s.outlineWidth; })()`).(string)
			kind, width, _ := strings.Cut(style, " ")
			if kind == "none" || width == "0px" || width == "1px" {
				b.t.Errorf("#%s has the keyboard focus but no visible outline (%s)", id, style)
			}
			return
		}
		b.press("Tab towards #"+id, kb.Tab)
	}
	b.t.Fatalf("Tab never reached #%s (the focus is on #%s; page: %s)", id, b.focused(), b.peek())
}

// chooseByKeyboard moves a focused select to the option's value with the
// arrow keys.
func (b *tab) chooseByKeyboard(id, value string) {
	b.t.Helper()
	b.tabTo(id)
	for range 20 {
		if b.value("#"+id) == value {
			return
		}
		b.press("ArrowDown in #"+id, kb.ArrowDown)
	}
	b.t.Fatalf("#%s never showed %q with the arrow keys (it shows %q)", id, value, b.value("#"+id))
}

// TestConsoleA11y checks the console's main pages for labels and contrast
// (sign-in, the waiting list, the case list, the start form of each
// procedure the demo clerk may start, a case page with a step form, the
// history page, the deadline list and the access log), and has clerk1
// start an in-person disclosure request (第2 3(1)) of demo.ResidentConsole
// and do its identity check with the keyboard alone: Tab and Shift+Tab,
// typing, the arrow keys, Space and Enter, no mouse.
func TestConsoleA11y(t *testing.T) {
	beginTest(t)
	b := newTab(t)
	b.do("open the sign-in page", chromedp.Navigate(gatewayURL+"/console/login"), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	// The checks themselves: an unlabelled field and grey text on white
	// put into the page are found, then taken out again.
	// (The page's CSP refuses style attributes; the script's CSSOM is not.)
	b.eval(`(() => { const d = document.createElement("div"); d.id = "a11y-probe";
		d.innerHTML = '<input type="text" id="probe-input"><p id="probe-text">薄い文字</p><p id="probe-large">大きな文字</p>';
		document.querySelector("main").append(d);
		document.getElementById("probe-text").style.color = "#999999";
		const large = document.getElementById("probe-large"); large.style.color = "#888888"; large.style.fontSize = "26px"; })()`)
	var probeLabels []string
	if err := json.Unmarshal([]byte(b.eval(unlabelledJS).(string)), &probeLabels); err != nil || len(probeLabels) != 1 || !strings.Contains(probeLabels[0], "probe-input") {
		t.Errorf("the label check did not find the one unlabelled field put in: %v %v", probeLabels, err)
	}
	var probeContrast struct{ Bad []string }
	if err := json.Unmarshal([]byte(b.eval(contrastJS).(string)), &probeContrast); err != nil || len(probeContrast.Bad) != 1 || !strings.HasPrefix(probeContrast.Bad[0], "#probe-text ") {
		// #999 on white is 2.85:1, under 4.5; #888 at 26px is 3.54:1, over the 3 of large text.
		t.Errorf("the contrast check did not find (only) the grey text put in: %v %v", probeContrast.Bad, err)
	}
	b.eval(`document.getElementById("a11y-probe").remove()`)
	b.checkA11y("the sign-in page")

	// Signing in by keyboard: the login field, the password, Enter.
	b.tabTo("login")
	b.press("type the login", "clerk1")
	b.tabTo("password")
	b.press("type the password", "madoguchi-demo")
	b.press("Shift+Tab back to the login", kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift))
	if f := b.focused(); f != "login" {
		t.Errorf("Shift+Tab from the password went to #%s", f)
	}
	b.tabTo("password")
	b.press("Enter signs in", kb.Enter)
	b.do("signed in", chromedp.WaitVisible(chromedp.CSS("#who-login")))
	b.checkA11y("the waiting list")
	b.openAndCheck("the case list", "/console/cases", "#list-filter")

	// Every start form the clerk may open.
	b.do("the start list", chromedp.Navigate(gatewayURL+"/console/start"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	var starts []string
	if err := json.Unmarshal([]byte(b.eval(`JSON.stringify(Array.from(document.querySelectorAll("ul.procedures a")).map(a => a.getAttribute("href")))`).(string)), &starts); err != nil {
		t.Fatal(err)
	}
	if len(starts) < 5 {
		t.Fatalf("clerk1 may start %d procedures: %v", len(starts), starts)
	}
	for _, path := range starts {
		b.openAndCheck("the start form "+path, path, "#start-form")
	}

	// The keyboard only, from the waiting list: the navigation's start
	// link, the procedure, the form.
	b.do("the waiting list", chromedp.Navigate(gatewayURL+"/console/"), chromedp.WaitVisible(chromedp.CSS("#nav-start")))
	b.tabTo("nav-start")
	b.press("Enter follows the start link", kb.Enter)
	b.do("the start list", chromedp.WaitVisible(chromedp.CSS("#start-inperson-disclosure-request")))
	b.tabTo("start-inperson-disclosure-request")
	b.press("Enter opens the form", kb.Enter)
	b.do("the form", chromedp.WaitVisible(chromedp.CSS("#start-form")))
	// A wrong code first: the error beside the field, what was chosen kept.
	b.tabTo("f-residentCode")
	b.press("type a short code", "123")
	b.chooseByKeyboard("f-delivery", "pickup")
	b.tabTo("start-submit")
	b.press("Space presses the button", " ")
	b.do("the refusal", chromedp.WaitVisible(chromedp.CSS("#f-residentCode-error")))
	if v := b.value("#f-delivery"); v != "pickup" {
		t.Errorf("the refused form lost the delivery chosen: %q", v)
	}
	b.checkA11y("the start form with a field's error")
	b.tabTo("f-residentCode")
	b.press("move to the end of what was typed", kb.End)
	b.press("delete what was typed", strings.Repeat(kb.Backspace, len(b.value("#f-residentCode"))))
	b.press("type the code", demo.ResidentConsole)
	b.press("Enter submits the form", kb.Enter)
	n := b.caseNumber()
	clerk := login(t, "clerk1")
	t.Cleanup(func() {
		clerk.do("POST", "/api/cases/"+n+"/cancel", map[string]any{"reason": "a11y test"}, nil)
		login(t, "jlis1").do("POST", "/api/cases/"+workflows.OrganizationCase(n)+"/cancel", map[string]any{"reason": "a11y test"}, nil)
	})
	b.waitStep(workflows.StepIdentityCheck)
	b.checkA11y("the case page with its step forms")
	// The waiting list (a page of the office's waiting cases) shows it;
	// visibility catches up within seconds.
	deadline := time.Now().Add(time.Minute)
	for {
		b.do("the waiting list", chromedp.Navigate(gatewayURL+"/console/"), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if b.eval(`document.querySelectorAll('#case-table tr[data-case="`+n+`"]').length`) == float64(1) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("case %s is not on the waiting list: %s", n, b.peek())
		}
		time.Sleep(500 * time.Millisecond)
	}
	b.checkA11y("the waiting list with a case")
	b.do("back to the case", chromedp.Navigate(gatewayURL+"/console/cases/"+n))
	b.waitStep(workflows.StepIdentityCheck)

	// The identity check, by keyboard.
	b.chooseByKeyboard("s-identity-check-documentType", "drivers_license")
	b.tabTo("s-identity-check-verified")
	b.press("Space ticks the box", " ")
	if checked := b.eval(`document.getElementById("s-identity-check-verified").checked`); checked != true {
		t.Fatal("Space did not tick the verification box")
	}
	b.tabTo("submit-identity-check")
	b.press("Enter sends the step", kb.Enter)
	b.do("the step accepted", chromedp.WaitVisible(chromedp.CSS(`#flash[data-of="identity-check"]`)))
	if f := b.text("#flash"); f != "受け付けました。" {
		t.Fatalf("the identity check by keyboard: %q (page: %s)", f, b.peek())
	}
	// The case moved on from the identity check: it is forwarded.
	st := clerk.waitStep(n, time.Minute, workflows.StepForwardedToOrganization, workflows.StepRejected, workflows.StepFailed)
	if st["step"] != workflows.StepForwardedToOrganization {
		t.Errorf("after the identity check by keyboard the case is at %v", st["step"])
	}

	// The manager's pages.
	m := newTab(t)
	m.signIn("manager1")
	m.openAndCheck("the history page", "/console/cases/"+n+"/history", "#history")
	m.openAndCheck("the deadline list", "/console/deadlines", "#nav-deadlines")
	m.openAndCheck("the access log", "/console/access-log?kind=history&case="+n, "#access-filter")
	if rows := m.eval(`document.querySelectorAll("#access-table tr.access-entry[data-kind=history]").length`); rows != float64(1) {
		t.Errorf("the access log of %s shows %v history openings, want the one of this test", n, rows)
	}
	// The clerk's register read when the case started is there too, as its own kind.
	m.openAndCheck("the access log of every kind", "/console/access-log?case="+n, "#access-filter")
	if rows := m.eval(`document.querySelectorAll("#access-table tr.access-entry[data-kind=register_record]").length`); rows != float64(1) {
		t.Errorf("the access log of %s shows %v register reads, want the one at its start", n, rows)
	}
}
