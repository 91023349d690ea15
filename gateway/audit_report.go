package gateway

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/madoguchi/madoguchi/internal/auditreport"
	"github.com/madoguchi/madoguchi/internal/storage"
)

// AuditReportStore is what the audit report reads of the municipal
// database (storage.DB).
type AuditReportStore interface {
	ReportCases(ctx context.Context, municipality string, from, to time.Time) ([]storage.ReportCase, error)
	PINConfirmations(ctx context.Context, municipality string, from, to time.Time) ([]storage.PINConfirmation, error)
	AccessSummary(ctx context.Context, municipality string, from, to time.Time) ([]storage.AccessCount, error)
	ReportDisposals(ctx context.Context, office string, from, to time.Time) ([]storage.ReportDisposal, bool, error)
}

// maxReportDays bounds a report's period.
const maxReportDays = 366

// reportRefusalLimit bounds the refused attempts one report lists.
const reportRefusalLimit = 10000

// auditReport serves GET /api/audit/report?from=YYYY-MM-DD&to=YYYY-MM-DD&
// format=csv|pdf (第3 10 準拠性監査): the report of the clerk's own office
// for the cases opened from the first day to the last (Japan, inclusive),
// for its auditors and managers; it changes nothing and holds no personal
// data (internal/auditreport, docs/AUDIT.md).
func (s *Server) auditReport(c *gin.Context) {
	format := c.DefaultQuery("format", "csv")
	if format != "csv" && format != "pdf" {
		fail(c, http.StatusBadRequest, "bad_format", "format は csv か pdf です / format must be csv or pdf.")
		return
	}
	fromDay, okFrom := parseDay(c.Query("from"))
	toDay, okTo := parseDay(c.Query("to"))
	if !okFrom || !okTo {
		fail(c, http.StatusBadRequest, "bad_date", "from と to（報告の期間）を YYYY-MM-DD の形式で入力してください / Enter the period's from and to as YYYY-MM-DD.")
		return
	}
	if toDay.Before(fromDay) || toDay.Sub(fromDay) >= maxReportDays*24*time.Hour {
		fail(c, http.StatusBadRequest, "bad_period", "期間は from から to まで（366日以内）で指定してください / The period must run from from to to, at most 366 days.")
		return
	}
	rs, ok := s.db.(AuditReportStore)
	if !ok {
		s.failInternal(c, errNoReportStore)
		return
	}
	clerk := currentClerk(c)
	office := clerk.MunicipalityCode
	// The period's instants: from the first day's start to the day after
	// the last, in Japan.
	from := time.Date(fromDay.Year(), fromDay.Month(), fromDay.Day(), 0, 0, 0, 0, storage.Tokyo)
	to := time.Date(toDay.Year(), toDay.Month(), toDay.Day(), 0, 0, 0, 0, storage.Tokyo).AddDate(0, 0, 1)
	_, name, err := s.db.Office(c, office)
	if err != nil {
		s.failInternal(c, err)
		return
	}
	cases, err := rs.ReportCases(c, office, from, to)
	if err != nil {
		s.failInternal(c, err)
		return
	}
	pins, err := rs.PINConfirmations(c, office, from, to)
	if err != nil {
		s.failInternal(c, err)
		return
	}
	refusals, err := s.db.Refusals(c, storage.RefusalFilter{Office: office, From: from, To: to, Limit: reportRefusalLimit})
	if err != nil {
		s.failInternal(c, err)
		return
	}
	access, err := rs.AccessSummary(c, office, from, to)
	if err != nil {
		s.failInternal(c, err)
		return
	}
	disposals, recorded, err := rs.ReportDisposals(c, office, from, to)
	if err != nil {
		s.failInternal(c, err)
		return
	}
	in := auditreport.Input{Office: office, OfficeName: name, From: from, To: to.AddDate(0, 0, -1), Generated: s.now(), GeneratedBy: clerk.Login}
	if recorded {
		// nil while disposals are not recorded: the report says so.
		list := []auditreport.Disposal{}
		for _, d := range disposals {
			list = append(list, auditreport.Disposal{CaseNumber: d.CaseNumber, Document: d.Item, By: d.ApprovedBy, At: d.At})
		}
		in.Disposals = &list
	}
	for _, k := range cases {
		in.Cases = append(in.Cases, auditreport.Case{CaseNumber: k.CaseNumber, Procedure: k.Procedure, Status: k.Status, Reason: k.Reason})
	}
	for _, p := range pins {
		in.PINs = append(in.PINs, auditreport.PINConfirmation{CaseNumber: p.CaseNumber, EnteredBy: p.EnteredBy, ConfirmedBy: p.ConfirmedBy})
	}
	for _, r := range refusals {
		in.Refusals = append(in.Refusals, auditreport.Refusal{Kind: r.Kind, Actor: r.Actor, Subject: r.Subject, Reason: r.Reason, At: r.At})
	}
	for _, a := range access {
		in.Access = append(in.Access, auditreport.AccessCount{Staff: a.ClerkLogin, Kind: a.Kind, Count: a.Count})
	}
	rep := auditreport.Build(in)
	file := "audit-report-" + office + "-" + c.Query("from") + "-" + c.Query("to")
	if format == "pdf" {
		pdf, err := rep.PDF()
		if err != nil {
			s.failInternal(c, err)
			return
		}
		c.Header("Content-Disposition", `inline; filename="`+file+`.pdf"`)
		c.Data(http.StatusOK, "application/pdf", pdf)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+file+`.csv"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", rep.CSV())
}

// errNoReportStore is a store that cannot read the report's inputs.
var errNoReportStore = errors.New("gateway: the store has no audit report")
