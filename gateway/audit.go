package gateway

import (
	"github.com/madoguchi/madoguchi/internal/storage"

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
	acc, err := s.db.VerifyAccessChain(c, clerk.MunicipalityCode)
	if err != nil {
		s.failInternal(c, err)
		return
	}
	// A broken link is an edit made outside the program: recorded as an
	// attempt (第3 10), once per break.
	for _, r := range []storage.ChainReport{rep, acc} {
		if _, err := s.db.RecordChainBreak(c, r, "chain check by "+clerk.Login, s.now()); err != nil {
			s.failInternal(c, err)
			return
		}
	}
	// ok: both the case events' chain and the access log's are intact.
	rep.AccessLog, rep.OK = &acc, rep.OK && acc.OK
	c.JSON(http.StatusOK, rep)
}
