package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/madoguchi/madoguchi/internal/storage"
)

// Staff accounts (issue 13 item 7): an office's managers list its
// accounts, create one (with a one-time password shown once), disable and
// enable it, reset its password, set its role, unlock it after too many
// failed sign-ins and end its sessions. Every change is recorded with who
// made it (account_events). cmd/accounts does the same from the server's
// shell, for any office.

// AccountView is an account as its office's managers see it.
type AccountView struct {
	Login       string `json:"login"`
	DisplayName string `json:"displayName"`
	Role        string `json:"role"`
	Office      string `json:"office"`
	Disabled    bool   `json:"disabled"`
	Locked      bool   `json:"locked"`
	// Demo: seeded by the demo with its published password.
	Demo bool `json:"demo"`
}

// AccountInput is the body of POST /api/accounts.
type AccountInput struct {
	Login       string `json:"login"`
	DisplayName string `json:"displayName"`
	Role        string `json:"role"`
}

// RoleInput is the body of POST /api/accounts/{login}/role.
type RoleInput struct {
	Role string `json:"role"`
}

// PasswordResult answers a creation or a password reset: the one-time
// password, shown once, to hand to the person.
type PasswordResult struct {
	Account  AccountView `json:"account"`
	Password string      `json:"password"`
}

var loginRE = regexp.MustCompile(`^[a-z][a-z0-9._-]{2,31}$`)

// officeRoles are the roles an account of a kind of office may have.
var officeRoles = map[string][]string{
	"municipality": {"clerk", "manager", "auditor", "register"},
	"post_office":  {"clerk", "manager"},
	"organization": {"operator", "manager", "auditor"},
}

func viewAccount(a storage.Account) AccountView {
	return AccountView{Login: a.Login, DisplayName: a.DisplayName, Role: a.Role, Office: a.Office, Disabled: a.Disabled, Locked: a.Locked, Demo: a.Demo}
}

func (s *Server) mountAccounts(api *gin.RouterGroup) {
	api.POST("/logout", s.logout)
	m := api.Group("/accounts", requireRole("manager"))
	m.GET("", s.listAccounts)
	m.POST("", s.createAccount)
	m.POST("/:login/disable", s.changeAccount("disabled"))
	m.POST("/:login/enable", s.changeAccount("enabled"))
	m.POST("/:login/unlock", s.changeAccount("unlocked"))
	m.POST("/:login/reset-password", s.changeAccount("password_reset"))
	m.POST("/:login/role", s.changeAccount("role_set"))
	m.POST("/:login/revoke-sessions", s.changeAccount("sessions_revoked"))
}

// logout serves POST /api/logout: the bearer token's session ends.
func (s *Server) logout(c *gin.Context) {
	raw, _ := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	token, err := decodeToken(raw)
	if err == nil {
		err = s.db.EndSession(c, token)
	}
	if err != nil {
		s.failInternal(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) listAccounts(c *gin.Context) {
	as, err := s.db.Accounts(c, currentClerk(c).MunicipalityCode)
	if err != nil {
		s.failInternal(c, err)
		return
	}
	out := make([]AccountView, 0, len(as))
	for _, a := range as {
		out = append(out, viewAccount(a))
	}
	c.JSON(http.StatusOK, gin.H{"accounts": out})
}

func failRole(c *gin.Context, kind string) {
	fail(c, http.StatusBadRequest, "bad_role", "この事務所の職員に付けられる役割は "+strings.Join(officeRoles[kind], "・")+" です / The roles of this office's staff are "+strings.Join(officeRoles[kind], ", ")+".")
}

// createAccount serves POST /api/accounts: a new account of the manager's
// office, with a one-time password shown once.
func (s *Server) createAccount(c *gin.Context) {
	clerk := currentClerk(c)
	var in AccountInput
	if err := c.ShouldBindJSON(&in); err != nil {
		fail(c, http.StatusBadRequest, "bad_request", "職員アカウントの内容を読み取れませんでした / The account could not be read.")
		return
	}
	in.DisplayName = strings.TrimSpace(in.DisplayName)
	switch {
	case !loginRE.MatchString(in.Login):
		fail(c, http.StatusBadRequest, "bad_login", "ログイン名は英小文字で始まる英小文字・数字・._- の3〜32文字です / A login is 3 to 32 lower-case letters, digits, '.', '_' or '-', starting with a letter.")
		return
	case in.DisplayName == "" || utf8.RuneCountInString(in.DisplayName) > 100:
		fail(c, http.StatusBadRequest, "bad_display_name", "表示名を100文字以内で入力してください / Enter a display name, within 100 characters.")
		return
	case !slices.Contains(officeRoles[clerk.OfficeKind], in.Role):
		failRole(c, clerk.OfficeKind)
		return
	}
	password, hash, ok := s.hashNewPassword(c)
	if !ok {
		return
	}
	a := storage.Account{Login: in.Login, DisplayName: in.DisplayName, Role: in.Role, Office: clerk.MunicipalityCode}
	err := s.db.CreateAccount(c, a, hash, storage.AccountEvent{Office: clerk.MunicipalityCode, Login: in.Login, Action: "created",
		Detail: in.Role, Actor: clerk.Login, At: s.now()})
	if errors.Is(err, storage.ErrAccountExists) {
		fail(c, http.StatusConflict, "login_taken", "このログイン名は既に使われています / This login is taken.")
		return
	}
	if err != nil {
		s.failInternal(c, err)
		return
	}
	c.JSON(http.StatusCreated, PasswordResult{Account: viewAccount(a), Password: password})
}

func (s *Server) hashNewPassword(c *gin.Context) (string, string, bool) {
	password, hash, err := storage.NewOneTimePassword()
	if err != nil {
		s.failInternal(c, err)
		return "", "", false
	}
	return password, hash, true
}

// changeAccount serves POST /api/accounts/{login}/{action}: a change to an
// account of the manager's office (another office's is an unknown one). A
// manager may not disable or re-role their own account.
func (s *Server) changeAccount(action string) gin.HandlerFunc {
	return func(c *gin.Context) {
		clerk := currentClerk(c)
		login := c.Param("login")
		a, err := s.db.Account(c, login)
		if errors.Is(err, storage.ErrNotFound) || (err == nil && a.Office != clerk.MunicipalityCode) {
			fail(c, http.StatusNotFound, "unknown_account", "この事務所の職員アカウントではありません / No such account in your office.")
			return
		}
		if err != nil {
			s.failInternal(c, err)
			return
		}
		if login == clerk.Login && (action == "disabled" || action == "role_set") {
			fail(c, http.StatusConflict, "own_account", "自分のアカウントは無効化・役割変更できません。他の管理者に依頼してください / You cannot disable or re-role your own account; ask another manager.")
			return
		}
		var ch storage.AccountChange
		detail, password := "", ""
		switch action {
		case "disabled", "enabled":
			off := action == "disabled"
			ch.Disabled = &off
		case "unlocked":
			ch.Unlock = true
		case "sessions_revoked":
			ch.EndSessions = true
		case "password_reset":
			var hash string
			var ok bool
			if password, hash, ok = s.hashNewPassword(c); !ok {
				return
			}
			ch.PasswordHash = hash
		case "role_set":
			var in RoleInput
			if err := c.ShouldBindJSON(&in); err != nil || !slices.Contains(officeRoles[clerk.OfficeKind], in.Role) {
				failRole(c, clerk.OfficeKind)
				return
			}
			ch.Role, detail, a.Role = in.Role, in.Role, in.Role
		}
		if err := s.db.ChangeAccount(c, clerk.MunicipalityCode, login, ch, storage.AccountEvent{Office: clerk.MunicipalityCode, Login: login,
			Action: action, Detail: detail, Actor: clerk.Login, At: s.now()}); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				fail(c, http.StatusNotFound, "unknown_account", "この事務所の職員アカウントではありません / No such account in your office.")
				return
			}
			s.failInternal(c, err)
			return
		}
		switch action {
		case "disabled", "enabled":
			a.Disabled = action == "disabled"
		case "unlocked":
			a.Locked = false
		case "password_reset":
			a.Demo = false
			c.JSON(http.StatusOK, PasswordResult{Account: viewAccount(a), Password: password})
			return
		}
		c.JSON(http.StatusOK, viewAccount(a))
	}
}

// DemoAccountLister lists the accounts the demo seeded that still have its
// published password (storage.DB.DemoAccounts).
type DemoAccountLister interface {
	DemoAccounts(ctx context.Context) ([]string, error)
}

// ErrDemoAccounts: a production start found the demo's accounts, whose
// password is published, in the database.
var ErrDemoAccounts = errors.New("gateway: demo accounts with the published demo password are in the database")

// RefuseDemoAccounts is the gateway's start check: unless the start is the
// demo's (MADOGUCHI_DEMO=1), it refuses to serve while any demo account
// is in the database, naming them and what to do.
func RefuseDemoAccounts(ctx context.Context, db DemoAccountLister, demo bool) error {
	if demo {
		return nil
	}
	logins, err := db.DemoAccounts(ctx)
	if err != nil {
		return err
	}
	if len(logins) > 0 {
		return fmt.Errorf("%w: %s; reset their passwords or disable them (cmd/accounts), or start the demo with MADOGUCHI_DEMO=1",
			ErrDemoAccounts, strings.Join(logins, ", "))
	}
	return nil
}
