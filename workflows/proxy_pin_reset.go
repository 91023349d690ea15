package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/inquiry"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// ProxyPINResetInput starts 第3 1(2) 暗証番号の初期化（代理人の場合）.
type ProxyPINResetInput struct {
	CaseNumber       string            `json:"caseNumber"`
	MunicipalityCode string            `json:"municipalityCode"`
	Clerk            string            `json:"clerk"`
	Request          PINRequest        `json:"request"`
	Proxy            Proxy             `json:"proxy"`
	Policy           kit.InquiryPolicy `json:"policy"`
}

// ProxyPINResetResult is the outcome of the procedure.
type ProxyPINResetResult = kit.Outcome[PINResult]

// StartProxyPINReset is the body of POST /api/procedures/proxy-pin-reset.
type StartProxyPINReset struct {
	PINRequest
	Proxy Proxy `json:"proxy"`
}

// Check implements StartRequest.
func (s *StartProxyPINReset) Check() *contract.Rejection {
	if r := s.Proxy.missing(); r != nil {
		return r
	}
	return s.check()
}

// Input implements StartRequest.
func (s *StartProxyPINReset) Input(o Opening) any {
	return ProxyPINResetInput{CaseNumber: o.CaseNumber, MunicipalityCode: o.Office, Clerk: o.Clerk, Request: s.PINRequest,
		Proxy: s.Proxy, Policy: o.Inquiry}
}

// ProxyPINReset is 第3 1(2) 暗証番号の初期化（代理人の場合）: as proxy issuance, an
// inquiry (照会書兼回答書) goes to the holder's registered address; the proxy
// brings back the reply, on which the holder wrote the new PIN, with the
// card; the clerk who took the reply types it, after another clerk
// confirmed the holder decided it (令和4年改正). A PIN change by proxy is
// this procedure too (our reading): the new PIN comes from the holder's
// reply, the old one is not needed.
func ProxyPINReset(ctx workflow.Context, in ProxyPINResetInput) (ProxyPINResetResult, error) {
	c, err := kit.New(ctx, kit.Info{Number: in.CaseNumber, Procedure: contract.ProcProxyPINReset, Office: in.MunicipalityCode})
	if err != nil {
		return ProxyPINResetResult{}, err
	}
	started := workflow.GetInfo(ctx).WorkflowStartTime
	id, err := kit.UseIdentity(ctx, c, kit.StepReception)
	if err != nil {
		return ProxyPINResetResult{}, err
	}
	id.Expect(kit.PersonProxy)
	q, err := kit.UseInquiry(ctx, c, in.Policy, started)
	if err != nil {
		return ProxyPINResetResult{}, err
	}
	pin, err := kit.UseClerkPIN(ctx, c)
	if err != nil {
		return ProxyPINResetResult{}, err
	}
	term := kit.UseTerminal(c, in.Request.TerminalID)
	return kit.Run(ctx, c, func(ctx workflow.Context) (PINResult, error) {
		p := &pinWork{c: c, req: in.Request}
		// 第3 1(2)ア 暗証番号初期化申請書の受付 (from the proxy).
		c.Enter(ctx, kit.StepReception, in.Clerk)
		// 第3 1(2)イ 代理人の本人確認と委任状の確認.
		if err := id.Await(ctx, StepIdentityCheck, "clerk: the proxy's identity documents and power of attorney"); err != nil {
			return PINResult{}, err
		}
		// 第3 1(2)ウ 照会書の送付と回答書の受理.
		if err := q.SendAbout(ctx, in.Request.ResidentCode, in.Proxy.Name, inquiry.SubjectPINReset); err != nil {
			return PINResult{}, err
		}
		id.Again(kit.PersonProxy)
		if err := id.Await(ctx, StepSecondVisit, "clerk: the proxy's identity documents (second visit)"); err != nil {
			return PINResult{}, err
		}
		// 第3 1(2)エ ICカードの確認.
		if err := p.checkCard(ctx, term); err != nil {
			return PINResult{}, err
		}
		// 第3 1(2)オ 暗証番号の初期化: the PIN on the reply, typed by the clerk
		// who took it, after the second clerk's confirmation.
		pin.Assign(q.ReplyClerk())
		src, err := p.pinsFrom(ctx, pin)
		if err != nil {
			return PINResult{}, err
		}
		if err := p.reset(ctx, term, src); err != nil {
			return PINResult{}, err
		}
		// 第3 1(2)カ 申請書等・委任状・回答書の保存.
		return p.documents(ctx, "pin_reset_application", "proxy_identity_check_record", "inquiry_reply", "power_of_attorney")
	})
}

// ResetsPINs implements workflows.ResetsPINs.
func (s *StartProxyPINReset) ResetsPINs() {}
