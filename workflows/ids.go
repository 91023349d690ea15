// Package workflows holds madoguchi's procedures, one file per procedure of
// the national procedures manual, each named after it.
package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/internal/searchattr"
)

// Procedure names; each is also the prefix of its workflow ids.
const (
	// ProcedureInPersonIssuance is 第2 1(1): issuance / renewal in person.
	ProcedureInPersonIssuance = "inperson-issuance"
	// ProcedureRelayForwarding is the relay municipality's side of a relay
	// application (経由市区町村, 令和4年改正).
	ProcedureRelayForwarding = "relay-forwarding"
	// ProcedureRelayIssuance is the address municipality's side of it.
	ProcedureRelayIssuance = "relay-issuance"
)

// RelayAddressCase is the address municipality's case number for a relay
// case: derived from it, so forwarding twice opens one case.
func RelayAddressCase(addressMunicipality, relayCase string) string {
	return addressMunicipality + "-R" + relayCase
}

// WorkflowID is the one helper that names a procedure's workflow. It is
// built from the case number only, never from personal data, so it can be
// shown in the Temporal UI and logs.
func WorkflowID(procedure, caseNumber string) string {
	return procedure + "/" + caseNumber
}

// ParseWorkflowID splits a workflow id made by WorkflowID.
func ParseWorkflowID(id string) (procedure, caseNumber string, err error) {
	p, c, ok := strings.Cut(id, "/")
	if !ok || p == "" || c == "" {
		return "", "", fmt.Errorf("workflows: %q is not a procedure workflow id", id)
	}
	return p, c, nil
}

// SAStep is the search attribute of the step a procedure waits at.
var SAStep = searchattr.Step

// SearchAttributes returns the attributes a procedure starts with.
func SearchAttributes(procedure, caseNumber, municipality string) temporal.SearchAttributes {
	return searchattr.Start(procedure, caseNumber, municipality, StepReception)
}

// listedSteps are the steps the MadoguchiStep search attribute records:
// where a procedure waits for a person, and how it ended. Each upsert costs
// the Temporal server a visibility write, so the machine-only steps in
// between are left to the state query.
var listedSteps = map[string]bool{
	StepIdentityCheck: true, StepPINSetting: true, StepDone: true, StepRejected: true, StepLapsed: true,
	StepPINConfirmation: true, StepInquiryMailing: true, StepReplyWait: true, StepRelayReview: true,
	StepHandOver: true, StepForwarded: true,
}

// upsertStep records a listed step in the MadoguchiStep search attribute.
func upsertStep(ctx workflow.Context, step string) {
	if listedSteps[step] {
		// A failed upsert only affects listing, never the procedure.
		_ = workflow.UpsertTypedSearchAttributes(ctx, SAStep.ValueSet(step))
	}
}
