package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// ProxyHoldReleaseInput starts 第3 2(2).
type ProxyHoldReleaseInput struct {
	CaseNumber       string             `json:"caseNumber"`
	MunicipalityCode string             `json:"municipalityCode"`
	Clerk            string             `json:"clerk"`
	Request          HoldReleaseRequest `json:"request"`
	Proxy            Proxy              `json:"proxy"`
}

// ProxyHoldReleaseResult is the outcome of the procedure.
type ProxyHoldReleaseResult = kit.Outcome[HoldReleaseResult]

// StartProxyHoldRelease is the body of POST /api/procedures/proxy-hold-release.
type StartProxyHoldRelease struct {
	HoldReleaseRequest
	Proxy Proxy `json:"proxy"`
}

// Check implements StartRequest.
func (s *StartProxyHoldRelease) Check() *contract.Rejection {
	if r := s.Proxy.missing(); r != nil {
		return r
	}
	return s.check()
}

// Input implements StartRequest.
func (s *StartProxyHoldRelease) Input(o Opening) any {
	return ProxyHoldReleaseInput{CaseNumber: o.CaseNumber, MunicipalityCode: o.Office, Clerk: o.Clerk, Request: s.HoldReleaseRequest, Proxy: s.Proxy}
}

// ProxyHoldRelease is 第3 2(2) 利用者証明用電子証明書の一時保留の解除（代理人の場合）:
// the proxy brings the found card with the power of attorney, and types on
// the touch panel the PIN the holder entrusted to them with it (our reading:
// the PIN is the proof of possession, so it is verified on the card as in
// person; no clerk sees or types it).
func ProxyHoldRelease(ctx workflow.Context, in ProxyHoldReleaseInput) (ProxyHoldReleaseResult, error) {
	c, err := kit.New(ctx, kit.Info{Number: in.CaseNumber, Procedure: contract.ProcProxyHoldRelease, Office: in.MunicipalityCode})
	if err != nil {
		return ProxyHoldReleaseResult{}, err
	}
	id, err := kit.UseIdentity(ctx, c, kit.StepReception, StepTargets, StepHoldCheck)
	if err != nil {
		return ProxyHoldReleaseResult{}, err
	}
	id.Expect(kit.PersonProxy)
	term := kit.UseTerminal(c, in.Request.TerminalID)
	return kit.Run(ctx, c, func(ctx workflow.Context) (HoldReleaseResult, error) {
		h := newHoldRelease(c, in.Request)
		// 第3 2(2)ア 解除申請書の受付 (from the proxy).
		c.Enter(ctx, kit.StepReception, in.Clerk)
		// 第3 2(2)イ 一時保留中の電子証明書の確認.
		if err := h.findHeld(ctx); err != nil {
			return HoldReleaseResult{}, err
		}
		// 第3 2(2)ウ 代理人の本人確認と委任状の確認.
		if err := id.Await(ctx, StepIdentityCheck, "clerk: the proxy's identity documents and power of attorney"); err != nil {
			return HoldReleaseResult{}, err
		}
		// 第3 2(2)エ ICカードの確認と暗証番号の照合.
		if err := h.checkCard(ctx, term); err != nil {
			return HoldReleaseResult{}, err
		}
		if err := h.verifyPIN(ctx, term); err != nil {
			return HoldReleaseResult{}, err
		}
		// 第3 2(2)オ 機構への解除の求め, 申請書等・委任状の保存.
		return h.release(ctx, "hold_release_application", "identity_check_record", "power_of_attorney")
	})
}
