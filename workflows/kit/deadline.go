package kit

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/internal/searchattr"
)

// ExtendDeadlineUpdate extends a legal deadline with a notice to the person
// (e.g. 第2 3: the Organization extends a disclosure deadline and tells the
// requester the reason and the new date).
const ExtendDeadlineUpdate = "extend-deadline"

// ExtendDeadlineInput is a clerk or operator extending the deadline.
type ExtendDeadlineInput struct {
	Clerk  string `json:"clerk"`
	Reason string `json:"reason"`
}

// SetClerk implements Actor.
func (in *ExtendDeadlineInput) SetClerk(l string) { in.Clerk = l }

// ExtendDeadlineResult tells the new deadline.
type ExtendDeadlineResult struct {
	Due time.Time `json:"due"`
}

// DeadlineState is the legal deadline's section of the state.
type DeadlineState struct {
	Name       string    `json:"name"`
	Due        time.Time `json:"due"`
	Extended   bool      `json:"extended"`
	ExtendedBy string    `json:"extendedBy,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	// Met is when the duty was done; Overdue is set when the deadline
	// passed first (the case goes on, in the managers' overdue list).
	Met     time.Time `json:"met,omitzero"`
	Overdue bool      `json:"overdue,omitempty"`
}

// Deadline is the module of a legal deadline that may be extended once,
// with a notice, before it passes. The rule that counts both dates lives in
// internal/deadline; the procedure passes them in.
type Deadline struct {
	c        *Case
	extended time.Time
	// extending is set while an accepted extension's notice is being sent:
	// accepted before the deadline, it counts even if sending takes past it.
	extending bool
	// notify sends the extension notice (a letter activity), under the
	// case's lock; nil sends none.
	notify func(ctx workflow.Context, in ExtendDeadlineInput, due time.Time) error
}

// UseDeadline opts the case into a legal deadline due at due, extendable
// once to extended.
func UseDeadline(ctx workflow.Context, c *Case, name string, due, extended time.Time,
	notify func(ctx workflow.Context, in ExtendDeadlineInput, due time.Time) error) (*Deadline, error) {
	d := &Deadline{c: c, extended: extended, notify: notify}
	c.st.Deadline = &DeadlineState{Name: name, Due: due}
	upsert(ctx, searchattr.Due.ValueSet(due))
	return d, workflow.SetUpdateHandlerWithOptions(ctx, ExtendDeadlineUpdate, d.extend,
		workflow.UpdateHandlerOptions{Validator: d.validate})
}

// Due is the deadline now in force.
func (d *Deadline) Due() time.Time { return d.c.st.Deadline.Due }

func (d *Deadline) validate(ctx workflow.Context, in ExtendDeadlineInput) error {
	if err := d.c.Accepting(); err != nil {
		return err
	}
	switch {
	case d.c.st.Deadline.Extended:
		return errors.New("期限は既に延長されています / The deadline was already extended")
	case !workflow.Now(ctx).Before(d.c.st.Deadline.Due):
		return errors.New("期限を過ぎているため延長できません / The deadline has passed; it can no longer be extended")
	case in.Clerk == "":
		return errors.New("延長した職員が不明です / The clerk is missing")
	case in.Reason == "":
		return errors.New("延長の理由を入力してください / Enter the reason for the extension")
	}
	return nil
}

func (d *Deadline) extend(ctx workflow.Context, in ExtendDeadlineInput) (ExtendDeadlineResult, error) {
	d.extending = true
	defer func() { d.extending = false }()
	err := d.c.Serialized(ctx, func(ctx workflow.Context) error {
		if d.c.st.Deadline.Extended {
			return nil
		}
		if d.notify != nil {
			if err := d.notify(ctx, in, d.extended); err != nil {
				return err
			}
		}
		st := d.c.st.Deadline
		st.Due, st.Extended, st.ExtendedBy, st.Reason = d.extended, true, in.Clerk, in.Reason
		upsert(ctx, searchattr.Due.ValueSet(st.Due))
		return d.c.Record(ctx, "deadline_extended:"+st.Name, in.Clerk, in.Reason)
	})
	return ExtendDeadlineResult{Due: d.c.st.Deadline.Due}, err
}

// Await waits for cond until the deadline in force; an extension made
// while waiting moves the timer. A passed deadline lapses the case.
func (d *Deadline) Await(ctx workflow.Context, who, what string, cond func() bool) error {
	for {
		due := d.Due()
		err := d.c.Await(ctx, until(ctx, due), who, what,
			Lapse{"deadline_passed", fmt.Sprintf("期限（%s）を過ぎました / The deadline (%s) passed", d.c.st.Deadline.Name, d.c.st.Deadline.Name)},
			func() bool { return cond() || !d.Due().Equal(due) })
		if err != nil || cond() {
			return err
		}
	}
}

// Met records that the duty was done: the deadline leaves the managers'
// list.
func (d *Deadline) Met(ctx workflow.Context) {
	d.c.st.Deadline.Met = workflow.Now(ctx)
	upsert(ctx, searchattr.Due.ValueUnset())
}

// AwaitDuty waits for cond, the Organization's own duty, by the deadline
// in force. Unlike Await, a passed deadline does not end the case: the duty
// is still owed, so the case is marked overdue (it stays in the managers'
// deadline list, from visibility) and waits up to grace more; then it
// fails, for a manager to follow up.
func (d *Deadline) AwaitDuty(ctx workflow.Context, who, what string, grace time.Duration, cond func() bool) error {
	for {
		due := d.Due()
		d.c.Waiting(ctx, who, what)
		ok, err := workflow.AwaitWithTimeout(ctx, max(until(ctx, due), time.Millisecond),
			func() bool { return cond() || !d.Due().Equal(due) })
		if err != nil {
			return err
		}
		if cond() {
			d.c.Done(ctx)
			return nil
		}
		if !ok {
			// An extension accepted in time may still be sending its notice.
			if err := workflow.Await(ctx, func() bool { return !d.extending }); err != nil {
				return err
			}
			if d.Due().Equal(due) {
				break
			}
		}
	}
	st := d.c.st.Deadline
	st.Overdue = true
	d.c.Note("overdue")
	if err := d.c.Record(ctx, "deadline_overdue:"+st.Name, "", st.Due.Format(time.RFC3339)); err != nil {
		return err
	}
	ok, err := workflow.AwaitWithTimeout(ctx, max(grace, time.Millisecond), cond)
	if err != nil {
		return err
	}
	d.c.Done(ctx)
	if !ok {
		return FailedAs(fmt.Sprintf("期限（%s）を過ぎても義務が果たされませんでした / The duty (%s) was not done after its deadline passed", st.Name, st.Name))
	}
	return nil
}
