package gateway

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/madoguchi/madoguchi/internal/renewal"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
)

// renewalCheckWait bounds the look-up of a renewal code at the Organization.
const renewalCheckWait = 15 * time.Second

// checkRenewalCode reads the renewal code of an expiry notice's
// proxy-renewal form before any case exists: it asks the Organization
// (workflows.CheckRenewalCode: the counter has no access to its database)
// and answers 4xx unless the code is known, unused, not past its
// certificate's expiry and the applicant's. It returns the code's hash,
// which is all the procedure carries. Whether the applicant is the
// case's municipality's resident is renewalHolderHere's check.
func (s *Server) checkRenewalCode(c *gin.Context, code, resident string) (string, bool) {
	if !renewal.Valid(code) {
		fail(c, http.StatusBadRequest, "bad_renewal_code", "更新コードは16文字（4文字ずつ4組）で入力してください / Enter the renewal code as printed: 16 characters in 4 groups of 4.")
		return "", false
	}
	hash := renewal.Hash(code)
	// The clerk waits at the counter: a CA worker that does not answer
	// soon is the back office being unavailable, not a long wait.
	ctx, cancel := context.WithTimeout(c, renewalCheckWait)
	defer cancel()
	h, err := workflows.CheckRenewalCode(ctx, s.temporal, hash)
	if err != nil {
		s.failTemporal(c, err)
		return "", false
	}
	switch {
	case !h.Found:
		fail(c, http.StatusNotFound, "unknown_renewal_code", "この更新コードは有効期限通知書にありません。委任状の更新コードを確かめてください / No expiry notice has this renewal code; check the code on the form.")
	case h.UsedByCase != "":
		fail(c, http.StatusConflict, "renewal_code_used", "この更新コードは既に使われています / This renewal code has already been used.")
	case !s.now().Before(h.CodeExpiresAt):
		fail(c, http.StatusConflict, "renewal_code_expired", "電子証明書の有効期限を過ぎたため、この更新コードは使えません。新たに発行の手続をしてください / The certificate has expired; this renewal code can no longer be used. Apply for a new issuance.")
	case h.ResidentCode != resident:
		fail(c, http.StatusForbidden, "renewal_code_other_holder", "この更新コードは申請者の有効期限通知書のものではありません / This renewal code is not from the applicant's expiry notice.")
	default:
		return hash, true
	}
	return "", false
}

// renewalHolderHere answers 4xx unless the code's holder is in the
// register as the case's municipality's resident: a renewal from a code
// starts no case a register check would only refuse later.
func (s *Server) renewalHolderHere(c *gin.Context, resident, municipality string) bool {
	r, err := s.db.Resident(c, resident)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		fail(c, http.StatusNotFound, "not_in_register", "住民基本台帳に該当する住民票コードがありません / No resident with this resident code is in the register.")
		return false
	case err != nil:
		s.failInternal(c, err)
		return false
	case r.MunicipalityCode != municipality:
		fail(c, http.StatusForbidden, "renewal_code_other_municipality", "この更新コードは他の団体の住民の有効期限通知書のものです / This renewal code is from another municipality's resident's expiry notice.")
		return false
	}
	return true
}
