package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// InPersonHoldReleaseInput starts 第3 2(1).
type InPersonHoldReleaseInput struct {
	CaseNumber       string             `json:"caseNumber"`
	MunicipalityCode string             `json:"municipalityCode"`
	Clerk            string             `json:"clerk"`
	Request          HoldReleaseRequest `json:"request"`
}

// InPersonHoldReleaseResult is the outcome of the procedure.
type InPersonHoldReleaseResult = kit.Outcome[HoldReleaseResult]

// StartInPersonHoldRelease is the body of POST /api/procedures/inperson-hold-release.
type StartInPersonHoldRelease struct{ HoldReleaseRequest }

// Input implements StartRequest.
func (s *StartInPersonHoldRelease) Input(o Opening) any {
	return InPersonHoldReleaseInput{CaseNumber: o.CaseNumber, MunicipalityCode: o.Office, Clerk: o.Clerk, Request: s.HoldReleaseRequest}
}

// InPersonHoldRelease is 第3 2(1) 利用者証明用電子証明書の一時保留の解除（本人の場合）:
// the holder found the card reported lost; they prove possession by the
// user-authentication PIN, verified on the card, and the Organization lifts
// the hold.
func InPersonHoldRelease(ctx workflow.Context, in InPersonHoldReleaseInput) (InPersonHoldReleaseResult, error) {
	c, err := kit.New(ctx, kit.Info{Number: in.CaseNumber, Procedure: contract.ProcInPersonHoldRelease, Office: in.MunicipalityCode})
	if err != nil {
		return InPersonHoldReleaseResult{}, err
	}
	id, err := kit.UseIdentity(ctx, c, kit.StepReception, StepTargets, StepHoldCheck)
	if err != nil {
		return InPersonHoldReleaseResult{}, err
	}
	term := kit.UseTerminal(c, in.Request.TerminalID)
	return kit.Run(ctx, c, func(ctx workflow.Context) (HoldReleaseResult, error) {
		h := newHoldRelease(c, in.Request)
		// 第3 2(1)ア 解除申請書の受付.
		c.Enter(ctx, kit.StepReception, in.Clerk)
		// 第3 2(1)イ 一時保留中の電子証明書の確認.
		if err := h.findHeld(ctx); err != nil {
			return HoldReleaseResult{}, err
		}
		// 第3 2(1)ウ 本人確認.
		if err := id.Await(ctx, StepIdentityCheck, "clerk: identity documents"); err != nil {
			return HoldReleaseResult{}, err
		}
		// 第3 2(1)エ ICカードの確認と暗証番号の照合 (on the card, on the touch panel).
		if err := h.checkCard(ctx, term); err != nil {
			return HoldReleaseResult{}, err
		}
		if err := h.verifyPIN(ctx, term); err != nil {
			return HoldReleaseResult{}, err
		}
		// 第3 2(1)オ 機構への解除の求め, 申請書等の保存.
		return h.release(ctx, "hold_release_application", "identity_check_record")
	})
}
