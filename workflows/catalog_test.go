package workflows

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/activities/municipal"
	"github.com/madoguchi/madoguchi/activities/org"
	"github.com/madoguchi/madoguchi/activities/terminal"
	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// catalogStarts is a start input per catalog entry, for the tests that run
// every procedure; a new entry without one fails TestCatalogStepsAreItsUpdates.
var catalogStarts = map[string]any{
	contract.ProcInPersonIssuance:          testInput,
	contract.ProcProxyIssuance:             proxyInput,
	contract.ProcRelayForwarding:           relayInput,
	contract.ProcRelayIssuance:             RelayIssuanceInput{CaseNumber: RelayAddressCase("131016", relayInput.CaseNumber), MunicipalityCode: "131016"},
	contract.ProcInPersonRevocation:        revocationInput,
	contract.ProcProxyRevocation:           ProxyRevocationInput{CaseNumber: revocationInput.CaseNumber, MunicipalityCode: "131016", Clerk: "clerk1", Request: revocationInput.Request, Proxy: testProxy},
	contract.ProcLossReport:                lossInput,
	contract.ProcInPersonHoldRelease:       releaseInput,
	contract.ProcInPersonPINChange:         pinChangeInput,
	contract.ProcInPersonPINReset:          pinResetInput,
	contract.ProcProxyPINReset:             proxyResetInput,
	contract.ProcProxyHoldRelease:          ProxyHoldReleaseInput{CaseNumber: releaseInput.CaseNumber, MunicipalityCode: "131016", Clerk: "clerk1", Request: releaseInput.Request, Proxy: testProxy},
	contract.ProcExOfficioRevocation:       exInput("death"),
	contract.ProcExOfficioRevocationBatch:  ExOfficioRevocationBatchInput{CaseNumber: "131016-20261126-000010", MunicipalityCode: "131016", BatchID: "B"},
	contract.ProcInPersonDisclosureRequest: inPersonRecordsIn,
	contract.ProcProxyDisclosureRequest: ProxyDisclosureRequestInput{CaseNumber: inPersonRecordsIn.CaseNumber, MunicipalityCode: "131016", Clerk: "clerk1",
		Request: recordsRequest, Proxy: testProxy},
	contract.ProcDisclosure: disclosureIn,
	contract.ProcInPersonCorrectionRequest: InPersonCorrectionRequestInput{CaseNumber: "131016-20261201-000402", MunicipalityCode: "131016", Clerk: "clerk1",
		Request: CorrectionRequest{RecordsRequest: recordsRequest, DisclosureCase: disclosureCase, Items: correctionItems}},
	contract.ProcProxyCorrectionRequest: ProxyCorrectionRequestInput{CaseNumber: "131016-20261201-000402", MunicipalityCode: "131016", Clerk: "clerk1",
		Request: CorrectionRequest{RecordsRequest: recordsRequest, DisclosureCase: disclosureCase, Items: correctionItems}, Proxy: testProxy},
	contract.ProcCorrection:        correctionIn,
	contract.ProcRetentionDisposal: RetentionDisposalInput{CaseNumber: DisposalCaseNumber("131016", "2026-11-26"), MunicipalityCode: "131016", Day: "2026-11-26"},
	ProcedureAuditFinding:          findingInput,
}

// registry records what RegisterAll registers, and registers it on a real
// SDK registry too (which panics on a duplicate or a non-workflow).
type registry struct {
	r     worker.WorkflowReplayer
	names []string
}

func (g *registry) RegisterWorkflowWithOptions(w any, o workflow.RegisterOptions) {
	g.names = append(g.names, o.Name)
	g.r.RegisterWorkflowWithOptions(w, o)
}

// TestCatalogEntries: every entry registers under its workflow type, names
// and types are unique, who may start it is in the schema's vocabulary, and
// its steps have unique routes, the cancellation among them.
func TestCatalogEntries(t *testing.T) {
	g := &registry{r: worker.NewWorkflowReplayer()}
	RegisterAll(g)
	var types []string
	names := map[string]bool{}
	for _, p := range Catalog {
		types = append(types, p.WorkflowType)
		if names[p.Name] {
			t.Errorf("procedure %q is in the catalog twice", p.Name)
		}
		names[p.Name] = true
		if got, ok := Lookup(p.Name); !ok || got.WorkflowType != p.WorkflowType {
			t.Errorf("Lookup(%q) = %v, %v", p.Name, got.WorkflowType, ok)
		}
		if p.Manual == "" || p.Title == "" || p.Workflow == nil {
			t.Errorf("%s: manual section, title and workflow are required", p.Name)
		}
		if got := reflect.TypeOf(p.Workflow).Name(); got != "" {
			t.Errorf("%s: workflow is a %s, want a function", p.Name, got)
		}
		for _, r := range p.StartRoles {
			if !slices.Contains([]string{RoleClerk, RoleManager, RoleAuditor, RoleOperator}, r) {
				t.Errorf("%s: unknown role %q", p.Name, r)
			}
		}
		for _, o := range p.StartOffices {
			if !slices.Contains([]string{OfficeMunicipality, OfficePostOffice, OfficeOrganization}, o) {
				t.Errorf("%s: unknown office kind %q", p.Name, o)
			}
		}
		if (len(p.StartRoles) == 0) != (len(p.StartOffices) == 0) {
			t.Errorf("%s: start roles and offices go together", p.Name)
		}
		paths := map[string]bool{}
		for _, s := range p.Steps {
			if paths[s.Path] {
				t.Errorf("%s: step route %q twice", p.Name, s.Path)
			}
			paths[s.Path] = true
			if st, ok := p.Step(s.Path); !ok || st.Update != s.Update {
				t.Errorf("%s: Step(%q) = %v, %v", p.Name, s.Path, st.Update, ok)
			}
		}
		if !paths[kit.CancelStep.Path] {
			t.Errorf("%s: every procedure can be cancelled", p.Name)
		}
	}
	if !slices.Equal(types, g.names) {
		t.Errorf("registered %v, want %v", g.names, types)
	}
	slices.Sort(types)
	if len(slices.Compact(types)) != len(Catalog) {
		t.Errorf("workflow types are not unique: %v", types)
	}
	if _, ok := Lookup("no-such-procedure"); ok {
		t.Error("Lookup of an unknown procedure succeeded")
	}
}

// allSteps is every clerk step there is: the catalog's and the kit's.
func allSteps() map[string]kit.HumanStep {
	out := map[string]kit.HumanStep{}
	for _, s := range []kit.HumanStep{kit.CancelStep, kit.IdentityStep, kit.PINEntryStep, kit.IntentStep,
		kit.InquiryMailedStep, kit.ReplyStep, kit.ExtendStep} {
		out[s.Update] = s
	}
	for _, p := range Catalog {
		for _, s := range p.Steps {
			out[s.Update] = s
		}
	}
	return out
}

// TestCatalogStepsAreItsUpdates starts every procedure and sends it every
// clerk step there is: a step the catalog lists for it reaches its
// validator (refused or not, never as unknown), any other is refused by
// Temporal as an unknown update, since the procedure did not opt into
// that module. So the gateway's routes, made from the catalog, are exactly
// the updates each workflow registers.
func TestCatalogStepsAreItsUpdates(t *testing.T) {
	steps := allSteps()
	for _, p := range Catalog {
		t.Run(p.Name, func(t *testing.T) {
			start, ok := catalogStarts[p.Name]
			if !ok {
				t.Fatalf("no start input for %s in catalogStarts", p.Name)
			}
			var ts testsuite.WorkflowTestSuite
			env := ts.NewTestWorkflowEnvironment()
			env.RegisterActivity(&municipal.Municipal{})
			env.RegisterActivity(&municipal.Inquiry{})
			env.RegisterActivity(&municipal.Relay{})
			env.RegisterActivity(&terminal.Card{})
			env.RegisterActivity(&org.CA{})
			env.RegisterActivity(&municipal.RegisterChanges{})
			env.RegisterActivity(&org.ExOfficio{})
			env.RegisterActivity(&municipal.Disposal{})
			env.SetStartTime(time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC))
			// Named as the gateway names it: the CA checks its caller's
			// procedure from the workflow id.
			env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: WorkflowID(p.Name, "131016-20261126-000099")})
			RegisterAll(env)
			(&fakeRecords{}).register(env)
			env.OnActivity(contract.CheckRegister.Name, mock.Anything, mock.Anything).Return(contract.CheckRegisterResult{Person: testPerson}, nil).Maybe()
			env.OnActivity(contract.RecordEvent.Name, mock.Anything, mock.Anything).Return(contract.RecordEventResult{}, nil).Maybe()
			env.OnActivity(contract.CloseCase.Name, mock.Anything, mock.Anything).Return(contract.CloseCaseResult{}, nil).Maybe()
			// The status-change procedures find their certificates, then wait
			// (the loss report's lookup takes a while, so the steps reach it open).
			env.OnActivity(contract.FindCertificates.Name, mock.Anything, mock.Anything).Return(heldTargets, nil).Maybe()
			env.OnActivity(contract.CardCertificates.Name, mock.Anything, mock.Anything).After(2*time.Minute).
				Return(contract.CardCertificatesResult{}, nil).Maybe()
			env.OnActivity(contract.CertificateState.Name, mock.Anything, mock.Anything).Return(
				contract.CertificateStatusResult{Status: heldStatus}, nil).Maybe()
			// The records requests read the register, forward and wait.
			env.OnActivity(contract.ReadRequester.Name, mock.Anything, mock.Anything).Return(contract.ReadRequesterResult{Requester: testRequester}, nil).Maybe()
			env.OnActivity(contract.RegisterDocuments.Name, mock.Anything, mock.Anything).Return(contract.RegisterDocumentsResult{}, nil).Maybe()
			env.OnActivity(contract.OpenCase.Name, mock.Anything, mock.Anything).Return(contract.OpenCaseResult{}, nil).Maybe()
			// The disposal draws up a list with something due, and waits.
			env.OnActivity(contract.DrawUpDisposalList.Name, mock.Anything, mock.Anything).Return(contract.DisposalListResult{Status: "drawn_up", Due: 1}, nil).Maybe()
			env.OnActivity(contract.CloseDisposalList.Name, mock.Anything, mock.Anything).Return(contract.CloseDisposalListResult{}, nil).Maybe()
			sentTo := map[string]*sent{}
			for name, s := range steps {
				arg, err := s.Decode([]byte(`{}`), "clerk1")
				if err != nil {
					t.Fatalf("%s: decode: %v", name, err)
				}
				sentTo[name] = sendAt(env, time.Minute, name, arg)
			}
			env.ExecuteWorkflow(p.WorkflowType, start)
			if err := env.GetWorkflowError(); err != nil {
				t.Fatalf("%s: %v", p.Name, err)
			}
			for name, u := range sentTo {
				listed := slices.ContainsFunc(p.Steps, func(s kit.HumanStep) bool { return s.Update == name })
				unknown := strings.Contains(u.rejection(), "unknown update")
				switch {
				case listed && unknown:
					t.Errorf("%s lists step %q but does not register update %q", p.Name, steps[name].Path, name)
				case !listed && !unknown:
					t.Errorf("%s does not list %q, yet update %q reached a handler (accepted %v, %s)", p.Name, steps[name].Path, name, u.accepted, u.rejection())
				}
			}
		})
	}
}

// TestHumanStepDecodeSetsTheClerk: every step's input takes the clerk from
// the session, never from the body: a forged "clerk" is overwritten.
func TestHumanStepDecodeSetsTheClerk(t *testing.T) {
	for name, s := range allSteps() {
		t.Run(name, func(t *testing.T) {
			for _, body := range []string{``, `{}`, `{"clerk":"mallory"}`, `{"Clerk":"mallory","reason":"x"}`} {
				v, err := s.Decode([]byte(body), "clerk1")
				if err != nil {
					t.Fatalf("Decode(%s): %v", body, err)
				}
				f := reflect.ValueOf(v).FieldByName("Clerk")
				if !f.IsValid() || f.String() != "clerk1" {
					t.Errorf("Decode(%s) = %+v, want Clerk clerk1", body, v)
				}
			}
			if _, err := s.Decode([]byte(`{"clerk":`), "clerk1"); err == nil {
				t.Error("malformed body decoded")
			}
		})
	}
}
