package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// ProxyDisclosureRequestInput starts 第2 3(2).
type ProxyDisclosureRequestInput struct {
	CaseNumber       string         `json:"caseNumber"`
	MunicipalityCode string         `json:"municipalityCode"`
	Clerk            string         `json:"clerk"`
	ClerkID          int64          `json:"clerkId"`
	Request          RecordsRequest `json:"request"`
	Proxy            Proxy          `json:"proxy"`
}

// ProxyDisclosureRequestResult is the counter's outcome.
type ProxyDisclosureRequestResult = kit.Outcome[RecordsRequestResult]

// StartProxyDisclosureRequest is the body of
// POST /api/procedures/proxy-disclosure-request.
type StartProxyDisclosureRequest struct {
	RecordsRequest
	Proxy Proxy `json:"proxy"`
}

// Check implements StartRequest.
func (s *StartProxyDisclosureRequest) Check() *contract.Rejection {
	if r := s.Proxy.missing(); r != nil {
		return r
	}
	return s.check()
}

// Input implements StartRequest.
func (s *StartProxyDisclosureRequest) Input(o Opening) any {
	return ProxyDisclosureRequestInput{CaseNumber: o.CaseNumber, MunicipalityCode: o.Office, Clerk: o.Clerk, ClerkID: o.ClerkID,
		Request: s.RecordsRequest, Proxy: s.Proxy}
}

// ProxyDisclosureRequest is 第2 3(2) 開示請求者による認証業務情報の開示請求の受付
// （代理人の場合）: as in person, but the clerk checks the proxy's identity and
// the power of attorney (委任状), which is kept with the request. The
// Organization writes to the person, not to the proxy.
func ProxyDisclosureRequest(ctx workflow.Context, in ProxyDisclosureRequestInput) (ProxyDisclosureRequestResult, error) {
	c, err := kit.New(ctx, kit.Info{Number: in.CaseNumber, Procedure: contract.ProcProxyDisclosureRequest, Office: in.MunicipalityCode})
	if err != nil {
		return ProxyDisclosureRequestResult{}, err
	}
	r, err := newCounterRequest(ctx, c, true, in.Clerk, in.ClerkID, in.Request)
	if err != nil {
		return ProxyDisclosureRequestResult{}, err
	}
	r.disclosure("disclosure_request", "power_of_attorney")
	return kit.Run(ctx, c, r.run)
}
