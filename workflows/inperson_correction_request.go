package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// InPersonCorrectionRequestInput starts 第2 4(1).
type InPersonCorrectionRequestInput struct {
	CaseNumber       string            `json:"caseNumber"`
	MunicipalityCode string            `json:"municipalityCode"`
	Clerk            string            `json:"clerk"`
	ClerkID          int64             `json:"clerkId"`
	Request          CorrectionRequest `json:"request"`
}

// InPersonCorrectionRequestResult is the counter's outcome.
type InPersonCorrectionRequestResult = kit.Outcome[RecordsRequestResult]

// StartInPersonCorrectionRequest is the body of
// POST /api/procedures/inperson-correction-request.
type StartInPersonCorrectionRequest struct{ CorrectionRequest }

// Check implements StartRequest.
func (s *StartInPersonCorrectionRequest) Check() *contract.Rejection { return s.check() }

// Input implements StartRequest.
func (s *StartInPersonCorrectionRequest) Input(o Opening) any {
	return InPersonCorrectionRequestInput{CaseNumber: o.CaseNumber, MunicipalityCode: o.Office, Clerk: o.Clerk, ClerkID: o.ClerkID, Request: s.CorrectionRequest}
}

// InPersonCorrectionRequest is 第2 4(1) 訂正等請求者による認証業務情報の訂正等請求
// の受付（本人の場合）: the clerk takes the requester's statement of what is
// wrong in the records a disclosure disclosed, checks their identity, and
// forwards it; the Organization decides and writes to them.
func InPersonCorrectionRequest(ctx workflow.Context, in InPersonCorrectionRequestInput) (InPersonCorrectionRequestResult, error) {
	c, err := kit.New(ctx, kit.Info{Number: in.CaseNumber, Procedure: contract.ProcInPersonCorrectionRequest, Office: in.MunicipalityCode})
	if err != nil {
		return InPersonCorrectionRequestResult{}, err
	}
	r, err := newCounterRequest(ctx, c, false, in.Clerk, in.ClerkID, in.Request.RecordsRequest)
	if err != nil {
		return InPersonCorrectionRequestResult{}, err
	}
	r.correction(in.Request, "correction_request")
	return kit.Run(ctx, c, r.run)
}
