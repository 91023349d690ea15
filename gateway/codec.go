package gateway

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/madoguchi/madoguchi/internal/codec"
	"github.com/madoguchi/madoguchi/internal/storage"
)

// The codec endpoint of the Temporal UI (POST /codec/decode, /codec/encode).
//
// The UI calls it from the browser, from another origin (the UI's), so it
// answers CORS for that one origin, with credentials. A manager signs in
// with the login cookie (CodecCookie, set by POST /api/login, or through
// GET /codec/login) and ticks "include cross-origin credentials" in the UI's
// codec settings; programs (`temporal --codec-endpoint … --codec-auth
// "Bearer <token>"`) send the bearer token instead. Only managers pass, and
// each decodes only the payloads of the manager's own municipality: any
// other scope, the Organization's, or a payload from before per-municipality
// keys is refused with 403 (a relabelled scope would not decrypt anyway: the
// key is derived from it). Encode encrypts under the manager's municipality,
// so what a manager types in the UI (a signal's input) reaches the workers
// encrypted and stays readable only in that municipality.

// CodecCookie is the session cookie for the codec endpoint: the login token,
// HttpOnly, SameSite=Lax, Path=/codec (the browser sends it nowhere else).
const CodecCookie = "madoguchi_codec"

const codecPath = "/codec"

// maxCodecBody bounds a codec request; Temporal refuses payloads over 2 MB.
const maxCodecBody = 8 << 20

// scopedCodec is the codec of package codec: one restricted to a scope.
type scopedCodec interface {
	ForScope(scope string) converter.PayloadCodec
}

// temporalContext is the context to pass to the Temporal client for a
// request: it carries the clerk's municipality as the codec scope
// (codec.WithScope), so a start, update or signal that would put this
// municipality's data in another municipality's workflow fails instead.
// The SDK already encrypts each payload under its workflow's municipality;
// this is the gateway's cross-check.
func temporalContext(c *gin.Context) context.Context {
	if m := currentClerk(c).MunicipalityCode; m != "" {
		return codec.WithScope(c, m)
	}
	return c
}

// SetTemporalUIOrigin sets the origin whose codec calls are answered with
// CORS (New reads it from MADOGUCHI_TEMPORAL_UI).
func (s *Server) SetTemporalUIOrigin(u string) { s.uiOrigin = originOf(u) }

// originOf reduces a URL to its origin (scheme://host[:port]); "" if it is
// not an http(s) URL.
func originOf(u string) string {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	return strings.ToLower(p.Scheme + "://" + p.Host)
}

func (s *Server) mountCodec(r *gin.Engine) {
	g := r.Group(codecPath, s.codecCORS)
	g.OPTIONS("/*op", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	g.GET("/login", s.codecLoginPage)
	managers := g.Group("", s.codecAuthenticate, requireRole("manager"))
	managers.POST("/decode", s.codecDecode)
	managers.POST("/encode", s.codecEncode)
}

// codecCORS answers the UI's origin and no other. A request from any other
// origin is refused, so a page elsewhere cannot use a manager's cookie even
// where the browser would send it.
func (s *Server) codecCORS(c *gin.Context) {
	h := c.Writer.Header()
	h.Add("Vary", "Origin")
	origin := c.GetHeader("Origin")
	if origin == "" {
		if c.Request.Method == http.MethodOptions {
			fail(c, http.StatusForbidden, "foreign_origin", "この画面からは利用できません / Not available from this origin.")
		}
		return // not a browser's cross-origin call: bearer token or nothing
	}
	if s.uiOrigin == "" || origin != s.uiOrigin {
		fail(c, http.StatusForbidden, "foreign_origin", "この画面からは利用できません / Not available from this origin.")
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	if c.Request.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		// What the UI sends: JSON, the namespace, and a token if so set.
		h.Set("Access-Control-Allow-Headers", "Content-Type, X-Namespace, Authorization")
		h.Set("Access-Control-Max-Age", "600")
	}
}

// codecAuthenticate accepts the bearer token or, from the UI's origin only,
// the login cookie, and puts the clerk in the context.
func (s *Server) codecAuthenticate(c *gin.Context) {
	raw, bearer := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if !bearer {
		ck, err := c.Request.Cookie(CodecCookie)
		if err != nil {
			fail(c, http.StatusUnauthorized, "unauthenticated", "ログインしてください（Temporal UI では「cross-origin credentials」を有効にしてください） / Please log in (in the Temporal UI, include cross-origin credentials).")
			return
		}
		// A cookie comes with any request the browser makes; only the UI's
		// own calls (CORS, so they carry Origin) may use it.
		if s.uiOrigin == "" || c.GetHeader("Origin") != s.uiOrigin {
			fail(c, http.StatusForbidden, "foreign_origin", "この画面からは利用できません / Not available from this origin.")
			return
		}
		raw = ck.Value
	}
	s.admit(c, raw)
}

var errBadToken = errors.New("gateway: malformed session token")

// decodeToken reads a session token as login hands it out.
func decodeToken(raw string) ([]byte, error) {
	token, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(raw))
	if err != nil || len(token) != 32 {
		return nil, errBadToken
	}
	return token, nil
}

// admit looks the session token up and puts its clerk in the context, or
// answers 401 (malformed or expired) or 500. Both the bearer and the codec
// cookie come through here.
func (s *Server) admit(c *gin.Context, raw string) {
	token, err := decodeToken(raw)
	if err != nil {
		fail(c, http.StatusUnauthorized, "unauthenticated", "ログインしてください / Please log in.")
		return
	}
	clerk, err := s.db.SessionClerk(c, token, s.now())
	if errors.Is(err, storage.ErrNotFound) {
		fail(c, http.StatusUnauthorized, "unauthenticated", "ログインの有効期限が切れました。再度ログインしてください / Your login has expired; please log in again.")
		return
	}
	if err != nil {
		s.failInternal(c, err)
		return
	}
	c.Set(clerkKey, clerk)
	c.Next()
}

// setCodecCookie puts the login token in the codec cookie of the answer.
func (s *Server) setCodecCookie(c *gin.Context, token string, expires time.Time) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: CodecCookie, Value: token, Path: codecPath,
		Expires: expires, MaxAge: int(expires.Sub(s.now()).Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode,
		// Secure where the browser reaches the gateway over TLS; the dev
		// state serves plain http on loopback.
		Secure: c.Request.TLS != nil || strings.HasPrefix(s.uiOrigin, "https://"),
	})
}

func (s *Server) codecDecode(c *gin.Context) {
	s.codecConvert(c, false)
}

func (s *Server) codecEncode(c *gin.Context) {
	s.codecConvert(c, true)
}

func (s *Server) codecConvert(c *gin.Context, encode bool) {
	sc, ok := s.codec.(scopedCodec)
	if !ok {
		s.failInternal(c, errors.New("gateway: the codec cannot be restricted to a municipality"))
		return
	}
	if ct := c.ContentType(); ct != "application/json" {
		// JSON only: a cross-origin JSON call needs a preflight, which only
		// the UI's origin passes.
		fail(c, http.StatusUnsupportedMediaType, "bad_request", "JSON で送信してください / Send JSON.")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxCodecBody))
	if err != nil {
		fail(c, http.StatusBadRequest, "bad_request", "入力を読み取れませんでした / The request could not be read.")
		return
	}
	var in commonpb.Payloads
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, &in); err != nil {
		fail(c, http.StatusBadRequest, "bad_request", "入力を読み取れませんでした / The request could not be read.")
		return
	}
	clerk := currentClerk(c)
	pc := sc.ForScope(clerk.MunicipalityCode)
	var out []*commonpb.Payload
	if encode {
		out, err = pc.Encode(in.Payloads)
	} else {
		out, err = pc.Decode(in.Payloads)
	}
	if err != nil {
		s.codecRefuse(c, clerk, err)
		return
	}
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: out})
	if err != nil {
		s.failInternal(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json", b)
}

// codecRefuse answers a payload the manager may not decode, and logs who
// asked (never the payload).
func (s *Server) codecRefuse(c *gin.Context, clerk storage.Clerk, err error) {
	log := func(reason string) {
		s.log.Warn("codec refused", "login", clerk.Login, "municipality", clerk.MunicipalityCode, "op", c.FullPath(), "reason", reason)
	}
	switch {
	case errors.Is(err, codec.ErrScopeMismatch):
		log("another scope")
		fail(c, http.StatusForbidden, "other_municipality", "他の団体（または機構）のデータは復号できません / These payloads belong to another municipality (or the Organization) and cannot be decoded.")
	case errors.Is(err, codec.ErrUnscoped):
		log("unscoped payload")
		fail(c, http.StatusForbidden, "unscoped_payload", "団体別の鍵の導入前に暗号化されたデータは、ここでは復号できません / These payloads were encrypted before per-municipality keys and cannot be decoded here.")
	case errors.Is(err, codec.ErrInvalidScope):
		log("no municipality")
		fail(c, http.StatusForbidden, "forbidden", "この操作を行う権限がありません / You are not allowed to do this.")
	case errors.Is(err, codec.ErrDecrypt), errors.Is(err, codec.ErrUnknownKey):
		log(err.Error())
		fail(c, http.StatusForbidden, "undecryptable", "このデータは復号できません / These payloads cannot be decoded.")
	default:
		s.failInternal(c, err)
	}
}

// codecLoginPage is a minimal sign-in for the Temporal UI until the staff
// console exists: it posts to /api/login from the gateway's own origin, so
// the browser keeps the codec cookie.
func (s *Server) codecLoginPage(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(codecLoginHTML))
}

const codecLoginHTML = `<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>madoguchi — Temporal UI sign-in</title>
<style>body{font-family:sans-serif;max-width:36em;margin:3em auto}label{display:block;margin:.5em 0}</style></head>
<body>
<h1>Temporal UI 用ログイン / Sign in for the Temporal UI</h1>
<p>管理者としてログインすると、Temporal UI で自団体の手続の履歴を復号して表示できます。UI の Codec Server 設定で、このゲートウェイの <code>/codec</code> を指定し、「Include cross-origin credentials」を有効にしてください。<br>
Sign in as a manager to read your municipality's procedure histories decoded in the Temporal UI. In the UI's Codec Server settings, use this gateway's <code>/codec</code> and turn on "Include cross-origin credentials".</p>
<form id="f">
<label>ログイン名 / Login <input name="login" autocomplete="username" required></label>
<label>パスワード / Password <input name="password" type="password" autocomplete="current-password" required></label>
<button>ログイン / Sign in</button>
</form>
<p id="out" role="status"></p>
<script>
document.getElementById('f').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target), out = document.getElementById('out');
  const r = await fetch('/api/login', {method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({login: f.get('login'), password: f.get('password')})});
  const b = await r.json().catch(() => ({}));
  if (!r.ok) { out.textContent = (b.error && b.error.message) || r.status; return; }
  out.textContent = b.role === 'manager'
    ? 'ログインしました / Signed in: ' + b.displayName + ' (' + b.municipalityCode + ')'
    : '管理者のみ復号できます / Only managers can decode.';
});
</script>
</body></html>
`
