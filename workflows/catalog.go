package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// Office kinds and roles (DESIGN.md §8), as the staff schema records them.
const (
	OfficeMunicipality = "municipality"
	OfficePostOffice   = "post_office"
	OfficeOrganization = "organization"

	RoleClerk    = "clerk"
	RoleManager  = "manager"
	RoleAuditor  = "auditor"
	RoleOperator = "operator"
)

// Procedure is one entry of the catalog: a procedure of the manual, its
// workflow, who may start it from which kind of office, and the clerk steps
// its modules register. Worker registration, the gateway's routes and
// permissions, and the replay tests are made from the catalog.
type Procedure struct {
	// Name is the procedure's name, the prefix of its workflow ids and the
	// gateway's route (POST /api/procedures/{Name}).
	Name string
	// Workflow is the workflow function, registered as WorkflowType.
	Workflow     any
	WorkflowType string
	// Manual is the manual's section; Title its name in the manual.
	Manual string
	Title  string
	// StartRoles and StartOffices say who may start it; none means it is
	// started by another procedure (a relay's address side).
	StartRoles   []string
	StartOffices []string
	// Steps are the clerk steps, from the modules the procedure uses.
	Steps []kit.HumanStep
	// Start makes an empty start request, which the gateway decodes the
	// body of POST /api/procedures/{Name} into; nil for the procedures whose
	// start the gateway still reads itself (the issuance family).
	Start func() StartRequest
	// Synchronous procedures end within seconds (a loss report): the
	// gateway waits for the outcome and answers a rejection as a 4xx.
	Synchronous bool
	// StepRoles are the roles that may take a step, by the step's path,
	// where they are not DefaultStepRoles (an audit finding's steps are
	// the auditors' and the manager's).
	StepRoles map[string][]string
	// Delegable procedures may be done for a municipality's residents by
	// another office under a delegation: another municipality's head
	// (第2 5, 規則69), and a post office (第2 6) when StartOffices also
	// lists post_office. The procedure is the same; the case stays the
	// address municipality's.
	Delegable bool
}

// DefaultStepRoles may take the clerk steps of a procedure whose StepRoles
// do not name the step. An auditor is not among them: auditors change
// nothing but their own findings.
var DefaultStepRoles = []string{RoleClerk, RoleManager, RoleOperator}

// StepRolesOf returns the roles that may take the procedure's step.
func (p Procedure) StepRolesOf(path string) []string {
	if r, ok := p.StepRoles[path]; ok {
		return r
	}
	return DefaultStepRoles
}

// StartRequest is a procedure's start request as the gateway reads it.
type StartRequest interface {
	// Check refuses a malformed request with a clerk-readable reason.
	Check() *contract.Rejection
	// Input makes the workflow input for the case being opened.
	Input(s Opening) any
}

// Opening is what the gateway knows of the case it opens: its number and
// the clerk's session.
type Opening struct {
	CaseNumber string
	// Office is the code of the office the case belongs to: the clerk's (a
	// municipality's code, or the Organization's), or, for a case done
	// under a delegation, the delegating (address) municipality's.
	Office string
	// ActingOffice is the clerk's own office (Office unless delegated).
	ActingOffice string
	Clerk        string
	ClerkID      int64
	// Inquiry is the municipality's proxy-inquiry policy.
	Inquiry kit.InquiryPolicy
}

// ResetsPINs is a start request whose terminal must be authorised to reset
// PINs (第3 1 初期化); the gateway refuses any other before a case exists.
type ResetsPINs interface{ ResetsPINs() }

// OnTerminal is a start request naming a counter terminal, which the
// gateway checks belongs to the clerk's office.
type OnTerminal interface{ Terminal() string }

// CertificateHolder is a start request about the certificates of one
// resident: the gateway refuses it, before any case exists, for a person
// who is not its municipality's resident, a serial it did not record, or
// a card that is not the person's.
type CertificateHolder interface {
	// Holder is the resident code, the serials named (may be empty) and the
	// card named (may be empty).
	Holder() (residentCode string, serials []string, cardSerial string)
}

// AboutDisclosure is a start request about what a disclosure disclosed (a
// correction request): the gateway asks the disclosure's case, before any
// case exists, whether it disclosed these serials to this person and the
// correction period still runs.
type AboutDisclosure interface {
	// Disclosure is the disclosure's case number, the resident code and
	// the serials named.
	Disclosure() (disclosureCase, residentCode string, serials []string)
}

// Catalog is the one list of procedures.
var Catalog = []Procedure{
	{Name: contract.ProcInPersonIssuance, Workflow: InPersonIssuance, WorkflowType: "InPersonIssuance",
		Manual: "第2 1(1)", Title: "電子証明書の新規発行／更新（本人の場合）",
		// A post office takes in-person applications under its delegation
		// (第2 6(1)); a proxy's inquiry letter is the municipality's.
		StartRoles: []string{RoleClerk, RoleManager}, StartOffices: []string{OfficeMunicipality, OfficePostOffice}, Delegable: true,
		Steps: []kit.HumanStep{kit.CancelStep, kit.IdentityStep, kit.PINEntryStep, kit.IntentStep}},
	{Name: contract.ProcProxyIssuance, Workflow: ProxyIssuance, WorkflowType: "ProxyIssuance",
		Manual: "第2 1(2)", Title: "電子証明書の新規発行／更新（代理人の場合）",
		StartRoles: []string{RoleClerk, RoleManager}, StartOffices: []string{OfficeMunicipality}, Delegable: true,
		Steps: []kit.HumanStep{kit.CancelStep, kit.IdentityStep, kit.InquiryMailedStep, kit.ReplyStep, kit.IntentStep}},
	{Name: contract.ProcRelayForwarding, Workflow: RelayForwarding, WorkflowType: "RelayForwarding",
		Manual: "第2 1(1)ア(エ)C（令和4年改正・経由市区町村）", Title: "経由市区町村における申請の受付と暗証番号の届出",
		StartRoles: []string{RoleClerk, RoleManager}, StartOffices: []string{OfficeMunicipality},
		Steps: []kit.HumanStep{kit.CancelStep, kit.IdentityStep, handOverStep}},
	{Name: contract.ProcRelayIssuance, Workflow: RelayIssuance, WorkflowType: "RelayIssuance",
		Manual: "第2 1(1)ア(エ)C（令和4年改正・住所地市区町村）", Title: "経由市区町村を経由した申請に基づく発行",
		Steps: []kit.HumanStep{kit.CancelStep, reviewStep, kit.IntentStep, handOverStep}},
	{Name: contract.ProcInPersonRevocation, Workflow: InPersonRevocation, WorkflowType: "InPersonRevocation",
		Manual: "第2 2(1)", Title: "利用者による申請／秘密鍵の漏えい等届出に基づく電子証明書の失効（本人の場合）",
		StartRoles: []string{RoleClerk, RoleManager}, StartOffices: []string{OfficeMunicipality}, Delegable: true,
		Steps: []kit.HumanStep{kit.CancelStep, kit.IdentityStep},
		Start: func() StartRequest { return &StartInPersonRevocation{} }},
	{Name: contract.ProcProxyRevocation, Workflow: ProxyRevocation, WorkflowType: "ProxyRevocation",
		Manual: "第2 2(2)", Title: "利用者による申請／秘密鍵の漏えい等届出に基づく電子証明書の失効（代理人の場合）",
		StartRoles: []string{RoleClerk, RoleManager}, StartOffices: []string{OfficeMunicipality}, Delegable: true,
		Steps: []kit.HumanStep{kit.CancelStep, kit.IdentityStep},
		Start: func() StartRequest { return &StartProxyRevocation{} }},
	{Name: contract.ProcLossReport, Workflow: LossReport, WorkflowType: "LossReport",
		Manual: "第2 2(1)（機構の24時間受付）", Title: "カード紛失の届出による一時保留と失効",
		StartRoles: []string{RoleOperator}, StartOffices: []string{OfficeOrganization},
		Steps: []kit.HumanStep{kit.CancelStep}, Synchronous: true,
		Start: func() StartRequest { return &StartLossReport{} }},
	{Name: contract.ProcInPersonHoldRelease, Workflow: InPersonHoldRelease, WorkflowType: "InPersonHoldRelease",
		Manual: "第3 2(1)", Title: "利用者証明用電子証明書の一時保留の解除（本人の場合）",
		StartRoles: []string{RoleClerk, RoleManager}, StartOffices: []string{OfficeMunicipality}, Delegable: true,
		Steps: []kit.HumanStep{kit.CancelStep, kit.IdentityStep},
		Start: func() StartRequest { return &StartInPersonHoldRelease{} }},
	{Name: contract.ProcProxyHoldRelease, Workflow: ProxyHoldRelease, WorkflowType: "ProxyHoldRelease",
		Manual: "第3 2(2)", Title: "利用者証明用電子証明書の一時保留の解除（代理人の場合）",
		StartRoles: []string{RoleClerk, RoleManager}, StartOffices: []string{OfficeMunicipality}, Delegable: true,
		Steps: []kit.HumanStep{kit.CancelStep, kit.IdentityStep},
		Start: func() StartRequest { return &StartProxyHoldRelease{} }},
	{Name: contract.ProcInPersonPINChange, Workflow: InPersonPINChange, WorkflowType: "InPersonPINChange",
		Manual: "第3 1(1)", Title: "暗証番号の変更（本人の場合）",
		StartRoles: []string{RoleClerk, RoleManager}, StartOffices: []string{OfficeMunicipality, OfficePostOffice}, Delegable: true,
		Steps: []kit.HumanStep{kit.CancelStep, kit.IdentityStep, kit.PINEntryStep, kit.IntentStep},
		Start: func() StartRequest { return &StartInPersonPINChange{} }},
	{Name: contract.ProcInPersonPINReset, Workflow: InPersonPINReset, WorkflowType: "InPersonPINReset",
		Manual: "第3 1(1)", Title: "暗証番号の初期化（本人の場合）",
		StartRoles: []string{RoleClerk, RoleManager}, StartOffices: []string{OfficeMunicipality, OfficePostOffice}, Delegable: true,
		Steps: []kit.HumanStep{kit.CancelStep, kit.IdentityStep, kit.PINEntryStep, kit.IntentStep},
		Start: func() StartRequest { return &StartInPersonPINReset{} }},
	{Name: contract.ProcProxyPINReset, Workflow: ProxyPINReset, WorkflowType: "ProxyPINReset",
		Manual: "第3 1(2)", Title: "暗証番号の初期化（代理人の場合）",
		StartRoles: []string{RoleClerk, RoleManager}, StartOffices: []string{OfficeMunicipality, OfficePostOffice}, Delegable: true,
		Steps: []kit.HumanStep{kit.CancelStep, kit.IdentityStep, kit.InquiryMailedStep, kit.ReplyStep, kit.IntentStep},
		Start: func() StartRequest { return &StartProxyPINReset{} }},
	{Name: contract.ProcInPersonDisclosureRequest, Workflow: InPersonDisclosureRequest, WorkflowType: "InPersonDisclosureRequest",
		Manual: "第2 3(1)", Title: "開示請求者による認証業務情報の開示請求の受付（本人の場合）",
		StartRoles: []string{RoleClerk, RoleManager, RoleOperator}, StartOffices: []string{OfficeMunicipality, OfficeOrganization}, Delegable: true,
		Steps: []kit.HumanStep{kit.CancelStep, kit.IdentityStep},
		Start: func() StartRequest { return &StartInPersonDisclosureRequest{} }},
	{Name: contract.ProcProxyDisclosureRequest, Workflow: ProxyDisclosureRequest, WorkflowType: "ProxyDisclosureRequest",
		Manual: "第2 3(2)", Title: "開示請求者による認証業務情報の開示請求の受付（代理人の場合）",
		StartRoles: []string{RoleClerk, RoleManager, RoleOperator}, StartOffices: []string{OfficeMunicipality, OfficeOrganization}, Delegable: true,
		Steps: []kit.HumanStep{kit.CancelStep, kit.IdentityStep},
		Start: func() StartRequest { return &StartProxyDisclosureRequest{} }},
	{Name: contract.ProcDisclosure, Workflow: Disclosure, WorkflowType: "Disclosure",
		Manual: "法第58条・第59条（機構）", Title: "認証業務情報の開示（機構）",
		Steps: []kit.HumanStep{kit.CancelStep, discloseStep, kit.ExtendStep, kit.IdentityStep}},
	{Name: contract.ProcInPersonCorrectionRequest, Workflow: InPersonCorrectionRequest, WorkflowType: "InPersonCorrectionRequest",
		Manual: "第2 4(1)", Title: "訂正等請求者による認証業務情報の訂正等請求の受付（本人の場合）",
		StartRoles: []string{RoleClerk, RoleManager, RoleOperator}, StartOffices: []string{OfficeMunicipality, OfficeOrganization}, Delegable: true,
		Steps: []kit.HumanStep{kit.CancelStep, kit.IdentityStep},
		Start: func() StartRequest { return &StartInPersonCorrectionRequest{} }},
	{Name: contract.ProcProxyCorrectionRequest, Workflow: ProxyCorrectionRequest, WorkflowType: "ProxyCorrectionRequest",
		Manual: "第2 4(2)", Title: "訂正等請求者による認証業務情報の訂正等請求の受付（代理人の場合）",
		StartRoles: []string{RoleClerk, RoleManager, RoleOperator}, StartOffices: []string{OfficeMunicipality, OfficeOrganization}, Delegable: true,
		Steps: []kit.HumanStep{kit.CancelStep, kit.IdentityStep},
		Start: func() StartRequest { return &StartProxyCorrectionRequest{} }},
	{Name: contract.ProcCorrection, Workflow: Correction, WorkflowType: "Correction",
		Manual: "法第61条（機構）", Title: "認証業務情報の訂正等の決定（機構）",
		Steps: []kit.HumanStep{kit.CancelStep, decideCorrectionStep, kit.ExtendStep, kit.IdentityStep}},
	// Started by the daily Schedule (RetentionDisposalDay), one per
	// municipality and day; its managers submit and approve the list
	// through /api/disposals (gateway/disposals.go), not as case steps.
	{Name: contract.ProcRetentionDisposal, Workflow: RetentionDisposal, WorkflowType: "RetentionDisposal",
		Manual: "第3 3", Title: "申請書等の保存（保存期間を経過した申請書等及び発行記録の廃棄）",
		Steps: []kit.HumanStep{kit.CancelStep}},
	{Name: contract.ProcExOfficioRevocation, Workflow: ExOfficioRevocation, WorkflowType: "ExOfficioRevocation",
		Manual: "第2 2(3)", Title: "機構による電子証明書の職権失効のために市区町村受付窓口にて行う業務",
		Steps: []kit.HumanStep{kit.CancelStep}},
	{Name: contract.ProcExOfficioRevocationBatch, Workflow: ExOfficioRevocationBatch, WorkflowType: "ExOfficioRevocationBatch",
		Manual: "第2 2(3)（一括）", Title: "機構による電子証明書の職権失効のために市区町村受付窓口にて行う業務（住民基本台帳の一括異動）",
		Steps: []kit.HumanStep{kit.CancelStep}},
	{Name: ProcedureAuditFinding, Workflow: AuditFinding, WorkflowType: "AuditFinding",
		Manual: "第3 10", Title: "準拠性監査の指摘と是正",
		// The auditor records the finding at their own office; the office's
		// manager records the correction; an auditor confirms it closed, or
		// withdraws the finding (cancel).
		StartRoles: []string{RoleAuditor}, StartOffices: []string{OfficeMunicipality, OfficeOrganization},
		Steps: []kit.HumanStep{kit.CancelStep, recordCorrectionStep, confirmClosedStep},
		StepRoles: map[string][]string{kit.CancelStep.Path: {RoleAuditor}, recordCorrectionStep.Path: {RoleManager},
			confirmClosedStep.Path: {RoleAuditor}},
		Start: func() StartRequest { return &StartAuditFinding{} }},
}

// Lookup returns a procedure of the catalog by name.
func Lookup(name string) (Procedure, bool) {
	for _, p := range Catalog {
		if p.Name == name {
			return p, true
		}
	}
	return Procedure{}, false
}

// Step returns one of the procedure's clerk steps by its route.
func (p Procedure) Step(path string) (kit.HumanStep, bool) {
	for _, s := range p.Steps {
		if s.Path == path {
			return s, true
		}
	}
	return kit.HumanStep{}, false
}

// Registry is what registering the catalog needs of a worker.
type Registry interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
}

// RegisterAll registers every procedure of the catalog on a worker.
func RegisterAll(w Registry) {
	for _, p := range Catalog {
		w.RegisterWorkflowWithOptions(p.Workflow, workflow.RegisterOptions{Name: p.WorkflowType})
	}
}
