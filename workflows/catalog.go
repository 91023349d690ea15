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
}

// Catalog is the one list of procedures.
var Catalog = []Procedure{
	{Name: contract.ProcInPersonIssuance, Workflow: InPersonIssuance, WorkflowType: "InPersonIssuance",
		Manual: "第2 1(1)", Title: "電子証明書の新規発行／更新（本人の場合）",
		StartRoles: []string{RoleClerk, RoleManager}, StartOffices: []string{OfficeMunicipality},
		Steps: []kit.HumanStep{kit.CancelStep, kit.IdentityStep, kit.PINEntryStep, kit.IntentStep}},
	{Name: contract.ProcProxyIssuance, Workflow: ProxyIssuance, WorkflowType: "ProxyIssuance",
		Manual: "第2 1(2)", Title: "電子証明書の新規発行／更新（代理人の場合）",
		StartRoles: []string{RoleClerk, RoleManager}, StartOffices: []string{OfficeMunicipality},
		Steps: []kit.HumanStep{kit.CancelStep, kit.IdentityStep, kit.InquiryMailedStep, kit.ReplyStep, kit.IntentStep}},
	{Name: contract.ProcRelayForwarding, Workflow: RelayForwarding, WorkflowType: "RelayForwarding",
		Manual: "第2 1(1)ア(エ)C（令和4年改正・経由市区町村）", Title: "経由市区町村における申請の受付と暗証番号の届出",
		StartRoles: []string{RoleClerk, RoleManager}, StartOffices: []string{OfficeMunicipality},
		Steps: []kit.HumanStep{kit.CancelStep, kit.IdentityStep, handOverStep}},
	{Name: contract.ProcRelayIssuance, Workflow: RelayIssuance, WorkflowType: "RelayIssuance",
		Manual: "第2 1(1)ア(エ)C（令和4年改正・住所地市区町村）", Title: "経由市区町村を経由した申請に基づく発行",
		Steps: []kit.HumanStep{kit.CancelStep, reviewStep, kit.IntentStep, handOverStep}},
	{Name: contract.ProcExOfficioRevocation, Workflow: ExOfficioRevocation, WorkflowType: "ExOfficioRevocation",
		Manual: "第2 2(3)", Title: "機構による電子証明書の職権失効のために市区町村受付窓口にて行う業務",
		Steps: []kit.HumanStep{kit.CancelStep}},
	{Name: contract.ProcExOfficioRevocationBatch, Workflow: ExOfficioRevocationBatch, WorkflowType: "ExOfficioRevocationBatch",
		Manual: "第2 2(3)（一括）", Title: "機構による電子証明書の職権失効のために市区町村受付窓口にて行う業務（住民基本台帳の一括異動）",
		Steps: []kit.HumanStep{kit.CancelStep}},
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
