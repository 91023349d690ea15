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
	return inPersonPIN(ctx, kit.Info{Number: in.CaseNumber, Procedure: contract.ProcInPersonPINReset, Office: in.MunicipalityCode},
		in.Clerk, in.Request, (*pinWork).reset, "pin_reset_application")
}

// ResetsPINs implements workflows.ResetsPINs.
func (s *StartInPersonPINReset) ResetsPINs() {}
