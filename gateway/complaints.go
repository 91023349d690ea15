package gateway

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/madoguchi/madoguchi/internal/storage"
)

// The complaints and inquiries register (第3 7) is a recorded register, like
// the delegations: a clerk or manager records what a resident complained of
// or asked, the office's managers answer it, and its managers and auditors
// read it with its due dates. It holds no names: a case is linked by its
// number, and the summary is free text the clerk is told to keep free of
// personal data (the console says so next to the field).

// complaintCategoryNames are the categories as the counter names them.
var complaintCategoryNames = map[string]string{
	"procedure": "手続", "pin": "暗証番号", "card": "カード", "personal_data": "個人情報", "other": "その他",
}

// The longest summary and response, in characters.
const (
	maxComplaintSummary  = 1000
	maxComplaintResponse = 2000
)

// ComplaintInput is the body of POST /api/complaints.
type ComplaintInput struct {
	Category string `json:"category"`
	// CaseNumber links a case of the office (optional).
	CaseNumber string `json:"caseNumber"`
	// Summary: what was complained of or asked, without personal data.
	Summary string `json:"summary"`
	// DueOn is the day an answer is due (optional; default 14 days after
	// today, our choice).
	DueOn string `json:"dueOn"`
}

// ComplaintAnswerInput is the body of POST /api/complaints/{id}/answer.
type ComplaintAnswerInput struct {
	Response string `json:"response"`
}

// ComplaintView is a complaint as a manager or auditor sees it.
type ComplaintView struct {
	ID           int64  `json:"id"`
	Manual       string `json:"manual"`
	Office       string `json:"office"`
	Category     string `json:"category"`
	CategoryName string `json:"categoryName"`
	CaseNumber   string `json:"caseNumber,omitempty"`
	Summary      string `json:"summary"`
	ReceivedAt   string `json:"receivedAt"`
	DueOn        string `json:"dueOn"`
	Status       string `json:"status"`
	// Overdue: open past its due date, today.
	Overdue    bool   `json:"overdue"`
	Response   string `json:"response,omitempty"`
	RecordedBy int64  `json:"recordedBy"`
	AnsweredBy int64  `json:"answeredBy,omitempty"`
	AnsweredAt string `json:"answeredAt,omitempty"`
}

func (s *Server) viewComplaint(k storage.Complaint) ComplaintView {
	v := ComplaintView{ID: k.ID, Manual: "第3 7", Office: k.Office, Category: k.Category, CategoryName: complaintCategoryNames[k.Category],
		CaseNumber: k.CaseNumber, Summary: k.Summary, ReceivedAt: k.ReceivedAt.In(storage.Tokyo).Format(time.RFC3339),
		DueOn: k.DueOn.Format(time.DateOnly), Status: k.Status, Response: k.Response, RecordedBy: k.RecordedBy, AnsweredBy: k.AnsweredBy,
		Overdue: k.Status == "open" && k.DueOn.Before(storage.Day(s.now()))}
	if k.AnsweredAt != nil {
		v.AnsweredAt = k.AnsweredAt.In(storage.Tokyo).Format(time.RFC3339)
	}
	return v
}

func (s *Server) mountComplaints(api *gin.RouterGroup) {
	api.POST("/complaints", requireRole("clerk", "manager"), s.recordComplaint)
	api.GET("/complaints", requireRole("manager", "auditor"), s.listComplaints)
	api.POST("/complaints/:id/answer", requireRole("manager"), s.answerComplaint)
}

// recordComplaint serves POST /api/complaints: a complaint or inquiry of the
// clerk's office, open, due in 14 days unless another day is given.
func (s *Server) recordComplaint(c *gin.Context) {
	clerk := currentClerk(c)
	var in ComplaintInput
	if err := c.ShouldBindJSON(&in); err != nil {
		fail(c, http.StatusBadRequest, "bad_request", "苦情・問合せの内容を読み取れませんでした / The complaint could not be read.")
		return
	}
	if _, ok := complaintCategoryNames[in.Category]; !ok {
		fail(c, http.StatusBadRequest, "unknown_category", "区分を選んでください（手続・暗証番号・カード・個人情報・その他） / Choose a category: procedure, pin, card, personal_data or other.")
		return
	}
	summary := strings.TrimSpace(in.Summary)
	if summary == "" {
		fail(c, http.StatusBadRequest, "empty_summary", "苦情・問合せの要旨を入力してください（氏名などの個人情報は書かないでください） / Enter a summary, without names or other personal data.")
		return
	}
	if utf8.RuneCountInString(summary) > maxComplaintSummary {
		fail(c, http.StatusBadRequest, "summary_too_long", "要旨は1000文字以内にしてください / Keep the summary within 1000 characters.")
		return
	}
	now := s.now()
	due := storage.Day(now).AddDate(0, 0, storage.ComplaintDueDays)
	if in.DueOn != "" {
		d, ok := parseDay(in.DueOn)
		if !ok {
			failBadDate(c)
			return
		}
		if d.Before(storage.Day(now)) {
			fail(c, http.StatusBadRequest, "due_in_past", "回答期限は今日以降の日にしてください / The due date cannot be in the past.")
			return
		}
		due = d
	}
	if in.CaseNumber != "" {
		// A case of the office, seen as scopedCase sees it: another
		// office's is answered as an unknown one.
		cs, err := s.db.Case(c, in.CaseNumber)
		if errors.Is(err, storage.ErrNotFound) || (err == nil && cs.MunicipalityCode != clerk.MunicipalityCode && cs.Office != clerk.MunicipalityCode) {
			failUnknownCase(c)
			return
		}
		if err != nil {
			s.failInternal(c, err)
			return
		}
	}
	k := storage.Complaint{Office: clerk.MunicipalityCode, Category: in.Category, CaseNumber: in.CaseNumber, Summary: summary,
		ReceivedAt: now, DueOn: due, Status: "open", RecordedBy: clerk.ID, RecordedAt: now}
	id, err := s.db.RecordComplaint(c, k)
	if err != nil {
		s.failInternal(c, err)
		return
	}
	k.ID = id
	c.JSON(http.StatusCreated, s.viewComplaint(k))
}

// listComplaints serves GET /api/complaints?status=&overdue=1: the office's
// register, the earliest due first; overdue=1 keeps the open ones past due.
func (s *Server) listComplaints(c *gin.Context) {
	status := c.Query("status")
	if status != "" && !slices.Contains([]string{"open", "answered", "closed"}, status) {
		fail(c, http.StatusBadRequest, "bad_status", "状態は open・answered・closed のいずれかです / The status is open, answered or closed.")
		return
	}
	overdue := c.Query("overdue")
	if overdue != "" && overdue != "0" && overdue != "1" {
		fail(c, http.StatusBadRequest, "bad_overdue", "overdue は 1 または 0 です / overdue is 1 or 0.")
		return
	}
	ks, err := s.db.Complaints(c, storage.ComplaintFilter{Office: currentClerk(c).MunicipalityCode, Status: status,
		Overdue: overdue == "1", Today: storage.Day(s.now())})
	if err != nil {
		s.failInternal(c, err)
		return
	}
	out := make([]ComplaintView, 0, len(ks))
	for _, k := range ks {
		out = append(out, s.viewComplaint(k))
	}
	c.JSON(http.StatusOK, gin.H{"complaints": out})
}

func failUnknownComplaint(c *gin.Context) {
	fail(c, http.StatusNotFound, "unknown_complaint", "この苦情・問合せは記録されていません / No such complaint is recorded.")
}

// answerComplaint serves POST /api/complaints/{id}/answer: the office's
// manager records the answer, once.
func (s *Server) answerComplaint(c *gin.Context) {
	clerk := currentClerk(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		failUnknownComplaint(c)
		return
	}
	k, err := s.db.Complaint(c, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && k.Office != clerk.MunicipalityCode) {
		// Another office's complaint is answered as an unknown one.
		failUnknownComplaint(c)
		return
	}
	if err != nil {
		s.failInternal(c, err)
		return
	}
	var in ComplaintAnswerInput
	if err := c.ShouldBindJSON(&in); err != nil {
		fail(c, http.StatusBadRequest, "bad_request", "回答を読み取れませんでした / The answer could not be read.")
		return
	}
	response := strings.TrimSpace(in.Response)
	switch {
	case k.Status != "open":
		fail(c, http.StatusConflict, "already_answered", "この苦情・問合せには既に回答が記録されています / This complaint is already answered.")
		return
	case response == "":
		fail(c, http.StatusBadRequest, "empty_response", "回答の内容を入力してください / Enter the response.")
		return
	case utf8.RuneCountInString(response) > maxComplaintResponse:
		fail(c, http.StatusBadRequest, "response_too_long", "回答は2000文字以内にしてください / Keep the response within 2000 characters.")
		return
	}
	now := s.now()
	if err := s.db.AnswerComplaint(c, k.ID, response, clerk.ID, now); err != nil {
		if errors.Is(err, storage.ErrComplaintAnswered) {
			fail(c, http.StatusConflict, "already_answered", "この苦情・問合せには既に回答が記録されています / This complaint is already answered.")
			return
		}
		s.failInternal(c, err)
		return
	}
	k.Status, k.Response, k.AnsweredBy, k.AnsweredAt = "answered", response, clerk.ID, &now
	c.JSON(http.StatusOK, s.viewComplaint(k))
}
