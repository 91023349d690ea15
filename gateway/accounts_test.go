package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/storage"
)

// fakeSignIns counts failures as storage does, without the window: the
// tests run at one instant.
type fakeSignIns struct {
	byLogin   map[string]int
	byAddress map[string]int
	locked    map[string]bool
	disabled  map[string]bool
}

func (s *apiStore) SignInCheck(_ context.Context, login, address string, _ time.Time) (storage.SignInState, error) {
	f := &s.signIns
	return storage.SignInState{Disabled: f.disabled[login], Locked: f.locked[login], AddressThrottled: f.byAddress[address] >= storage.LoginAddressLimit}, nil
}

func (s *apiStore) LoginFailed(_ context.Context, login, address string, _ time.Time) (bool, error) {
	f := &s.signIns
	if f.byLogin == nil {
		f.byLogin, f.byAddress, f.locked = map[string]int{}, map[string]int{}, map[string]bool{}
	}
	f.byLogin[login]++
	f.byAddress[address]++
	known := false
	for _, c := range s.sessions {
		known = known || c.Login == login
	}
	if known && f.byLogin[login] >= storage.LoginAccountLimit {
		f.locked[login] = true
	}
	return f.locked[login], nil
}

func (s *apiStore) LoginSucceeded(_ context.Context, login string) error {
	delete(s.signIns.byLogin, login)
	return nil
}

func (s *apiStore) EndSession(_ context.Context, token []byte) error {
	delete(s.sessions, string(token))
	return nil
}

func (s *apiStore) Accounts(_ context.Context, office string) ([]storage.Account, error) {
	var out []storage.Account
	for _, c := range s.sessions {
		if c.MunicipalityCode == office {
			out = append(out, s.accountOf(c))
		}
	}
	return out, nil
}

func (s *apiStore) accountOf(c storage.Clerk) storage.Account {
	if a, ok := s.accounts[c.Login]; ok {
		return a
	}
	return storage.Account{Login: c.Login, DisplayName: c.DisplayName, Role: c.Role, Office: c.MunicipalityCode, Locked: s.signIns.locked[c.Login]}
}

func (s *apiStore) Account(_ context.Context, login string) (storage.Account, error) {
	if a, ok := s.accounts[login]; ok {
		return a, nil
	}
	for _, c := range s.sessions {
		if c.Login == login {
			return s.accountOf(c), nil
		}
	}
	return storage.Account{}, storage.ErrNotFound
}

func (s *apiStore) CreateAccount(ctx context.Context, a storage.Account, hash string, e storage.AccountEvent) error {
	if _, err := s.Account(ctx, a.Login); err == nil {
		return storage.ErrAccountExists
	}
	if s.accounts == nil {
		s.accounts = map[string]storage.Account{}
	}
	s.accounts[a.Login] = a
	s.accountEvents = append(s.accountEvents, e)
	s.events++
	return nil
}

func (s *apiStore) ChangeAccount(ctx context.Context, office, login string, ch storage.AccountChange, e storage.AccountEvent) error {
	a, err := s.Account(ctx, login)
	if err != nil || a.Office != office {
		return storage.ErrNotFound
	}
	if ch.Disabled != nil {
		a.Disabled = *ch.Disabled
	}
	if ch.Role != "" {
		a.Role = ch.Role
	}
	if ch.Unlock {
		a.Locked = false
		delete(s.signIns.locked, login)
	}
	if ch.EndSessions || ch.PasswordHash != "" || ch.Role != "" || (ch.Disabled != nil && *ch.Disabled) {
		for tok, c := range s.sessions {
			if c.Login == login {
				delete(s.sessions, tok)
			}
		}
	}
	if s.accounts == nil {
		s.accounts = map[string]storage.Account{}
	}
	s.accounts[login] = a
	s.accountEvents = append(s.accountEvents, e)
	s.events++
	return nil
}

func (s *codecTestStore) SignInCheck(context.Context, string, string, time.Time) (storage.SignInState, error) {
	return storage.SignInState{}, nil
}
func (s *codecTestStore) LoginFailed(context.Context, string, string, time.Time) (bool, error) {
	return false, nil
}
func (s *codecTestStore) LoginSucceeded(context.Context, string) error { return nil }

// signIn posts a login from an address.
func (f *consoleFixture) signIn(login, password, address string) *httptest.ResponseRecorder {
	body, _ := json.Marshal(LoginInput{Login: login, Password: password})
	req := httptest.NewRequest(http.MethodPost, "/api/login", bytes.NewReader(body))
	req.RemoteAddr = address + ":40000"
	req.Header.Set("X-Forwarded-For", "203.0.113.9") // not believed
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

// TestSignInThrottled: five wrong passwords lock the account, and then even
// the right one is refused with a message that says to ask a manager; a
// manager of the office unlocks it and it signs in again. Twenty failures
// from one address refuse that address (429), whatever the forwarded-for
// header claims, while another address still signs in. An unknown login
// is answered as a wrong password and locks nothing.
func TestSignInThrottled(t *testing.T) {
	f := newConsoleFixture(t)
	for i := range storage.LoginAccountLimit - 1 {
		if rec := f.signIn("clerk1", "wrong", "192.0.2.1"); rec.Code != http.StatusUnauthorized || errorBody(t, rec).Code != "bad_credentials" {
			t.Fatalf("failure %d: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	if rec := f.signIn("clerk1", "wrong", "192.0.2.1"); rec.Code != http.StatusForbidden || errorBody(t, rec).Code != "account_locked" {
		t.Fatalf("the fifth failure: %d %s", rec.Code, rec.Body)
	}
	if rec := f.signIn("clerk1", "pw", "192.0.2.2"); rec.Code != http.StatusForbidden || !strings.Contains(errorBody(t, rec).Message, "管理者") {
		t.Fatalf("the right password on a locked account: %d %s", rec.Code, rec.Body)
	}
	if rec := f.post("manager1", "/api/accounts/clerk1/unlock", nil); rec.Code != http.StatusOK {
		t.Fatalf("unlock: %d %s", rec.Code, rec.Body)
	}
	if ev := f.store.accountEvents; len(ev) != 1 || ev[0].Action != "unlocked" || ev[0].Actor != "manager1" || ev[0].Login != "clerk1" {
		t.Errorf("recorded %+v", ev)
	}
	if rec := f.signIn("clerk1", "pw", "192.0.2.2"); rec.Code != http.StatusOK {
		t.Fatalf("after the unlock: %d %s", rec.Code, rec.Body)
	}

	for range storage.LoginAddressLimit {
		f.signIn("nobody", "x", "192.0.2.3")
	}
	if f.store.signIns.locked["nobody"] {
		t.Error("an unknown login was locked")
	}
	if rec := f.signIn("clerk2", "pw", "192.0.2.3"); rec.Code != http.StatusTooManyRequests || errorBody(t, rec).Code != "too_many_attempts" {
		t.Fatalf("a throttled address: %d %s", rec.Code, rec.Body)
	}
	if f.store.signIns.byAddress["203.0.113.9"] != 0 {
		t.Error("the forwarded-for address was believed")
	}
}

// TestAccountsManaged: a manager creates an account of the office with a
// one-time password, disables it (its sessions end), enables it, resets its
// password and sets its role; another office's account is unknown; a
// manager may not disable their own account; a clerk may do none of it.
// Sign-out ends the session.
func TestAccountsManaged(t *testing.T) {
	f := newConsoleFixture(t)
	rec := f.post("manager1", "/api/accounts", []byte(`{"login":"clerk9","displayName":"窓口 九郎","role":"clerk"}`))
	var made PasswordResult
	if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &made) != nil || len(made.Password) != 16 ||
		made.Account.Office != apiMunicipality || made.Account.Role != "clerk" {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	for _, tc := range []struct{ body, code string }{
		{`{"login":"clerk9","displayName":"x","role":"clerk"}`, "login_taken"},
		{`{"login":"Clerk!","displayName":"x","role":"clerk"}`, "bad_login"},
		{`{"login":"clerk10","displayName":" ","role":"clerk"}`, "bad_display_name"},
		{`{"login":"clerk10","displayName":"x","role":"operator"}`, "bad_role"},
	} {
		if rec := f.post("manager1", "/api/accounts", []byte(tc.body)); rec.Code/100 != 4 || errorBody(t, rec).Code != tc.code {
			t.Errorf("%s: %d %s", tc.body, rec.Code, rec.Body)
		}
	}
	if rec := f.post("manager1", "/api/accounts/clerk1/disable", nil); rec.Code != http.StatusOK {
		t.Fatalf("disable: %d %s", rec.Code, rec.Body)
	}
	if rec := f.get("clerk1", "/api/cases"); rec.status != http.StatusUnauthorized {
		t.Errorf("a disabled account's session still works: %d", rec.status)
	}
	if rec := f.post("manager1", "/api/accounts/clerk1/enable", nil); rec.Code != http.StatusOK {
		t.Errorf("enable: %d %s", rec.Code, rec.Body)
	}
	rec = f.post("manager1", "/api/accounts/clerk9/reset-password", nil)
	var reset PasswordResult
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &reset) != nil || len(reset.Password) != 16 || reset.Password == made.Password {
		t.Errorf("reset: %d %s", rec.Code, rec.Body)
	}
	if rec := f.post("manager1", "/api/accounts/clerk9/role", []byte(`{"role":"auditor"}`)); rec.Code != http.StatusOK || f.store.accounts["clerk9"].Role != "auditor" {
		t.Errorf("role: %d %s", rec.Code, rec.Body)
	}
	for _, tc := range []struct{ login, path, code string }{
		{"manager1", "/api/accounts/yokohama1/disable", "unknown_account"},
		{"manager1", "/api/accounts/manager1/disable", "own_account"},
		{"manager1", "/api/accounts/clerk1/role", "bad_role"},
		{"norole", "/api/accounts/clerk9/disable", "forbidden"},
	} {
		if rec := f.post(tc.login, tc.path, nil); rec.Code/100 != 4 || errorBody(t, rec).Code != tc.code {
			t.Errorf("%s %s: %d %s", tc.login, tc.path, rec.Code, rec.Body)
		}
	}
	actions := []string{}
	for _, e := range f.store.accountEvents {
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, ",") != "created,disabled,enabled,password_reset,role_set" {
		t.Errorf("recorded %v", actions)
	}
	if rec := f.post("auditor1", "/api/logout", nil); rec.Code != http.StatusNoContent {
		t.Fatalf("logout: %d %s", rec.Code, rec.Body)
	}
	if rec := f.get("auditor1", "/api/cases"); rec.status != http.StatusUnauthorized {
		t.Errorf("a session after sign-out: %d", rec.status)
	}
}

// TestBodyLimit: a body over the limit is refused with 413 before it is
// read; the register's batch takes a larger one.
func TestBodyLimit(t *testing.T) {
	f := newAPIFixture(t, &apiTemporal{})
	big := bytes.Repeat([]byte(" "), MaxBody+1)
	if rec := f.post("clerk1", "/api/complaints", big); rec.Code != http.StatusRequestEntityTooLarge || errorBody(t, rec).Code != "body_too_large" {
		t.Errorf("a large complaint: %d %s", rec.Code, rec.Body)
	}
	if rec := f.post("manager1", "/api/register-events/batch", big); rec.Code == http.StatusRequestEntityTooLarge {
		t.Errorf("the batch intake refused %d bytes", len(big))
	}
}

type demoLister []string

func (d demoLister) DemoAccounts(context.Context) ([]string, error) { return d, nil }

// TestRefuseDemoAccounts: a production start with demo accounts in the
// database is refused, naming them; a demo start, or a database without
// them, is not.
func TestRefuseDemoAccounts(t *testing.T) {
	ctx := context.Background()
	err := RefuseDemoAccounts(ctx, demoLister{"clerk1", "manager1"}, false)
	if !errors.Is(err, ErrDemoAccounts) || !strings.Contains(err.Error(), "clerk1, manager1") {
		t.Errorf("production with demo accounts: %v", err)
	}
	if err := RefuseDemoAccounts(ctx, demoLister{"clerk1"}, true); err != nil {
		t.Errorf("the demo: %v", err)
	}
	if err := RefuseDemoAccounts(ctx, demoLister{}, false); err != nil {
		t.Errorf("production without demo accounts: %v", err)
	}
}
