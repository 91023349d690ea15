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
	rep, err := s.db.VerifyAuditChain(c, currentClerk(c).MunicipalityCode)
	if err != nil {
		s.failInternal(c, err)
		return
	}
	c.JSON(http.StatusOK, rep)
}
