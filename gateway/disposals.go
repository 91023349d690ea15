package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
)

// Retention and disposal (第3 3, workflows/retention_disposal.go): the
// daily Schedule draws up each municipality's list of the day; a manager
// submits it, another manager approves it, and the case then disposes of
// it. Managers and auditors read the list; a disposal without an approval
// and an approval of one's own list are refused and recorded as attempts.

// DisposalItemView is one item of a day's list.
type DisposalItemView struct {
	Kind       string `json:"kind"`
	CaseNumber string `json:"caseNumber"`
	// Item is the document's type or the certificate's serial.
	Item       string `json:"item"`
	DueOn      string `json:"dueOn"`
	HeldBy     string `json:"heldBy,omitempty"`
	DisposedAt string `json:"disposedAt,omitempty"`
}

// DisposalListView is a day's list as managers and auditors see it.
type DisposalListView struct {
	Manual      string             `json:"manual"`
	Office      string             `json:"office"`
	Day         string             `json:"day"`
	CaseNumber  string             `json:"caseNumber"`
	Status      string             `json:"status"`
	DrawnUpAt   string             `json:"drawnUpAt"`
	SubmittedBy string             `json:"submittedBy,omitempty"`
	SubmittedAt string             `json:"submittedAt,omitempty"`
	ApprovedBy  string             `json:"approvedBy,omitempty"`
	ApprovedAt  string             `json:"approvedAt,omitempty"`
	Due         int                `json:"due"`
	Held        int                `json:"held"`
	Disposed    int                `json:"disposed"`
	Items       []DisposalItemView `json:"items"`
}

func (s *Server) mountDisposals(api *gin.RouterGroup) {
	api.GET("/disposals", requireRole("manager", "auditor"), s.disposalList)
	managers := api.Group("/disposals/:day", requireRole("manager"))
	managers.POST("/submit", s.submitDisposalList)
	managers.POST("/approve", s.approveDisposalList)
	managers.POST("/dispose", s.disposeList)
}

func stamp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(storage.Tokyo).Format(time.RFC3339)
}

func viewDisposalList(l storage.DisposalList) DisposalListView {
	day := l.Day.Format(time.DateOnly)
	v := DisposalListView{Manual: "第3 3", Office: l.Office, Day: day, CaseNumber: l.CaseNumber, Status: l.Status,
		DrawnUpAt: stamp(&l.DrawnUpAt), SubmittedBy: l.SubmittedBy, SubmittedAt: stamp(l.SubmittedAt),
		ApprovedBy: l.ApprovedBy, ApprovedAt: stamp(l.ApprovedAt), Items: []DisposalItemView{}}
	for _, it := range l.Items {
		switch {
		case it.DisposedAt != nil:
			v.Disposed++
		case it.HeldBy != "":
			v.Held++
		default:
			v.Due++
		}
		v.Items = append(v.Items, DisposalItemView{Kind: it.Kind, CaseNumber: it.CaseNumber, Item: it.Item,
			DueOn: it.DueOn.Format(time.DateOnly), HeldBy: it.HeldBy, DisposedAt: stamp(it.DisposedAt)})
	}
	return v
}

// disposalDay reads the day of the query or the path; the query's default
// is today in Tokyo.
func (s *Server) disposalDay(c *gin.Context, v string) (time.Time, bool) {
	if v == "" {
		return storage.Day(s.now()), true
	}
	d, ok := parseDay(v)
	if !ok {
		failBadDate(c)
	}
	return d, ok
}

// loadDisposalList reads the office's list of a day, answering the error
// itself (404 for a day without a list).
func (s *Server) loadDisposalList(c *gin.Context, day time.Time) (storage.DisposalList, bool) {
	l, err := s.db.DisposalList(c, currentClerk(c).MunicipalityCode, day)
	if errors.Is(err, storage.ErrNotFound) {
		fail(c, http.StatusNotFound, "no_disposal_list", "この日の廃棄リストはありません / There is no disposal list for this day.")
		return l, false
	}
	if err != nil {
		s.failInternal(c, err)
		return l, false
	}
	return l, true
}

// disposalList serves GET /api/disposals?day=: the office's list of the
// day (today by default) and its status.
func (s *Server) disposalList(c *gin.Context) {
	day, ok := s.disposalDay(c, c.Query("day"))
	if !ok {
		return
	}
	l, ok := s.loadDisposalList(c, day)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, viewDisposalList(l))
}

// submitDisposalList serves POST /api/disposals/:day/submit: a manager
// submits the day's list for another manager's approval.
func (s *Server) submitDisposalList(c *gin.Context) {
	day, ok := s.disposalDay(c, c.Param("day"))
	if !ok {
		return
	}
	l, ok := s.loadDisposalList(c, day)
	if !ok {
		return
	}
	if l.Status != storage.DisposalDrawnUp {
		fail(c, http.StatusConflict, "list_not_open", "この廃棄リストは提出できる状態ではありません / This list cannot be submitted in its present status.")
		return
	}
	if s.disposalUpdate(c, l, workflows.SubmitDisposalListUpdate, workflows.SubmitDisposalListInput{Manager: currentClerk(c).Login}) {
		s.answerDisposalList(c, day)
	}
}

// approveDisposalList serves POST /api/disposals/:day/approve: a manager
// approves the list another manager submitted; the case disposes of it.
func (s *Server) approveDisposalList(c *gin.Context) {
	day, ok := s.disposalDay(c, c.Param("day"))
	if !ok {
		return
	}
	l, ok := s.loadDisposalList(c, day)
	if !ok {
		return
	}
	subject := day.Format(time.DateOnly)
	switch {
	case l.Status == storage.DisposalDrawnUp:
		fail(c, http.StatusConflict, workflows.CodeDisposalNotSubmitted, "廃棄リストはまだ提出されていません / The list has not been submitted yet.")
		return
	case l.Status == storage.DisposalSubmitted && l.SubmittedBy == currentClerk(c).Login:
		s.refuseOwnList(c, subject)
		return
	case l.Status != storage.DisposalSubmitted:
		fail(c, http.StatusConflict, "list_not_open", "この廃棄リストは承認できる状態ではありません / This list cannot be approved in its present status.")
		return
	}
	if s.disposalUpdate(c, l, workflows.ApproveDisposalListUpdate, workflows.ApproveDisposalListInput{Manager: currentClerk(c).Login}) {
		s.answerDisposalList(c, day)
	}
}

func (s *Server) refuseOwnList(c *gin.Context, day string) {
	s.refuse(c, storage.RefusalApprovalOfOwnList, day, workflows.CodeOwnDisposalList)
	fail(c, http.StatusForbidden, workflows.CodeOwnDisposalList, "自分が提出した廃棄リストは承認できません。別の管理者が承認してください / You submitted this list; another manager must approve it.")
}

// disposeList serves POST /api/disposals/:day/dispose: the disposal of a
// day's list, which only an approval starts. A list approved (or disposed
// of) answers its status; any other is refused and the attempt recorded.
func (s *Server) disposeList(c *gin.Context) {
	day, ok := s.disposalDay(c, c.Param("day"))
	if !ok {
		return
	}
	l, err := s.db.DisposalList(c, currentClerk(c).MunicipalityCode, day)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.failInternal(c, err)
		return
	}
	if err != nil || (l.Status != storage.DisposalApproved && l.Status != storage.DisposalDisposed) {
		s.refuse(c, storage.RefusalDisposalWithoutApproval, day.Format(time.DateOnly), "not_approved")
		fail(c, http.StatusConflict, "not_approved", "管理者の承認がない廃棄リストは廃棄できません / A list is disposed of only after a manager approved it.")
		return
	}
	c.JSON(http.StatusOK, viewDisposalList(l))
}

// disposalUpdate sends a manager's step to the day's case; a validator's
// refusal of one's own list is recorded like the gateway's own.
func (s *Server) disposalUpdate(c *gin.Context, l storage.DisposalList, name string, in any) bool {
	h, err := s.temporal.UpdateWorkflow(c, client.UpdateWorkflowOptions{
		WorkflowID: l.WorkflowID, UpdateName: name, Args: []any{in}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		var res json.RawMessage
		err = h.Get(c, &res)
	}
	if err == nil {
		return true
	}
	// The validator's refusal, or the database's (a submission racing it).
	var appErr *temporal.ApplicationError
	r, rejected := contract.AsRejection(err)
	if (rejected && r.Code == workflows.CodeOwnDisposalList) || (errors.As(err, &appErr) && appErr.Type() == workflows.CodeOwnDisposalList) {
		s.refuseOwnList(c, l.Day.Format(time.DateOnly))
		return false
	}
	s.failTemporal(c, err)
	return false
}

// answerDisposalList answers the list as it is after a step.
func (s *Server) answerDisposalList(c *gin.Context, day time.Time) {
	// The request's context may be ending; the step is done either way.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c), 5*time.Second)
	defer cancel()
	l, err := s.db.DisposalList(ctx, currentClerk(c).MunicipalityCode, day)
	if err != nil {
		s.failInternal(c, err)
		return
	}
	c.JSON(http.StatusOK, viewDisposalList(l))
}

// RetentionPeriodView is one document type's period.
type RetentionPeriodView struct {
	DocType string `json:"docType"`
	Years   int    `json:"years"`
}

// RetentionView is a municipality's retention settings (第3 3).
type RetentionView struct {
	Manual        string                `json:"manual"`
	Office        string                `json:"office"`
	DefaultYears  int                   `json:"defaultYears"`
	Periods       []RetentionPeriodView `json:"periods"`
	DocumentTypes []string              `json:"documentTypes"`
	// IssuanceRecordYears is the issuance records' own rule, not a setting.
	IssuanceRecordYears int `json:"issuanceRecordYears"`
}

// RetentionPeriodInput sets a document type's period.
type RetentionPeriodInput struct {
	Years int `json:"years"`
}

var docTypeRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

func (s *Server) mountRetention(api *gin.RouterGroup) {
	api.GET("/retention-periods", requireRole("manager", "auditor"), s.retentionPeriods)
	api.PUT("/retention-periods/:docType", requireRole("manager"), s.setRetentionPeriod)
}

// retentionPeriods serves GET /api/retention-periods: the municipality's
// default period, the periods it set per document type, and the types its
// documents are registered as.
func (s *Server) retentionPeriods(c *gin.Context) {
	office := currentClerk(c).MunicipalityCode
	rs, err := s.db.RetentionPeriods(c, office)
	if errors.Is(err, storage.ErrNotFound) {
		fail(c, http.StatusNotFound, "not_a_municipality", "保存期間は市区町村が定めます / Retention periods are a municipality's.")
		return
	}
	if err != nil {
		s.failInternal(c, err)
		return
	}
	v := RetentionView{Manual: "第3 3", Office: office, DefaultYears: rs.DefaultYears, Periods: []RetentionPeriodView{},
		DocumentTypes: append([]string{}, rs.DocumentTypes...), IssuanceRecordYears: storage.IssuanceRecordYears}
	for _, p := range rs.Periods {
		v.Periods = append(v.Periods, RetentionPeriodView(p))
	}
	c.JSON(http.StatusOK, v)
}

// setRetentionPeriod serves PUT /api/retention-periods/:docType
// {"years"}: a municipality's manager sets a document type's period; it
// applies to the documents registered from then on.
func (s *Server) setRetentionPeriod(c *gin.Context) {
	clerk := currentClerk(c)
	if clerk.OfficeKind != workflows.OfficeMunicipality {
		fail(c, http.StatusForbidden, "not_permitted", "保存期間は市区町村の管理者が定めます / Only a municipality's manager sets retention periods.")
		return
	}
	docType := c.Param("docType")
	if !docTypeRE.MatchString(docType) {
		fail(c, http.StatusBadRequest, "bad_doc_type", "文書の種別は英小文字・数字・下線で入力してください（例: application_form） / Enter the document type in lower-case letters, digits and underscores (e.g. application_form).")
		return
	}
	var in RetentionPeriodInput
	if err := c.ShouldBindJSON(&in); err != nil {
		fail(c, http.StatusBadRequest, "bad_request", "保存期間を読み取れませんでした / The period could not be read.")
		return
	}
	if in.Years < 1 || in.Years > 100 {
		fail(c, http.StatusBadRequest, "bad_years", "保存期間は1年から100年の間で入力してください / Enter a period of 1 to 100 years.")
		return
	}
	if err := s.db.SetRetentionPeriod(c, clerk.MunicipalityCode, docType, in.Years); err != nil {
		s.failInternal(c, err)
		return
	}
	s.retentionPeriods(c)
}
