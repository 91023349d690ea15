package gateway

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/gin-gonic/gin"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/register"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
)

// RoleRegister is the resident register system's account (住民基本台帳
// システム連携): it posts the register's changes and nothing else.
const RoleRegister = "register"

// RegisterEventStore is what the register-event intake needs of the
// municipal database (storage.DB).
type RegisterEventStore interface {
	NextCaseNumber(ctx context.Context, municipality string, now time.Time) (string, error)
	Resident(ctx context.Context, code string) (storage.Resident, error)
	UnknownResidents(ctx context.Context, municipality string, codes []string) ([]int, error)
	RecordRegisterChange(ctx context.Context, c storage.Case, ev storage.RegisterEvent) (storage.RegisterEvent, bool, error)
	RecordRegisterBatch(ctx context.Context, c storage.Case, batchID string, evs []storage.RegisterEvent) (storage.RegisterBatch, bool, error)
}

// RegisterEventInput is the body of POST /api/register-events: one change
// of the resident register, as the register sends it.
type RegisterEventInput = contract.RegisterChange

// RegisterBatchInput is the body of POST /api/register-events/batch.
type RegisterBatchInput struct {
	BatchID string                    `json:"batchId"`
	Changes []contract.RegisterChange `json:"changes"`
}

// RegisterEventResult answers an event or a batch: its case, and whether
// the change (or batch) had been received before.
type RegisterEventResult struct {
	CaseNumber string `json:"caseNumber"`
	Procedure  string `json:"procedure"`
	Duplicate  bool   `json:"duplicate"`
	// Changes is a batch's number of changes new to the back office.
	Changes int `json:"changes,omitempty"`
}

// BadRow names one refused row of a batch, by its position.
type BadRow struct {
	Row  int    `json:"row"`
	Code string `json:"code"`
}

var registerIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)

// maxBatchBody bounds a batch's body (100,000 changes are about 10 MB).
const maxBatchBody = 32 << 20

// mountRegisterEvents adds the register's intake: the register system's
// account or a manager of the municipality.
func (s *Server) mountRegisterEvents(api *gin.RouterGroup) {
	g := api.Group("/register-events", requireRole(RoleRegister, "manager"))
	g.POST("", s.registerEvent)
	g.POST("/batch", s.registerBatch)
}

func (s *Server) registerStore(c *gin.Context) (RegisterEventStore, bool) {
	rs, ok := s.db.(RegisterEventStore)
	if !ok {
		s.failInternal(c, errors.New("gateway: the store records no register events"))
	}
	return rs, ok
}

// checkChange validates one change: a code and message for the register's
// operators, or "".
func checkChange(ch contract.RegisterChange, today string) (code, msg string) {
	switch {
	case !registerIDRE.MatchString(ch.ChangeID):
		return "bad_change_id", "異動の番号（英数字64文字以内）を指定してください / The change id must be 1–64 letters, digits or . _ : -."
	case !residentCodeRE.MatchString(ch.ResidentCode):
		return "bad_resident_code", "住民票コードは11桁の数字で指定してください / The resident code must be 11 digits."
	}
	if _, err := register.ParseChange(ch.Kind); err != nil {
		return "bad_change_kind", "異動の種別が不明です / The kind of change must be one of moved_out, moved_abroad, death, name_change, address_change, birth_date_correction, sex_correction, record_removal."
	}
	if _, err := time.Parse(time.DateOnly, ch.Date); err != nil || !dateRE.MatchString(ch.Date) {
		return "bad_date", "異動日は YYYY-MM-DD の形式で指定してください / The date of the change must be a real date, YYYY-MM-DD."
	}
	if ch.Date > today {
		return "future_date", "異動日が将来の日付です / The date of the change lies in the future."
	}
	return "", ""
}

func (s *Server) today() string { return s.now().In(storage.Tokyo).Format(time.DateOnly) }

// registerEvent serves POST /api/register-events: one change becomes one
// ex-officio revocation case, once per change id.
func (s *Server) registerEvent(c *gin.Context) {
	var in RegisterEventInput
	if err := c.ShouldBindJSON(&in); err != nil {
		fail(c, http.StatusBadRequest, "bad_request", "異動の通知を読み取れませんでした / The register change could not be read.")
		return
	}
	if code, msg := checkChange(in, s.today()); code != "" {
		fail(c, http.StatusBadRequest, code, msg)
		return
	}
	rs, ok := s.registerStore(c)
	if !ok {
		return
	}
	clerk := currentClerk(c)
	res, err := rs.Resident(c, in.ResidentCode)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && res.MunicipalityCode != clerk.MunicipalityCode) {
		fail(c, http.StatusUnprocessableEntity, "unknown_resident", "この団体の住民基本台帳に該当する住民票コードがありません / No resident with this resident code is in your municipality's register.")
		return
	}
	if err != nil {
		s.failInternal(c, err)
		return
	}
	number, err := rs.NextCaseNumber(c, clerk.MunicipalityCode, s.now())
	if err != nil {
		s.failInternal(c, err)
		return
	}
	day, _ := time.Parse(time.DateOnly, in.Date)
	proc := workflows.ProcedureExOfficioRevocation
	ev, created, err := rs.RecordRegisterChange(c, storage.Case{CaseNumber: number, MunicipalityCode: clerk.MunicipalityCode,
		Procedure: proc, WorkflowID: workflows.WorkflowID(proc, number), OpenedBy: clerk.ID},
		storage.RegisterEvent{MunicipalityCode: clerk.MunicipalityCode, ChangeID: in.ChangeID, ResidentCode: in.ResidentCode, Kind: in.Kind, Date: day})
	if errors.Is(err, storage.ErrChangeReused) {
		fail(c, http.StatusConflict, "change_id_reused", "この異動の番号は別の異動に使われています / This change id was already used for another change.")
		return
	}
	if err != nil {
		s.failInternal(c, err)
		return
	}
	// Started again on a repeat too: a change recorded just before a crash
	// gets its case; a running or closed case is left as it is.
	input := workflows.ExOfficioRevocationInput{CaseNumber: ev.CaseNumber, MunicipalityCode: clerk.MunicipalityCode, Actor: clerk.Login,
		EventID: ev.ID, Change: contract.RegisterChange{ChangeID: ev.ChangeID, ResidentCode: ev.ResidentCode, Kind: ev.Kind, Date: ev.Date.Format(time.DateOnly)}}
	if !s.startOnce(c, proc, ev.CaseNumber, workflows.ExOfficioRevocation, input) {
		return
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	c.JSON(status, RegisterEventResult{CaseNumber: ev.CaseNumber, Procedure: proc, Duplicate: !created})
}

// registerBatch serves POST /api/register-events/batch: a batch of changes
// becomes one case whose activities revoke chunk by chunk.
func (s *Server) registerBatch(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBatchBody)
	var in RegisterBatchInput
	if err := c.ShouldBindJSON(&in); err != nil {
		fail(c, http.StatusBadRequest, "bad_request", "一括異動の通知を読み取れませんでした / The batch could not be read.")
		return
	}
	switch {
	case !registerIDRE.MatchString(in.BatchID):
		fail(c, http.StatusBadRequest, "bad_batch_id", "一括異動の番号（英数字64文字以内）を指定してください / The batch id must be 1–64 letters, digits or . _ : -.")
		return
	case len(in.Changes) == 0 || len(in.Changes) > workflows.MaxBatchChanges:
		fail(c, http.StatusBadRequest, "bad_batch_size", "一括異動は1件以上100,000件以下で通知してください / A batch holds 1 to 100,000 changes.")
		return
	}
	today := s.today()
	var bad []BadRow
	seen := make(map[string]bool, len(in.Changes))
	codes := make([]string, len(in.Changes))
	for i, ch := range in.Changes {
		code, _ := checkChange(ch, today)
		if code == "" && seen[ch.ChangeID] {
			code = "duplicate_change_id"
		}
		seen[ch.ChangeID] = true
		codes[i] = ch.ResidentCode
		if code != "" && len(bad) < 20 {
			bad = append(bad, BadRow{Row: i, Code: code})
		}
	}
	if len(bad) > 0 {
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": apiError{Code: "bad_rows",
			Message: "一括異動に不正な行があります。何も受け付けていません / Some rows of the batch are malformed; nothing was accepted."}, "rows": bad})
		return
	}
	rs, ok := s.registerStore(c)
	if !ok {
		return
	}
	clerk := currentClerk(c)
	unknown, err := rs.UnknownResidents(c, clerk.MunicipalityCode, codes)
	if err != nil {
		s.failInternal(c, err)
		return
	}
	if len(unknown) > 0 {
		rows := make([]BadRow, 0, min(len(unknown), 20))
		for _, i := range unknown[:min(len(unknown), 20)] {
			rows = append(rows, BadRow{Row: i, Code: "unknown_resident"})
		}
		c.AbortWithStatusJSON(http.StatusUnprocessableEntity, gin.H{"error": apiError{Code: "unknown_resident",
			Message: "この団体の住民基本台帳にない住民票コードがあります。何も受け付けていません / Some resident codes are not in your municipality's register; nothing was accepted."}, "rows": rows})
		return
	}
	number, err := rs.NextCaseNumber(c, clerk.MunicipalityCode, s.now())
	if err != nil {
		s.failInternal(c, err)
		return
	}
	evs := make([]storage.RegisterEvent, len(in.Changes))
	for i, ch := range in.Changes {
		day, _ := time.Parse(time.DateOnly, ch.Date)
		evs[i] = storage.RegisterEvent{ChangeID: ch.ChangeID, ResidentCode: ch.ResidentCode, Kind: ch.Kind, Date: day}
	}
	proc := workflows.ProcedureExOfficioRevocationBatch
	b, created, err := rs.RecordRegisterBatch(c, storage.Case{CaseNumber: number, MunicipalityCode: clerk.MunicipalityCode,
		Procedure: proc, WorkflowID: workflows.WorkflowID(proc, number), OpenedBy: clerk.ID}, in.BatchID, evs)
	if err != nil {
		s.failInternal(c, err)
		return
	}
	input := workflows.ExOfficioRevocationBatchInput{CaseNumber: b.CaseNumber, MunicipalityCode: clerk.MunicipalityCode, Actor: clerk.Login, BatchID: b.BatchID}
	if !s.startOnce(c, proc, b.CaseNumber, workflows.ExOfficioRevocationBatch, input) {
		return
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	c.JSON(status, RegisterEventResult{CaseNumber: b.CaseNumber, Procedure: proc, Duplicate: !created, Changes: b.Changes})
}

// startOnce starts a case's workflow unless it was started before (running
// or closed: its id is never reused); it answers the error itself.
func (s *Server) startOnce(c *gin.Context, proc, number string, wf, input any) bool {
	_, err := s.temporal.ExecuteWorkflow(c, client.StartWorkflowOptions{
		ID:                       workflows.WorkflowID(proc, number),
		TaskQueue:                contract.MunicipalTaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes:    workflows.SearchAttributes(proc, number, currentClerk(c).MunicipalityCode),
	}, wf, input)
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &already) {
		s.failTemporal(c, err)
		return false
	}
	return true
}
