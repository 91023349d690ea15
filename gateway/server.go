// Package gateway is the staff-facing HTTP API (gin). It authenticates
// clerks, scopes every request to the clerk's municipality and role, starts
// procedures, forwards the clerk's steps as updates and answers state
// queries. It never touches a card or the HSM.
package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/madoguchi/madoguchi/internal/config"
	"github.com/madoguchi/madoguchi/internal/metrics"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
)

// Store is what the gateway needs of the municipal database.
type Store interface {
	ClerkByLogin(ctx context.Context, login string) (storage.Clerk, error)
	CreateSession(ctx context.Context, token []byte, clerkID int64, expires time.Time) error
	SessionClerk(ctx context.Context, token []byte, now time.Time) (storage.Clerk, error)
	Terminal(ctx context.Context, id string) (storage.Terminal, error)
	NextCaseNumber(ctx context.Context, municipality string, now time.Time) (string, error)
	InsertCase(ctx context.Context, c storage.Case) error
	Case(ctx context.Context, number string) (storage.Case, error)
	InquiryPDF(ctx context.Context, caseNumber string) ([]byte, error)
	Resident(ctx context.Context, code string) (storage.Resident, error)
	Card(ctx context.Context, serial string) (storage.Card, error)
	Certificate(ctx context.Context, serial string) (storage.IssuedCertificate, error)
	MunicipalityName(ctx context.Context, code string) (string, error)
	// Delegations (delegation.go).
	Office(ctx context.Context, code string) (kind, name string, err error)
	Delegations(ctx context.Context, office string) ([]storage.Delegation, error)
	DelegationsBetween(ctx context.Context, municipality, office string) ([]storage.Delegation, error)
	Delegation(ctx context.Context, id int64) (storage.Delegation, error)
	CreateDelegation(ctx context.Context, d storage.Delegation, actor int64, at time.Time) (int64, error)
	NotifyDelegation(ctx context.Context, id int64, on time.Time, actor int64, at time.Time) error
	EndDelegation(ctx context.Context, id int64, on time.Time, actor int64, at time.Time) error
	// The audit trail's hash chain (audit.go).
	VerifyAuditChain(ctx context.Context, office string) (storage.ChainReport, error)
	VerifyAccessChain(ctx context.Context, office string) (storage.ChainReport, error)
	// The access log of case histories (history.go).
	AccessLogger
	// The complaints and inquiries register (complaints.go).
	RecordComplaint(ctx context.Context, k storage.Complaint) (int64, error)
	Complaint(ctx context.Context, id int64) (storage.Complaint, error)
	Complaints(ctx context.Context, f storage.ComplaintFilter) ([]storage.Complaint, error)
	AnswerComplaint(ctx context.Context, id int64, response string, actor int64, at time.Time) error
	// The counter terminals (terminals.go).
	Terminals(ctx context.Context, office string) ([]storage.Terminal, error)
	SetTerminalStatus(ctx context.Context, id string, from []string, to string, actor int64, at time.Time) error
	RegisterTerminal(ctx context.Context, t storage.Terminal) error
	SetPINResetAuthority(ctx context.Context, id string, grant bool, actor int64, at time.Time) error
	DecommissionTerminal(ctx context.Context, id string, from []string, actor int64, at time.Time) (storage.Decommissioned, error)
	SetCaseTerminal(ctx context.Context, number, terminal string) error
	// Sign-in throttling and the staff accounts (auth.go, accounts.go).
	SignInCheck(ctx context.Context, login, address string, now time.Time) (storage.SignInState, error)
	LoginFailed(ctx context.Context, login, address string, now time.Time) (bool, error)
	LoginSucceeded(ctx context.Context, login string) error
	EndSession(ctx context.Context, token []byte) error
	Accounts(ctx context.Context, office string) ([]storage.Account, error)
	Account(ctx context.Context, login string) (storage.Account, error)
	CreateAccount(ctx context.Context, a storage.Account, passwordHash string, e storage.AccountEvent) error
	ChangeAccount(ctx context.Context, office, login string, ch storage.AccountChange, e storage.AccountEvent) error
	// The register of refused attempts (refusals.go).
	RecordRefusal(ctx context.Context, r storage.Refusal) (int64, error)
	Refusals(ctx context.Context, f storage.RefusalFilter) ([]storage.Refusal, error)
	RecordChainBreak(ctx context.Context, rep storage.ChainReport, actor string, at time.Time) (bool, error)
	// The day's disposal lists (disposals.go).
	DisposalList(ctx context.Context, office string, day time.Time) (storage.DisposalList, error)
	RetentionPeriods(ctx context.Context, municipality string) (storage.RetentionSettings, error)
	SetRetentionPeriod(ctx context.Context, municipality, docType string, years int) error
	// The fee reports (fees.go).
	FeeReport(ctx context.Context, office string, from, to time.Time) (storage.FeeReport, error)
}

// Server is the gateway.
type Server struct {
	db       Store
	temporal client.Client
	codec    converter.PayloadCodec
	log      *slog.Logger
	now      func() time.Time
	inquiry  workflows.InquiryPolicy
	// uiOrigin is the Temporal UI's origin, the only one the codec endpoint
	// answers with CORS (MADOGUCHI_TEMPORAL_UI).
	uiOrigin string
}

// New builds a gateway. codec serves the Temporal UI's codec endpoint;
// inquiry is the municipality's proxy-inquiry policy (zero: the default).
func New(db Store, tc client.Client, codec converter.PayloadCodec, log *slog.Logger, inquiry workflows.InquiryPolicy) *Server {
	return &Server{db: db, temporal: tc, codec: codec, log: log, now: time.Now, inquiry: inquiry,
		uiOrigin: originOf(config.FromEnv().TemporalUI)}
}

// Handler returns the HTTP routes.
func (s *Server) Handler() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// The peer's address is the connection's: a forwarded-for header is
	// not believed (it would let anyone pick the address sign-in failures
	// are counted against).
	_ = r.SetTrustedProxies(nil)
	r.Use(gin.Recovery(), countRequests, limitBody)
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"ok": true}) })
	r.POST("/api/login", s.login)

	api := r.Group("/api", s.authenticate)
	api.GET("/cases", s.listCases)
	api.GET("/waiting", s.waiting)
	// Open cases with a legal deadline, the overdue ones marked (法第59条).
	api.GET("/deadlines", requireRole("manager", "auditor", "operator"), s.deadlines)
	api.GET("/cases/:case", s.caseState)
	api.GET("/cases/:case/inquiry.pdf", s.inquiryPDF)
	api.GET("/cases/:case/revocation-notice.pdf", s.revocationNotice)
	// The Organization's records letters, for its operators to print (records.go).
	for _, file := range []string{"disclosure-notice.pdf", "extension-notice.pdf", "correction-notice.pdf"} {
		api.GET("/cases/:case/"+file, requireRole("operator"), s.recordsLetter(file))
	}
	// A case's decoded history, for its own municipality's managers and
	// auditors; every opening is recorded in the access log, which the
	// auditors and managers search (history.go).
	api.GET("/cases/:case/history", requireRole("manager", "auditor"), s.caseHistory)
	api.GET("/access-log", requireRole("manager", "auditor"), s.accessLog)
	// Who may start which procedure is the catalog's (startProcedure).
	api.POST("/procedures/:procedure", s.startProcedure)
	// The Organization's operators do their own cases' steps (a disclosure,
	// a correction decision); scopedCase keeps everyone to their office.
	// Auditors take only the steps the catalog gives them (an audit
	// finding's), refused before the case is looked at otherwise.
	api.POST("/cases/:case/:step", requireStepRole, s.clerkStep)
	// The resident register's changes (第2 2(3)): register_events.go.
	s.mountRegisterEvents(api)
	// Delegations (第2 5, 第2 6): recorded by the delegating municipality's
	// manager, read by the managers and auditors of either side.
	api.GET("/delegations", requireRole("manager", "auditor"), s.listDelegations)
	managers := api.Group("/delegations", requireRole("manager"))
	managers.POST("", s.createDelegation)
	managers.POST("/:id/notice", s.notifyDelegation)
	managers.POST("/:id/end", s.endDelegation)
	// The audit trail's hash chain of the own office, verified (第3 10):
	// auditors and managers read it; nothing changes.
	api.GET("/audit/chain", requireRole("manager", "auditor"), s.auditChain)
	// The compliance audit's report of the own office for a period, CSV or
	// PDF (第3 10): auditors and managers; nothing changes (audit_report.go).
	api.GET("/audit/report", requireRole("manager", "auditor"), s.auditReport)
	// The complaints and inquiries register (第3 7): recorded by clerks and
	// managers, answered by managers, read by managers and auditors.
	s.mountComplaints(api)
	// The counter terminals (第3 6): the office's managers list them and
	// suspend or decommission one (terminals.go).
	s.mountTerminals(api)
	// Sign-out and the office's staff accounts (accounts.go).
	s.mountAccounts(api)
	// The refused attempts (第3 10): read by managers and auditors (refusals.go).
	api.GET("/refusals", requireRole("manager", "auditor"), s.listRefusals)
	// The day's disposal lists (第3 3): read by managers and auditors,
	// submitted by a manager and approved by another (disposals.go).
	s.mountDisposals(api)
	// The retention periods per document type (第3 3): set by managers.
	s.mountRetention(api)
	// The fee reports (第3 5): the office's managers and auditors (fees.go).
	api.GET("/fees/report", requireRole("manager", "auditor"), s.feeReport)

	// The Temporal UI decodes encrypted payloads here: managers only, their
	// own municipality's only (codec.go).
	s.mountCodec(r)
	// The staff console (console.go): pages over this API.
	s.mountConsole(r)
	return r
}

// countRequests counts each answer by its route's pattern (never the path
// itself, which holds case numbers) and status code.
func countRequests(c *gin.Context) {
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	metrics.HTTPRequests.WithLabelValues(route, strconv.Itoa(c.Writer.Status())).Inc()
}

// Request body limits: MaxBody for every route but the register's batch
// intake, which takes up to 100,000 changes (MaxBatchBody).
const (
	MaxBody      = 1 << 20
	MaxBatchBody = 64 << 20
)

// limitBody refuses a body larger than the route's limit with 413 before
// it is read when its length is declared, and cuts it at the limit when it
// is not (the read then fails and the route answers 400).
func limitBody(c *gin.Context) {
	limit := int64(MaxBody)
	if c.Request.URL.Path == "/api/register-events/batch" {
		limit = MaxBatchBody
	}
	if c.Request.ContentLength > limit {
		fail(c, http.StatusRequestEntityTooLarge, "body_too_large", "送信された内容が大きすぎます / The request is too large.")
		return
	}
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	}
	c.Next()
}
