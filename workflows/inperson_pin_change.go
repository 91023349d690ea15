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
	return inPersonPIN(ctx, kit.Info{Number: in.CaseNumber, Procedure: contract.ProcInPersonPINChange, Office: in.MunicipalityCode},
		in.Clerk, in.Request, (*pinWork).change, "pin_change_application")
}
