package kit

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/deadline"
	"github.com/madoguchi/madoguchi/internal/validity"
)

// Messages of the mailed-inquiry module.
const (
	// InquiryMailedUpdate records that the inquiry letter was mailed.
	InquiryMailedUpdate = "inquiry-mailed"
	// EnterReplyUpdate is the clerk entering the reply code (EnterReplyInput).
	EnterReplyUpdate = "enter-reply"
)

// Steps of the mailed inquiry.
const (
	StepInquiry        = "inquiry"         // the letter is prepared
	StepInquiryMailing = "inquiry_mailing" // waiting for the clerk to mail it
	StepReplyWait      = "reply_wait"      // waiting, for weeks, for the reply
)

// InquiryPolicy is the municipality's setting for inquiries.
type InquiryPolicy struct {
	// ReplyDays is the reply period in days, counted by the deadline rule
	// (internal/deadline): 0 means deadline.DefaultReplyDays.
	ReplyDays int `json:"replyDays,omitempty"`
	// ReplyWindow and EarliestReplyAfter replace the legal deadline and the
	// next-day rule with plain durations. Only test builds of the gateway
	// set them (internal/config's test-tagged file), since a test cannot
	// wait for a deadline weeks away or for midnight.
	ReplyWindow        time.Duration `json:"replyWindow,omitempty"`
	EarliestReplyAfter time.Duration `json:"earliestReplyAfter,omitempty"`
}

// InquiryMailedInput is the clerk recording the mailing.
type InquiryMailedInput struct {
	Clerk string `json:"clerk"`
}

// SetClerk implements Actor.
func (in *InquiryMailedInput) SetClerk(l string) { in.Clerk = l }

// InquiryMailedResult tells the reply deadline.
type InquiryMailedResult struct {
	Deadline time.Time `json:"deadline"`
}

// EnterReplyInput is what the clerk reads off the reply the proxy brought.
type EnterReplyInput struct {
	Clerk string `json:"clerk"`
	// CaseNumber is the case number printed on the reply.
	CaseNumber string `json:"caseNumber"`
	Code       string `json:"code"`
}

// SetClerk implements Actor.
func (in *EnterReplyInput) SetClerk(l string) { in.Clerk = l }

// EnterReplyResult acknowledges an accepted reply.
type EnterReplyResult struct {
	Accepted bool `json:"accepted"`
}

// InquiryState is the inquiry's section of the state.
type InquiryState struct {
	// ReplyDeadline is when the reply period runs out (the end of its last
	// office day); LastDay is the date printed on the letter.
	ReplyDeadline time.Time `json:"replyDeadline"`
	LastDay       string    `json:"lastDay"`
	Mailed        bool      `json:"mailed"`
	Replied       bool      `json:"replied"`
}

// Inquiry is the mailed inquiry module (照会書兼回答書, 第2 1(2)): the letter
// to the registered address, its mailing, the reply code with a limited
// number of attempts, and the reply deadline.
type Inquiry struct {
	c        *Case
	policy   InquiryPolicy
	started  time.Time
	deadline time.Time
	mailed   bool
	replied  bool
	locked   bool
	// checking counts reply handlers accepted by the validator and not yet
	// finished.
	checking int
	// replyClerk is the clerk who took the reply.
	replyClerk string
}

// UseInquiry opts the case into a mailed inquiry, with the reply deadline
// counted from started (the application).
func UseInquiry(ctx workflow.Context, c *Case, policy InquiryPolicy, started time.Time) (*Inquiry, error) {
	q := &Inquiry{c: c, policy: policy, started: started}
	if policy.ReplyWindow > 0 {
		q.deadline = started.Add(policy.ReplyWindow)
	} else {
		q.deadline = deadline.ReplyDeadline(started, policy.ReplyDays).Fires
	}
	c.st.Inquiry = &InquiryState{ReplyDeadline: q.deadline, LastDay: deadline.LastDayOf(q.deadline).String()}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, InquiryMailedUpdate, q.markMailed,
		workflow.UpdateHandlerOptions{Validator: q.validateMailed}); err != nil {
		return nil, err
	}
	return q, workflow.SetUpdateHandlerWithOptions(ctx, EnterReplyUpdate, q.enterReply,
		workflow.UpdateHandlerOptions{Validator: q.validateReply})
}

// Deadline is when the reply period runs out.
func (q *Inquiry) Deadline() time.Time { return q.deadline }

// ReplyClerk is the clerk who took the reply.
func (q *Inquiry) ReplyClerk() string { return q.replyClerk }

var replyLapse = Lapse{"reply_deadline_passed", "回答書が期限までに提出されませんでした / The reply did not come back by the deadline."}

// Send prepares the letter (第2 1(2)ア(エ)), waits for the clerk to mail it
// and then for the reply, until the deadline. A passed deadline lapses the
// case (and the inquiry); too many wrong codes refuse it.
func (q *Inquiry) Send(ctx workflow.Context, residentCode, proxyName string) error {
	return q.SendAbout(ctx, residentCode, proxyName, "")
}

// SendAbout is Send for a letter naming what the proxy applied for
// (inquiry.Subject…; empty: issuance / renewal).
func (q *Inquiry) SendAbout(ctx workflow.Context, residentCode, proxyName, subject string) error {
	q.c.Enter(ctx, StepInquiry, "")
	if _, err := Local(ctx, contract.PrepareInquiry, contract.PrepareInquiryInput{
		CaseNumber: q.c.Number(), MunicipalityCode: q.c.Office(), ResidentCode: residentCode,
		ProxyName: proxyName, Deadline: q.deadline, Subject: subject,
	}); err != nil {
		return err
	}
	// The letter holds the reply code; it is closed if the case ends early.
	q.c.Compensate("close the inquiry", func(ctx workflow.Context) error {
		_, err := Local(ctx, contract.LapseInquiry, contract.LapseInquiryInput{CaseNumber: q.c.Number()})
		return err
	})
	q.c.Enter(ctx, StepInquiryMailing, "")
	if err := q.c.Await(ctx, until(ctx, q.deadline), "clerk", "clerk: mail the inquiry letter", replyLapse,
		func() bool { return q.mailed }); err != nil {
		return err
	}
	// 第2 1(2)ア(オ) 回答書の受理: wait for the proxy to bring the reply.
	q.c.Enter(ctx, StepReplyWait, "")
	lastDay := deadline.LastDayOf(q.deadline).String()
	err := q.c.Await(ctx, until(ctx, q.deadline), "proxy", "proxy: the reply, by "+lastDay, replyLapse,
		func() bool { return q.replied || q.locked })
	if _, lapsed := contract.AsLapse(err); lapsed && q.checking > 0 {
		// A reply entered before the deadline is still being checked: it
		// came in time, so its check decides, not the timer.
		if err := workflow.Await(ctx, func() bool { return q.checking == 0 }); err != nil {
			return err
		}
		if q.replied || q.locked {
			err = nil
		}
	}
	if err != nil {
		return err
	}
	if q.locked {
		return contract.Reject("reply_attempts_exceeded",
			"回答書の照合番号の入力が上限回数に達しました。改めて申請してください / Too many wrong reply codes; the application must be made again.")
	}
	return nil
}

func (q *Inquiry) validateMailed(ctx workflow.Context, in InquiryMailedInput) error {
	if err := q.c.Accepting(); err != nil {
		return err
	}
	if q.c.Step() != StepInquiryMailing || q.mailed {
		return fmt.Errorf("照会書の郵送を記録する段階ではありません（現在: %s） / The procedure is not waiting for the inquiry to be mailed (now at %s)", q.c.Step(), q.c.Step())
	}
	if in.Clerk == "" {
		return errors.New("郵送した職員が不明です / The clerk is missing")
	}
	return nil
}

func (q *Inquiry) markMailed(ctx workflow.Context, in InquiryMailedInput) (InquiryMailedResult, error) {
	err := q.c.Serialized(ctx, func(ctx workflow.Context) error {
		if q.mailed {
			return nil
		}
		if _, err := Local(ctx, contract.MarkMailed, contract.MarkMailedInput{CaseNumber: q.c.Number(), Clerk: in.Clerk}); err != nil {
			return err
		}
		q.mailed = true
		q.c.st.Inquiry.Mailed = true
		return nil
	})
	return InquiryMailedResult{Deadline: q.deadline}, err
}

// earliestReply is the first instant a reply is accepted: the day after
// the application (Asia/Tokyo), so nothing is issued the day the proxy
// applied.
func (q *Inquiry) earliestReply() time.Time {
	if q.policy.EarliestReplyAfter > 0 {
		return q.started.Add(q.policy.EarliestReplyAfter)
	}
	return validity.DateOf(q.started).AddDays(1).Start()
}

func (q *Inquiry) validateReply(ctx workflow.Context, in EnterReplyInput) error {
	if err := q.c.Accepting(); err != nil {
		return err
	}
	if q.c.Step() != StepReplyWait || q.replied || q.locked {
		return fmt.Errorf("回答書を受け付ける段階ではありません（現在: %s） / The procedure is not waiting for a reply (now at %s)", q.c.Step(), q.c.Step())
	}
	if in.Clerk == "" {
		return errors.New("受け付けた職員が不明です / The clerk is missing")
	}
	if strings.TrimSpace(in.CaseNumber) != q.c.Number() {
		return fmt.Errorf("この回答書は別の受付番号（%s）のものです / This reply belongs to another case (%s)", in.CaseNumber, in.CaseNumber)
	}
	if strings.TrimSpace(in.Code) == "" {
		return errors.New("照合番号を入力してください / Enter the reply code")
	}
	if workflow.Now(ctx).Before(q.earliestReply()) {
		return errors.New("代理人が申請した当日は交付できません。翌日以降に回答書をお持ちください / Nothing is issued on the day the proxy applied; bring the reply from tomorrow on")
	}
	if !workflow.Now(ctx).Before(q.deadline) {
		return errors.New("回答書の提出期限を過ぎています / The reply deadline has passed")
	}
	return nil
}

func (q *Inquiry) enterReply(ctx workflow.Context, in EnterReplyInput) (EnterReplyResult, error) {
	q.checking++
	defer func() { q.checking-- }()
	var res contract.CheckReplyCodeResult
	err := q.c.Serialized(ctx, func(ctx workflow.Context) error {
		// Checked again under the lock: a reply accepted by a handler that
		// ran first is not counted twice.
		if q.replied || q.locked {
			res = contract.CheckReplyCodeResult{OK: q.replied, Locked: q.locked}
			return nil
		}
		var err error
		res, err = Local(ctx, contract.CheckReplyCode, contract.CheckReplyCodeInput{CaseNumber: q.c.Number(), Code: in.Code})
		if err != nil {
			return err
		}
		switch {
		case res.OK:
			q.replied, q.replyClerk = true, in.Clerk
			q.c.st.Inquiry.Replied = true
			return q.c.Record(ctx, "reply_accepted", in.Clerk, "")
		case res.Locked:
			q.locked = true
		}
		return nil
	})
	if err != nil {
		return EnterReplyResult{}, err
	}
	if res.OK {
		return EnterReplyResult{Accepted: true}, nil
	}
	// The activity words its verdict for the clerk; these are fallbacks.
	if res.Message != "" {
		return EnterReplyResult{}, errors.New(res.Message)
	}
	switch {
	case res.Locked:
		return EnterReplyResult{}, errors.New("照合番号の入力が上限回数に達しました / Too many wrong reply codes; the application is refused")
	case res.Expired:
		return EnterReplyResult{}, errors.New("回答書の提出期限を過ぎています / The reply deadline has passed")
	}
	return EnterReplyResult{}, fmt.Errorf("照合番号が違います（残り %d 回） / Wrong reply code (%d attempts left)", res.AttemptsLeft, res.AttemptsLeft)
}

// until is the wait left before t; at least a millisecond, since a timer
// needs a positive duration.
func until(ctx workflow.Context, t time.Time) time.Duration {
	return max(t.Sub(workflow.Now(ctx)), time.Millisecond)
}
