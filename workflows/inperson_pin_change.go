package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// InPersonPINChangeInput starts 第3 1(1) 暗証番号の変更.
type InPersonPINChangeInput struct {
	CaseNumber       string     `json:"caseNumber"`
	MunicipalityCode string     `json:"municipalityCode"`
	Clerk            string     `json:"clerk"`
	Request          PINRequest `json:"request"`
}

// InPersonPINChangeResult is the outcome of the procedure.
type InPersonPINChangeResult = kit.Outcome[PINResult]

// StartInPersonPINChange is the body of POST /api/procedures/inperson-pin-change.
type StartInPersonPINChange struct{ PINRequest }

// Input implements StartRequest.
func (s *StartInPersonPINChange) Input(o Opening) any {
	return InPersonPINChangeInput{CaseNumber: o.CaseNumber, MunicipalityCode: o.Office, Clerk: o.Clerk, Request: s.PINRequest}
}

// InPersonPINChange is 第3 1(1) 暗証番号の変更（本人の場合）: the holder types the
// current PIN and the new one on the touch panel, and the card changes it
// (VERIFY, then CHANGE REFERENCE DATA). A clerk may type for the holder,
// after another clerk confirms the holder decided the PIN (令和4年改正).
func InPersonPINChange(ctx workflow.Context, in InPersonPINChangeInput) (InPersonPINChangeResult, error) {
	c, err := kit.New(ctx, kit.Info{Number: in.CaseNumber, Procedure: contract.ProcInPersonPINChange, Office: in.MunicipalityCode})
	if err != nil {
		return InPersonPINChangeResult{}, err
	}
	id, err := kit.UseIdentity(ctx, c, kit.StepReception)
	if err != nil {
		return InPersonPINChangeResult{}, err
	}
	pin, err := kit.UseClerkPIN(ctx, c, kit.StepReception, StepIdentityCheck, StepCardCheck)
	if err != nil {
		return InPersonPINChangeResult{}, err
	}
	term := kit.UseTerminal(c, in.Request.TerminalID)
	return kit.Run(ctx, c, func(ctx workflow.Context) (PINResult, error) {
		p := &pinWork{c: c, req: in.Request}
		// 第3 1(1)ア 暗証番号変更申請書の受付.
		c.Enter(ctx, kit.StepReception, in.Clerk)
		// 第3 1(1)イ 本人確認.
		if err := id.Await(ctx, StepIdentityCheck, "clerk: identity documents"); err != nil {
			return PINResult{}, err
		}
		// 第3 1(1)ウ ICカードの確認.
		if err := p.checkCard(ctx, term); err != nil {
			return PINResult{}, err
		}
		// 第3 1(1)エ 暗証番号の変更 (on the touch panel, on the card).
		src, err := p.pinsFrom(ctx, pin)
		if err != nil {
			return PINResult{}, err
		}
		if err := p.change(ctx, term, src); err != nil {
			return PINResult{}, err
		}
		// 第3 1(1)オ 申請書等の保存.
		return p.documents(ctx, "pin_change_application", "identity_check_record")
	})
}
