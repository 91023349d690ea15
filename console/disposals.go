package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"

	"github.com/madoguchi/madoguchi/workflows"
)

// The day's disposal list (第3 3; GET /api/disposals): managers submit and
// approve it, auditors read it. The page is over the API, so the rules
// (another manager approves, refusals recorded) are the gateway's.

// readsDisposals is whether the clerk's role reads the disposal lists.
func readsDisposals(c Clerk) bool {
	return slices.Contains([]string{workflows.RoleManager, workflows.RoleAuditor}, c.Role)
}

// ReadsDisposals is whether the header links to the disposal list.
func (p *page) ReadsDisposals() bool { return p.Clerk != nil && readsDisposals(*p.Clerk) }

// disposalItem is one item of GET /api/disposals.
type disposalItem struct {
	Kind       string `json:"kind"`
	CaseNumber string `json:"caseNumber"`
	Item       string `json:"item"`
	DueOn      string `json:"dueOn"`
	HeldBy     string `json:"heldBy"`
	DisposedAt string `json:"disposedAt"`
}

// disposalList is GET /api/disposals's answer.
type disposalList struct {
	Day         string         `json:"day"`
	CaseNumber  string         `json:"caseNumber"`
	Status      string         `json:"status"`
	SubmittedBy string         `json:"submittedBy"`
	ApprovedBy  string         `json:"approvedBy"`
	ApprovedAt  string         `json:"approvedAt"`
	Due         int            `json:"due"`
	Held        int            `json:"held"`
	Disposed    int            `json:"disposed"`
	Items       []disposalItem `json:"items"`
}

type disposalData struct {
	Day  string
	List *disposalList
	// CanSubmit and CanApprove offer the manager's steps.
	CanSubmit, CanApprove bool
}

var consoleDayRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// disposals shows the office's list of a day (today by default).
func (c *Console) disposals(w http.ResponseWriter, r *http.Request, s *session) {
	if !readsDisposals(s.clerk) {
		c.notFound(w, r, s)
		return
	}
	p := c.newPage(r, s, "disposals")
	if done := r.URL.Query().Get("done"); done == "submit" || done == "approve" {
		p.Flash, p.FlashOf = p.T("disposaldone:"+done), done
	}
	c.renderDisposals(w, r, s, p, r.URL.Query().Get("day"), http.StatusOK)
}

func (c *Console) renderDisposals(w http.ResponseWriter, r *http.Request, s *session, p *page, day string, status int) {
	path := "/api/disposals"
	if day != "" {
		path += "?day=" + url.QueryEscape(day)
	}
	a := c.call(r, s, http.MethodGet, path, nil)
	d := disposalData{Day: day}
	switch a.status {
	case http.StatusOK:
		var l disposalList
		if err := json.Unmarshal(a.body, &l); err != nil {
			c.failed(w, r, s, apiAnswer{status: http.StatusBadGateway})
			return
		}
		d.List, d.Day = &l, l.Day
		manager := s.clerk.Role == workflows.RoleManager
		d.CanSubmit = manager && l.Status == "drawn_up"
		d.CanApprove = manager && l.Status == "submitted" && l.SubmittedBy != s.clerk.Login
	case http.StatusNotFound:
		// A day without a list: the page says so, with the day picker.
	case http.StatusBadRequest:
		if _, m := a.err(); m != "" {
			p.Error = p.Msg(m)
		}
		status = http.StatusBadRequest
	default:
		c.failed(w, r, s, a)
		return
	}
	p.Data = d
	c.render(w, r, status, "disposals", p)
}

// disposalStep submits or approves the day's list through the API.
func (c *Console) disposalStep(w http.ResponseWriter, r *http.Request, s *session) {
	day, action := r.PathValue("day"), r.PathValue("action")
	if !readsDisposals(s.clerk) || !consoleDayRE.MatchString(day) || (action != "submit" && action != "approve") {
		c.notFound(w, r, s)
		return
	}
	a := c.call(r, s, http.MethodPost, "/api/disposals/"+day+"/"+action, nil)
	if a.status == http.StatusOK {
		http.Redirect(w, r, "/console/disposals?day="+day+"&done="+action, http.StatusSeeOther)
		return
	}
	if a.status == http.StatusUnauthorized {
		c.failed(w, r, s, a)
		return
	}
	p := c.newPage(r, s, "disposals")
	p.Error = p.T("errortext")
	if _, m := a.err(); m != "" {
		p.Error = p.Msg(m)
	}
	c.renderDisposals(w, r, s, p, day, max(a.status, 400))
}
