package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// InPersonPINResetInput starts 第3 1(1) 暗証番号の初期化.
type InPersonPINResetInput struct {
	CaseNumber       string     `json:"caseNumber"`
	MunicipalityCode string     `json:"municipalityCode"`
	Clerk            string     `json:"clerk"`
	Request          PINRequest `json:"request"`
}

// InPersonPINResetResult is the outcome of the procedure.
type InPersonPINResetResult = kit.Outcome[PINResult]

// StartInPersonPINReset is the body of POST /api/procedures/inperson-pin-reset.
type StartInPersonPINReset struct{ PINRequest }

// Input implements StartRequest.
func (s *StartInPersonPINReset) Input(o Opening) any {
	return InPersonPINResetInput{CaseNumber: o.CaseNumber, MunicipalityCode: o.Office, Clerk: o.Clerk, Request: s.PINRequest}
}

// InPersonPINReset is 第3 1(1) 暗証番号の初期化（本人の場合）, for a locked or
// forgotten PIN: the identity check first, then the card check; the
// terminal, authorised by the card, sets the new PINs without the old ones
// and the card's retry counter returns to its maximum.
func InPersonPINReset(ctx workflow.Context, in InPersonPINResetInput) (InPersonPINResetResult, error) {
	c, err := kit.New(ctx, kit.Info{Number: in.CaseNumber, Procedure: contract.ProcInPersonPINReset, Office: in.MunicipalityCode})
	if err != nil {
		return InPersonPINResetResult{}, err
	}
	id, err := kit.UseIdentity(ctx, c, kit.StepReception)
	if err != nil {
		return InPersonPINResetResult{}, err
	}
	pin, err := kit.UseClerkPIN(ctx, c, kit.StepReception, StepIdentityCheck, StepCardCheck)
	if err != nil {
		return InPersonPINResetResult{}, err
	}
	term := kit.UseTerminal(c, in.Request.TerminalID)
	return kit.Run(ctx, c, func(ctx workflow.Context) (PINResult, error) {
		p := &pinWork{c: c, req: in.Request}
		// 第3 1(1)ア 暗証番号初期化申請書の受付.
		c.Enter(ctx, kit.StepReception, in.Clerk)
		// 第3 1(1)イ 本人確認 (before the card).
		if err := id.Await(ctx, StepIdentityCheck, "clerk: identity documents"); err != nil {
			return PINResult{}, err
		}
		// 第3 1(1)ウ ICカードの確認.
		if err := p.checkCard(ctx, term); err != nil {
			return PINResult{}, err
		}
		// 第3 1(1)エ 暗証番号の初期化 (new PINs on the touch panel).
		src, err := p.pinsFrom(ctx, pin)
		if err != nil {
			return PINResult{}, err
		}
		if err := p.reset(ctx, term, src); err != nil {
			return PINResult{}, err
		}
		// 第3 1(1)オ 申請書等の保存.
		return p.documents(ctx, "pin_reset_application", "identity_check_record")
	})
}

// ResetsPINs implements workflows.ResetsPINs.
func (s *StartInPersonPINReset) ResetsPINs() {}
