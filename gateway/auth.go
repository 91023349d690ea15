package gateway

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"github.com/madoguchi/madoguchi/internal/storage"
)

// SessionTTL is how long a login lasts: one counter day.
const SessionTTL = 10 * time.Hour

const clerkKey = "clerk"

// LoginInput is the body of POST /api/login.
type LoginInput struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

// LoginResult is the answer of POST /api/login.
type LoginResult struct {
	Token            string    `json:"token"`
	ExpiresAt        time.Time `json:"expiresAt"`
	Login            string    `json:"login"`
	DisplayName      string    `json:"displayName"`
	Role             string    `json:"role"`
	MunicipalityCode string    `json:"municipalityCode"`
}

func (s *Server) login(c *gin.Context) {
	var in LoginInput
	if err := c.ShouldBindJSON(&in); err != nil || in.Login == "" || in.Password == "" {
		fail(c, http.StatusBadRequest, "bad_request", "ログイン名とパスワードを入力してください / Enter your login and password.")
		return
	}
	now, address := s.now(), c.ClientIP()
	st, err := s.db.SignInCheck(c, in.Login, address, now)
	if err != nil {
		s.failInternal(c, err)
		return
	}
	if st.AddressThrottled {
		fail(c, http.StatusTooManyRequests, "too_many_attempts", "この端末からのログインの失敗が多すぎます。15分ほどおいてからやり直してください / Too many failed sign-ins from here; try again in about 15 minutes.")
		return
	}
	clerk, err := s.db.ClerkByLogin(c, in.Login)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.failInternal(c, err)
		return
	}
	// Compare against a dummy hash for unknown logins too, so timing does
	// not tell which logins exist.
	hash := clerk.PasswordHash
	if hash == "" {
		hash = dummyHash
	}
	good := bcrypt.CompareHashAndPassword([]byte(hash), []byte(in.Password)) == nil && clerk.ID != 0
	if st.Locked {
		fail(c, http.StatusForbidden, "account_locked", "ログインの失敗が続いたため、このアカウントはロックされています。所属の管理者に解除を依頼してください / This account is locked after repeated failed sign-ins; ask a manager of your office to unlock it.")
		return
	}
	// A disabled account is answered as a wrong password.
	if !good || st.Disabled {
		locked, err := s.db.LoginFailed(c, in.Login, address, now)
		if err != nil {
			s.failInternal(c, err)
			return
		}
		if locked {
			fail(c, http.StatusForbidden, "account_locked", "ログインの失敗が続いたため、このアカウントはロックされています。所属の管理者に解除を依頼してください / This account is locked after repeated failed sign-ins; ask a manager of your office to unlock it.")
			return
		}
		fail(c, http.StatusUnauthorized, "bad_credentials", "ログイン名またはパスワードが違います / Wrong login or password.")
		return
	}
	if err := s.db.LoginSucceeded(c, in.Login); err != nil {
		s.failInternal(c, err)
		return
	}
	token := make([]byte, 32)
	if _, err := rand.Read(token); err != nil {
		s.failInternal(c, err)
		return
	}
	exp := now.Add(SessionTTL)
	if err := s.db.CreateSession(c, token, clerk.ID, exp); err != nil {
		s.failInternal(c, err)
		return
	}
	tok := base64.RawURLEncoding.EncodeToString(token)
	// The same token as a cookie for the Temporal UI's codec calls (codec.go).
	s.setCodecCookie(c, tok, exp)
	c.JSON(http.StatusOK, LoginResult{Token: tok, ExpiresAt: exp,
		Login: clerk.Login, DisplayName: clerk.DisplayName, Role: clerk.Role, MunicipalityCode: clerk.MunicipalityCode})
}

// dummyHash is a bcrypt hash of a random string, never a real password.
var dummyHash = func() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h, _ := bcrypt.GenerateFromPassword(b, bcrypt.DefaultCost)
	return string(h)
}()

// authenticate requires a live bearer token and puts the clerk in the context.
func (s *Server) authenticate(c *gin.Context) {
	raw, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if !ok {
		fail(c, http.StatusUnauthorized, "unauthenticated", "ログインしてください / Please log in.")
		return
	}
	s.admit(c, raw)
}

// requireRole lets only the given roles through.
func requireRole(roles ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		clerk := currentClerk(c)
		for _, r := range roles {
			if clerk.Role == r {
				c.Next()
				return
			}
		}
		fail(c, http.StatusForbidden, "forbidden", "この操作を行う権限がありません / You are not allowed to do this.")
	}
}

func currentClerk(c *gin.Context) storage.Clerk {
	v, _ := c.Get(clerkKey)
	clerk, _ := v.(storage.Clerk)
	return clerk
}
