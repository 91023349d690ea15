package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/validity"
)

// ProcedureProxyIssuance is 第2 1(2): issuance / renewal applied for by a
// proxy (代理人), with an inquiry letter to the applicant.
const ProcedureProxyIssuance = "proxy-issuance"

// Messages of the proxy procedure (besides the shared ones in procedure.go).
const (
	// InquiryMailedUpdate records that the inquiry letter was mailed.
	InquiryMailedUpdate = "inquiry-mailed"
	// EnterReplyUpdate is the clerk entering the reply code the proxy
	// brought back (EnterReplyInput).
	EnterReplyUpdate = "enter-reply"
)

// Steps of the proxy procedure.
const (
	StepInquiry        = "inquiry"         // the letter is prepared
	StepInquiryMailing = "inquiry_mailing" // waiting for the clerk to mail it
	StepReplyWait      = "reply_wait"      // waiting, for weeks, for the reply
)

// InquiryPolicy is the municipality's setting for inquiries.
type InquiryPolicy struct {
	// ReplyWindow is how long the reply may take, from the application.
	ReplyWindow time.Duration `json:"replyWindow"`
	// EarliestReplyAfter, when set, replaces the rule that the reply is
	// accepted from the day after the application (Asia/Tokyo); only the
	// integration tests set it, since they cannot wait for midnight.
	EarliestReplyAfter time.Duration `json:"earliestReplyAfter,omitempty"`
}

// DefaultInquiryPolicy is the embedded default: a reply within 30 days.
var DefaultInquiryPolicy = InquiryPolicy{ReplyWindow: 30 * 24 * time.Hour}

// Proxy is the person applying on the applicant's behalf. It is personal
// data and travels only in encrypted payloads.
type Proxy struct {
	Name         string `json:"name"`
	Address      string `json:"address"`
	Relationship string `json:"relationship"`
}

// ProxyIssuanceInput starts 第2 1(2).
type ProxyIssuanceInput struct {
	CaseNumber       string               `json:"caseNumber"`
	MunicipalityCode string               `json:"municipalityCode"`
	TerminalID       string               `json:"terminalId"`
	Clerk            string               `json:"clerk"`
	Application      contract.Application `json:"application"`
	Proxy            Proxy                `json:"proxy"`
	Policy           InquiryPolicy        `json:"policy"`
}

// InquiryMailedInput is the clerk recording the mailing.
type InquiryMailedInput struct {
	Clerk string `json:"clerk"`
}

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

// EnterReplyResult acknowledges an accepted reply.
type EnterReplyResult struct {
	Accepted bool `json:"accepted"`
}

// proxyRun is the proxy procedure's own state.
type proxyRun struct {
	*procedure
	in       ProxyIssuanceInput
	started  time.Time
	deadline time.Time
	mailed   bool
	replied  bool
	locked   bool
}

// ProxyIssuance is 第2 1(2) 申請者／利用者による申請に基づく電子証明書の新規発行／
// 更新（代理人の場合）: the proxy applies; the municipality mails an inquiry
// (照会書兼回答書) to the applicant's registered address and waits, for weeks,
// for the proxy to bring back the reply with the applicant's card. The PIN
// the applicant wrote on the reply is typed by a clerk, after another clerk
// confirmed the applicant's intent. Nothing is issued on the day the proxy
// first applies.
func ProxyIssuance(ctx workflow.Context, in ProxyIssuanceInput) (InPersonIssuanceResult, error) {
	if in.Policy.ReplyWindow <= 0 {
		in.Policy = DefaultInquiryPolicy
	}
	p := &proxyRun{procedure: newProcedure(ProcedureProxyIssuance, in.CaseNumber, in.MunicipalityCode, in.TerminalID, in.Application.Kinds()), in: in}
	p.identitySteps = []string{StepReception, StepRegisterCheck, StepIdentityCheck}
	p.started = workflow.GetInfo(ctx).WorkflowStartTime
	p.deadline = p.started.Add(in.Policy.ReplyWindow)
	p.state.Detail = map[string]string{"replyDeadline": p.deadline.Format(time.RFC3339)}
	if err := p.register(ctx); err != nil {
		return InPersonIssuanceResult{}, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, InquiryMailedUpdate, p.inquiryMailed,
		workflow.UpdateHandlerOptions{Validator: p.validateMailed}); err != nil {
		return InPersonIssuanceResult{}, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, EnterReplyUpdate, p.enterReply,
		workflow.UpdateHandlerOptions{Validator: p.validateReply}); err != nil {
		return InPersonIssuanceResult{}, err
	}
	res, err := p.run(ctx)
	return p.settle(ctx, res, err)
}

func (p *proxyRun) run(ctx workflow.Context) (InPersonIssuanceResult, error) {
	app := p.in.Application
	// 第2 1(2)ア(ア) 申請の受付: the proxy brings the application.
	p.enter(ctx, StepReception, p.in.Clerk)
	if len(app.Kinds()) == 0 {
		return InPersonIssuanceResult{}, rejectNoCertificate()
	}
	if strings.TrimSpace(p.in.Proxy.Name) == "" {
		return InPersonIssuanceResult{}, contract.Reject("no_proxy", "代理人の氏名がありません / The proxy's name is missing.")
	}
	// 第2 1(2)ア(イ) 住民基本台帳との照合.
	reg, err := p.checkRegister(ctx, app, p.started)
	if err != nil {
		return InPersonIssuanceResult{}, err
	}
	// 第2 1(2)ア(ウ) 代理人の本人確認: the proxy's own identity documents.
	ok, err := p.awaitIdentity(ctx, IdentityCheckWindow, "clerk: the proxy's identity documents")
	if err != nil {
		return InPersonIssuanceResult{}, err
	}
	if !ok {
		return p.lapseIdentity(ctx)
	}

	// 第2 1(2)ア(エ) 照会書の送付: the inquiry goes to the registered address.
	p.enter(ctx, StepInquiry, "")
	if err := workflow.ExecuteLocalActivity(municipalCtx(ctx), contract.PrepareInquiry.Name, contract.PrepareInquiryInput{
		CaseNumber: p.caseNumber, MunicipalityCode: p.municipality, ResidentCode: app.ResidentCode,
		ProxyName: p.in.Proxy.Name, Deadline: p.deadline,
	}).Get(ctx, nil); err != nil {
		return InPersonIssuanceResult{}, err
	}
	p.enter(ctx, StepInquiryMailing, "")
	p.state.WaitingFor = "clerk: mail the inquiry letter"
	if _, err := workflow.AwaitWithTimeout(ctx, until(ctx, p.deadline), func() bool { return p.mailed }); err != nil {
		return InPersonIssuanceResult{}, err
	}

	// 第2 1(2)ア(オ) 回答書の受理: wait for the proxy to bring the reply.
	if p.mailed {
		p.enter(ctx, StepReplyWait, "")
		p.state.WaitingFor = "proxy: the reply, by " + p.deadline.In(validity.Tokyo).Format("2006-01-02 15:04")
		if _, err := workflow.AwaitWithTimeout(ctx, until(ctx, p.deadline), func() bool { return p.replied || p.locked }); err != nil {
			return InPersonIssuanceResult{}, err
		}
		p.state.WaitingFor = ""
	}
	switch {
	case p.locked:
		return InPersonIssuanceResult{}, contract.Reject("reply_attempts_exceeded",
			"回答書の照合番号の入力が上限回数に達しました。改めて申請してください / Too many wrong reply codes; the application must be made again.")
	case !p.replied:
		// The deadline passed: the application lapses; a manager sees it
		// among the lapsed cases.
		_ = workflow.ExecuteLocalActivity(municipalCtx(ctx), contract.LapseInquiry.Name, contract.LapseInquiryInput{CaseNumber: p.caseNumber}).Get(ctx, nil)
		return p.lapse(ctx, "reply_deadline_passed", "回答書が期限までに提出されませんでした / The reply did not come back by the deadline.")
	}

	// 第2 1(2)ア(カ)–: the card the proxy brought; the PIN written on the
	// reply is typed by the clerk who took the reply, after another clerk
	// confirmed the applicant decided it.
	cs, err := p.issueOnCard(ctx, cardStepsInput{TerminalID: p.in.TerminalID, ResidentCode: app.ResidentCode,
		Kinds: app.Kinds(), Register: reg, AppliedAt: p.started})
	if err != nil {
		return InPersonIssuanceResult{}, err
	}
	if cs.Lapsed {
		return p.lapseIntent(ctx)
	}
	fee, docs, err := p.feeAndDocuments(ctx, []string{"application_form", "proxy_identity_check_record", "inquiry_reply", "power_of_attorney"})
	if err != nil {
		return InPersonIssuanceResult{}, err
	}
	if err := p.finish(ctx, StatusCompleted, StepDone, nil); err != nil {
		return InPersonIssuanceResult{}, err
	}
	res := p.result()
	res.Fee = &fee
	res.RetainUntil = docs.RetainUntil
	return res, nil
}

func (p *proxyRun) validateMailed(ctx workflow.Context, in InquiryMailedInput) error {
	if p.state.Step != StepInquiryMailing || p.mailed {
		return fmt.Errorf("照会書の郵送を記録する段階ではありません（現在: %s） / The procedure is not waiting for the inquiry to be mailed (now at %s)", p.state.Step, p.state.Step)
	}
	if in.Clerk == "" {
		return errors.New("郵送した職員が不明です / The clerk is missing")
	}
	return nil
}

func (p *proxyRun) inquiryMailed(ctx workflow.Context, in InquiryMailedInput) (InquiryMailedResult, error) {
	if err := workflow.ExecuteLocalActivity(municipalCtx(ctx), contract.MarkMailed.Name, contract.MarkMailedInput{
		CaseNumber: p.caseNumber, Clerk: in.Clerk}).Get(ctx, nil); err != nil {
		return InquiryMailedResult{}, err
	}
	p.mailed = true
	return InquiryMailedResult{Deadline: p.deadline}, nil
}

// earliestReply is the first instant a reply is accepted: the day after
// the application, so that nothing is issued the day the proxy applied.
func (p *proxyRun) earliestReply() time.Time {
	if p.in.Policy.EarliestReplyAfter > 0 {
		return p.started.Add(p.in.Policy.EarliestReplyAfter)
	}
	return validity.DateOf(p.started).AddDays(1).Start()
}

func (p *proxyRun) validateReply(ctx workflow.Context, in EnterReplyInput) error {
	if p.state.Step != StepReplyWait || p.replied || p.locked {
		return fmt.Errorf("回答書を受け付ける段階ではありません（現在: %s） / The procedure is not waiting for a reply (now at %s)", p.state.Step, p.state.Step)
	}
	if in.Clerk == "" {
		return errors.New("受け付けた職員が不明です / The clerk is missing")
	}
	if strings.TrimSpace(in.CaseNumber) != p.caseNumber {
		return fmt.Errorf("この回答書は別の受付番号（%s）のものです / This reply belongs to another case (%s)", in.CaseNumber, in.CaseNumber)
	}
	if strings.TrimSpace(in.Code) == "" {
		return errors.New("照合番号を入力してください / Enter the reply code")
	}
	if workflow.Now(ctx).Before(p.earliestReply()) {
		return errors.New("代理人が申請した当日は交付できません。翌日以降に回答書をお持ちください / Nothing is issued on the day the proxy applied; bring the reply from tomorrow on")
	}
	if !workflow.Now(ctx).Before(p.deadline) {
		return errors.New("回答書の提出期限を過ぎています / The reply deadline has passed")
	}
	return nil
}

func (p *proxyRun) enterReply(ctx workflow.Context, in EnterReplyInput) (EnterReplyResult, error) {
	var res contract.CheckReplyCodeResult
	if err := workflow.ExecuteLocalActivity(municipalCtx(ctx), contract.CheckReplyCode.Name, contract.CheckReplyCodeInput{
		CaseNumber: p.caseNumber, Code: in.Code}).Get(ctx, &res); err != nil {
		return EnterReplyResult{}, err
	}
	switch {
	case res.OK:
		p.replied = true
		p.pinEnterer = in.Clerk
		p.record(ctx, "reply_accepted", in.Clerk, "")
		return EnterReplyResult{Accepted: true}, nil
	case res.Locked:
		p.locked = true
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
