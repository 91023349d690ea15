package gateway

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/madoguchi/madoguchi/internal/feereport"
	"github.com/madoguchi/madoguchi/internal/storage"
)

// Fees (第3 5 電子証明書発行手数料管理): the fee of a case is computed in the
// issuance procedures from the case's facts (internal/fee), never typed;
// the office's managers and auditors read the daily and monthly reports.

// feeKeys are the body keys that would carry a fee amount, compared
// without case, "_" or "-": a fee typed by hand.
var feeKeys = map[string]bool{"fee": true, "feeyen": true, "fees": true, "amountyen": true, "feeamount": true,
	"amount": true, "charge": true, "chargeyen": true, "tesuryo": true, "手数料": true}

// carriesFee tells whether a JSON body has a fee key at any depth.
func carriesFee(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			norm := strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(k))
			if feeKeys[norm] || carriesFee(x) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if carriesFee(x) {
				return true
			}
		}
	}
	return false
}

// refuseTypedFee answers 400 fee_not_typed, and records the attempt, when
// the request's body carries a fee amount; the body is kept for the
// handler otherwise. subject is the case or the procedure.
func (s *Server) refuseTypedFee(c *gin.Context, subject string) bool {
	if c.Request.Body == nil {
		return false
	}
	body, err := io.ReadAll(c.Request.Body)
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return false // the handler answers the unreadable body
	}
	var v any
	if json.Unmarshal(body, &v) != nil || !carriesFee(v) {
		return false
	}
	s.refuse(c, storage.RefusalFeeTypedByHand, subject, "fee_not_typed")
	fail(c, http.StatusBadRequest, "fee_not_typed", "手数料は入力できません。手続の内容から自動で計算されます / The fee cannot be typed; it is computed from the case.")
	return true
}

var monthRE = regexp.MustCompile(`^\d{4}-\d{2}$`)

// FeeReportView is the JSON of a fee report's figures (the console's).
type FeeReportView struct {
	Office  string              `json:"office"`
	Period  string              `json:"period"`
	Items   []feereport.Summary `json:"items"`
	NetYen  int                 `json:"netYen"`
	Fees    int                 `json:"fees"`
	Refunds int                 `json:"refunds"`
}

// feeReportPeriod reads ?day=YYYY-MM-DD or ?month=YYYY-MM: the period's
// name and its bounds in Tokyo.
func feeReportPeriod(c *gin.Context) (period string, from, to time.Time, ok bool) {
	day, month := c.Query("day"), c.Query("month")
	switch {
	case day != "" && month == "":
		d, ok := parseDay(day)
		if !ok {
			break
		}
		from = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, storage.Tokyo)
		return day, from, from.AddDate(0, 0, 1), true
	case month != "" && day == "":
		m, err := time.Parse("2006-01", month)
		if !monthRE.MatchString(month) || err != nil {
			break
		}
		from = time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, storage.Tokyo)
		return month, from, from.AddDate(0, 1, 0), true
	}
	fail(c, http.StatusBadRequest, "bad_period", "日（day=YYYY-MM-DD）か月（month=YYYY-MM）のどちらか一方を指定してください / Give either day=YYYY-MM-DD or month=YYYY-MM.")
	return "", time.Time{}, time.Time{}, false
}

// loadFeeReport reads the office's report of a period.
func (s *Server) loadFeeReport(c *gin.Context, period string, from, to time.Time) (feereport.Report, error) {
	office := currentClerk(c).MunicipalityCode
	rep, err := s.db.FeeReport(c, office, from, to)
	if err != nil {
		return feereport.Report{}, err
	}
	_, name, err := s.db.Office(c, office)
	if err != nil {
		return feereport.Report{}, err
	}
	r := feereport.Report{Office: office, OfficeName: name, Period: period, Made: s.now()}
	for _, l := range rep.Fees {
		r.Fees = append(r.Fees, feereport.Line(l))
	}
	for _, l := range rep.Refunds {
		r.Refunds = append(r.Refunds, feereport.Line(l))
	}
	return r, nil
}

// feeReport serves GET /api/fees/report?day=|month=&format=csv|pdf|json:
// the office's fees of the day or month, per item the count and total,
// the refunds and the net (csv by default; UTF-8 with a BOM).
func (s *Server) feeReport(c *gin.Context) {
	format := c.DefaultQuery("format", "csv")
	if format != "csv" && format != "pdf" && format != "json" {
		fail(c, http.StatusBadRequest, "bad_format", "形式は csv・pdf のいずれかです / The format is csv or pdf.")
		return
	}
	period, from, to, ok := feeReportPeriod(c)
	if !ok {
		return
	}
	r, err := s.loadFeeReport(c, period, from, to)
	if err != nil {
		s.failInternal(c, err)
		return
	}
	name := "fees-" + r.Office + "-" + period
	switch format {
	case "pdf":
		pdf, err := r.PDF()
		if err != nil {
			s.failInternal(c, err)
			return
		}
		c.Header("Content-Disposition", `inline; filename="`+name+`.pdf"`)
		c.Data(http.StatusOK, "application/pdf", pdf)
	case "json":
		c.JSON(http.StatusOK, FeeReportView{Office: r.Office, Period: period, Items: r.Summaries(), NetYen: r.Net(),
			Fees: len(r.Fees), Refunds: len(r.Refunds)})
	default:
		c.Header("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		c.Data(http.StatusOK, "text/csv; charset=utf-8", r.CSV())
	}
}
