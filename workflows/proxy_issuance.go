package workflows

import (
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// StepSecondVisit is the proxy's second visit with the reply.
const StepSecondVisit = "second_visit"

// Proxy is the person applying on the applicant's behalf. It is personal
// data and travels only in encrypted payloads.
type Proxy struct {
	Name         string `json:"name"`
	Address      string `json:"address"`
	Relationship string `json:"relationship"`
}

// missing refuses a proxy named without a name or address.
func (p Proxy) missing() *contract.Rejection {
	if strings.TrimSpace(p.Name) == "" || strings.TrimSpace(p.Address) == "" {
		return &contract.Rejection{Code: "missing_proxy", Message: "代理人の氏名と住所を入力してください / Enter the proxy's name and address."}
	}
	return nil
}

// ProxyIssuanceInput starts 第2 1(2).
type ProxyIssuanceInput struct {
	CaseNumber       string               `json:"caseNumber"`
	MunicipalityCode string               `json:"municipalityCode"`
	TerminalID       string               `json:"terminalId"`
	Clerk            string               `json:"clerk"`
	Application      contract.Application `json:"application"`
	Proxy            Proxy                `json:"proxy"`
	Policy           kit.InquiryPolicy    `json:"policy"`
	// RenewalCodeHash is set for a renewal by proxy started from the
	// expiry notice's proxy-renewal form (有効期限通知書の委任状): the hash of
	// the form's renewal code (internal/renewal), never the code.
	RenewalCodeHash string `json:"renewalCodeHash,omitempty"`
}

// ProxyIssuanceResult is the outcome of the procedure.
type ProxyIssuanceResult = kit.Outcome[IssuanceResult]

// ProxyIssuance is 第2 1(2) 申請者／利用者による申請に基づく電子証明書の新規発行／
// 更新（代理人の場合）: the proxy applies; the municipality mails an inquiry
// (照会書兼回答書) to the applicant's registered address and waits, for weeks,
// for the proxy to bring back the reply with the applicant's card. The PIN
// the applicant wrote on the reply is typed by the clerk who took it, after
// another clerk confirmed the applicant's intent. Nothing is issued on the
// day the proxy first applies.
func ProxyIssuance(ctx workflow.Context, in ProxyIssuanceInput) (ProxyIssuanceResult, error) {
	c, err := kit.New(ctx, kit.Info{Number: in.CaseNumber, Procedure: contract.ProcProxyIssuance, Office: in.MunicipalityCode})
	if err != nil {
		return ProxyIssuanceResult{}, err
	}
	started := workflow.GetInfo(ctx).WorkflowStartTime
	id, err := kit.UseIdentity(ctx, c, kit.StepReception, StepRegisterCheck)
	if err != nil {
		return ProxyIssuanceResult{}, err
	}
	// The proxy's check is expected from the start, so one made while the
	// register check runs is the proxy's (with the power of attorney).
	id.Expect(kit.PersonProxy)
	q, err := kit.UseInquiry(ctx, c, in.Policy, started)
	if err != nil {
		return ProxyIssuanceResult{}, err
	}
	pin, err := kit.UseClerkPIN(ctx, c)
	if err != nil {
		return ProxyIssuanceResult{}, err
	}
	term := kit.UseTerminal(c, in.TerminalID)
	return kit.Run(ctx, c, func(ctx workflow.Context) (IssuanceResult, error) {
		f := newIssuance(c, in.Application, started)
		// 第2 1(2)ア(ア) 申請の受付: the proxy brings the application.
		c.Enter(ctx, kit.StepReception, in.Clerk)
		if len(f.kinds) == 0 {
			return IssuanceResult{}, rejectNoCertificate()
		}
		if strings.TrimSpace(in.Proxy.Name) == "" {
			return IssuanceResult{}, contract.Reject("no_proxy", "代理人の氏名がありません / The proxy's name is missing.")
		}
		if in.RenewalCodeHash != "" {
			return proxyRenewalFromNotice(ctx, c, in, f, id, pin, term)
		}
		// 第2 1(2)ア(イ) 住民基本台帳との照合.
		if _, err := f.checkRegister(ctx); err != nil {
			return IssuanceResult{}, err
		}
		// 第2 1(2)ア(ウ) 代理人の本人確認: the proxy's documents and the power
		// of attorney (委任状).
		id.Expect(kit.PersonProxy)
		if err := id.Await(ctx, StepIdentityCheck, "clerk: the proxy's identity documents and power of attorney"); err != nil {
			return IssuanceResult{}, err
		}
		// 第2 1(2)ア(エ)(オ) 照会書の送付と回答書の受理.
		if err := q.Send(ctx, in.Application.ResidentCode, in.Proxy.Name); err != nil {
			return IssuanceResult{}, err
		}
		// The proxy is identified again when they bring the reply.
		id.Again(kit.PersonProxy)
		if err := id.Await(ctx, StepSecondVisit, "clerk: the proxy's identity documents (second visit)"); err != nil {
			return IssuanceResult{}, err
		}
		// Weeks may have passed: the register is checked again before the
		// card steps.
		reg, err := f.checkRegister(ctx)
		if err != nil {
			return IssuanceResult{}, err
		}
		// 第2 1(2)ア(カ)–: the PIN written on the reply is typed by the clerk
		// who took the reply.
		pin.Assign(q.ReplyClerk())
		res, err := f.onCard(ctx, term, reg, kit.FromClerk(q.ReplyClerk()), pin)
		if err != nil {
			return res, err
		}
		return res, f.feeAndDocuments(ctx, &res, "application_form", "proxy_identity_check_record", "inquiry_reply", "power_of_attorney")
	})
}

// proxyRenewalFromNotice is the renewal by proxy from the Organization's
// expiry notice (issue 12): the proxy brings the notice's proxy-renewal
// form (委任状), whose renewal code, like an inquiry's reply code, proves
// the notice reached the holder at the registered address; so no inquiry
// is mailed. A renewed kind keeps its PIN; a kind the card does not hold
// yet gets the PIN the holder gave, typed by the clerk who took the form
// after another clerk's confirmation.
func proxyRenewalFromNotice(ctx workflow.Context, c *kit.Case, in ProxyIssuanceInput, f *issuance, id *kit.Identity, pin *kit.ClerkPIN, term *kit.Terminal) (IssuanceResult, error) {
	// 委任状の更新コード: used once, by this case, at the Organization.
	h, err := kit.Org(ctx, contract.RedeemRenewalCode, contract.RedeemRenewalCodeInput{CodeHash: in.RenewalCodeHash,
		CaseNumber: in.CaseNumber, Office: in.MunicipalityCode, At: workflow.Now(ctx)})
	if err != nil {
		return IssuanceResult{}, err
	}
	if h.ResidentCode != in.Application.ResidentCode {
		// The gateway checked it before the start; a code is never used
		// for another person.
		return IssuanceResult{}, contract.Reject("renewal_code_other_holder", "この更新コードは申請者の有効期限通知書のものではありません / This renewal code is not from the applicant's expiry notice.")
	}
	// 第2 1(2)ア(イ) 住民基本台帳との照合.
	reg, err := f.checkRegister(ctx)
	if err != nil {
		return IssuanceResult{}, err
	}
	// 第2 1(2)ア(ウ) 代理人の本人確認: the proxy's documents and the form.
	id.Expect(kit.PersonProxy)
	if err := id.Await(ctx, StepIdentityCheck, "clerk: the proxy's identity documents and the proxy-renewal form"); err != nil {
		return IssuanceResult{}, err
	}
	pin.Assign(in.Clerk)
	res, err := f.onCard(ctx, term, reg, kit.FromClerk(in.Clerk), pin)
	if err != nil {
		return res, err
	}
	return res, f.feeAndDocuments(ctx, &res, "application_form", "proxy_identity_check_record", "expiry_notice_form")
}
