package gateway

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/madoguchi/madoguchi/internal/storage"
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
}

func viewTerminal(t storage.Terminal) TerminalView {
	v := TerminalView{ID: t.ID, Office: t.MunicipalityCode, Reader: t.ReaderName, PINReset: t.PINReset,
		Status: terminalStatus(t), StatusChangedBy: t.StatusChangedBy}
	if t.StatusChangedAt != nil {
		v.StatusChangedAt = t.StatusChangedAt.In(storage.Tokyo).Format(time.RFC3339)
	}
	return v
}

func terminalStatus(t storage.Terminal) string {
	if t.Status == "" {
		return storage.TerminalActive
	}
	return t.Status
}

func (s *Server) mountTerminals(api *gin.RouterGroup) {
	managers := api.Group("/terminals", requireRole("manager"))
	managers.GET("", s.listTerminals)
	managers.POST("/:id/suspend", s.terminalStatusChange([]string{storage.TerminalActive}, storage.TerminalSuspended))
	managers.POST("/:id/decommission", s.terminalStatusChange([]string{storage.TerminalActive, storage.TerminalSuspended}, storage.TerminalDecommissioned))
}

// listTerminals serves GET /api/terminals: the office's terminals.
func (s *Server) listTerminals(c *gin.Context) {
	ts, err := s.db.Terminals(c, currentClerk(c).MunicipalityCode)
	if err != nil {
		s.failInternal(c, err)
		return
	}
	out := make([]TerminalView, 0, len(ts))
	for _, t := range ts {
		out = append(out, viewTerminal(t))
	}
	c.JSON(http.StatusOK, gin.H{"terminals": out})
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
