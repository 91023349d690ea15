package gateway

import (
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/madoguchi/madoguchi/internal/storage"
)

// Refused attempts (issue 12 item 8, 第3 10): an act the rules forbid is
// refused with a 4xx, and the attempt is recorded in the register of
// refused attempts, which the office's managers and auditors read.

// refusalKinds are the kinds GET /api/refusals filters by.
var refusalKinds = []string{storage.RefusalDisposalWithoutApproval, storage.RefusalApprovalOfOwnList,
	storage.RefusalFeeTypedByHand, storage.RefusalAuditRowEdited}

// RefusalView is a refused attempt as a manager or auditor sees it.
type RefusalView struct {
	ID      int64  `json:"id"`
	Manual  string `json:"manual"`
	Office  string `json:"office"`
	Kind    string `json:"kind"`
	Actor   string `json:"actor"`
	Subject string `json:"subject,omitempty"`
	Reason  string `json:"reason"`
	At      string `json:"at"`
}

// refuse records the signed-in clerk's refused attempt of their office. A
// failure to record is logged, not answered: the refusal itself stands.
func (s *Server) refuse(c *gin.Context, kind, subject, reason string) {
	clerk := currentClerk(c)
	if _, err := s.db.RecordRefusal(c, storage.Refusal{Office: clerk.MunicipalityCode, Kind: kind, Actor: clerk.Login,
		Subject: subject, Reason: reason, At: s.now()}); err != nil {
		s.log.Error("refused attempt not recorded", "kind", kind, "err", err)
	}
}

// listRefusals serves GET /api/refusals?kind=&from=&to=: the office's
// refused attempts, the newest first; from and to are days (to included).
func (s *Server) listRefusals(c *gin.Context) {
	f := storage.RefusalFilter{Office: currentClerk(c).MunicipalityCode, Kind: c.Query("kind")}
	if f.Kind != "" && !slices.Contains(refusalKinds, f.Kind) {
		fail(c, http.StatusBadRequest, "bad_kind", "区分は disposal_without_approval・approval_of_own_list・fee_typed_by_hand・audit_row_edited のいずれかです / Unknown kind of refused attempt.")
		return
	}
	for _, q := range []struct {
		name string
		to   *time.Time
		days int
	}{{"from", &f.From, 0}, {"to", &f.To, 1}} {
		if v := c.Query(q.name); v != "" {
			d, ok := parseDay(v)
			if !ok {
				failBadDate(c)
				return
			}
			// A day in Tokyo: from its start, to the start of the next.
			*q.to = time.Date(d.Year(), d.Month(), d.Day()+q.days, 0, 0, 0, 0, storage.Tokyo)
		}
	}
	rs, err := s.db.Refusals(c, f)
	if err != nil {
		s.failInternal(c, err)
		return
	}
	out := make([]RefusalView, 0, len(rs))
	for _, r := range rs {
		out = append(out, RefusalView{ID: r.ID, Manual: "第3 10", Office: r.Office, Kind: r.Kind, Actor: r.Actor, Subject: r.Subject,
			Reason: r.Reason, At: r.At.In(storage.Tokyo).Format(time.RFC3339)})
	}
	c.JSON(http.StatusOK, gin.H{"refusals": out})
}
