package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/madoguchi/madoguchi/workflows"
)

// The fees page (第3 5): today's and this month's fee figures of the
// office, for its managers and auditors, with the reports as CSV and PDF.

func readsFees(c Clerk) bool {
	return slices.Contains([]string{workflows.RoleManager, workflows.RoleAuditor}, c.Role)
}

// ReadsFees is whether the header links to the fees page.
func (p *page) ReadsFees() bool { return p.Clerk != nil && readsFees(*p.Clerk) }

// feeItem is one item's figures of GET /api/fees/report?format=json.
type feeItem struct {
	Item        string `json:"item"`
	Name        string `json:"name"`
	Count       int    `json:"count"`
	TotalYen    int    `json:"totalYen"`
	Refunds     int    `json:"refunds"`
	RefundedYen int    `json:"refundedYen"`
	NetYen      int    `json:"netYen"`
}

// feePeriod is one period's figures on the page.
type feePeriod struct {
	Key    string // "day" or "month"
	Period string
	Items  []feeItem `json:"items"`
	NetYen int       `json:"netYen"`
}

// query is the period's query string.
func (p feePeriod) query() string { return url.Values{p.Key: {p.Period}}.Encode() }

func (c *Console) now() time.Time {
	if c.o.Now != nil {
		return c.o.Now()
	}
	return time.Now()
}

var tokyo = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		return time.FixedZone("JST", 9*60*60)
	}
	return loc
}()

// fees serves GET /console/fees.
func (c *Console) fees(w http.ResponseWriter, r *http.Request, s *session) {
	if !readsFees(s.clerk) {
		c.notFound(w, r, s)
		return
	}
	now := c.now().In(tokyo)
	var periods []feePeriod
	for _, p := range []feePeriod{{Key: "day", Period: now.Format(time.DateOnly)}, {Key: "month", Period: now.Format("2006-01")}} {
		a := c.call(r, s, http.MethodGet, "/api/fees/report?format=json&"+p.query(), nil)
		if a.status != http.StatusOK {
			c.failed(w, r, s, a)
			return
		}
		if err := json.Unmarshal(a.body, &p); err != nil {
			c.failed(w, r, s, apiAnswer{status: http.StatusBadGateway})
			return
		}
		periods = append(periods, p)
	}
	pg := c.newPage(r, s, "fees")
	pg.Data = periods
	c.render(w, r, http.StatusOK, "fees", pg)
}

// feeReport serves GET /console/fees/report?day=|month=&format=csv|pdf:
// the API's report, passed through.
func (c *Console) feeReport(w http.ResponseWriter, r *http.Request, s *session) {
	if !readsFees(s.clerk) {
		c.notFound(w, r, s)
		return
	}
	q := url.Values{}
	for _, k := range []string{"day", "month", "format"} {
		if v := r.URL.Query().Get(k); v != "" {
			q.Set(k, v)
		}
	}
	a := c.call(r, s, http.MethodGet, "/api/fees/report?"+q.Encode(), nil)
	ct := a.header.Get("Content-Type")
	if a.status != http.StatusOK || (ct != "application/pdf" && ct != "text/csv; charset=utf-8") {
		c.failed(w, r, s, a)
		return
	}
	w.Header().Set("Content-Type", ct)
	if d := a.header.Get("Content-Disposition"); d != "" {
		w.Header().Set("Content-Disposition", d)
	}
	_, _ = w.Write(a.body)
}
