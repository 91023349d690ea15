package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// InPersonRevocationInput starts 第2 2(1).
type InPersonRevocationInput struct {
	CaseNumber       string            `json:"caseNumber"`
	MunicipalityCode string            `json:"municipalityCode"`
	Clerk            string            `json:"clerk"`
	Request          RevocationRequest `json:"request"`
}

// InPersonRevocationResult is the outcome of the procedure.
type InPersonRevocationResult = kit.Outcome[RevocationResult]

// StartInPersonRevocation is the body of POST /api/procedures/inperson-revocation.
type StartInPersonRevocation struct {
	RevocationRequest
}

// Check implements StartRequest.
func (s *StartInPersonRevocation) Check() *contract.Rejection {
	return s.check(contract.ProcInPersonRevocation)
}

// Input implements StartRequest.
func (s *StartInPersonRevocation) Input(o Opening) any {
	return InPersonRevocationInput{CaseNumber: o.CaseNumber, MunicipalityCode: o.Office, Clerk: o.Clerk, Request: s.RevocationRequest}
}

// InPersonRevocation is 第2 2(1) 利用者による申請／秘密鍵の漏えい等届出に基づく電子
// 証明書の失効（本人の場合）. Step letters follow our reading of the manual
// (DESIGN.md §3).
func InPersonRevocation(ctx workflow.Context, in InPersonRevocationInput) (InPersonRevocationResult, error) {
	c, err := kit.New(ctx, kit.Info{Number: in.CaseNumber, Procedure: contract.ProcInPersonRevocation, Office: in.MunicipalityCode})
	if err != nil {
		return InPersonRevocationResult{}, err
	}
	id, err := kit.UseIdentity(ctx, c, kit.StepReception, StepTargets)
	if err != nil {
		return InPersonRevocationResult{}, err
	}
	var term *kit.Terminal
	if in.Request.TerminalID != "" {
		term = kit.UseTerminal(c, in.Request.TerminalID)
	}
	return kit.Run(ctx, c, func(ctx workflow.Context) (RevocationResult, error) {
		r := newRevocation(c, in.Request)
		// 第2 2(1)ア(ア) 失効申請書／漏えい等届出書の受付.
		c.Enter(ctx, kit.StepReception, in.Clerk)
		// 第2 2(1)ア(イ) 失効対象の電子証明書の確認 (the municipal record).
		if err := r.findTargets(ctx); err != nil {
			return RevocationResult{}, err
		}
		// 第2 2(1)ア(ウ) 本人確認.
		if err := id.Await(ctx, StepIdentityCheck, "clerk: identity documents"); err != nil {
			return RevocationResult{}, err
		}
		// 第2 2(1)ア(エ) ICカードの確認 (when the card is brought).
		if err := r.checkCard(ctx, term); err != nil {
			return RevocationResult{}, err
		}
		// 第2 2(1)ア(オ) 機構への失効の求め.
		if err := r.revoke(ctx); err != nil {
			return RevocationResult{}, err
		}
		// 第2 2(1)ア(カ) 記録の更新, 申請書等の保存, 失効通知書の交付.
		return r.record(ctx, "revocation_application", "identity_check_record")
	})
}
