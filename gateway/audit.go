package gateway

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// auditChain serves GET /api/audit/chain: the chain of the clerk's own
// office verified (storage.VerifyAuditChain, docs/AUDIT.md), for its
// auditors and managers. It changes nothing. The answer is 200 either way:
// "ok" true, or false with the first broken link.
func (s *Server) auditChain(c *gin.Context) {
	clerk := currentClerk(c)
	rep, err := s.db.VerifyAuditChain(c, clerk.MunicipalityCode)
	if err != nil {
		s.failInternal(c, err)
		return
	}
	// A broken link is an edit made outside the program: recorded as an
	// attempt (第3 10), once per break.
	if _, err := s.db.RecordChainBreak(c, rep, "chain check by "+clerk.Login, s.now()); err != nil {
		s.failInternal(c, err)
		return
	}
	c.JSON(http.StatusOK, rep)
}
