package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// InPersonIssuanceInput starts 第2 1(1): issuance / renewal in person.
type InPersonIssuanceInput struct {
	CaseNumber       string               `json:"caseNumber"`
	MunicipalityCode string               `json:"municipalityCode"`
	TerminalID       string               `json:"terminalId"`
	Clerk            string               `json:"clerk"` // login of the receiving clerk
	Application      contract.Application `json:"application"`
}

// InPersonIssuanceResult is the outcome of the procedure.
type InPersonIssuanceResult = kit.Outcome[IssuanceResult]

// InPersonIssuance is 第2 1(1) 申請者／利用者による申請に基づく電子証明書の新規発行／
// 更新（本人の場合）. Step letters after (エ) follow our reading of the manual
// (DESIGN.md §3).
func InPersonIssuance(ctx workflow.Context, in InPersonIssuanceInput) (InPersonIssuanceResult, error) {
	c, err := kit.New(ctx, kit.Info{Number: in.CaseNumber, Procedure: contract.ProcInPersonIssuance, Office: in.MunicipalityCode})
	if err != nil {
		return InPersonIssuanceResult{}, err
	}
	// The clerk may check the documents, or declare they will type the PIN,
	// while the register check runs.
	id, err := kit.UseIdentity(ctx, c, kit.StepReception, StepRegisterCheck)
	if err != nil {
		return InPersonIssuanceResult{}, err
	}
	pin, err := kit.UseClerkPIN(ctx, c, kit.StepReception, StepRegisterCheck, StepIdentityCheck, StepCardCheck)
	if err != nil {
		return InPersonIssuanceResult{}, err
	}
	term := kit.UseTerminal(c, in.TerminalID)
	return kit.Run(ctx, c, func(ctx workflow.Context) (IssuanceResult, error) {
		f := newIssuance(c, in.Application, workflow.GetInfo(ctx).WorkflowStartTime)
		// 第2 1(1)ア(ア) 申請の受付.
		c.Enter(ctx, kit.StepReception, in.Clerk)
		if len(f.kinds) == 0 {
			return IssuanceResult{}, rejectNoCertificate()
		}
		// 第2 1(1)ア(イ) 住民基本台帳との照合.
		reg, err := f.checkRegister(ctx)
		if err != nil {
			return IssuanceResult{}, err
		}
		// 第2 1(1)ア(ウ) 本人確認 (of the legal representative for a person
		// who may not apply alone).
		id.Expect(f.identityPerson(kit.PersonApplicant))
		if err := id.Await(ctx, StepIdentityCheck, "clerk: identity documents"); err != nil {
			return IssuanceResult{}, err
		}
		// 第2 1(1)ア(エ)–(キ): card, PIN, keys, issuance, writing, renewal.
		pins := kit.FromApplicant()
		if pin.Enterer() != "" {
			pins = kit.FromClerk(pin.Enterer())
		}
		res, err := f.onCard(ctx, term, reg, pins, pin)
		if err != nil {
			return res, err
		}
		return res, f.feeAndDocuments(ctx, &res, "application_form", "identity_check_record")
	})
}
