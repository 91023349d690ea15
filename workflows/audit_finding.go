package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// ProcedureAuditFinding is 第3 10 (3): a finding of the compliance audit and
// its correction, as a case.
const ProcedureAuditFinding = "audit-finding"

// Messages of the audit finding.
const (
	// RecordCorrectionUpdate is the office's manager recording how the
	// finding was corrected (RecordCorrectionInput).
	RecordCorrectionUpdate = "record-correction"
	// ConfirmClosedUpdate is an auditor confirming the correction closes the
	// finding, or sending it back (ConfirmClosedInput).
	ConfirmClosedUpdate = "confirm-closed"
)

// Steps of the audit finding.
const (
	StepFindingCorrection   = "finding_correction"
	StepFindingConfirmation = "finding_confirmation"
)

// FindingWindow bounds each wait of a finding: the correction, then the
// confirmation; a finding left longer lapses (and shows in the managers'
// lists and the next report).
const FindingWindow = 90 * 24 * time.Hour

// FindingCategories are what a finding is about.
var FindingCategories = []string{"procedure", "pin_confirmation", "access_log", "records", "disposal", "terminal", "other"}

// maxFindingText bounds a finding's and a correction's text (characters).
const maxFindingText = 2000

// Finding is what the auditor found. Subject names what it is about by a
// case number, a report's period or a terminal, never a person.
type Finding struct {
	Category string `json:"category"`
	Subject  string `json:"subject,omitempty"`
	Summary  string `json:"summary"`
}

// AuditFindingInput starts a finding.
type AuditFindingInput struct {
	CaseNumber       string  `json:"caseNumber"`
	MunicipalityCode string  `json:"municipalityCode"`
	Auditor          string  `json:"auditor"`
	Finding          Finding `json:"finding"`
}

// AuditFindingResult is the outcome.
type AuditFindingResult = kit.Outcome[AuditFindingOutcome]

// AuditFindingOutcome says who corrected the finding and who confirmed it
// closed, and in how many rounds.
type AuditFindingOutcome struct {
	CorrectedBy string `json:"correctedBy,omitempty"`
	ConfirmedBy string `json:"confirmedBy,omitempty"`
	Rounds      int    `json:"rounds"`
}

// StartAuditFinding is the body of POST /api/procedures/audit-finding.
type StartAuditFinding struct{ Finding }

// Check implements StartRequest.
func (s *StartAuditFinding) Check() *contract.Rejection {
	switch {
	case !slices.Contains(FindingCategories, s.Category):
		return &contract.Rejection{Code: "bad_category", Message: "指摘の区分は procedure, pin_confirmation, access_log, records, disposal, terminal, other のいずれかです / The category must be one of procedure, pin_confirmation, access_log, records, disposal, terminal, other."}
	case strings.TrimSpace(s.Summary) == "":
		return &contract.Rejection{Code: "missing_summary", Message: "指摘の内容を入力してください / Enter what was found."}
	case utf8.RuneCountInString(s.Summary) > maxFindingText:
		return &contract.Rejection{Code: "summary_too_long", Message: "指摘の内容は2000文字以内で入力してください / The finding must be at most 2000 characters."}
	case utf8.RuneCountInString(s.Subject) > 100:
		return &contract.Rejection{Code: "subject_too_long", Message: "対象は100文字以内で入力してください / The subject must be at most 100 characters."}
	}
	return nil
}

// Input implements StartRequest.
func (s *StartAuditFinding) Input(o Opening) any {
	return AuditFindingInput{CaseNumber: o.CaseNumber, MunicipalityCode: o.Office, Auditor: o.Clerk, Finding: s.Finding}
}

// RecordCorrectionInput is the manager's correction.
type RecordCorrectionInput struct {
	Clerk      string `json:"clerk"`
	Correction string `json:"correction"`
}

// SetClerk implements kit.Actor.
func (in *RecordCorrectionInput) SetClerk(l string) { in.Clerk = l }

// RecordCorrectionResult acknowledges the correction.
type RecordCorrectionResult struct {
	Round int `json:"round"`
}

// ConfirmClosedInput is an auditor's verdict on the correction: closed, or
// sent back with a reason for another correction.
type ConfirmClosedInput struct {
	Clerk  string `json:"clerk"`
	Closed bool   `json:"closed"`
	Note   string `json:"note,omitempty"`
}

// SetClerk implements kit.Actor.
func (in *ConfirmClosedInput) SetClerk(l string) { in.Clerk = l }

// ConfirmClosedResult says whether the finding closed.
type ConfirmClosedResult struct {
	Closed bool `json:"closed"`
	Round  int  `json:"round"`
}

var (
	recordCorrectionStep = kit.NewHumanStep[RecordCorrectionInput]("record-correction", RecordCorrectionUpdate)
	confirmClosedStep    = kit.NewHumanStep[ConfirmClosedInput]("confirm-closed", ConfirmClosedUpdate)
)

// AuditFinding is 第3 10 準拠性監査 (3): an auditor records a finding at
// their office; the office's manager records its correction; an auditor
// other than the one who corrected confirms the finding closed, or sends it
// back for another correction. Each wait is bounded by FindingWindow; a
// finding never corrected, or never confirmed, lapses. Every step is in the
// case's audit trail, so the correction of a finding has a history too.
func AuditFinding(ctx workflow.Context, in AuditFindingInput) (AuditFindingResult, error) {
	c, err := kit.New(ctx, kit.Info{Number: in.CaseNumber, Procedure: ProcedureAuditFinding, Office: in.MunicipalityCode})
	if err != nil {
		return AuditFindingResult{}, err
	}
	var out AuditFindingOutcome
	var correction *RecordCorrectionInput
	var verdict *ConfirmClosedInput
	if err := workflow.SetUpdateHandlerWithOptions(ctx, RecordCorrectionUpdate,
		func(ctx workflow.Context, r RecordCorrectionInput) (RecordCorrectionResult, error) {
			correction = &r
			return RecordCorrectionResult{Round: out.Rounds + 1}, nil
		}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, r RecordCorrectionInput) error {
			if err := c.Accepting(); err != nil {
				return err
			}
			switch {
			case c.Step() != StepFindingCorrection || correction != nil:
				return errors.New("是正の記録を受け付ける段階ではありません / The finding is not waiting for a correction")
			case r.Clerk == "":
				return errors.New("是正した職員が不明です / The manager is missing")
			case r.Clerk == in.Auditor:
				return errors.New("指摘した監査担当者は是正を記録できません / The auditor who made the finding cannot record its correction")
			case strings.TrimSpace(r.Correction) == "":
				return errors.New("是正の内容を入力してください / Enter how the finding was corrected")
			case utf8.RuneCountInString(r.Correction) > maxFindingText:
				return errors.New("是正の内容は2000文字以内で入力してください / The correction must be at most 2000 characters")
			}
			return nil
		}}); err != nil {
		return AuditFindingResult{}, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ConfirmClosedUpdate,
		func(ctx workflow.Context, v ConfirmClosedInput) (ConfirmClosedResult, error) {
			verdict = &v
			return ConfirmClosedResult{Closed: v.Closed, Round: out.Rounds}, nil
		}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, v ConfirmClosedInput) error {
			if err := c.Accepting(); err != nil {
				return err
			}
			switch {
			case c.Step() != StepFindingConfirmation || verdict != nil:
				return errors.New("是正の確認を受け付ける段階ではありません / The finding is not waiting for a confirmation")
			case v.Clerk == "":
				return errors.New("確認した監査担当者が不明です / The auditor is missing")
			case v.Clerk == out.CorrectedBy:
				return errors.New("是正を記録した職員は確認できません / The one who recorded the correction cannot confirm it")
			case !v.Closed && strings.TrimSpace(v.Note) == "":
				return errors.New("差し戻す理由を入力してください / Enter why the correction is sent back")
			}
			return nil
		}}); err != nil {
		return AuditFindingResult{}, err
	}
	return kit.Run(ctx, c, func(ctx workflow.Context) (AuditFindingOutcome, error) {
		// 第3 10 指摘の記録.
		c.Enter(ctx, kit.StepReception, in.Auditor)
		c.Note(in.Finding.Category)
		if err := c.Record(ctx, "finding_recorded", in.Auditor, in.Finding.Category+" "+in.Finding.Subject); err != nil {
			return out, err
		}
		for {
			// 第3 10 是正: the office's manager records the correction.
			c.Enter(ctx, StepFindingCorrection, "")
			correction = nil
			if err := c.Await(ctx, FindingWindow, "manager", "manager: correct the finding",
				kit.Lapse{Code: "finding_not_corrected", Message: "指摘が是正されないまま期限を過ぎました / The finding was not corrected in time."},
				func() bool { return correction != nil }); err != nil {
				return out, err
			}
			out.Rounds++
			out.CorrectedBy = correction.Clerk
			if err := c.Record(ctx, fmt.Sprintf("finding_corrected:%d", out.Rounds), correction.Clerk, ""); err != nil {
				return out, err
			}
			// 第3 10 是正の確認: an auditor confirms the finding closed.
			c.Enter(ctx, StepFindingConfirmation, correction.Clerk)
			verdict = nil
			if err := c.Await(ctx, FindingWindow, "auditor", "auditor: confirm the correction",
				kit.Lapse{Code: "closure_not_confirmed", Message: "是正の確認がされないまま期限を過ぎました / No auditor confirmed the correction in time."},
				func() bool { return verdict != nil }); err != nil {
				return out, err
			}
			if verdict.Closed {
				out.ConfirmedBy = verdict.Clerk
				return out, c.Record(ctx, "finding_closed", verdict.Clerk, fmt.Sprintf("round %d", out.Rounds))
			}
			if err := c.Record(ctx, fmt.Sprintf("finding_reopened:%d", out.Rounds), verdict.Clerk, ""); err != nil {
				return out, err
			}
		}
	})
}
