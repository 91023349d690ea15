package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"golang.org/x/crypto/bcrypt"

	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
)

// consoleStore adds sign-in and sign-out to the API fixture's store.
type consoleStore struct {
	*apiStore
	hash []byte
}

func (s *consoleStore) ClerkByLogin(_ context.Context, login string) (storage.Clerk, error) {
	for _, c := range s.sessions {
		if c.Login == login {
			c.PasswordHash = string(s.hash)
			return c, nil
		}
	}
	return storage.Clerk{}, storage.ErrNotFound
}

func (s *consoleStore) CreateSession(_ context.Context, token []byte, clerkID int64, _ time.Time) error {
	for _, c := range s.sessions {
		if c.ID == clerkID {
			s.sessions[string(token)] = c
			return nil
		}
	}
	return errors.New("no such clerk")
}

func (s *consoleStore) EndSession(_ context.Context, token []byte) error {
	delete(s.sessions, string(token))
	return nil
}

// consoleTemporal answers the state query with a case of a procedure.
type consoleTemporal struct {
	*apiTemporal
	state string
}

func (t *consoleTemporal) QueryWorkflow(_ context.Context, _, _ string, _ string, _ ...any) (converter.EncodedValue, error) {
	return apiValue(t.state), nil
}

type consoleFixture struct {
	*apiFixture
	cs *consoleStore
	ct *consoleTemporal
}

func newConsoleFixture(t *testing.T) *consoleFixture {
	t.Helper()
	f := newAPIFixture(t, &apiTemporal{})
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cf := &consoleFixture{apiFixture: f, cs: &consoleStore{apiStore: f.store, hash: hash},
		ct: &consoleTemporal{apiTemporal: f.tc, state: `{"caseNumber":"x","procedure":"inperson-issuance","status":"open","step":"pin_confirmation","pinEnteredBy":"clerk1","waitingFor":"second clerk: applicant's intent","steps":[]}`}}
	srv := New(cf.cs, client.Client(cf.ct), f.codec, slog.New(slog.NewTextHandler(f.log, nil)), workflows.InquiryPolicy{})
	srv.now = func() time.Time { return apiNow }
	f.h = srv.Handler()
	return cf
}

// page is one answer of the console.
type consolePage struct {
	status int
	body   string
	header http.Header
}

func (f *consoleFixture) get(login, path string) consolePage {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if login != "" {
		req.AddCookie(&http.Cookie{Name: "md_console", Value: f.tokens[login]})
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return consolePage{rec.Code, rec.Body.String(), rec.Header()}
}

func (f *consoleFixture) postForm(login, path string, form url.Values) consolePage {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if login != "" {
		req.AddCookie(&http.Cookie{Name: "md_console", Value: f.tokens[login]})
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return consolePage{rec.Code, rec.Body.String(), rec.Header()}
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// csrf is the CSRF token a page's forms carry.
func (f *consoleFixture) csrf(login string) string {
	f.t.Helper()
	m := csrfRE.FindStringSubmatch(f.get(login, "/console/start").body)
	if m == nil {
		f.t.Fatal("the page has no CSRF token")
	}
	return m[1]
}

var inputNameRE = regexp.MustCompile(`<(?:input|select|textarea)[^>]* name="([^"]+)"`)

// TestConsoleStartFormsFromCatalog: each clerk sees exactly the procedures
// the catalog lets their role start from their kind of office, each with a
// form that labels every field of its start request and asks for no PIN.
func TestConsoleStartFormsFromCatalog(t *testing.T) {
	f := newConsoleFixture(t)
	for _, login := range []string{"clerk1", "post1", "operator1", "auditor1"} {
		var clerk storage.Clerk
		for _, c := range f.store.sessions {
			if c.Login == login {
				clerk = c
			}
		}
		list := f.get(login, "/console/start")
		if list.status != http.StatusOK {
			t.Fatalf("%s: start list HTTP %d", login, list.status)
		}
		for _, p := range workflows.Catalog {
			allowed := slices.Contains(p.StartRoles, clerk.Role) && slices.Contains(p.StartOffices, clerk.OfficeKind)
			listed := strings.Contains(list.body, `href="/console/start/`+p.Name+`"`)
			if allowed != listed {
				t.Errorf("%s: %s listed %v, the catalog allows it %v", login, p.Name, listed, allowed)
			}
			form := f.get(login, "/console/start/"+p.Name)
			if !allowed {
				if form.status != http.StatusNotFound {
					t.Errorf("%s: the form of %s, which the catalog does not let them start: HTTP %d", login, p.Name, form.status)
				}
				continue
			}
			if form.status != http.StatusOK {
				t.Fatalf("%s: form of %s: HTTP %d", login, p.Name, form.status)
			}
			var names []string
			for _, m := range inputNameRE.FindAllStringSubmatch(form.body, -1) {
				if m[1] == "_csrf" {
					continue
				}
				names = append(names, m[1])
				if strings.Contains(strings.ToLower(m[1]), "pin") {
					t.Errorf("%s asks for %q: PINs are typed on the touch panel", p.Name, m[1])
				}
				// A field without a label in console/labels.go shows its JSON path.
				if strings.Contains(form.body, `">`+m[1]+`</label>`) {
					t.Errorf("%s: field %s has no label", p.Name, m[1])
				}
			}
			if len(names) == 0 {
				t.Errorf("%s: empty form", p.Name)
			}
		}
	}
}

// TestConsoleStartThroughTheAPI: a start form goes through the JSON API's
// start; its refusal shows beside the field with the gateway's message and
// what was typed is kept; a good one opens the case.
func TestConsoleStartThroughTheAPI(t *testing.T) {
	f := newConsoleFixture(t)
	form := url.Values{"_csrf": {f.csrf("clerk1")}, "terminalId": {apiTerminal}, "application.residentCode": {"123"},
		"application.name": {"試験 花子"}, "application.birthDate": {"1985-06-15"}, "application.sex": {"female"},
		"application.address": {"東京都千代田区千代田1番1号"}, "application.signing": {"on"}}
	bad := f.postForm("clerk1", "/console/start/inperson-issuance", form)
	if bad.status != http.StatusBadRequest {
		t.Fatalf("bad resident code: HTTP %d", bad.status)
	}
	if !regexp.MustCompile(`id="f-application-residentCode-error">住民票コードは11桁の数字で入力してください</p>`).MatchString(bad.body) {
		t.Errorf("the gateway's message is not beside the resident code:\n%s", bad.body)
	}
	if !strings.Contains(bad.body, `value="試験 花子"`) || !strings.Contains(bad.body, `value="123"`) {
		t.Error("what was typed is not kept")
	}
	if len(f.tc.starts) != 0 {
		t.Fatalf("a refused form started %d procedures", len(f.tc.starts))
	}

	form.Set("application.residentCode", "12345678901")
	ok := f.postForm("clerk1", "/console/start/inperson-issuance", form)
	if ok.status != http.StatusSeeOther || !strings.HasPrefix(ok.header.Get("Location"), "/console/cases/"+apiMunicipality+"-") {
		t.Fatalf("start: HTTP %d to %q\n%s", ok.status, ok.header.Get("Location"), ok.body)
	}
	if len(f.tc.starts) != 1 {
		t.Fatalf("want one start, got %d", len(f.tc.starts))
	}
	in, _ := f.tc.starts[0].(workflows.InPersonIssuanceInput)
	if in.Clerk != "clerk1" || in.Application.Name != "試験 花子" || !in.Application.Signing || in.Application.UserAuth || in.TerminalID != apiTerminal {
		t.Errorf("started with %+v", in)
	}
}

// TestConsoleCSRF: a POST without the session's CSRF token, or with
// another session's, changes nothing.
func TestConsoleCSRF(t *testing.T) {
	f := newConsoleFixture(t)
	form := url.Values{"terminalId": {apiTerminal}, "application.residentCode": {"12345678901"}, "application.name": {"試験 花子"},
		"application.birthDate": {"1985-06-15"}, "application.sex": {"female"}, "application.address": {"東京都"}, "application.signing": {"on"}}
	for _, tok := range []string{"", f.csrf("manager1")} {
		form.Set("_csrf", tok)
		if p := f.postForm("clerk1", "/console/start/inperson-issuance", form); p.status != http.StatusForbidden {
			t.Errorf("CSRF token %q: HTTP %d", tok, p.status)
		}
		if p := f.postForm("clerk1", "/console/logout", url.Values{"_csrf": {tok}}); p.status != http.StatusForbidden {
			t.Errorf("sign-out with CSRF token %q: HTTP %d", tok, p.status)
		}
	}
	if len(f.tc.starts) != 0 {
		t.Fatalf("a forged form started %d procedures", len(f.tc.starts))
	}
	if p := f.get("clerk1", "/console/"); p.status != http.StatusOK {
		t.Fatalf("the forged sign-out ended the session: HTTP %d", p.status)
	}
}

// TestConsoleSignInAndOut: the cookie's flags, the header, sign-out ending
// the session, and an expired session sent to sign in again.
func TestConsoleSignInAndOut(t *testing.T) {
	f := newConsoleFixture(t)
	login := func(host string) *http.Cookie {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "http://"+host+"/console/login", nil)
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		var pre *http.Cookie
		for _, c := range rec.Result().Cookies() {
			if c.Name == "md_console_login" {
				pre = c
			}
		}
		m := csrfRE.FindStringSubmatch(rec.Body.String())
		if pre == nil || m == nil {
			t.Fatal("the sign-in page has no CSRF token")
		}
		form := url.Values{"_csrf": {m[1]}, "login": {"clerk1"}, "password": {"pw"}}
		req = httptest.NewRequest(http.MethodPost, "http://"+host+"/console/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(pre)
		rec = httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/console/" {
			t.Fatalf("sign-in: HTTP %d to %q", rec.Code, rec.Header().Get("Location"))
		}
		for _, c := range rec.Result().Cookies() {
			if c.Name == "md_console" && c.Value != "" {
				return c
			}
		}
		t.Fatal("sign-in set no session cookie")
		return nil
	}
	ck := login("127.0.0.1:8080")
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure || ck.Path != "/console/" || ck.MaxAge != int(SessionTTL.Seconds()) {
		t.Errorf("session cookie on loopback http: %+v", ck)
	}
	if c := login("madoguchi.example.jp"); !c.Secure {
		t.Error("the session cookie is not Secure off loopback")
	}
	f.tokens["signedin"] = ck.Value
	home := f.get("signedin", "/console/")
	if home.status != http.StatusOK || !strings.Contains(home.body, `id="who-login">clerk1<`) || !strings.Contains(home.body, `id="who-role">窓口職員<`) ||
		!strings.Contains(home.body, `id="who-office">`) {
		t.Fatalf("home: HTTP %d\n%s", home.status, home.body)
	}
	m := csrfRE.FindStringSubmatch(home.body)
	out := f.postForm("signedin", "/console/logout", url.Values{"_csrf": {m[1]}})
	if out.status != http.StatusSeeOther || out.header.Get("Location") != "/console/login?signedout=1" {
		t.Fatalf("sign-out: HTTP %d to %q", out.status, out.header.Get("Location"))
	}
	if _, live := f.store.sessions[consoleToken(t, ck.Value)]; live {
		t.Error("sign-out left the session live")
	}
	// The old cookie is a session that ended: sign in again.
	again := f.get("signedin", "/console/cases")
	if again.status != http.StatusSeeOther || again.header.Get("Location") != "/console/login?expired=1" {
		t.Fatalf("an ended session: HTTP %d to %q", again.status, again.header.Get("Location"))
	}
	if p := f.get("", "/console/login?expired=1"); !strings.Contains(p.body, "セッションの有効期限が切れました") {
		t.Error("the sign-in page does not say the session expired")
	}
}

func consoleToken(t *testing.T, raw string) string {
	t.Helper()
	b, err := decodeToken(raw)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestConsoleOtherOfficesCaseIsNotFound: another office's case by URL is
// the very page of an unknown case; so is a step posted to it.
func TestConsoleOtherOfficesCaseIsNotFound(t *testing.T) {
	f := newConsoleFixture(t)
	other := f.addCase(workflows.ProcedureInPersonIssuance, "141003-20261201-0001", "141003")
	unknown := f.get("clerk1", "/console/cases/131016-20261201-0099")
	theirs := f.get("clerk1", "/console/cases/"+other.CaseNumber)
	if unknown.status != http.StatusNotFound || theirs.status != http.StatusNotFound {
		t.Fatalf("unknown: HTTP %d, another office's: HTTP %d", unknown.status, theirs.status)
	}
	if unknown.body != theirs.body {
		t.Error("another office's case and an unknown case give different pages")
	}
	step := f.postForm("clerk1", "/console/cases/"+other.CaseNumber+"/steps/confirm-intent", url.Values{"_csrf": {f.csrf("clerk1")}})
	if step.status != http.StatusNotFound || step.body != unknown.body || len(f.tc.updates) != 0 {
		t.Errorf("a step on another office's case: HTTP %d, %d updates", step.status, len(f.tc.updates))
	}
}

// TestConsoleStepRefusalShown: the workflow validator's refusal is shown
// beside the step's form; an internal error's text never is.
func TestConsoleStepRefusalShown(t *testing.T) {
	f := newConsoleFixture(t)
	cs := f.addCase(workflows.ProcedureInPersonIssuance, apiMunicipality+"-20261201-0001", apiMunicipality)
	page := f.get("clerk1", "/console/cases/"+cs.CaseNumber)
	if page.status != http.StatusOK || !strings.Contains(page.body, `id="step-confirm-intent"`) || !strings.Contains(page.body, `id="step-confirm-intent-note"`) {
		t.Fatalf("the case page lacks the confirmation, or its note to the entering clerk: HTTP %d\n%s", page.status, page.body)
	}
	f.tc.updateErr = validatorRefusal("暗証番号を代行入力する職員とは別の職員が本人の意思を確認してください / A clerk other than the one entering the PIN must confirm the applicant's intent")
	refused := f.postForm("clerk1", "/console/cases/"+cs.CaseNumber+"/steps/confirm-intent", url.Values{"_csrf": {f.csrf("clerk1")}})
	if refused.status != http.StatusConflict ||
		!strings.Contains(refused.body, `id="step-confirm-intent-error">暗証番号を代行入力する職員とは別の職員が本人の意思を確認してください</p>`) {
		t.Fatalf("refusal: HTTP %d\n%s", refused.status, refused.body)
	}
	if n := len(f.tc.updates); n != 1 || f.tc.updates[0].UpdateName != "confirm-applicant-intent" || reflect.ValueOf(f.tc.updates[0].Args[0]).FieldByName("Clerk").String() != "clerk1" {
		t.Fatalf("updates sent: %+v", f.tc.updates)
	}
	f.tc.updateErr = errors.New("pq: connection refused to 10.0.0.7 secret-internal")
	broken := f.postForm("clerk1", "/console/cases/"+cs.CaseNumber+"/steps/confirm-intent", url.Values{"_csrf": {f.csrf("clerk1")}})
	if strings.Contains(broken.body, "secret-internal") || strings.Contains(broken.body, "pq:") || !strings.Contains(broken.body, "処理を完了できませんでした") {
		t.Errorf("internal error page: HTTP %d\n%s", broken.status, broken.body)
	}
	f.tc.updateErr = nil
	done := f.postForm("manager1", "/console/cases/"+cs.CaseNumber+"/steps/confirm-intent", url.Values{"_csrf": {f.csrf("manager1")}})
	if done.status != http.StatusSeeOther {
		t.Fatalf("accepted confirmation: HTTP %d", done.status)
	}
	if live := f.get("clerk1", "/console/cases/"+cs.CaseNumber+"/live"); live.status != http.StatusOK || strings.Contains(live.body, "<html") ||
		!strings.Contains(live.body, `data-step="pin_confirmation"`) {
		t.Errorf("live fragment: HTTP %d\n%s", live.status, live.body)
	}
}

// TestConsoleCorrectionRows: the correction request's items are rows of
// the start form; its add button shows the form again with one more row
// and what was typed, sending nothing; an item the start's check refuses
// has the message beside that row's field.
func TestConsoleCorrectionRows(t *testing.T) {
	f := newConsoleFixture(t)
	const path = "/console/start/inperson-correction-request"
	form := f.get("clerk1", path)
	if form.status != http.StatusOK || !strings.Contains(form.body, `name="items.0.serial"`) || !strings.Contains(form.body, `id="f-items-add"`) ||
		strings.Contains(form.body, `name="items.1.serial"`) {
		t.Fatalf("the form's items: %d %s", form.status, form.body)
	}
	post := url.Values{"_csrf": {f.csrf("clerk1")}, "residentCode": {"12345678901"}, "delivery": {"mail"}, "disclosureCase": {"jlis-131016-20261201-000001"},
		"items._rows": {"1"}, "items.0.serial": {"ab12"}, "items.0.action": {"delete"}, "items.0.field": {"record"}, "items.0.statement": {"不要な記録"},
		"_add": {"items"}}
	added := f.postForm("clerk1", path, post)
	if added.status != http.StatusOK || !strings.Contains(added.body, `name="items.1.serial"`) || !strings.Contains(added.body, `value="ab12"`) ||
		!strings.Contains(added.body, `id="f-items-1-remove"`) || !strings.Contains(added.body, `<option value="record" selected>`) {
		t.Errorf("after adding a row: %d %s", added.status, added.body)
	}
	if len(f.tc.starts)+len(f.tc.queried) != 0 {
		t.Fatalf("adding a row sent the form: %d starts, %d queries", len(f.tc.starts), len(f.tc.queried))
	}

	post.Del("_add")
	post.Set("items._rows", "2")
	post.Set("items.1.serial", "cd34")
	post.Set("items.1.action", "correct")
	post.Set("items.1.field", "municipality")
	post.Set("items.1.value", "131024")
	bad := f.postForm("clerk1", path, post)
	if bad.status != http.StatusBadRequest || !strings.Contains(bad.body, `id="f-items-1-statement-error">2件目: 訂正等を求める理由を入力してください</p>`) ||
		!strings.Contains(bad.body, `value="cd34"`) || !strings.Contains(bad.body, `value="不要な記録"`) {
		t.Errorf("the second item's refusal: %d %s", bad.status, bad.body)
	}
	if len(f.tc.starts) != 0 {
		t.Fatalf("a refused form started %d procedures", len(f.tc.starts))
	}
}
