package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// ProxyCorrectionRequestInput starts 第2 4(2).
type ProxyCorrectionRequestInput struct {
	CaseNumber       string            `json:"caseNumber"`
	MunicipalityCode string            `json:"municipalityCode"`
	Clerk            string            `json:"clerk"`
	ClerkID          int64             `json:"clerkId"`
	Request          CorrectionRequest `json:"request"`
	Proxy            Proxy             `json:"proxy"`
}

// ProxyCorrectionRequestResult is the counter's outcome.
type ProxyCorrectionRequestResult = kit.Outcome[RecordsRequestResult]

// StartProxyCorrectionRequest is the body of
// POST /api/procedures/proxy-correction-request.
type StartProxyCorrectionRequest struct {
	CorrectionRequest
	Proxy Proxy `json:"proxy"`
}

// Check implements StartRequest.
func (s *StartProxyCorrectionRequest) Check() *contract.Rejection {
	if r := s.Proxy.missing(); r != nil {
		return r
	}
	return s.check()
}

// Input implements StartRequest.
func (s *StartProxyCorrectionRequest) Input(o Opening) any {
	return ProxyCorrectionRequestInput{CaseNumber: o.CaseNumber, MunicipalityCode: o.Office, Clerk: o.Clerk, ClerkID: o.ClerkID,
		Request: s.CorrectionRequest, Proxy: s.Proxy}
}

// ProxyCorrectionRequest is 第2 4(2) 訂正等請求者による認証業務情報の訂正等請求の
// 受付（代理人の場合）: as in person, with the proxy's identity check and the
// power of attorney (委任状).
func ProxyCorrectionRequest(ctx workflow.Context, in ProxyCorrectionRequestInput) (ProxyCorrectionRequestResult, error) {
	c, err := kit.New(ctx, kit.Info{Number: in.CaseNumber, Procedure: contract.ProcProxyCorrectionRequest, Office: in.MunicipalityCode})
	if err != nil {
		return ProxyCorrectionRequestResult{}, err
	}
	r, err := newCounterRequest(ctx, c, true, in.Clerk, in.ClerkID, in.Request.RecordsRequest)
	if err != nil {
		return ProxyCorrectionRequestResult{}, err
	}
	r.correction(in.Request, "correction_request", "power_of_attorney")
	return kit.Run(ctx, c, r.run)
}
