// Package kit is the procedure kit: the case core every procedure of the
// manual runs on, and the step modules a procedure opts into.
//
// A procedure is one workflow function that makes a Case, opts into the
// modules it uses (each registers only its own handlers, so an update for a
// module the procedure did not opt into is refused by Temporal as unknown),
// and runs its steps inside Run. Run settles every ending the same way:
// completed, rejected (a rule refused it), lapsed (a human step never came
// within its bound), failed (something broke for good) or cancelled (a clerk
// or manager cancelled it with a reason). On every ending but completed the
// compensations the steps pushed run first (certificates issued but never
// written are revoked, a relay counterpart is told); the case then waits for
// its handlers to finish, is closed in the municipal database, and its final
// step and status go to the search attributes.
//
// Every ending returns an Outcome with the status, not a workflow error, so
// the Temporal execution completes; the case's status is in the outcome, the
// state query and the MadoguchiStatus search attribute, from which managers
// list failed, lapsed and cancelled cases.
//
// Everything here is deterministic workflow code: I/O only through
// activities named in contract.
//
// Versioning policy (applies to every procedure): a change to a procedure or
// module that alters the commands a running case would replay is guarded by
// workflow.GetVersion with a change id named after the change, and the
// recorded histories in workflows/testdata (one or more per catalog entry,
// demo data only) are replayed by the test command. A change that cannot be
// guarded retires the affected histories on purpose, in the same commit, with
// the reason in that commit and in workflows/testdata/README.md; it may only
// ship when no case of the old shape is still open (a manager lists them
// through visibility) — as the kit itself did when it replaced the first
// issuance-shaped layer, before any municipality ran it.
package kit

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/searchattr"
)

// Statuses of a case. Every case ends in one of the five closed ones.
const (
	StatusOpen      = "open"
	StatusCompleted = "completed"
	StatusRejected  = "rejected"
	StatusLapsed    = "lapsed"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
)

// Statuses lists them, open first.
var Statuses = []string{StatusOpen, StatusCompleted, StatusRejected, StatusLapsed, StatusFailed, StatusCancelled}

// Steps every case has: where it starts and how it ended.
const (
	StepReception = "reception"
	StepDone      = "done"
	StepRejected  = "rejected"
	StepLapsed    = "lapsed"
	StepFailed    = "failed"
	StepCancelled = "cancelled"
)

// Messages of the case core.
const (
	// StateQuery returns the case's State.
	StateQuery = "state"
	// CancelUpdate cancels an open case (CancelInput).
	CancelUpdate = "cancel"
)

// FailedAs ends a case as failed with a reason a clerk can read out that
// another case gave (a relay side whose address case failed), instead of
// the step this case was at.
func FailedAs(why string) error { return &failedAs{why: why} }

type failedAs struct{ why string }

func (f *failedAs) Error() string { return f.why }

// compensationTimeout bounds each compensation, so that a case always ends:
// one that still fails is written to the step log for a manager to follow.
const compensationTimeout = time.Hour

// StepRecord is one entry of the case's step log.
type StepRecord struct {
	Step  string    `json:"step"`
	At    time.Time `json:"at"`
	Actor string    `json:"actor,omitempty"`
	Note  string    `json:"note,omitempty"`
}

// State is what the state query returns: the core, then a typed section per
// module or family, each present only when the procedure uses it. It holds
// no personal data.
type State struct {
	CaseNumber string `json:"caseNumber"`
	Procedure  string `json:"procedure"`
	// Office is the code of the office that runs the case (a municipality).
	Office     string `json:"municipalityCode"`
	Step       string `json:"step"`
	Status     string `json:"status"`
	WaitingFor string `json:"waitingFor,omitempty"`
	// Rejection says why a case did not complete (rejected, lapsed, failed,
	// cancelled): a code and a message a clerk can read out.
	Rejection *contract.Rejection `json:"rejection,omitempty"`
	// PINEnteredBy and PINConfirmedBy name the clerk who typed a PIN for the
	// applicant and the other clerk who confirmed the applicant's intent.
	PINEnteredBy   string       `json:"pinEnteredBy,omitempty"`
	PINConfirmedBy string       `json:"pinConfirmedBy,omitempty"`
	Steps          []StepRecord `json:"steps"`

	Identity *IdentityState `json:"identity,omitempty"`
	Terminal *TerminalState `json:"terminal,omitempty"`
	Issuance *IssuanceState `json:"issuance,omitempty"`
	Inquiry  *InquiryState  `json:"inquiry,omitempty"`
	Deadline *DeadlineState `json:"deadline,omitempty"`
	Relay    *RelayState    `json:"relay,omitempty"`
	// Status is the Organization's status changes of the case's
	// certificates (revocation, hold, release).
	CertStatus *StatusChangeState `json:"certificateStatus,omitempty"`
	// Revocation is the ex-officio revocation's section (第2 2(3)).
	Revocation *RevocationState `json:"revocation,omitempty"`
	// Records is a disclosure or correction request's section (第2 3, 4).
	Records *RecordsState `json:"records,omitempty"`
}

// Info names a case.
type Info struct {
	Number    string
	Procedure string
	Office    string
}

// CancelInput is a clerk or manager cancelling an open case.
type CancelInput struct {
	Clerk  string `json:"clerk"`
	Reason string `json:"reason"`
}

// CancelResult acknowledges the cancellation; the case then settles.
type CancelResult struct {
	Status string `json:"status"`
}

// Outcome is every procedure's result.
type Outcome[R any] struct {
	Status    string              `json:"status"`
	Rejection *contract.Rejection `json:"rejection,omitempty"`
	Detail    R                   `json:"detail"`
}

// Case is one procedure for one person: its state, its step log, the
// compensations to run if it does not complete, and the lock its
// activity-running handlers share.
type Case struct {
	st       State
	body     workflow.Context
	stop     workflow.CancelFunc
	cancel   *CancelInput
	settling bool
	comps    []compensation
	lock     workflow.Mutex
	// ended is how the case is ending, set before its compensations run.
	ended Ending
}

// Ending is how a case ended, for a compensation that records why (a
// fee's refund): the status, who ended it (the cancelling clerk, or
// "system") and the reason.
type Ending struct {
	Status string
	By     string
	Reason string
}

// compensatingKey marks the context compensations run on, so that their
// activities are bounded by compensationTimeout.
type compensatingKey struct{}

type compensation struct {
	name string
	run  func(ctx workflow.Context) error
}

// New opens the case: it registers the state query and the cancel update.
// Steps run on Body(), which a cancellation interrupts.
func New(ctx workflow.Context, info Info) (*Case, error) {
	c := &Case{st: State{CaseNumber: info.Number, Procedure: info.Procedure, Office: info.Office,
		Status: StatusOpen, Step: StepReception}}
	c.body, c.stop = workflow.WithCancel(ctx)
	c.lock = workflow.NewMutex(ctx)
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"procedure": info.Procedure}).Counter(StartedMetric).Inc(1)
	if err := workflow.SetQueryHandler(ctx, StateQuery, func() (State, error) { return c.st, nil }); err != nil {
		return nil, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, CancelUpdate, c.cancelled,
		workflow.UpdateHandlerOptions{Validator: c.validateCancel}); err != nil {
		return nil, err
	}
	return c, nil
}

// Body is the context the procedure's steps run on.
func (c *Case) Body() workflow.Context { return c.body }

// Number is the case number.
func (c *Case) Number() string { return c.st.CaseNumber }

// Office is the office's code.
func (c *Case) Office() string { return c.st.Office }

// Procedure is the procedure's name.
func (c *Case) Procedure() string { return c.st.Procedure }

// Step is the current step.
func (c *Case) Step() string { return c.st.Step }

// State gives the modules and the procedure its state to fill in.
func (c *Case) State() *State { return &c.st }

// Accepting returns an error for a validator when the case no longer takes
// steps (it is settling or closed).
func (c *Case) Accepting() error {
	if c.st.Status != StatusOpen {
		return fmt.Errorf("この手続は終了しています（%s） / This procedure has ended (%s)", c.st.Status, c.st.Status)
	}
	if c.settling {
		// Still "open" until it is closed: say so, not "ended (open)".
		return errors.New("この手続は終了処理中です / This procedure has ended and is being closed")
	}
	return nil
}

func (c *Case) validateCancel(ctx workflow.Context, in CancelInput) error {
	if err := c.Accepting(); err != nil {
		return err
	}
	if c.cancel != nil {
		return errors.New("この手続は既に取り消されています / This procedure is already being cancelled")
	}
	if in.Clerk == "" {
		return errors.New("取り消した職員が不明です / The clerk is missing")
	}
	if in.Reason == "" {
		return errors.New("取消の理由を入力してください / Enter the reason for the cancellation")
	}
	return nil
}

func (c *Case) cancelled(ctx workflow.Context, in CancelInput) (CancelResult, error) {
	c.cancel = &in
	c.stop()
	return CancelResult{Status: StatusCancelled}, nil
}

// Enter moves the case to a step, for the query and the step log.
func (c *Case) Enter(ctx workflow.Context, step, actor string) {
	now := workflow.Now(ctx)
	if n := len(c.st.Steps); n > 0 {
		// The step left, timed by the workflow's clock (metrics: not
		// recorded again on replay).
		prev := c.st.Steps[n-1]
		workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"procedure": c.st.Procedure, "step": prev.Step}).
			Timer(StepDurationMetric).Record(now.Sub(prev.At))
	}
	c.st.Step = step
	c.st.Steps = append(c.st.Steps, StepRecord{Step: step, At: now, Actor: actor})
}

// The kit's metrics, through the SDK's metrics handler (internal/metrics
// turns them into madoguchi_procedures_started_total,
// madoguchi_procedures_ended_total and madoguchi_step_duration_seconds).
// Their tags are the procedure, the step and the outcome: never a case.
const (
	StartedMetric      = "madoguchi_procedures_started"
	EndedMetric        = "madoguchi_procedures_ended"
	StepDurationMetric = "madoguchi_step_duration"
)

// Note adds a note to the current step's log entry.
func (c *Case) Note(note string) {
	if n := len(c.st.Steps); n > 0 {
		c.st.Steps[n-1].Note = note
	}
}

// Waiting marks the case as waiting at its step for who (a role such as
// "clerk", "applicant", "terminal", never a person), with what the console
// shows. It is written to the search attributes, so the waiting list comes
// from visibility.
func (c *Case) Waiting(ctx workflow.Context, who, what string) {
	c.st.WaitingFor = what
	upsert(ctx, searchattr.Step.ValueSet(c.st.Step), searchattr.Waiting.ValueSet(who))
}

// Done clears the wait.
func (c *Case) Done(ctx workflow.Context) {
	if c.st.WaitingFor == "" {
		return
	}
	c.st.WaitingFor = ""
	upsert(ctx, searchattr.Step.ValueSet(c.st.Step), searchattr.Waiting.ValueUnset())
}

// Lapse is how a bounded wait ends when its step never came.
type Lapse struct {
	Code    string
	Message string
}

// Await waits, at most bound, for cond: a human step. Every wait has a
// bound; when it passes the case ends as lapsed with the given reason.
func (c *Case) Await(ctx workflow.Context, bound time.Duration, who, what string, lapse Lapse, cond func() bool) error {
	c.Waiting(ctx, who, what)
	ok, err := workflow.AwaitWithTimeout(ctx, max(bound, time.Millisecond), cond)
	if err != nil {
		return err
	}
	c.Done(ctx)
	if !ok {
		return contract.Lapse(lapse.Code, lapse.Message)
	}
	return nil
}

// Record writes a human step to the case's audit trail (the municipal
// database), with who did it.
func (c *Case) Record(ctx workflow.Context, key, actor, detail string) error {
	_, err := Local(ctx, contract.RecordEvent, contract.RecordEventInput{
		CaseNumber: c.st.CaseNumber, Key: key, Actor: actor, Detail: detail, At: workflow.Now(ctx),
	})
	return err
}

// Ended is how the case is ending; compensations read it (zero before the
// case settles).
func (c *Case) Ended() Ending { return c.ended }

// Compensate pushes what to undo if the case does not complete; the
// returned func drops it once the step it guards is safe (e.g. the
// certificates are on the card).
func (c *Case) Compensate(name string, run func(ctx workflow.Context) error) (drop func()) {
	c.comps = append(c.comps, compensation{name: name, run: run})
	i := len(c.comps) - 1
	return func() { c.comps[i].run = nil }
}

// Serialized runs an activity-running handler under the case's lock, so two
// handlers never interleave their activities; the case waits for all of
// them before it ends.
func (c *Case) Serialized(ctx workflow.Context, fn func(ctx workflow.Context) error) error {
	if err := c.lock.Lock(ctx); err != nil {
		return err
	}
	defer c.lock.Unlock()
	return fn(ctx)
}

// Run runs the procedure's steps on the case and settles how they ended.
func Run[R any](ctx workflow.Context, c *Case, steps func(ctx workflow.Context) (R, error)) (Outcome[R], error) {
	detail, err := steps(c.body)
	return settle(ctx, c, detail, err)
}

// settle ends the case. Its work runs on a disconnected context, so that a
// cancellation still compensates and closes the case.
func settle[R any](ctx workflow.Context, c *Case, detail R, err error) (Outcome[R], error) {
	c.settling = true
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	status, step, why := c.ending(err)
	c.ended = Ending{Status: status, By: "system", Reason: status}
	if c.cancel != nil {
		c.ended.By, c.ended.Reason = c.cancel.Clerk, status+": "+c.cancel.Reason
	} else if why != nil {
		c.ended.Reason = status + ": " + why.Code
	}
	if status != StatusCompleted {
		c.compensate(dctx)
	}
	// A handler still running (a reply being checked, a review being
	// recorded) finishes before the case closes.
	if err := workflow.Await(dctx, func() bool { return workflow.AllHandlersFinished(dctx) }); err != nil {
		return Outcome[R]{}, err
	}
	c.st.Status = status
	c.st.Rejection = why
	c.st.WaitingFor = ""
	c.Enter(dctx, step, "")
	workflow.GetMetricsHandler(dctx).WithTags(map[string]string{"procedure": c.st.Procedure, "outcome": status}).Counter(EndedMetric).Inc(1)
	upsert(dctx, searchattr.Step.ValueSet(step), searchattr.Status.ValueSet(status), searchattr.Waiting.ValueUnset())
	reason := ""
	if why != nil {
		reason = why.Code
	}
	if _, err := Local(dctx, contract.CloseCase, contract.CloseCaseInput{
		CaseNumber: c.st.CaseNumber, Status: status, Reason: reason, At: workflow.Now(dctx),
	}); err != nil {
		return Outcome[R]{}, err
	}
	if err != nil && status == StatusFailed {
		workflow.GetLogger(ctx).Error("case failed", "case", c.st.CaseNumber, "step", c.failedAt(), "error", err)
	}
	return Outcome[R]{Status: status, Rejection: why, Detail: detail}, nil
}

// ending classifies how the steps ended.
func (c *Case) ending(err error) (status, step string, why *contract.Rejection) {
	if c.cancel != nil {
		return StatusCancelled, StepCancelled, &contract.Rejection{Code: "cancelled",
			Message: fmt.Sprintf("%s が取り消しました（理由: %s） / Cancelled by %s: %s", c.cancel.Clerk, c.cancel.Reason, c.cancel.Clerk, c.cancel.Reason)}
	}
	if err == nil {
		return StatusCompleted, StepDone, nil
	}
	if r, ok := contract.AsRejection(err); ok {
		return StatusRejected, StepRejected, &r
	}
	if r, ok := contract.AsLapse(err); ok {
		return StatusLapsed, StepLapsed, &r
	}
	if temporal.IsCanceledError(err) {
		msg := "手続はシステムにより取り消されました / The procedure was cancelled through Temporal"
		// A procedure ending as another case was cancelled (the relay side)
		// passes that case's reason as the detail.
		var ce *temporal.CanceledError
		if errors.As(err, &ce) && ce.HasDetails() {
			var why string
			if ce.Details(&why) == nil && why != "" {
				msg = why
			}
		}
		return StatusCancelled, StepCancelled, &contract.Rejection{Code: "cancelled", Message: msg}
	}
	var fa *failedAs
	if errors.As(err, &fa) {
		return StatusFailed, StepFailed, &contract.Rejection{Code: "failed", Message: fa.why}
	}
	at := c.failedAt()
	return StatusFailed, StepFailed, &contract.Rejection{Code: "failed",
		Message: fmt.Sprintf("工程「%s」で続行できない障害が発生したため手続を終了しました。必要な取消処理は実施済みです / The procedure failed for good at step %q and was closed; compensation ran", at, at)}
}

func (c *Case) failedAt() string { return c.st.Step }

// compensate runs the pushed compensations, newest first. Each is bounded;
// one that fails is logged in the step log and the others still run.
func (c *Case) compensate(ctx workflow.Context) {
	for i := len(c.comps) - 1; i >= 0; i-- {
		comp := c.comps[i]
		if comp.run == nil {
			continue
		}
		c.Enter(ctx, "compensation", "")
		if err := comp.run(workflow.WithValue(ctx, compensatingKey{}, true)); err != nil {
			c.Note(comp.name + ": failed")
			workflow.GetLogger(ctx).Error("compensation failed", "case", c.st.CaseNumber, "compensation", comp.name, "error", err)
			continue
		}
		c.Note(comp.name)
	}
}

// upsert writes search attributes; a failed upsert only affects listing,
// never the case.
func upsert(ctx workflow.Context, updates ...temporal.SearchAttributeUpdate) {
	_ = workflow.UpsertTypedSearchAttributes(ctx, updates...)
}
