// Package console is the staff console: server-rendered pages (Japanese,
// English second) that the gateway serves under /console/. It holds no
// rules of its own: every page reads, and every form posts, through the
// gateway's JSON API, called in-process with the session's token, so
// permissions, office scoping and field validation are the API's, and its
// clerk-readable messages are what the console shows. The start forms are
// made by reflection from the catalog's start request types, the step forms
// from the catalog's human steps; labels live in labels.go.
//
// Sign-in sets a session cookie (HttpOnly, SameSite=Strict, Secure unless
// configured off for loopback http) holding the gateway's own session
// token, so a session lasts what the gateway's does; every form carries a
// per-session CSRF token checked on every POST. No JavaScript framework and
// no build step: one vendored stylesheet and a few lines of script that
// poll a case's state.
package console

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is where the gateway mounts the console.
const Prefix = "/console/"

const (
	sessionCookie = "md_console"
	loginCookie   = "md_console_login"
	langCookie    = "md_console_lang"
	csrfField     = "_csrf"
	langJA        = "ja"
	langEN        = "en"
)

// Clerk is who a session belongs to, for the header and the catalog.
type Clerk struct {
	Login, DisplayName, Role string
	// Office is the office's code, OfficeKind its kind (workflows.Office*),
	// OfficeName its name.
	Office, OfficeKind, OfficeName string
}

// ErrNoSession is what Options.Session answers for a token that is not (or
// no longer) a live session.
var ErrNoSession = errors.New("console: no live session")

// Options are what the gateway gives the console.
type Options struct {
	// API is the gateway's own handler; the console calls its /api routes
	// in-process with the session's bearer token.
	API http.Handler
	// Session returns the clerk of a live session token, or ErrNoSession.
	Session func(ctx context.Context, token string) (Clerk, error)
	// EndSession ends a session at sign-out (nil: the cookie is dropped
	// and the session lapses at its expiry).
	EndSession func(ctx context.Context, token string) error
	// Starts are the start request types of the procedures the catalog has
	// no Start for (the issuance family, which the gateway reads itself),
	// by procedure name: a value (or pointer) of the type.
	Starts map[string]any
	// TTL is how long a session lasts (the gateway's SessionTTL): the
	// cookie's lifetime; the session store enforces it.
	TTL time.Duration
	// Secure sets the cookies' Secure flag (off only for loopback http).
	Secure func(r *http.Request) bool
	// TemporalUI is the address of a workflow in the Temporal UI (nil: no
	// link), for managers and auditors.
	TemporalUI func(workflowID string) string
	Log        *slog.Logger
	// Now is the clock (nil: time.Now), for the fees page's today.
	Now func() time.Time
}

// Console is the console's handler.
type Console struct {
	o     Options
	mux   *http.ServeMux
	pages map[string]*template.Template
}

// New builds the console.
func New(o Options) *Console {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Secure == nil {
		o.Secure = func(*http.Request) bool { return true }
	}
	c := &Console{o: o, mux: http.NewServeMux(), pages: parsePages()}
	static, _ := fs.Sub(staticFS, "static")
	c.mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", http.FileServerFS(static)))
	c.mux.HandleFunc("GET /console/login", c.loginPage)
	c.mux.HandleFunc("POST /console/login", c.signIn)
	c.mux.HandleFunc("GET /console/lang", c.setLang)
	c.mux.HandleFunc("POST /console/logout", c.signed(c.signOut))
	c.mux.HandleFunc("GET /console/{$}", c.signed(c.home))
	c.mux.HandleFunc("GET /console/cases", c.signed(c.caseList))
	c.mux.HandleFunc("GET /console/cases/{case}", c.signed(c.casePage))
	c.mux.HandleFunc("GET /console/cases/{case}/live", c.signed(c.caseLive))
	c.mux.HandleFunc("GET /console/cases/{case}/history", c.signed(c.historyPage))
	c.mux.HandleFunc("POST /console/cases/{case}/steps/{step}", c.signed(c.caseStep))
	c.mux.HandleFunc("GET /console/cases/{case}/letters/{letter}", c.signed(c.letter))
	c.mux.HandleFunc("GET /console/deadlines", c.signed(c.deadlines))
	// The day's disposal list (第3 3; disposals.go).
	c.mux.HandleFunc("GET /console/disposals", c.signed(c.disposals))
	c.mux.HandleFunc("POST /console/disposals/{day}/{action}", c.signed(c.disposalStep))
	c.mux.HandleFunc("GET /console/fees", c.signed(c.fees))
	c.mux.HandleFunc("GET /console/fees/report", c.signed(c.feeReport))
	c.mux.HandleFunc("GET /console/access-log", c.signed(c.accessLog))
	c.mux.HandleFunc("GET /console/start", c.signed(c.startList))
	c.mux.HandleFunc("GET /console/start/{procedure}", c.signed(c.startForm))
	c.mux.HandleFunc("POST /console/start/{procedure}", c.signed(c.startSubmit))
	c.mux.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) { c.notFound(w, r, nil) })
	return c
}

func parsePages() map[string]*template.Template {
	base := template.Must(template.New("layout.html").ParseFS(templateFS, "templates/layout.html", "templates/parts.html"))
	pages := map[string]*template.Template{}
	names, _ := fs.Glob(templateFS, "templates/*.html")
	for _, n := range names {
		short := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if short == "layout" || short == "parts" {
			continue
		}
		pages[short] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, n))
	}
	return pages
}

// ServeHTTP serves the console.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	if !strings.HasPrefix(r.URL.Path, "/console/static/") {
		h.Set("Cache-Control", "no-store")
	}
	c.mux.ServeHTTP(w, r)
}

// session is a signed-in request's session.
type session struct {
	token string
	clerk Clerk
	csrf  string
}

type ctxKey struct{}

// signed requires a live session (else the sign-in page, saying the
// session expired when there was one), and a matching CSRF token on a POST.
func (c *Console) signed(h func(w http.ResponseWriter, r *http.Request, s *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(sessionCookie)
		if err != nil || ck.Value == "" {
			http.Redirect(w, r, "/console/login", http.StatusSeeOther)
			return
		}
		clerk, err := c.o.Session(r.Context(), ck.Value)
		if errors.Is(err, ErrNoSession) {
			c.expired(w, r)
			return
		}
		if err != nil {
			c.o.Log.Error("console: session lookup failed", "err", err)
			c.render(w, r, http.StatusInternalServerError, "error", c.newPage(r, nil, "error"))
			return
		}
		s := &session{token: ck.Value, clerk: clerk, csrf: csrfOf(ck.Value)}
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil || !sameToken(r.PostForm.Get(csrfField), s.csrf) {
				c.render(w, r, http.StatusForbidden, "error", c.newPage(r, s, "badform"))
				return
			}
		}
		h(w, r, s)
	}
}

// expired drops the cookie and sends the browser to sign in again.
func (c *Console) expired(w http.ResponseWriter, r *http.Request) {
	c.setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, "/console/login?expired=1", http.StatusSeeOther)
}

// csrfOf is the session's CSRF token: a MAC of a fixed label under the
// session token, so it needs no storage and no one without the (HttpOnly)
// cookie can make it.
func csrfOf(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("madoguchi console csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: Prefix, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.o.Secure(r)})
}

// --- the API, in-process ---

// apiAnswer is an answer of the gateway's API.
type apiAnswer struct {
	status int
	header http.Header
	body   []byte
}

// apiError is the API's error body.
type apiError struct {
	Error struct {
		Code, Message string
		// Field is the request's field the error is about (items.1.serial), when the API says.
		Field string
	} `json:"error"`
	// CaseNumber is set when a synchronous start was refused after its case opened.
	CaseNumber string `json:"caseNumber"`
}

func (a apiAnswer) err() (code, msg string) {
	code, msg, _ = a.errAt()
	return code, msg
}

// errAt is err with the field the error is about, if the API named one.
func (a apiAnswer) errAt() (code, msg, field string) {
	var e apiError
	if json.Unmarshal(a.body, &e) != nil || e.Error.Message == "" {
		return "", "", ""
	}
	return e.Error.Code, e.Error.Message, e.Error.Field
}

type recorder struct {
	h      http.Header
	status int
	buf    bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.h }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.buf.Write(b)
}

// call sends one request to the API as the session's clerk.
func (c *Console) call(r *http.Request, s *session, method, path string, in any) apiAnswer {
	var rd io.Reader = http.NoBody
	if in != nil {
		b, _ := json.Marshal(in)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(r.Context(), method, path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.RemoteAddr = r.RemoteAddr
	if s != nil {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	rec := &recorder{h: http.Header{}}
	c.o.API.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return apiAnswer{status: rec.status, header: rec.h, body: rec.buf.Bytes()}
}

// --- pages ---

// page is what every template gets.
type page struct {
	Lang  string
	Title string
	Clerk *Clerk
	CSRF  string
	// Path is the page's path, for the language switch to come back to.
	Path  string
	Flash string
	// FlashOf names what the flash is about (a step's path, "started"),
	// so a reader (or a test) can tell one answer from the page before.
	FlashOf string
	Error   string
	Data    any
}

// T is one of the console's words in the page's language.
func (p *page) T(key string) string {
	if t, ok := ui[key]; ok {
		return t.in(p.Lang)
	}
	return key
}

// Msg is the API's bilingual message ("日本語 / English") in the page's language.
func (p *page) Msg(m string) string { return pickLang(p.Lang, m) }

// WaitText is what a case waits for, in the page's language.
func (p *page) WaitText(s string) string { return waitingText(p.Lang, s) }

// Step, Status, Role, OfficeKind and Waiting name those in the page's language.
func (p *page) Step(s string) string       { return stepLabel(p.Lang, s) }
func (p *page) Status(s string) string     { return labelIn(statusLabels, p.Lang, s) }
func (p *page) Role(s string) string       { return labelIn(roleLabels, p.Lang, s) }
func (p *page) OfficeKind(s string) string { return labelIn(officeKindLabels, p.Lang, s) }
func (p *page) Waiting(s string) string    { return labelIn(waitingLabels, p.Lang, s) }

// Procedure is a procedure's title in the page's language.
func (p *page) Procedure(name string) string {
	if p.Lang == langEN {
		if t, ok := procedureTitles[name]; ok {
			return t
		}
	}
	if proc, ok := workflows.Lookup(name); ok && proc.Title != "" {
		return proc.Title
	}
	return name
}

// Time formats a time for the counter (Japan time).
func (p *page) Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(jst).Format("2006-01-02 15:04:05")
}

// Date formats a date.
func (p *page) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(jst).Format("2006-01-02")
}

var jst = time.FixedZone("JST", 9*60*60)

// pickLang keeps the half of a "日本語 / English" message in lang.
func pickLang(lang, m string) string {
	ja, en, ok := strings.Cut(m, " / ")
	if !ok {
		return m
	}
	if ascii(ja) && !ascii(en) {
		ja, en = en, ja // an English-first message
	}
	if lang == langEN {
		return strings.TrimSpace(en)
	}
	return strings.TrimSpace(ja)
}

func ascii(s string) bool {
	for _, r := range s {
		if r > 0x7f {
			return false
		}
	}
	return true
}

func langOf(r *http.Request) string {
	if ck, err := r.Cookie(langCookie); err == nil && ck.Value == langEN {
		return langEN
	}
	return langJA
}

func (c *Console) newPage(r *http.Request, s *session, title string) *page {
	p := &page{Lang: langOf(r), Path: r.URL.RequestURI()}
	p.Title = p.T(title)
	if s != nil {
		p.Clerk, p.CSRF = &s.clerk, s.csrf
	}
	return p
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	c.renderTemplate(w, status, name, "layout.html", p)
}

func (c *Console) renderTemplate(w http.ResponseWriter, status int, name, tmpl string, p *page) {
	t, ok := c.pages[name]
	if !ok {
		t = c.pages["error"]
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, tmpl, p); err != nil {
		c.o.Log.Error("console: render failed", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// failed shows what the API answered when it is not what the page
// expected: its own clerk-readable message, never internal text; an
// expired session goes to sign in; an unknown or another office's case is
// the same not-found page.
func (c *Console) failed(w http.ResponseWriter, r *http.Request, s *session, a apiAnswer) {
	switch a.status {
	case http.StatusUnauthorized:
		c.expired(w, r)
		return
	case http.StatusNotFound:
		c.notFound(w, r, s)
		return
	}
	p := c.newPage(r, s, "error")
	if _, msg := a.err(); msg != "" && a.status < 500 {
		p.Error = p.Msg(msg)
	}
	c.render(w, r, max(a.status, 400), "error", p)
}

// notFound is the one not-found page: the same bytes whatever was asked
// for (its language switch comes back to the console's start), so an
// unknown case and another office's cannot be told apart.
func (c *Console) notFound(w http.ResponseWriter, r *http.Request, s *session) {
	p := c.newPage(r, s, "notfound")
	p.Path = Prefix
	c.render(w, r, http.StatusNotFound, "notfound", p)
}

// --- sign-in, sign-out, language ---

type loginData struct {
	Login string
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	p := c.newPage(r, nil, "signin")
	switch {
	case r.URL.Query().Get("expired") != "":
		p.Flash = p.T("expired")
	case r.URL.Query().Get("signedout") != "":
		p.Flash = p.T("signedout")
	}
	c.renderLogin(w, r, http.StatusOK, p, loginData{})
}

// renderLogin shows the sign-in form with a fresh pre-session CSRF token,
// double-submitted as a cookie.
func (c *Console) renderLogin(w http.ResponseWriter, r *http.Request, status int, p *page, d loginData) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	c.setCookie(w, r, loginCookie, tok, 3600)
	p.CSRF, p.Data = tok, d
	c.render(w, r, status, "login", p)
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	p := c.newPage(r, nil, "signin")
	_ = r.ParseForm()
	d := loginData{Login: strings.TrimSpace(r.PostForm.Get("login"))}
	ck, err := r.Cookie(loginCookie)
	if err != nil || !sameToken(r.PostForm.Get(csrfField), ck.Value) {
		p.Error = p.T("badform")
		c.renderLogin(w, r, http.StatusForbidden, p, d)
		return
	}
	a := c.call(r, nil, http.MethodPost, "/api/login", map[string]string{"login": d.Login, "password": r.PostForm.Get("password")})
	if a.status != http.StatusOK {
		if _, msg := a.err(); msg != "" && a.status < 500 {
			p.Error = p.Msg(msg)
		} else {
			p.Error = p.T("errortext")
		}
		c.renderLogin(w, r, a.status, p, d)
		return
	}
	var res struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(a.body, &res); err != nil || res.Token == "" {
		c.o.Log.Error("console: undecodable login answer", "err", err)
		p.Error = p.T("errortext")
		c.renderLogin(w, r, http.StatusInternalServerError, p, d)
		return
	}
	c.setCookie(w, r, loginCookie, "", -1)
	c.setCookie(w, r, sessionCookie, res.Token, max(int(c.o.TTL.Seconds()), 60))
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request, s *session) {
	if c.o.EndSession != nil {
		if err := c.o.EndSession(r.Context(), s.token); err != nil {
			c.o.Log.Error("console: ending a session failed", "err", err)
		}
	}
	c.setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, "/console/login?signedout=1", http.StatusSeeOther)
}

// setLang keeps the chosen language in a cookie and goes back.
func (c *Console) setLang(w http.ResponseWriter, r *http.Request) {
	lang := langJA
	if r.URL.Query().Get("to") == langEN {
		lang = langEN
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: Prefix, MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.o.Secure(r)})
	back := r.URL.Query().Get("back")
	if !strings.HasPrefix(back, Prefix) || strings.HasPrefix(back, "//") || strings.ContainsAny(back, "\\\r\n") {
		back = Prefix
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// --- lists ---

// caseRow is one row of a list, as the API answers it.
type caseRow struct {
	CaseNumber   string    `json:"caseNumber"`
	Procedure    string    `json:"procedure"`
	OpenedAt     time.Time `json:"openedAt"`
	Status       string    `json:"status"`
	Step         string    `json:"step"`
	Municipality string    `json:"municipality"`
	Office       string    `json:"office"`
	WaitingFor   string    `json:"waitingFor"`
}

type listData struct {
	Rows     []caseRow
	Status   string
	Statuses []string
	Waiting  bool
	// The list's filters (procedure, opened from and to), the catalog's
	// procedures to choose from, and the links of the next and the first page.
	Procedure, From, To string
	Procedures          []string
	NextURL, FirstURL   string
}

// listQuery is a case list's query string with its filters.
func (d listData) query(page string) string {
	v := url.Values{"status": {d.Status}}
	for k, x := range map[string]string{"procedure": d.Procedure, "from": d.From, "to": d.To, "page": page} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return "/console/cases?" + v.Encode()
}

// listPageSize is how many cases a list page shows.
const listPageSize = 50

// home is the office's waiting list, a page at a time, from GET
// /api/waiting (visibility, the waiting filter in the query).
func (c *Console) home(w http.ResponseWriter, r *http.Request, s *session) {
	api := url.Values{"pageSize": {strconv.Itoa(listPageSize)}}
	page := r.URL.Query().Get("page")
	if page != "" {
		api.Set("pageToken", page)
	}
	a := c.call(r, s, http.MethodGet, "/api/waiting?"+api.Encode(), nil)
	if a.status != http.StatusOK {
		c.failed(w, r, s, a)
		return
	}
	var res struct {
		Waiting       []caseRow `json:"waiting"`
		NextPageToken string    `json:"nextPageToken"`
	}
	if err := json.Unmarshal(a.body, &res); err != nil {
		c.failed(w, r, s, apiAnswer{status: http.StatusBadGateway})
		return
	}
	p := c.newPage(r, s, "home")
	d := listData{Rows: res.Waiting, Waiting: true}
	if res.NextPageToken != "" {
		d.NextURL = Prefix + "?" + url.Values{"page": {res.NextPageToken}}.Encode()
	}
	if page != "" {
		d.FirstURL = Prefix
	}
	p.Data = d
	c.render(w, r, http.StatusOK, "list", p)
}

// caseList lists the office's cases by status and procedure, opened
// between two days, a page at a time, from GET /api/cases (visibility).
func (c *Console) caseList(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	d := listData{Status: q.Get("status"), Statuses: kit.Statuses, Procedure: q.Get("procedure"), From: q.Get("from"), To: q.Get("to")}
	if !slices.Contains(kit.Statuses, d.Status) {
		d.Status = workflows.StatusOpen
	}
	if _, ok := workflows.Lookup(d.Procedure); !ok {
		d.Procedure = ""
	}
	for _, p := range workflows.Catalog {
		d.Procedures = append(d.Procedures, p.Name)
	}
	api := url.Values{"status": {d.Status}, "pageSize": {strconv.Itoa(listPageSize)}}
	for k, x := range map[string]string{"procedure": d.Procedure, "from": d.From, "to": d.To, "pageToken": q.Get("page")} {
		if x != "" {
			api.Set(k, x)
		}
	}
	a := c.call(r, s, http.MethodGet, "/api/cases?"+api.Encode(), nil)
	if a.status != http.StatusOK {
		c.failed(w, r, s, a)
		return
	}
	var res struct {
		Cases         []caseRow `json:"cases"`
		NextPageToken string    `json:"nextPageToken"`
	}
	if err := json.Unmarshal(a.body, &res); err != nil {
		c.failed(w, r, s, apiAnswer{status: http.StatusBadGateway})
		return
	}
	d.Rows = res.Cases
	if res.NextPageToken != "" {
		d.NextURL = d.query(res.NextPageToken)
	}
	if q.Get("page") != "" {
		d.FirstURL = d.query("")
	}
	p := c.newPage(r, s, "cases")
	p.Data = d
	c.render(w, r, http.StatusOK, "list", p)
}

// --- starting a procedure ---

type startEntry struct {
	Name, Manual string
}

// startable lists the procedures the clerk may start, in catalog order:
// those the catalog lets the clerk's role start from the clerk's kind of
// office, which have a start request.
func (c *Console) startable(clerk Clerk) []workflows.Procedure {
	var out []workflows.Procedure
	for _, p := range workflows.Catalog {
		if !slices.Contains(p.StartRoles, clerk.Role) || !slices.Contains(p.StartOffices, clerk.OfficeKind) {
			continue
		}
		if c.startType(p) == nil {
			continue
		}
		out = append(out, p)
	}
	return out
}

// startType is the type of a procedure's start request: the catalog's,
// or the gateway's for the procedures it reads itself.
func (c *Console) startType(p workflows.Procedure) reflect.Type {
	if p.Start != nil {
		return reflect.TypeOf(p.Start())
	}
	if v, ok := c.o.Starts[p.Name]; ok && v != nil {
		return reflect.TypeOf(v)
	}
	return nil
}

func (c *Console) startList(w http.ResponseWriter, r *http.Request, s *session) {
	p := c.newPage(r, s, "start")
	var entries []startEntry
	for _, proc := range c.startable(s.clerk) {
		entries = append(entries, startEntry{Name: proc.Name, Manual: proc.Manual})
	}
	p.Data = entries
	c.render(w, r, http.StatusOK, "start", p)
}

type formData struct {
	Procedure string
	Manual    string
	Action    string
	Fields    []formField
}

// startProcedure is the catalog entry of the path, if the clerk may start it.
func (c *Console) startProcedure(r *http.Request, s *session) (workflows.Procedure, reflect.Type, bool) {
	name := r.PathValue("procedure")
	for _, p := range c.startable(s.clerk) {
		if p.Name == name {
			return p, c.startType(p), true
		}
	}
	return workflows.Procedure{}, nil, false
}

func (c *Console) startForm(w http.ResponseWriter, r *http.Request, s *session) {
	proc, t, ok := c.startProcedure(r, s)
	if !ok {
		c.notFound(w, r, s)
		return
	}
	p := c.newPage(r, s, "start")
	p.Title = p.Procedure(proc.Name)
	p.Data = formData{Procedure: proc.Name, Manual: proc.Manual, Action: "/console/start/" + proc.Name, Fields: fieldsOf(t, proc.Name, p.Lang)}
	c.render(w, r, http.StatusOK, "form", p)
}

// startSubmit sends the form to POST /api/procedures/{name}, the JSON
// API's own start, and shows its refusal beside the field it is about.
func (c *Console) startSubmit(w http.ResponseWriter, r *http.Request, s *session) {
	proc, t, ok := c.startProcedure(r, s)
	if !ok {
		c.notFound(w, r, s)
		return
	}
	p := c.newPage(r, s, "start")
	p.Title = p.Procedure(proc.Name)
	fields := fieldsOf(t, proc.Name, p.Lang)
	fill(fields, r.PostForm)
	// A row button (add an item, remove one) shows the form again, with
	// what was typed, and sends nothing.
	if editRows(fields, r.PostForm) {
		p.Data = formData{Procedure: proc.Name, Manual: proc.Manual, Action: "/console/start/" + proc.Name, Fields: fields}
		c.render(w, r, http.StatusOK, "form", p)
		return
	}
	a := c.call(r, s, http.MethodPost, "/api/procedures/"+proc.Name, body(fields, r.PostForm))
	var res struct {
		CaseNumber string `json:"caseNumber"`
	}
	if a.status == http.StatusCreated || a.status == http.StatusAccepted {
		if json.Unmarshal(a.body, &res) == nil && res.CaseNumber != "" {
			http.Redirect(w, r, "/console/cases/"+url.PathEscape(res.CaseNumber)+"?started=1", http.StatusSeeOther)
			return
		}
	}
	if a.status == http.StatusUnauthorized {
		c.expired(w, r)
		return
	}
	code, msg, at := a.errAt()
	switch {
	case msg == "" || a.status >= 500:
		p.Error = p.T("errortext")
		if msg != "" && a.status == http.StatusBadGateway {
			p.Error = p.Msg(msg)
		}
	case !placeError(fields, code, at, p.Msg(msg)):
		p.Error = p.Msg(msg)
	default:
		p.Error = p.T("formerror")
	}
	var refused apiError
	if json.Unmarshal(a.body, &refused) == nil && refused.CaseNumber != "" {
		p.Flash = p.T("casenumber") + ": " + refused.CaseNumber
	}
	p.Data = formData{Procedure: proc.Name, Manual: proc.Manual, Action: "/console/start/" + proc.Name, Fields: fields}
	c.render(w, r, max(a.status, 400), "form", p)
}

// --- a case ---

// stepForm is the form of one clerk step on a case's page.
type stepForm struct {
	Path, Title, Action string
	Fields              []formField
	Error, Note         string
	Button, CSRF        string
	// Confirm is the second clerk's confirmation, a separate action of its own.
	Confirm bool
}

type caseData struct {
	Number    string
	State     workflows.State
	Proc      workflows.Procedure
	Key       string
	AtPanel   string // "applicant" or the clerk typing, when the case waits on the touch panel
	YouEnter  bool
	Actions   []stepForm
	Others    []stepForm
	Letters   []letterLink
	LiveURL   string
	Open      bool
	Issued    bool
	Rejection string
	// HistoryURL and TemporalURL are the case's history page and its
	// workflow in the Temporal UI, for managers and auditors.
	HistoryURL, TemporalURL string
}

type letterLink struct{ Label, URL string }

// letters a case page may link to, each an API path under the case.
var letterPaths = []string{"inquiry.pdf", "revocation-notice.pdf", "disclosure-notice.pdf", "extension-notice.pdf", "correction-notice.pdf"}

// caseState reads the case through GET /api/cases/{case}.
func (c *Console) caseState(r *http.Request, s *session, number string) (workflows.State, apiAnswer, bool) {
	a := c.call(r, s, http.MethodGet, "/api/cases/"+url.PathEscape(number), nil)
	var st workflows.State
	if a.status != http.StatusOK || json.Unmarshal(a.body, &st) != nil {
		return st, a, false
	}
	return st, a, true
}

func (c *Console) caseData(p *page, s *session, number string, st workflows.State, failedStep string, form url.Values, stepErr string) caseData {
	proc, _ := workflows.Lookup(st.Procedure)
	d := caseData{Number: number, State: st, Proc: proc, LiveURL: "/console/cases/" + url.PathEscape(number) + "/live",
		Open: st.Status == workflows.StatusOpen}
	d.Key = st.Step + "|" + st.Status + "|" + st.WaitingFor
	if readsHistory(s.clerk) {
		d.HistoryURL = "/console/cases/" + url.PathEscape(number) + "/history"
		if c.o.TemporalUI != nil && st.Procedure != "" {
			d.TemporalURL = c.o.TemporalUI(workflows.WorkflowID(st.Procedure, number))
		}
	}
	if st.Rejection != nil {
		d.Rejection = p.Msg(st.Rejection.Message)
	}
	if d.Open && strings.Contains(st.WaitingFor, "touch panel") {
		who, _, _ := strings.Cut(st.WaitingFor, ":")
		d.AtPanel = strings.TrimSpace(who)
	}
	d.YouEnter = st.PINEnteredBy != "" && st.PINEnteredBy == s.clerk.Login
	d.Issued = st.Issuance != nil && len(st.Issuance.Certificates) > 0
	if st.Inquiry != nil {
		d.Letters = append(d.Letters, letterLink{p.T("inquiryletter"), "/console/cases/" + url.PathEscape(number) + "/letters/inquiry.pdf"})
	}
	if st.CertStatus != nil && st.Status == workflows.StatusCompleted && len(st.CertStatus.Revoked) > 0 {
		d.Letters = append(d.Letters, letterLink{p.T("revocationnotice"), "/console/cases/" + url.PathEscape(number) + "/letters/revocation-notice.pdf"})
	}
	// The Organization's records letters, once queued, for its operators to
	// print (the counter's side never sees them).
	if r := st.Records; r != nil && s.clerk.Role == workflows.RoleOperator {
		if r.Extended {
			d.Letters = append(d.Letters, letterLink{p.T("extensionnotice"), "/console/cases/" + url.PathEscape(number) + "/letters/extension-notice.pdf"})
		}
		if !r.LetterQueued.IsZero() {
			file, label := "disclosure-notice.pdf", "disclosurenotice"
			if st.Procedure == contract.ProcCorrection {
				file, label = "correction-notice.pdf", "correctionnotice"
			}
			d.Letters = append(d.Letters, letterLink{p.T(label), "/console/cases/" + url.PathEscape(number) + "/letters/" + file})
		}
	}
	if !d.Open {
		return d
	}
	current := stepActions[st.Step]
	for _, hs := range proc.Steps {
		f := stepForm{Path: hs.Path, Title: stepTitle(p.Lang, hs.Path), Action: "/console/cases/" + url.PathEscape(number) + "/steps/" + hs.Path,
			Confirm: hs.Path == "confirm-intent", Button: p.T("submit"), CSRF: p.CSRF}
		f.Fields = fieldsOf(stepType(hs.Decode), stepScope(hs.Path), p.Lang)
		for i := range f.Fields {
			// Several steps' forms share a page: their ids must not clash.
			f.Fields[i].ID = "s-" + hs.Path + "-" + strings.TrimPrefix(f.Fields[i].ID, "f-")
		}
		if f.Confirm {
			f.Button = p.T("confirmbutton")
			if d.YouEnter {
				f.Note = p.T("youentered")
			}
		}
		if hs.Path == failedStep {
			fill(f.Fields, form)
			f.Error = stepErr
		}
		switch {
		case slices.Contains(current, hs.Path) || (hs.Path == failedStep && hs.Path != "cancel"):
			d.Actions = append(d.Actions, f)
		default:
			d.Others = append(d.Others, f)
		}
	}
	return d
}

// stepType is the input type of a clerk step: what its Decode makes of an
// empty body.
func stepType(decode func([]byte, string) (any, error)) reflect.Type {
	v, err := decode(nil, "")
	if err != nil || v == nil {
		return nil
	}
	return reflect.TypeOf(v)
}

func (c *Console) casePage(w http.ResponseWriter, r *http.Request, s *session) {
	number := r.PathValue("case")
	st, a, ok := c.caseState(r, s, number)
	if !ok {
		c.failed(w, r, s, a)
		return
	}
	p := c.newPage(r, s, "casenumber")
	p.Title = p.T("casenumber") + " " + number
	switch {
	case r.URL.Query().Get("started") != "":
		p.Flash, p.FlashOf = p.T("started"), "started"
	case r.URL.Query().Get("done") != "":
		p.Flash, p.FlashOf = p.T("accepted"), r.URL.Query().Get("done")
	}
	p.Data = c.caseData(p, s, number, st, "", nil, "")
	c.render(w, r, http.StatusOK, "case", p)
}

// caseLive is the case's status and actions without the page around them,
// which the page's script polls.
func (c *Console) caseLive(w http.ResponseWriter, r *http.Request, s *session) {
	number := r.PathValue("case")
	st, a, ok := c.caseState(r, s, number)
	if !ok {
		if a.status == http.StatusUnauthorized {
			c.expired(w, r)
			return
		}
		w.WriteHeader(http.StatusNotFound)
		return
	}
	p := c.newPage(r, s, "casenumber")
	p.Data = c.caseData(p, s, number, st, "", nil, "")
	c.renderTemplate(w, http.StatusOK, "case", "live", p)
}

// caseStep sends a clerk step's form to POST /api/cases/{case}/{step}: the
// update and its validator; a refusal is shown beside the step's form with
// the workflow's own message.
func (c *Console) caseStep(w http.ResponseWriter, r *http.Request, s *session) {
	number, path := r.PathValue("case"), r.PathValue("step")
	st, a, ok := c.caseState(r, s, number)
	if !ok {
		c.failed(w, r, s, a)
		return
	}
	proc, _ := workflows.Lookup(st.Procedure)
	hs, ok := proc.Step(path)
	if !ok {
		c.notFound(w, r, s)
		return
	}
	p := c.newPage(r, s, "casenumber")
	p.Title = p.T("casenumber") + " " + number
	fields := fieldsOf(stepType(hs.Decode), stepScope(path), p.Lang)
	a = c.call(r, s, http.MethodPost, "/api/cases/"+url.PathEscape(number)+"/"+path, body(fields, r.PostForm))
	if a.status == http.StatusOK {
		http.Redirect(w, r, "/console/cases/"+url.PathEscape(number)+"?done="+url.QueryEscape(path), http.StatusSeeOther)
		return
	}
	switch a.status {
	case http.StatusUnauthorized, http.StatusNotFound:
		c.failed(w, r, s, a)
		return
	}
	msg := p.T("errortext")
	if _, m := a.err(); m != "" {
		msg = p.Msg(m)
	}
	if st2, _, ok := c.caseState(r, s, number); ok {
		st = st2
	}
	p.Data = c.caseData(p, s, number, st, path, r.PostForm, msg)
	c.render(w, r, max(a.status, 400), "case", p)
}

// letter serves a case's letter from the API (inquiry, revocation notice).
func (c *Console) letter(w http.ResponseWriter, r *http.Request, s *session) {
	number, name := r.PathValue("case"), r.PathValue("letter")
	if !slices.Contains(letterPaths, name) {
		c.notFound(w, r, s)
		return
	}
	a := c.call(r, s, http.MethodGet, "/api/cases/"+url.PathEscape(number)+"/"+name, nil)
	if a.status != http.StatusOK || a.header.Get("Content-Type") != "application/pdf" {
		c.failed(w, r, s, a)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	if d := a.header.Get("Content-Disposition"); d != "" {
		w.Header().Set("Content-Disposition", d)
	}
	_, _ = w.Write(a.body)
}
