package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/madoguchi/madoguchi/workflows"
)

// A case's history page (managers and auditors of the case's own
// municipality): the timeline GET /api/cases/{case}/history answers,
// decoded by the gateway; the API records the opening in the access log.

// historyEntry is one entry of the API's timeline.
type historyEntry struct {
	ID       int64           `json:"id"`
	At       time.Time       `json:"at"`
	Kind     string          `json:"kind"`
	Name     string          `json:"name"`
	Status   string          `json:"status"`
	Who      string          `json:"who"`
	Identity string          `json:"identity"`
	Input    json.RawMessage `json:"input"`
	Result   json.RawMessage `json:"result"`
	Failure  string          `json:"failure"`
	EndedAt  *time.Time      `json:"endedAt"`
}

// Pretty is a payload as indented JSON, for the page.
func (p *page) Pretty(v json.RawMessage) string {
	if len(v) == 0 {
		return ""
	}
	var b bytes.Buffer
	if json.Indent(&b, v, "", "  ") != nil {
		return string(v)
	}
	return b.String()
}

type historyData struct {
	Number, Procedure, WorkflowID string
	Entries                       []historyEntry
	CaseURL, TemporalURL          string
}

// readsHistory is whether the clerk's role reads case histories.
func readsHistory(c Clerk) bool {
	return slices.Contains([]string{workflows.RoleManager, workflows.RoleAuditor}, c.Role)
}

func (c *Console) historyPage(w http.ResponseWriter, r *http.Request, s *session) {
	number := r.PathValue("case")
	if !readsHistory(s.clerk) {
		c.notFound(w, r, s)
		return
	}
	a := c.call(r, s, http.MethodGet, "/api/cases/"+url.PathEscape(number)+"/history", nil)
	if a.status != http.StatusOK {
		c.failed(w, r, s, a)
		return
	}
	var res struct {
		CaseNumber string         `json:"caseNumber"`
		Procedure  string         `json:"procedure"`
		WorkflowID string         `json:"workflowId"`
		Entries    []historyEntry `json:"entries"`
	}
	if err := json.Unmarshal(a.body, &res); err != nil {
		c.failed(w, r, s, apiAnswer{status: http.StatusBadGateway})
		return
	}
	p := c.newPage(r, s, "history")
	p.Title = p.T("history") + " " + res.CaseNumber
	d := historyData{Number: res.CaseNumber, Procedure: res.Procedure, WorkflowID: res.WorkflowID, Entries: res.Entries,
		CaseURL: "/console/cases/" + url.PathEscape(res.CaseNumber)}
	if c.o.TemporalUI != nil {
		d.TemporalURL = c.o.TemporalUI(res.WorkflowID)
	}
	p.Data = d
	c.render(w, r, http.StatusOK, "history", p)
}

// HistoryKind and HistoryStatus name a timeline entry's kind and status.
func (p *page) HistoryKind(k string) string   { return labelIn(historyKindLabels, p.Lang, k) }
func (p *page) HistoryStatus(s string) string { return labelIn(historyStatusLabels, p.Lang, s) }

var historyKindLabels = map[string]text{
	"started":          {"手続の開始", "Procedure started"},
	"update":           {"職員等の操作", "Step"},
	"activity":         {"処理", "Activity"},
	"child":            {"関連する手続", "Child procedure"},
	"signal":           {"通知", "Signal"},
	"timer":            {"期限・待機", "Timer"},
	"completed":        {"手続の終了", "Procedure ended"},
	"failed":           {"手続の失敗", "Procedure failed"},
	"timed_out":        {"手続の時間切れ", "Procedure timed out"},
	"terminated":       {"手続の強制終了", "Procedure terminated"},
	"cancelled":        {"手続の取消し", "Procedure cancelled"},
	"continued_as_new": {"手続の継続", "Continued as new"},
}

var historyStatusLabels = map[string]text{
	"":          {"実行中", "under way"},
	"completed": {"完了", "completed"},
	"failed":    {"失敗", "failed"},
	"timed_out": {"時間切れ", "timed out"},
	"cancelled": {"取消し", "cancelled"},
	"fired":     {"経過", "fired"},
}

// readsDeadlines is whether the clerk's role reads the deadline list
// (GET /api/deadlines): managers, auditors and the Organization's operators.
func readsDeadlines(c Clerk) bool {
	return slices.Contains([]string{workflows.RoleManager, workflows.RoleAuditor, workflows.RoleOperator}, c.Role)
}

// ReadsDeadlines is whether the header links to the deadline list.
func (p *page) ReadsDeadlines() bool { return p.Clerk != nil && readsDeadlines(*p.Clerk) }

// deadlineRow is one row of GET /api/deadlines.
type deadlineRow struct {
	CaseNumber string    `json:"caseNumber"`
	Procedure  string    `json:"procedure"`
	Step       string    `json:"step"`
	Due        time.Time `json:"due"`
	Overdue    bool      `json:"overdue"`
}

type deadlineData struct {
	Rows     []deadlineRow
	Overdue  int
	OnlyLate bool
}

// deadlines lists the office's open cases with a legal deadline, from
// GET /api/deadlines, soonest first (so the overdue ones come first),
// the overdue ones marked in words, not by colour alone.
func (c *Console) deadlines(w http.ResponseWriter, r *http.Request, s *session) {
	if !readsDeadlines(s.clerk) {
		c.notFound(w, r, s)
		return
	}
	path := "/api/deadlines"
	d := deadlineData{OnlyLate: r.URL.Query().Get("overdue") == "1"}
	if d.OnlyLate {
		path += "?overdue=1"
	}
	a := c.call(r, s, http.MethodGet, path, nil)
	if a.status != http.StatusOK {
		c.failed(w, r, s, a)
		return
	}
	var res struct {
		Deadlines []deadlineRow `json:"deadlines"`
	}
	if err := json.Unmarshal(a.body, &res); err != nil {
		c.failed(w, r, s, apiAnswer{status: http.StatusBadGateway})
		return
	}
	d.Rows = res.Deadlines
	for _, row := range d.Rows {
		if row.Overdue {
			d.Overdue++
		}
	}
	p := c.newPage(r, s, "deadlines")
	p.Data = d
	c.render(w, r, http.StatusOK, "deadlines", p)
}

// accessRow is one entry of GET /api/access-log.
type accessRow struct {
	ID         int64     `json:"id"`
	Clerk      string    `json:"clerk"`
	Office     string    `json:"office"`
	Kind       string    `json:"kind"`
	CaseNumber string    `json:"caseNumber"`
	Reference  string    `json:"reference"`
	At         time.Time `json:"at"`
}

// accessKinds are the kinds of read the access log holds (第3 8), in the
// order the search offers them.
var accessKinds = []string{"history", "register_record", "disclosure"}

type accessLogData struct {
	Rows []accessRow
	// The search: staff login, case number, kind of read, from and to (dates).
	Clerk, Case, Kind, From, To string
	// Kinds are the kinds the search offers.
	Kinds             []string
	NextURL, FirstURL string
}

// query is the access-log page's address with its search, at an offset.
func (d accessLogData) query(offset int) string {
	v := url.Values{}
	for k, x := range map[string]string{"clerk": d.Clerk, "case": d.Case, "kind": d.Kind, "from": d.From, "to": d.To} {
		if x != "" {
			v.Set(k, x)
		}
	}
	if offset > 0 {
		v.Set("offset", strconv.Itoa(offset))
	}
	if len(v) == 0 {
		return "/console/access-log"
	}
	return "/console/access-log?" + v.Encode()
}

// accessLogPageSize is how many entries an access-log page shows.
const accessLogPageSize = 50

// ReadsAccessLog is whether the header links to the access log.
func (p *page) ReadsAccessLog() bool { return p.Clerk != nil && readsHistory(*p.Clerk) }

// accessLog is the office's access log (managers and auditors): who opened
// which case's history when, searched by staff login, case number and
// days, a page at a time, from GET /api/access-log. A search the API
// refuses (a bad date) shows its message with what was typed kept.
func (c *Console) accessLog(w http.ResponseWriter, r *http.Request, s *session) {
	if !readsHistory(s.clerk) {
		c.notFound(w, r, s)
		return
	}
	q := r.URL.Query()
	d := accessLogData{Clerk: strings.TrimSpace(q.Get("clerk")), Case: strings.TrimSpace(q.Get("case")), Kind: strings.TrimSpace(q.Get("kind")),
		From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to")), Kinds: accessKinds}
	offset, _ := strconv.Atoi(q.Get("offset"))
	offset = max(offset, 0)
	api := url.Values{"limit": {strconv.Itoa(accessLogPageSize)}, "offset": {strconv.Itoa(offset)}}
	for k, x := range map[string]string{"clerk": d.Clerk, "case": d.Case, "kind": d.Kind, "from": d.From, "to": d.To} {
		if x != "" {
			api.Set(k, x)
		}
	}
	p := c.newPage(r, s, "accesslog")
	a := c.call(r, s, http.MethodGet, "/api/access-log?"+api.Encode(), nil)
	switch {
	case a.status == http.StatusBadRequest:
		_, msg := a.err()
		p.Error = p.Msg(msg)
		p.Data = d
		c.render(w, r, http.StatusBadRequest, "accesslog", p)
		return
	case a.status != http.StatusOK:
		c.failed(w, r, s, a)
		return
	}
	var res struct {
		Entries    []accessRow `json:"entries"`
		NextOffset int         `json:"nextOffset"`
	}
	if err := json.Unmarshal(a.body, &res); err != nil {
		c.failed(w, r, s, apiAnswer{status: http.StatusBadGateway})
		return
	}
	d.Rows = res.Entries
	if res.NextOffset > 0 {
		d.NextURL = d.query(res.NextOffset)
	}
	if offset > 0 {
		d.FirstURL = d.query(0)
	}
	p.Data = d
	c.render(w, r, http.StatusOK, "accesslog", p)
}
