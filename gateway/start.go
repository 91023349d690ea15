package gateway

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// syncWait bounds how long a synchronous procedure's start waits for its
// outcome; one that takes longer is answered 202 and runs on.
const syncWait = 30 * time.Second

// StartedResult answers a synchronous procedure: its case and outcome.
type StartedResult struct {
	CaseNumber string `json:"caseNumber"`
	Procedure  string `json:"procedure"`
	Status     string `json:"status"`
	// Detail is the procedure's result (serials, statuses; no personal data).
	Detail any `json:"detail,omitempty"`
}

// startFromCatalog starts a procedure whose start request the catalog
// defines: it reads and checks the request, the terminal and the holder
// before any case exists, so bad input changes nothing.
func (s *Server) startFromCatalog(c *gin.Context, p workflows.Procedure) {
	req := p.Start()
	if err := c.ShouldBindJSON(req); err != nil {
		fail(c, http.StatusBadRequest, "bad_request", "申請内容を読み取れませんでした / The request could not be read.")
		return
	}
	if r := req.Check(); r != nil {
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": apiError{Code: r.Code, Message: r.Message, Field: r.Field}})
		return
	}
	if t, ok := req.(workflows.OnTerminal); ok && t.Terminal() != "" {
		term, ok := s.officeTerminal(c, t.Terminal())
		if !ok {
			return
		}
		if _, resets := req.(workflows.ResetsPINs); resets && !term.PINReset {
			fail(c, http.StatusForbidden, "terminal_not_authorised", "この統合端末は暗証番号の初期化を認められていません / This terminal is not authorised to reset PINs.")
			return
		}
	}
	clerk := currentClerk(c)
	municipality := clerk.MunicipalityCode
	h, holder := req.(workflows.CertificateHolder)
	var resident string
	switch {
	case holder:
		resident, _, _ = h.Holder()
		m, ok := s.caseMunicipality(c, p, resident)
		if !ok || !s.checkHolder(c, h, m) {
			return
		}
		municipality = m
	case clerk.OfficeKind == workflows.OfficePostOffice:
		// A post office acts only for a named resident of a delegating
		// municipality: a request that names none is refused, not guessed.
		fail(c, http.StatusForbidden, "outside_delegation", "この手続はこの住民の市区町村から委任されていません / This office has no delegation for this procedure from this resident's municipality.")
		return
	}
	if d, ok := req.(workflows.AboutDisclosure); ok && !s.checkDisclosed(c, d) {
		return
	}
	input := func(n string) any {
		return req.Input(workflows.Opening{CaseNumber: n, Office: municipality, ActingOffice: clerk.MunicipalityCode, Clerk: clerk.Login, ClerkID: clerk.ID, Inquiry: s.inquiry})
	}
	// The case is recorded with whom it is about, for the disposal holds (第3 3).
	number, run, ok := s.open(c, p.Name, p.WorkflowType, municipality, resident, input)
	if !ok {
		return
	}
	if !p.Synchronous {
		c.JSON(http.StatusCreated, StartResult{CaseNumber: number, Procedure: p.Name})
		return
	}
	ctx, cancel := context.WithTimeout(c, syncWait)
	defer cancel()
	var out kit.Outcome[any]
	if err := run.Get(ctx, &out); err != nil {
		if ctx.Err() != nil {
			c.JSON(http.StatusAccepted, StartedResult{CaseNumber: number, Procedure: p.Name, Status: kit.StatusOpen})
			return
		}
		s.failTemporal(c, err)
		return
	}
	switch out.Status {
	case kit.StatusCompleted:
		c.JSON(http.StatusCreated, StartedResult{CaseNumber: number, Procedure: p.Name, Status: out.Status, Detail: out.Detail})
	case kit.StatusRejected:
		// The case is recorded as rejected; the request changed nothing.
		status := http.StatusConflict
		if out.Rejection != nil && slices.Contains(notFoundCodes, out.Rejection.Code) {
			status = http.StatusNotFound
		}
		code, msg := "rejected", "申請は受け付けられませんでした / The request was refused."
		if out.Rejection != nil {
			code, msg = out.Rejection.Code, out.Rejection.Message
		}
		c.AbortWithStatusJSON(status, gin.H{"error": apiError{Code: code, Message: msg}, "caseNumber": number})
	default:
		c.AbortWithStatusJSON(http.StatusBadGateway, gin.H{"error": apiError{Code: "not_completed",
			Message: "手続を完了できませんでした。受付番号で状況を確認してください / The procedure did not complete; look it up by its case number."}, "caseNumber": number})
	}
}

// notFoundCodes are rejections that mean the thing named does not exist.
var notFoundCodes = []string{"unknown_card", "unknown_certificate"}

// checkHolder answers 4xx unless the resident is the municipality's (the
// case's: the clerk's own, or the delegating one), every serial named is a
// certificate the municipality recorded for them, and the card named is
// theirs.
func (s *Server) checkHolder(c *gin.Context, h workflows.CertificateHolder, municipality string) bool {
	resident, serials, card := h.Holder()
	r, err := s.db.Resident(c, resident)
	markRegisterRead(c)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		s.failRegisterCheck(c, http.StatusNotFound, "not_in_register", "住民基本台帳に該当する住民票コードがありません / No resident with this resident code is in the register.")
		return false
	case err != nil:
		s.failInternal(c, err)
		return false
	case r.MunicipalityCode != municipality && currentClerk(c).OfficeKind != workflows.OfficeOrganization:
		// The Organization's own counter takes requests of any resident
		// (第2 3: it reads the 住基ネット); only the records requests list it.
		s.failRegisterCheck(c, http.StatusForbidden, "other_municipality_resident", "他の団体の住民の電子証明書です / These certificates are of another municipality's resident.")
		return false
	}
	for _, serial := range serials {
		cert, err := s.db.Certificate(c, serial)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			s.failRegisterCheck(c, http.StatusNotFound, "unknown_certificate", "このシリアル番号の電子証明書は記録されていません / No certificate with this serial number is recorded.")
			return false
		case err != nil:
			s.failInternal(c, err)
			return false
		case cert.ResidentCode != resident:
			s.failRegisterCheck(c, http.StatusForbidden, "not_holder", "この電子証明書はこの住民のものではありません / This certificate is not this resident's.")
			return false
		}
	}
	if card != "" {
		cd, err := s.db.Card(c, card)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			s.failRegisterCheck(c, http.StatusNotFound, "unknown_card", "このカードは登録されていません / This card is not registered.")
			return false
		case err != nil:
			s.failInternal(c, err)
			return false
		case cd.ResidentCode != resident:
			s.failRegisterCheck(c, http.StatusForbidden, "not_holder", "このカードはこの住民のものではありません / This card is not this resident's.")
			return false
		}
	}
	return true
}
