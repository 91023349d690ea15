package gateway

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/madoguchi/madoguchi/console"
	"github.com/madoguchi/madoguchi/internal/config"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
)

// sessionEnder is a store that can end a session at sign-out.
type sessionEnder interface {
	EndSession(ctx context.Context, token []byte) error
}

// mountConsole serves the staff console (package console) under /console/.
// It calls this gateway's own API in-process, so every start and step goes
// through the same code as the JSON API; its session is the API's.
func (s *Server) mountConsole(r *gin.Engine) {
	h := console.New(console.Options{
		API:     r,
		Session: s.consoleSession,
		EndSession: func(ctx context.Context, raw string) error {
			token, err := decodeToken(raw)
			if err != nil {
				return nil
			}
			if e, ok := s.db.(sessionEnder); ok {
				return e.EndSession(ctx, token)
			}
			return nil
		},
		// The issuance family's start requests are the gateway's own.
		Starts: map[string]any{
			workflows.ProcedureInPersonIssuance: StartInPersonIssuanceInput{},
			workflows.ProcedureProxyIssuance:    StartProxyIssuanceInput{},
			workflows.ProcedureRelayForwarding:  StartRelayForwardingInput{},
		},
		TTL:        SessionTTL,
		Secure:     consoleSecure(os.Getenv("MADOGUCHI_CONSOLE_SECURE_COOKIE")),
		Log:        s.log,
		TemporalUI: temporalUILink(config.FromEnv()),
		Now:        func() time.Time { return s.now() },
	})
	r.Any("/console/*path", gin.WrapH(h))
	r.GET("/console", func(c *gin.Context) { c.Redirect(http.StatusSeeOther, console.Prefix) })
}

// temporalUILink is the address of a workflow in the Temporal UI
// (MADOGUCHI_TEMPORAL_UI), which decodes through the codec endpoint.
func temporalUILink(cfg config.Config) func(workflowID string) string {
	ui := strings.TrimRight(strings.TrimSpace(cfg.TemporalUI), "/")
	if originOf(ui) == "" {
		return nil
	}
	return func(id string) string {
		return ui + "/namespaces/" + url.PathEscape(cfg.TemporalNamespace) + "/workflows/" + url.PathEscape(id)
	}
}

// consoleSession is the clerk of a live session token, with the office's name.
func (s *Server) consoleSession(ctx context.Context, raw string) (console.Clerk, error) {
	token, err := decodeToken(raw)
	if err != nil {
		return console.Clerk{}, console.ErrNoSession
	}
	clerk, err := s.db.SessionClerk(ctx, token, s.now())
	if errors.Is(err, storage.ErrNotFound) {
		return console.Clerk{}, console.ErrNoSession
	}
	if err != nil {
		return console.Clerk{}, err
	}
	_, name, err := s.db.Office(ctx, clerk.MunicipalityCode)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return console.Clerk{}, err
	}
	return console.Clerk{Login: clerk.Login, DisplayName: clerk.DisplayName, Role: clerk.Role,
		Office: clerk.MunicipalityCode, OfficeKind: clerk.OfficeKind, OfficeName: name}, nil
}

// consoleSecure says when the console's cookies are Secure:
// MADOGUCHI_CONSOLE_SECURE_COOKIE=1 always, =0 never (plain http on
// loopback only), unset: unless the request came over plain http to a
// loopback address.
func consoleSecure(setting string) func(r *http.Request) bool {
	switch setting {
	case "1", "true":
		return func(*http.Request) bool { return true }
	case "0", "false":
		return func(*http.Request) bool { return false }
	}
	return func(r *http.Request) bool {
		if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
			return true
		}
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host
		}
		if host == "localhost" {
			return false
		}
		ip := net.ParseIP(host)
		return ip == nil || !ip.IsLoopback()
	}
}
