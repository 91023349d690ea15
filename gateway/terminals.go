package gateway

import (
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// The counter terminals (統合端末, 第3 6): the office's managers see its
// terminals with their reader, PIN-reset authority and status, and suspend
// or decommission one. officeTerminal refuses any start on a terminal that
// is not active (403 terminal_suspended, terminal_decommissioned).

// TerminalView is a terminal as a manager sees it.
type TerminalView struct {
	ID     string `json:"id"`
	Office string `json:"office"`
	Reader string `json:"reader"`
	// PINReset: authorised by the Organization to reset PINs (第3 1).
	PINReset        bool   `json:"pinReset"`
	Status          string `json:"status"`
	StatusChangedBy int64  `json:"statusChangedBy,omitempty"`
	StatusChangedAt string `json:"statusChangedAt,omitempty"`
	// AgentIdentity is the card agent's worker identity.
	AgentIdentity string `json:"agentIdentity,omitempty"`
	RegisteredBy  int64  `json:"registeredBy,omitempty"`
	RegisteredAt  string `json:"registeredAt,omitempty"`
	// LastSeen is when the terminal's card agent last asked its task queue
	// for work, as the Temporal server saw it (empty: not in the last few
	// minutes the server remembers); LastSeenBy the identity it used.
	LastSeen   string `json:"lastSeen,omitempty"`
	LastSeenBy string `json:"lastSeenBy,omitempty"`
	// HoldsSealingKeys: it holds the office's sealing private keys.
	HoldsSealingKeys bool `json:"holdsSealingKeys"`
}

func viewTerminal(t storage.Terminal) TerminalView {
	v := TerminalView{ID: t.ID, Office: t.MunicipalityCode, Reader: t.ReaderName, PINReset: t.PINReset,
		Status: terminalStatus(t), StatusChangedBy: t.StatusChangedBy, AgentIdentity: t.AgentIdentity, RegisteredBy: t.RegisteredBy,
		HoldsSealingKeys: t.HoldsSealingKeys}
	if t.StatusChangedAt != nil {
		v.StatusChangedAt = t.StatusChangedAt.In(storage.Tokyo).Format(time.RFC3339)
	}
	if t.RegisteredAt != nil {
		v.RegisteredAt = t.RegisteredAt.In(storage.Tokyo).Format(time.RFC3339)
	}
	return v
}

// TerminalInput is the body of POST /api/terminals: a new terminal of the
// manager's office.
type TerminalInput struct {
	ID     string `json:"id"`
	Reader string `json:"reader"`
	// AgentIdentity is the identity its card agent's worker polls under
	// (MADOGUCHI_AGENT_IDENTITY of cmd/cardagent; optional).
	AgentIdentity string `json:"agentIdentity"`
	// HoldsSealingKeys: it will hold the office's sealing private keys
	// (relay PIN notices). Default: yes at a municipality; a post office's
	// terminals never do.
	HoldsSealingKeys *bool `json:"holdsSealingKeys"`
}

// PINResetInput is the body of POST /api/terminals/{id}/pin-reset.
type PINResetInput struct {
	Authorised *bool `json:"authorised"`
}

// DecommissionResult is the answer of POST /api/terminals/{id}/decommission.
type DecommissionResult struct {
	// The terminal, decommissioned.
	TerminalView
	// Cancelled are the open cases started on the terminal, now cancelled;
	// NotCancelled those that could not be (they end by their own bounds).
	Cancelled    []string `json:"cancelled"`
	NotCancelled []string `json:"notCancelled,omitempty"`
	// RetiredSealingKey is the office's sealing key retired with the
	// terminal: a new one must be made on a remaining terminal
	// (cmd/sealingkey rotate) before relay municipalities can seal to it.
	RetiredSealingKey string `json:"retiredSealingKey,omitempty"`
}

// terminalIDRE is a terminal id: it names a task queue, terminal.<id>.
var terminalIDRE = regexp.MustCompile(`^[A-Z][A-Z0-9]{3,15}$`)

func terminalStatus(t storage.Terminal) string {
	if t.Status == "" {
		return storage.TerminalActive
	}
	return t.Status
}

func (s *Server) mountTerminals(api *gin.RouterGroup) {
	managers := api.Group("/terminals", requireRole("manager"))
	managers.GET("", s.listTerminals)
	managers.POST("", s.registerTerminal)
	managers.POST("/:id/suspend", s.terminalStatusChange([]string{storage.TerminalActive}, storage.TerminalSuspended))
	managers.POST("/:id/decommission", s.decommissionTerminal)
	// The PIN-reset authority is the Organization's to grant (第3 1).
	api.POST("/terminals/:id/pin-reset", requireRole("operator"), s.setPINReset)
}

// setPINReset serves POST /api/terminals/{id}/pin-reset {"authorised"}:
// the Organization's operator grants or withdraws a terminal's authority
// to reset PINs; its card agent must then hold the terminal key the cards
// trust (docs/CARD.md §5a). A decommissioned or unknown terminal is 404.
func (s *Server) setPINReset(c *gin.Context) {
	var in PINResetInput
	if err := c.ShouldBindJSON(&in); err != nil || in.Authorised == nil {
		fail(c, http.StatusBadRequest, "bad_request", "authorised（true または false）を指定してください / Say authorised: true or false.")
		return
	}
	clerk := currentClerk(c)
	if clerk.OfficeKind != workflows.OfficeOrganization {
		fail(c, http.StatusForbidden, "forbidden", "この操作を行う権限がありません / You are not allowed to do this.")
		return
	}
	err := s.db.SetPINResetAuthority(c, c.Param("id"), *in.Authorised, clerk.ID, s.now())
	if errors.Is(err, storage.ErrNotFound) {
		fail(c, http.StatusNotFound, "unknown_terminal", "この統合端末は登録されていないか、廃止されています / No such terminal, or it is decommissioned.")
		return
	}
	if err != nil {
		s.failInternal(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"id": c.Param("id"), "pinReset": *in.Authorised})
}

// listTerminals serves GET /api/terminals: the office's terminals, each
// with when its card agent last polled for work.
func (s *Server) listTerminals(c *gin.Context) {
	ts, err := s.db.Terminals(c, currentClerk(c).MunicipalityCode)
	if err != nil {
		s.failInternal(c, err)
		return
	}
	out := make([]TerminalView, 0, len(ts))
	for _, t := range ts {
		v := viewTerminal(t)
		v.LastSeen, v.LastSeenBy = s.lastPoll(c, t.ID)
		out = append(out, v)
	}
	c.JSON(http.StatusOK, gin.H{"terminals": out})
}

// lastPoll is when a terminal's card agent last polled its activity task
// queue, and under which identity, from the Temporal server's pollers. A
// failure to ask is logged and shown as not seen: the list still answers.
func (s *Server) lastPoll(c *gin.Context, id string) (string, string) {
	d, err := s.temporal.DescribeTaskQueue(c, contract.TerminalTaskQueue(id), enumspb.TASK_QUEUE_TYPE_ACTIVITY)
	if err != nil {
		s.log.Warn("terminal pollers not read", "terminal", id, "err", err)
		return "", ""
	}
	var last time.Time
	by := ""
	for _, p := range d.GetPollers() {
		if t := p.GetLastAccessTime().AsTime(); p.GetLastAccessTime() != nil && t.After(last) {
			last, by = t, p.GetIdentity()
		}
	}
	if last.IsZero() {
		return "", ""
	}
	return last.In(storage.Tokyo).Format(time.RFC3339), by
}

// registerTerminal serves POST /api/terminals: the office's manager
// registers a counter terminal, active from now. Its PIN-reset authority is
// the Organization's to grant (migration 008), never part of registration.
func (s *Server) registerTerminal(c *gin.Context) {
	clerk := currentClerk(c)
	var in TerminalInput
	if err := c.ShouldBindJSON(&in); err != nil {
		fail(c, http.StatusBadRequest, "bad_request", "統合端末の内容を読み取れませんでした / The terminal could not be read.")
		return
	}
	if !terminalIDRE.MatchString(in.ID) {
		fail(c, http.StatusBadRequest, "bad_terminal_id", "端末番号は英大文字で始まる英大文字・数字4〜16文字です（例: T0003） / A terminal id is 4 to 16 capital letters and digits, starting with a letter (e.g. T0003).")
		return
	}
	in.Reader, in.AgentIdentity = strings.TrimSpace(in.Reader), strings.TrimSpace(in.AgentIdentity)
	if in.Reader == "" || utf8.RuneCountInString(in.Reader) > 200 {
		fail(c, http.StatusBadRequest, "bad_reader", "カードリーダー名を200文字以内で入力してください / Enter the card reader's name, within 200 characters.")
		return
	}
	if utf8.RuneCountInString(in.AgentIdentity) > 200 {
		fail(c, http.StatusBadRequest, "bad_agent_identity", "カードエージェントの識別名は200文字以内です / The card agent's identity is at most 200 characters.")
		return
	}
	holds := clerk.OfficeKind == workflows.OfficeMunicipality
	if in.HoldsSealingKeys != nil {
		if *in.HoldsSealingKeys && !holds {
			fail(c, http.StatusBadRequest, "no_sealing_keys_here", "郵便局等の端末は封緘鍵を保持しません / Only a municipality's terminals hold sealing keys.")
			return
		}
		holds = *in.HoldsSealingKeys
	}
	now := s.now()
	t := storage.Terminal{ID: in.ID, MunicipalityCode: clerk.MunicipalityCode, ReaderName: in.Reader, AgentIdentity: in.AgentIdentity,
		Status: storage.TerminalActive, RegisteredBy: clerk.ID, RegisteredAt: &now, HoldsSealingKeys: holds}
	switch err := s.db.RegisterTerminal(c, t); {
	case errors.Is(err, storage.ErrTerminalExists):
		fail(c, http.StatusConflict, "terminal_exists", "この端末番号またはカードエージェントは既に登録されています / A terminal with this id or card agent is registered already.")
		return
	case err != nil:
		s.failInternal(c, err)
		return
	}
	c.JSON(http.StatusCreated, viewTerminal(t))
}

// decommissionTerminal serves POST /api/terminals/{id}/decommission: the
// office's manager decommissions a terminal for good. With it, the
// office's sealing key is retired and every open case started on the
// terminal is cancelled, so its task queue gets no more work: a case
// cancelled mid-step compensates as any cancelled case does.
func (s *Server) decommissionTerminal(c *gin.Context) {
	clerk := currentClerk(c)
	t, err := s.db.Terminal(c, c.Param("id"))
	if errors.Is(err, storage.ErrNotFound) || (err == nil && t.MunicipalityCode != clerk.MunicipalityCode) {
		failUnknownTerminal(c)
		return
	}
	if err != nil {
		s.failInternal(c, err)
		return
	}
	now := s.now()
	d, err := s.db.DecommissionTerminal(c, t.ID, []string{storage.TerminalActive, storage.TerminalSuspended}, clerk.ID, now)
	if errors.Is(err, storage.ErrTerminalStatus) {
		fail(c, http.StatusConflict, "terminal_decommissioned", "この統合端末は既に廃止されています / This terminal is already decommissioned.")
		return
	}
	if err != nil {
		s.failInternal(c, err)
		return
	}
	t.Status, t.StatusChangedBy, t.StatusChangedAt = storage.TerminalDecommissioned, clerk.ID, &now
	res := DecommissionResult{TerminalView: viewTerminal(t), Cancelled: []string{}, RetiredSealingKey: d.RetiredSealingKey}
	for _, number := range d.OpenCases {
		if s.cancelForTerminal(c, number, t.ID, clerk.Login) {
			res.Cancelled = append(res.Cancelled, number)
		} else {
			res.NotCancelled = append(res.NotCancelled, number)
		}
	}
	c.JSON(http.StatusOK, res)
}

// cancelForTerminal cancels an open case because its terminal was
// decommissioned. A case that has ended meanwhile, or refuses, is logged
// and reported: its own bounds end it.
func (s *Server) cancelForTerminal(c *gin.Context, number, terminal, login string) bool {
	cs, err := s.db.Case(c, number)
	if err != nil {
		s.log.Warn("case of a decommissioned terminal not read", "case", number, "err", err)
		return false
	}
	h, err := s.temporal.UpdateWorkflow(c, client.UpdateWorkflowOptions{
		WorkflowID: cs.WorkflowID, UpdateName: kit.CancelUpdate, WaitForStage: client.WorkflowUpdateStageCompleted,
		Args: []any{kit.CancelInput{Clerk: login, Reason: "統合端末 " + terminal + " の廃止 / terminal " + terminal + " decommissioned"}},
	})
	if err == nil {
		var res kit.CancelResult
		err = h.Get(c, &res)
	}
	if err != nil {
		s.log.Warn("case of a decommissioned terminal not cancelled", "case", number, "err", err)
		return false
	}
	return true
}

func failUnknownTerminal(c *gin.Context) {
	fail(c, http.StatusNotFound, "unknown_terminal", "この団体の統合端末ではありません / This terminal does not belong to your office.")
}

// terminalStatusChange serves POST /api/terminals/{id}/suspend and
// /decommission: the office's manager changes a terminal's status, from
// the statuses from only (409 otherwise). Another office's terminal is
// answered as an unknown one.
func (s *Server) terminalStatusChange(from []string, to string) gin.HandlerFunc {
	return func(c *gin.Context) {
		clerk := currentClerk(c)
		t, err := s.db.Terminal(c, c.Param("id"))
		if errors.Is(err, storage.ErrNotFound) || (err == nil && t.MunicipalityCode != clerk.MunicipalityCode) {
			failUnknownTerminal(c)
			return
		}
		if err != nil {
			s.failInternal(c, err)
			return
		}
		conflict := func() {
			if terminalStatus(t) == storage.TerminalDecommissioned {
				fail(c, http.StatusConflict, "terminal_decommissioned", "この統合端末は既に廃止されています / This terminal is already decommissioned.")
				return
			}
			fail(c, http.StatusConflict, "already_"+to, "この統合端末は既にこの状態です / The terminal is already "+to+".")
		}
		ok := false
		for _, f := range from {
			ok = ok || terminalStatus(t) == f
		}
		if !ok {
			conflict()
			return
		}
		now := s.now()
		if err := s.db.SetTerminalStatus(c, t.ID, from, to, clerk.ID, now); err != nil {
			if errors.Is(err, storage.ErrTerminalStatus) {
				conflict()
				return
			}
			s.failInternal(c, err)
			return
		}
		t.Status, t.StatusChangedBy, t.StatusChangedAt = to, clerk.ID, &now
		c.JSON(http.StatusOK, viewTerminal(t))
	}
}
