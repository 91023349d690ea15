package gateway

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/madoguchi/madoguchi/internal/notice"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
)

// revocationNotice serves GET /api/cases/{case}/revocation-notice.pdf: the
// notice (失効通知書) of a completed revocation, rendered from the case's
// outcome and the register and never stored, since it names the holder.
func (s *Server) revocationNotice(c *gin.Context) {
	cs, ok := s.scopedCase(c)
	if !ok {
		return
	}
	st, err := s.queryState(c, cs.WorkflowID)
	if err != nil {
		s.failTemporal(c, err)
		return
	}
	if st.CertStatus == nil || st.Status != workflows.StatusCompleted || len(st.CertStatus.Revoked) == 0 || !st.CertStatus.Reason.IsRevocation() {
		fail(c, http.StatusConflict, "no_revocation_notice", "この手続には失効通知書がありません（失効が完了していません） / This procedure has no revocation notice: nothing was revoked.")
		return
	}
	// The holder is the one the municipality recorded for the serials.
	cert, err := s.db.Certificate(c, st.CertStatus.Revoked[0].Serial)
	if err != nil {
		s.failInternal(c, err)
		return
	}
	// The notice prints the holder's register record (第3 8).
	if !s.recordRead(c, storage.AccessRegisterRecord, cs.CaseNumber, cs.MunicipalityCode, "revocation_notice") {
		return
	}
	holder, err := s.db.Resident(c, cert.ResidentCode)
	if err != nil {
		s.failInternal(c, err)
		return
	}
	muni, err := s.db.MunicipalityName(c, cs.MunicipalityCode)
	if err != nil {
		s.failInternal(c, err)
		return
	}
	n := notice.Revocation{CaseNumber: cs.CaseNumber, MunicipalityName: muni, HolderName: holder.Name, HolderAddress: holder.Address,
		Reason: st.CertStatus.Reason, IssuedOn: st.CertStatus.Revoked[0].At}
	for _, r := range st.CertStatus.Revoked {
		n.Certificates = append(n.Certificates, notice.Revoked{Kind: r.Kind, Serial: r.Serial, RevokedAt: r.At})
	}
	pdf, err := notice.RenderRevocation(n)
	if err != nil {
		s.failInternal(c, err)
		return
	}
	c.Header("Content-Disposition", `inline; filename="revocation-notice-`+cs.CaseNumber+`.pdf"`)
	c.Data(http.StatusOK, "application/pdf", pdf)
}
