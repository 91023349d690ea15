package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// ProxyRevocationInput starts 第2 2(2).
type ProxyRevocationInput struct {
	CaseNumber       string            `json:"caseNumber"`
	MunicipalityCode string            `json:"municipalityCode"`
	Clerk            string            `json:"clerk"`
	Request          RevocationRequest `json:"request"`
	Proxy            Proxy             `json:"proxy"`
}

// ProxyRevocationResult is the outcome of the procedure.
type ProxyRevocationResult = kit.Outcome[RevocationResult]

// StartProxyRevocation is the body of POST /api/procedures/proxy-revocation.
type StartProxyRevocation struct {
	RevocationRequest
	Proxy Proxy `json:"proxy"`
}

// Check implements StartRequest.
func (s *StartProxyRevocation) Check() *contract.Rejection {
	if r := s.Proxy.missing(); r != nil {
		return r
	}
	return s.check(contract.ProcProxyRevocation)
}

// Input implements StartRequest.
func (s *StartProxyRevocation) Input(o Opening) any {
	return ProxyRevocationInput{CaseNumber: o.CaseNumber, MunicipalityCode: o.Office, Clerk: o.Clerk, Request: s.RevocationRequest, Proxy: s.Proxy}
}

// ProxyRevocation is 第2 2(2) 利用者による申請／秘密鍵の漏えい等届出に基づく電子証明書
// の失効（代理人の場合）: the proxy shows their identity documents and the power
// of attorney (委任状), which is kept with the application. A revocation
// only takes something away, so it is done on the proxy's visit, with no
// inquiry to the holder.
func ProxyRevocation(ctx workflow.Context, in ProxyRevocationInput) (ProxyRevocationResult, error) {
	c, err := kit.New(ctx, kit.Info{Number: in.CaseNumber, Procedure: contract.ProcProxyRevocation, Office: in.MunicipalityCode})
	if err != nil {
		return ProxyRevocationResult{}, err
	}
	id, err := kit.UseIdentity(ctx, c, kit.StepReception, StepTargets)
	if err != nil {
		return ProxyRevocationResult{}, err
	}
	id.Expect(kit.PersonProxy)
	var term *kit.Terminal
	if in.Request.TerminalID != "" {
		term = kit.UseTerminal(c, in.Request.TerminalID)
	}
	return kit.Run(ctx, c, func(ctx workflow.Context) (RevocationResult, error) {
		r := newRevocation(c, in.Request)
		// 第2 2(2)ア(ア) 失効申請書／漏えい等届出書の受付 (from the proxy).
		c.Enter(ctx, kit.StepReception, in.Clerk)
		// 第2 2(2)ア(イ) 失効対象の電子証明書の確認.
		if err := r.findTargets(ctx); err != nil {
			return RevocationResult{}, err
		}
		// 第2 2(2)ア(ウ) 代理人の本人確認と委任状の確認.
		if err := id.Await(ctx, StepIdentityCheck, "clerk: the proxy's identity documents and power of attorney"); err != nil {
			return RevocationResult{}, err
		}
		// 第2 2(2)ア(エ) ICカードの確認 (when the proxy brings the card).
		if err := r.checkCard(ctx, term); err != nil {
			return RevocationResult{}, err
		}
		// 第2 2(2)ア(オ) 機構への失効の求め.
		if err := r.revoke(ctx); err != nil {
			return RevocationResult{}, err
		}
		// 第2 2(2)ア(カ) 記録の更新, 申請書等・委任状の保存, 失効通知書の交付.
		return r.record(ctx, "revocation_application", "identity_check_record", "power_of_attorney")
	})
}
