package gateway

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"golang.org/x/crypto/bcrypt"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/madoguchi/madoguchi/internal/codec"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
)

const (
	codecTestUI       = "http://127.0.0.1:8233"
	codecTestPassword = "madoguchi-demo"
	codecTestSecret   = "山田太郎 東京都千代田区永田町1-7-1"
)

// codecTestStore fakes the sessions; the embedded Store (nil) answers
// nothing else, which these routes never ask.
type codecTestStore struct {
	Store
	clerks   map[string]storage.Clerk // by login
	sessions map[string]storage.Clerk // by token
}

func (s *codecTestStore) ClerkByLogin(_ context.Context, login string) (storage.Clerk, error) {
	c, ok := s.clerks[login]
	if !ok {
		return storage.Clerk{}, storage.ErrNotFound
	}
	return c, nil
}

func (s *codecTestStore) CreateSession(_ context.Context, token []byte, clerkID int64, _ time.Time) error {
	for _, c := range s.clerks {
		if c.ID == clerkID {
			s.sessions[string(token)] = c
		}
	}
	return nil
}

func (s *codecTestStore) SessionClerk(_ context.Context, token []byte, _ time.Time) (storage.Clerk, error) {
	c, ok := s.sessions[string(token)]
	if !ok {
		return storage.Clerk{}, storage.ErrNotFound
	}
	return c, nil
}

type codecFixture struct {
	t     *testing.T
	h     http.Handler
	codec *codec.AESGCM
	key   []byte
	store *codecTestStore
}

func newCodecFixture(t *testing.T) *codecFixture {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	c, err := codec.New(key)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(codecTestPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	st := &codecTestStore{clerks: map[string]storage.Clerk{}, sessions: map[string]storage.Clerk{}}
	for i, c := range []storage.Clerk{
		{Login: "manager1", MunicipalityCode: "131016", Role: "manager"},
		{Login: "yokohama-manager", MunicipalityCode: "141003", Role: "manager"},
		{Login: "clerk1", MunicipalityCode: "131016", Role: "clerk"},
		{Login: "auditor1", MunicipalityCode: "131016", Role: "auditor"},
		{Login: "norole", MunicipalityCode: "131016", Role: ""},
		{Login: "nomunicipality", Role: "manager"},
	} {
		c.ID, c.DisplayName, c.PasswordHash = int64(i+1), c.Login, string(hash)
		st.clerks[c.Login] = c
	}
	srv := New(st, nil, c, slog.New(slog.NewTextHandler(io.Discard, nil)), workflows.InquiryPolicy{})
	srv.SetTemporalUIOrigin(codecTestUI + "/")
	return &codecFixture{t: t, h: srv.Handler(), codec: c, key: key, store: st}
}

// login signs in through POST /api/login and returns the bearer token and
// the codec cookie of the answer.
func (f *codecFixture) login(login string) (string, *http.Cookie) {
	f.t.Helper()
	body, _ := json.Marshal(LoginInput{Login: login, Password: codecTestPassword})
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/login", bytes.NewReader(body)))
	if rec.Code != http.StatusOK {
		f.t.Fatalf("login %s: %d %s", login, rec.Code, rec.Body)
	}
	var res LoginResult
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
		f.t.Fatal(err)
	}
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == CodecCookie {
			return res.Token, ck
		}
	}
	f.t.Fatalf("login %s set no %s cookie", login, CodecCookie)
	return "", nil
}

// payloadOf encrypts a value as the SDK does for a workflow's payloads.
func (f *codecFixture) payloadOf(workflowID string, v any) *commonpb.Payload {
	f.t.Helper()
	p, err := converter.WithDataConverterSerializationContext(f.codec.DataConverter(),
		converter.WorkflowSerializationContext{Namespace: "default", WorkflowID: workflowID}).ToPayload(v)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func payloadsJSON(t *testing.T, ps ...*commonpb.Payload) []byte {
	t.Helper()
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: ps})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type codecCall struct {
	method, path string
	body         []byte
	bearer       string
	cookie       *http.Cookie
	origin       string
	contentType  string
	headers      map[string]string
}

func (f *codecFixture) do(call codecCall) *httptest.ResponseRecorder {
	f.t.Helper()
	if call.method == "" {
		call.method = http.MethodPost
	}
	req := httptest.NewRequest(call.method, call.path, bytes.NewReader(call.body))
	if call.method == http.MethodPost {
		ct := call.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
		req.Header.Set("X-Namespace", "default")
	}
	if call.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+call.bearer)
	}
	if call.cookie != nil {
		req.AddCookie(call.cookie)
	}
	if call.origin != "" {
		req.Header.Set("Origin", call.origin)
	}
	for k, v := range call.headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

func decodedPayloads(t *testing.T, body []byte) []*commonpb.Payload {
	t.Helper()
	var out commonpb.Payloads
	if err := protojson.Unmarshal(body, &out); err != nil {
		t.Fatalf("answer is not payloads: %v: %s", err, body)
	}
	return out.Payloads
}

func errorCode(t *testing.T, body []byte) string {
	t.Helper()
	var e struct {
		Error apiError `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" || !strings.Contains(e.Error.Message, " / ") {
		t.Fatalf("not a bilingual error answer: %s", body)
	}
	return e.Error.Code
}

func TestLoginSetsCodecCookie(t *testing.T) {
	f := newCodecFixture(t)
	token, ck := f.login("manager1")
	if ck.Value != token {
		t.Fatal("the cookie does not hold the login token")
	}
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/codec" || ck.MaxAge <= 0 {
		t.Fatalf("cookie %+v: want HttpOnly, SameSite=Lax, Path=/codec, a lifetime", ck)
	}
}

// TestCodecRoles is each role against the codec endpoint, by bearer token
// and by the UI's cookie.
func TestCodecRoles(t *testing.T) {
	f := newCodecFixture(t)
	body := payloadsJSON(t, f.payloadOf("inperson-issuance/131016-20261201-000001", codecTestSecret))
	for _, tc := range []struct {
		login string
		want  int
	}{
		{"manager1", http.StatusOK},
		{"clerk1", http.StatusForbidden},
		{"auditor1", http.StatusForbidden},
		{"norole", http.StatusForbidden},
		{"nomunicipality", http.StatusForbidden},
	} {
		token, ck := f.login(tc.login)
		for _, via := range []struct {
			name string
			call codecCall
		}{
			{"bearer", codecCall{path: "/codec/decode", body: body, bearer: token}},
			{"cookie", codecCall{path: "/codec/decode", body: body, cookie: ck, origin: codecTestUI}},
		} {
			t.Run(tc.login+"/"+via.name, func(t *testing.T) {
				rec := f.do(via.call)
				if rec.Code != tc.want {
					t.Fatalf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
				}
				if tc.want != http.StatusOK {
					errorCode(t, rec.Body.Bytes())
					if strings.Contains(rec.Body.String(), "山田") {
						t.Fatal("a refused answer holds the plaintext")
					}
					return
				}
				out := decodedPayloads(t, rec.Body.Bytes())
				var got string
				if err := converter.GetDefaultDataConverter().FromPayload(out[0], &got); err != nil || got != codecTestSecret {
					t.Fatalf("decoded %q, %v", got, err)
				}
			})
		}
	}
	for _, tc := range []struct {
		name string
		call codecCall
	}{
		{"no credentials", codecCall{path: "/codec/decode", body: body, origin: codecTestUI}},
		{"malformed token", codecCall{path: "/codec/decode", body: body, bearer: "not-a-token"}},
		{"unknown token", codecCall{path: "/codec/decode", body: body, bearer: base64.RawURLEncoding.EncodeToString(make([]byte, 32))}},
		{"unknown cookie", codecCall{path: "/codec/decode", body: body, origin: codecTestUI,
			cookie: &http.Cookie{Name: CodecCookie, Value: base64.RawURLEncoding.EncodeToString(make([]byte, 32))}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if rec := f.do(tc.call); rec.Code != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401: %s", rec.Code, rec.Body)
			}
		})
	}
}

// legacyPayload is a payload as the codec sealed it before scopes.
func (f *codecFixture) legacyPayload() *commonpb.Payload {
	f.t.Helper()
	inner, _ := converter.GetDefaultDataConverter().ToPayload(codecTestSecret)
	plain, _ := proto.Marshal(inner)
	block, _ := aes.NewCipher(f.key)
	aead, _ := cipher.NewGCM(block)
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce)
	return &commonpb.Payload{
		Metadata: map[string][]byte{"encoding": []byte(codec.Encoding), codec.MetadataKeyID: []byte(codec.KeyID(f.key))},
		Data:     aead.Seal(nonce, nonce, plain, nil),
	}
}

// TestCodecScopedToOwnMunicipality: a manager of 131016 decodes 131016's
// payloads and nothing else.
func TestCodecScopedToOwnMunicipality(t *testing.T) {
	f := newCodecFixture(t)
	token, _ := f.login("manager1")
	own := f.payloadOf("inperson-issuance/131016-20261201-000001", codecTestSecret)
	yokohama := f.payloadOf("inperson-issuance/141003-20261201-000001", codecTestSecret)
	relayAtYokohama := f.payloadOf("relay-issuance/141003-R131016-20261201-000002", codecTestSecret)
	org := f.payloadOf("publish-revocation-lists/daily", codecTestSecret)
	forged := proto.Clone(yokohama).(*commonpb.Payload)
	forged.Metadata[codec.MetadataScope] = []byte("131016")
	plain, _ := converter.GetDefaultDataConverter().ToPayload("not personal")

	for _, tc := range []struct {
		name     string
		payloads []*commonpb.Payload
		want     int
		code     string
	}{
		{"own", []*commonpb.Payload{own}, http.StatusOK, ""},
		{"own and unencrypted", []*commonpb.Payload{own, plain}, http.StatusOK, ""},
		{"another municipality", []*commonpb.Payload{yokohama}, http.StatusForbidden, "other_municipality"},
		{"relay case at the address municipality", []*commonpb.Payload{relayAtYokohama}, http.StatusForbidden, "other_municipality"},
		{"the Organization", []*commonpb.Payload{org}, http.StatusForbidden, "other_municipality"},
		{"own with another's", []*commonpb.Payload{own, yokohama}, http.StatusForbidden, "other_municipality"},
		{"forged scope", []*commonpb.Payload{forged}, http.StatusForbidden, "undecryptable"},
		{"before scopes", []*commonpb.Payload{f.legacyPayload()}, http.StatusForbidden, "unscoped_payload"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.do(codecCall{path: "/codec/decode", body: payloadsJSON(t, tc.payloads...), bearer: token})
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
			}
			if tc.want != http.StatusOK {
				if code := errorCode(t, rec.Body.Bytes()); code != tc.code {
					t.Fatalf("code %q, want %q", code, tc.code)
				}
				if strings.Contains(rec.Body.String(), "山田") || strings.Contains(rec.Body.String(), base64.StdEncoding.EncodeToString([]byte(`"`+codecTestSecret))) {
					t.Fatal("a refused answer holds the plaintext")
				}
				return
			}
			if n := len(decodedPayloads(t, rec.Body.Bytes())); n != len(tc.payloads) {
				t.Fatalf("%d payloads back, want %d", n, len(tc.payloads))
			}
		})
	}

	// And the other way round: Yokohama's manager cannot read Chiyoda's.
	ytoken, _ := f.login("yokohama-manager")
	if rec := f.do(codecCall{path: "/codec/decode", body: payloadsJSON(t, own), bearer: ytoken}); rec.Code != http.StatusForbidden {
		t.Fatalf("141003's manager decoding 131016's payload: %d", rec.Code)
	}
	if rec := f.do(codecCall{path: "/codec/decode", body: payloadsJSON(t, yokohama), bearer: ytoken}); rec.Code != http.StatusOK {
		t.Fatalf("141003's manager decoding 141003's payload: %d %s", rec.Code, rec.Body)
	}
}

func TestCodecEncodeUnderOwnScope(t *testing.T) {
	f := newCodecFixture(t)
	token, _ := f.login("manager1")
	in, _ := converter.GetDefaultDataConverter().ToPayload(codecTestSecret)
	rec := f.do(codecCall{path: "/codec/encode", body: payloadsJSON(t, in), bearer: token})
	if rec.Code != http.StatusOK {
		t.Fatalf("encode: %d %s", rec.Code, rec.Body)
	}
	out := decodedPayloads(t, rec.Body.Bytes())
	if s, _ := codec.PayloadScope(out[0]); s != "131016" {
		t.Fatalf("encoded under %q, want the manager's 131016", s)
	}
	if strings.Contains(rec.Body.String(), base64.StdEncoding.EncodeToString(in.Data)) {
		t.Fatal("encode answered the plaintext")
	}
	// The workers can read it; Yokohama's manager cannot.
	if _, err := f.codec.Decode(out); err != nil {
		t.Fatal(err)
	}
	ytoken, _ := f.login("yokohama-manager")
	if rec := f.do(codecCall{path: "/codec/decode", body: rec.Body.Bytes(), bearer: ytoken}); rec.Code != http.StatusForbidden {
		t.Fatalf("141003 decoding what 131016 encoded: %d", rec.Code)
	}
}

// TestCodecCORS: the UI's origin gets its preflight and its answers; any
// other origin gets neither, nor can it use a cookie.
func TestCodecCORS(t *testing.T) {
	f := newCodecFixture(t)
	_, ck := f.login("manager1")
	body := payloadsJSON(t, f.payloadOf("inperson-issuance/131016-20261201-000001", codecTestSecret))
	preflight := map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-namespace"}

	for _, tc := range []struct {
		name    string
		call    codecCall
		want    int
		allowed bool
	}{
		{"preflight from the UI", codecCall{method: http.MethodOptions, path: "/codec/decode", origin: codecTestUI, headers: preflight}, http.StatusNoContent, true},
		{"preflight of encode", codecCall{method: http.MethodOptions, path: "/codec/encode", origin: codecTestUI, headers: preflight}, http.StatusNoContent, true},
		{"preflight from elsewhere", codecCall{method: http.MethodOptions, path: "/codec/decode", origin: "http://evil.example", headers: preflight}, http.StatusForbidden, false},
		{"preflight from another port", codecCall{method: http.MethodOptions, path: "/codec/decode", origin: "http://127.0.0.1:9999", headers: preflight}, http.StatusForbidden, false},
		{"preflight without origin", codecCall{method: http.MethodOptions, path: "/codec/decode", headers: preflight}, http.StatusForbidden, false},
		{"decode from the UI with the cookie", codecCall{path: "/codec/decode", body: body, cookie: ck, origin: codecTestUI}, http.StatusOK, true},
		{"decode from elsewhere with the cookie", codecCall{path: "/codec/decode", body: body, cookie: ck, origin: "http://evil.example"}, http.StatusForbidden, false},
		{"cookie without origin", codecCall{path: "/codec/decode", body: body, cookie: ck}, http.StatusForbidden, false},
		{"not JSON", codecCall{path: "/codec/decode", body: body, cookie: ck, origin: codecTestUI, contentType: "text/plain"}, http.StatusUnsupportedMediaType, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.do(tc.call)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
			}
			h := rec.Header()
			if !tc.allowed {
				if h.Get("Access-Control-Allow-Origin") != "" || h.Get("Access-Control-Allow-Credentials") != "" {
					t.Fatalf("CORS headers for a foreign origin: %v", h)
				}
				return
			}
			if h.Get("Access-Control-Allow-Origin") != codecTestUI || h.Get("Access-Control-Allow-Credentials") != "true" {
				t.Fatalf("Allow-Origin %q, Allow-Credentials %q", h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Allow-Credentials"))
			}
			if !strings.Contains(h.Get("Vary"), "Origin") {
				t.Fatal("no Vary: Origin")
			}
			if tc.call.method == http.MethodOptions {
				allow := strings.ToLower(h.Get("Access-Control-Allow-Headers"))
				if !strings.Contains(allow, "x-namespace") || !strings.Contains(allow, "content-type") || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
					t.Fatalf("preflight allows headers %q, methods %q", allow, h.Get("Access-Control-Allow-Methods"))
				}
			}
		})
	}

	// Without a configured UI origin no origin is answered.
	srv := New(f.store, nil, f.codec, slog.New(slog.NewTextHandler(io.Discard, nil)), workflows.InquiryPolicy{})
	srv.SetTemporalUIOrigin("")
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodOptions, "/codec/decode", nil)
	req.Header.Set("Origin", codecTestUI)
	srv.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden || rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("no UI configured: preflight %d, Allow-Origin %q", rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
	}
}

func TestCodecLoginPage(t *testing.T) {
	f := newCodecFixture(t)
	rec := f.do(codecCall{method: http.MethodGet, path: "/codec/login"})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "/api/login") || rec.Header().Get("Content-Security-Policy") == "" {
		t.Fatalf("login page: %d", rec.Code)
	}
}

func TestTemporalContextCarriesScope(t *testing.T) {
	for _, tc := range []struct {
		clerk storage.Clerk
		want  string
	}{
		{storage.Clerk{MunicipalityCode: "131016"}, "131016"},
		{storage.Clerk{}, ""},
	} {
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Set(clerkKey, tc.clerk)
		if got := codec.ScopeFrom(temporalContext(c)); got != tc.want {
			t.Fatalf("scope %q, want %q", got, tc.want)
		}
	}
}
