package workflows

import (
	"context"
	"errors"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// Retention and disposal (第3 3 申請書等の保存; issue 12 item 1). Every day a
// Temporal Schedule runs RetentionDisposalDay, which starts one
// RetentionDisposal case per municipality for the Schedule's day. The case
// draws up the day's list of what is due (documents past their retention
// date, issuance records 10 years after the day after expiry), holding
// anything about a resident with an open disclosure or correction request;
// a manager submits the list, another manager approves it, and only then
// is it disposed of, each disposal recorded with the approval. A list not
// approved within DisposalApprovalWindow lapses: nothing is disposed of,
// and the next day's list takes the items up again.

// Messages of the disposal case.
const (
	// SubmitDisposalListUpdate: a manager submits the day's list
	// (SubmitDisposalListInput).
	SubmitDisposalListUpdate = "submit-disposal-list"
	// ApproveDisposalListUpdate: another manager approves it
	// (ApproveDisposalListInput).
	ApproveDisposalListUpdate = "approve-disposal-list"
)

// Steps of the disposal case.
const (
	StepDisposalList     = "disposal_list"
	StepDisposalApproval = "disposal_approval"
	StepDisposal         = "disposal"
)

// DisposalApprovalWindow is how long a day's list waits for its submission
// and approval before it lapses: two weeks, so a manager's leave does not
// lose it, while the lists of the following days are drawn up anyway.
const DisposalApprovalWindow = 14 * 24 * time.Hour

// Refusal codes of the disposal steps, as the gateway answers them.
const (
	CodeOwnDisposalList      = contract.CodeOwnDisposalList
	CodeDisposalNotSubmitted = "not_submitted"
)

// DisposalCaseNumber is the case number of a municipality's disposal of a
// day (YYYY-MM-DD): from the office and the day, never personal data.
func DisposalCaseNumber(office, day string) string {
	return office + "-D" + strings.ReplaceAll(day, "-", "")
}

// RetentionDisposalInput starts a municipality's disposal of one day.
type RetentionDisposalInput struct {
	CaseNumber       string `json:"caseNumber"`
	MunicipalityCode string `json:"municipalityCode"`
	// Day is the list's day, YYYY-MM-DD in Asia/Tokyo: the Schedule's
	// scheduled day, so what is due does not depend on when the run starts.
	Day string `json:"day"`
}

// RetentionDisposalDetail is what the day's disposal did: counts and who
// submitted and approved it; the items are in the municipal database.
type RetentionDisposalDetail struct {
	Due         int    `json:"due"`
	Held        int    `json:"held"`
	Disposed    int    `json:"disposed"`
	SubmittedBy string `json:"submittedBy,omitempty"`
	ApprovedBy  string `json:"approvedBy,omitempty"`
}

// RetentionDisposalResult is the outcome of a day's disposal.
type RetentionDisposalResult = kit.Outcome[RetentionDisposalDetail]

// SubmitDisposalListInput is a manager submitting the day's list.
type SubmitDisposalListInput struct {
	Manager string `json:"manager"`
}

// SubmitDisposalListResult acknowledges the submission.
type SubmitDisposalListResult struct {
	Status string `json:"status"`
}

// ApproveDisposalListInput is a manager approving the submitted list.
type ApproveDisposalListInput struct {
	Manager string `json:"manager"`
}

// ApproveDisposalListResult acknowledges the approval; the disposal follows.
type ApproveDisposalListResult struct {
	Status string `json:"status"`
}

// disposalRefusal is a validator's refusal with the code the gateway answers.
func disposalRefusal(code, msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, code, nil)
}

// RetentionDisposal is 第3 3 for one municipality and day.
func RetentionDisposal(ctx workflow.Context, in RetentionDisposalInput) (RetentionDisposalResult, error) {
	c, err := kit.New(ctx, kit.Info{Number: in.CaseNumber, Procedure: contract.ProcRetentionDisposal, Office: in.MunicipalityCode})
	if err != nil {
		return RetentionDisposalResult{}, err
	}
	var d RetentionDisposalDetail
	drawn := false
	if err := workflow.SetUpdateHandlerWithOptions(ctx, SubmitDisposalListUpdate,
		func(ctx workflow.Context, u SubmitDisposalListInput) (SubmitDisposalListResult, error) {
			err := c.Serialized(ctx, func(ctx workflow.Context) error {
				_, err := kit.Local(ctx, contract.RecordDisposalStep, contract.DisposalListStepInput{
					Office: c.Office(), Day: in.Day, Step: "submit", Manager: u.Manager, At: workflow.Now(ctx)})
				return err
			})
			if err != nil {
				return SubmitDisposalListResult{}, err
			}
			d.SubmittedBy = u.Manager
			c.Note("submitted by " + u.Manager)
			return SubmitDisposalListResult{Status: "submitted"}, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, u SubmitDisposalListInput) error {
			if err := c.Accepting(); err != nil {
				return err
			}
			switch {
			case u.Manager == "":
				return errors.New("提出した管理者が不明です / The manager is missing")
			case !drawn:
				return errors.New("廃棄リストを作成中です / The list is still being drawn up")
			case d.SubmittedBy != "":
				return errors.New("この廃棄リストは提出済みです / This list has already been submitted")
			}
			return nil
		}}); err != nil {
		return RetentionDisposalResult{}, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ApproveDisposalListUpdate,
		func(ctx workflow.Context, u ApproveDisposalListInput) (ApproveDisposalListResult, error) {
			err := c.Serialized(ctx, func(ctx workflow.Context) error {
				_, err := kit.Local(ctx, contract.RecordDisposalStep, contract.DisposalListStepInput{
					Office: c.Office(), Day: in.Day, Step: "approve", Manager: u.Manager, At: workflow.Now(ctx)})
				return err
			})
			if err != nil {
				return ApproveDisposalListResult{}, err
			}
			d.ApprovedBy = u.Manager
			return ApproveDisposalListResult{Status: "approved"}, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, u ApproveDisposalListInput) error {
			if err := c.Accepting(); err != nil {
				return err
			}
			switch {
			case u.Manager == "":
				return errors.New("承認した管理者が不明です / The manager is missing")
			case d.SubmittedBy == "":
				return disposalRefusal(CodeDisposalNotSubmitted, "廃棄リストはまだ提出されていません / The list has not been submitted yet")
			case u.Manager == d.SubmittedBy:
				// Approval is the second pair of eyes: never one's own list.
				return disposalRefusal(CodeOwnDisposalList, "自分が提出した廃棄リストは承認できません / A manager cannot approve a list they submitted")
			case d.ApprovedBy != "":
				return errors.New("この廃棄リストは承認済みです / This list has already been approved")
			}
			return nil
		}}); err != nil {
		return RetentionDisposalResult{}, err
	}
	return kit.Run(ctx, c, func(ctx workflow.Context) (RetentionDisposalDetail, error) {
		// 第3 3(2) 保存期間を経過した申請書等・発行記録の抽出 (the day's list).
		c.Enter(ctx, StepDisposalList, "")
		l, err := kit.Local(ctx, contract.DrawUpDisposalList, contract.DrawUpDisposalListInput{
			Office: c.Office(), Day: in.Day, CaseNumber: c.Number(), WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID, At: workflow.Now(ctx)})
		if err != nil {
			return d, err
		}
		d.Due, d.Held = l.Due, l.Held
		if l.Due == 0 {
			// Nothing to dispose of (none due, or all held): no approval asked.
			_, err := kit.Local(ctx, contract.CloseDisposalList, contract.CloseDisposalListInput{
				Office: c.Office(), Day: in.Day, Status: "nothing_due", At: workflow.Now(ctx)})
			return d, err
		}
		drawn = true
		// 第3 3 廃棄の承認: a manager submits the list, another approves it.
		c.Enter(ctx, StepDisposalApproval, "")
		err = c.Await(ctx, DisposalApprovalWindow, RoleManager, "廃棄リストの提出と承認 / The list's submission and approval",
			kit.Lapse{Code: "disposal_not_approved", Message: "承認期限までに廃棄リストが承認されませんでした。翌日以降のリストに再掲されます / The list was not approved in time; the next day's list takes its items up again."},
			func() bool { return d.ApprovedBy != "" })
		if err != nil {
			status := "cancelled"
			if _, lapsed := contract.AsLapse(err); lapsed {
				status = "lapsed"
			}
			dctx, _ := workflow.NewDisconnectedContext(ctx)
			if _, cerr := kit.Local(dctx, contract.CloseDisposalList, contract.CloseDisposalListInput{
				Office: c.Office(), Day: in.Day, Status: status, At: workflow.Now(dctx)}); cerr != nil {
				return d, cerr
			}
			return d, err
		}
		// 第3 3 廃棄と記録: each item not held, with the approval.
		c.Enter(ctx, StepDisposal, d.ApprovedBy)
		r, err := kit.Local(ctx, contract.DisposeList, contract.DisposeListInput{Office: c.Office(), Day: in.Day, At: workflow.Now(ctx)})
		if err != nil {
			return d, err
		}
		// A request opened since the list was drawn up holds its items now.
		d.Disposed, d.Held = r.Due, r.Held
		return d, nil
	})
}

// RetentionDisposalDayWorkflow is the registered name of the Schedule's run.
const RetentionDisposalDayWorkflow = "RetentionDisposalDay"

// RetentionDisposalScheduleID is the Temporal Schedule of the daily lists.
const RetentionDisposalScheduleID = "retention-disposal-daily"

// RetentionDisposalDayInput is the Schedule's run; Day (YYYY-MM-DD) is
// empty from the Schedule, which then gives its scheduled day.
type RetentionDisposalDayInput struct {
	Day string `json:"day,omitempty"`
}

// RetentionDisposalDayResult names the cases started (or already running).
type RetentionDisposalDayResult struct {
	Day   string   `json:"day"`
	Cases []string `json:"cases"`
}

// scheduledStart is the search attribute Temporal sets on a Schedule's run.
var scheduledStart = temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime")

// RetentionDisposalDay starts each municipality's disposal case of the
// day. The cases outlive this run (ParentClosePolicy abandon): they wait up
// to DisposalApprovalWindow for their managers.
func RetentionDisposalDay(ctx workflow.Context, in RetentionDisposalDayInput) (RetentionDisposalDayResult, error) {
	day := in.Day
	if day == "" {
		at, ok := workflow.GetTypedSearchAttributes(ctx).GetTime(scheduledStart)
		if !ok {
			at = workflow.Now(ctx)
		}
		day = at.In(jst).Format(time.DateOnly)
	}
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return RetentionDisposalDayResult{}, temporal.NewNonRetryableApplicationError("disposal day "+day+" is not YYYY-MM-DD", contract.ErrTypeInvalid, nil)
	}
	res := RetentionDisposalDayResult{Day: day}
	offices, err := kit.Local(ctx, contract.DisposalOffices, contract.DisposalOfficesInput{})
	if err != nil {
		return res, err
	}
	for _, office := range offices.Offices {
		number := DisposalCaseNumber(office, day)
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:            WorkflowID(contract.ProcRetentionDisposal, number),
			TaskQueue:             contract.MunicipalTaskQueue,
			ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			TypedSearchAttributes: SearchAttributes(contract.ProcRetentionDisposal, number, office),
		})
		f := workflow.ExecuteChildWorkflow(cctx, "RetentionDisposal", RetentionDisposalInput{CaseNumber: number, MunicipalityCode: office, Day: day})
		if err := f.GetChildWorkflowExecution().Get(ctx, nil); err != nil && !temporal.IsWorkflowExecutionAlreadyStartedError(err) {
			return res, err
		}
		res.Cases = append(res.Cases, number)
	}
	return res, nil
}

// retentionDisposalSchedule is the Schedule's definition: daily at 01:00
// JST, after the audit anchors.
func retentionDisposalSchedule() (client.ScheduleSpec, *client.ScheduleWorkflowAction, client.SchedulePolicies) {
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: 24 * time.Hour, Offset: 16 * time.Hour}}}
	action := &client.ScheduleWorkflowAction{
		// Temporal appends the scheduled time.
		ID:        "retention-disposal/daily",
		Workflow:  RetentionDisposalDayWorkflow,
		Args:      []any{RetentionDisposalDayInput{}},
		TaskQueue: contract.MunicipalTaskQueue,
	}
	policies := client.SchedulePolicies{Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, CatchupWindow: 24 * time.Hour}
	return spec, action, policies
}

// EnsureRetentionDisposalSchedule creates the daily Schedule
// "retention-disposal-daily", or brings an existing one back to this
// definition; setup calls it at every start.
func EnsureRetentionDisposalSchedule(ctx context.Context, c client.Client) error {
	spec, action, policies := retentionDisposalSchedule()
	return ensureScheduleDef(ctx, c, scheduleDef{id: RetentionDisposalScheduleID, spec: spec, action: action, policies: policies,
		note: "manual 第3 3: the day's disposal list of each municipality, disposed of after a manager's approval"})
}
