package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// InPersonDisclosureRequestInput starts 第2 3(1).
type InPersonDisclosureRequestInput struct {
	CaseNumber       string         `json:"caseNumber"`
	MunicipalityCode string         `json:"municipalityCode"`
	Clerk            string         `json:"clerk"`
	ClerkID          int64          `json:"clerkId"`
	Request          RecordsRequest `json:"request"`
}

// InPersonDisclosureRequestResult is the counter's outcome.
type InPersonDisclosureRequestResult = kit.Outcome[RecordsRequestResult]

// StartInPersonDisclosureRequest is the body of
// POST /api/procedures/inperson-disclosure-request.
type StartInPersonDisclosureRequest struct{ RecordsRequest }

// Check implements StartRequest.
func (s *StartInPersonDisclosureRequest) Check() *contract.Rejection { return s.check() }

// Input implements StartRequest.
func (s *StartInPersonDisclosureRequest) Input(o Opening) any {
	return InPersonDisclosureRequestInput{CaseNumber: o.CaseNumber, MunicipalityCode: o.Office, Clerk: o.Clerk, ClerkID: o.ClerkID, Request: s.RecordsRequest}
}

// InPersonDisclosureRequest is 第2 3(1) 開示請求者による認証業務情報の開示請求の
// 受付（本人の場合）: the clerk takes the request and checks the requester's
// identity; the request goes to the Organization, which discloses by its
// own letter. Nothing is disclosed at the counter, and the clerk sees only
// how the Organization's case stands.
func InPersonDisclosureRequest(ctx workflow.Context, in InPersonDisclosureRequestInput) (InPersonDisclosureRequestResult, error) {
	c, err := kit.New(ctx, kit.Info{Number: in.CaseNumber, Procedure: contract.ProcInPersonDisclosureRequest, Office: in.MunicipalityCode})
	if err != nil {
		return InPersonDisclosureRequestResult{}, err
	}
	r, err := newCounterRequest(ctx, c, false, in.Clerk, in.ClerkID, in.Request)
	if err != nil {
		return InPersonDisclosureRequestResult{}, err
	}
	r.disclosure("disclosure_request")
	return kit.Run(ctx, c, r.run)
}
