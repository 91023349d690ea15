// Package workflows holds madoguchi's procedures, one file per procedure of
// the national procedures manual, each named after it.
package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Procedure names; each is also the prefix of its workflow ids.
const (
	// ProcedureInPersonIssuance is 第2 1(1): issuance / renewal in person.
	ProcedureInPersonIssuance = "inperson-issuance"
)

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

// Search attributes; they never hold personal data.
var (
	SACaseNumber   = temporal.NewSearchAttributeKeyKeyword("MadoguchiCaseNumber")
	SAProcedure    = temporal.NewSearchAttributeKeyKeyword("MadoguchiProcedure")
	SAMunicipality = temporal.NewSearchAttributeKeyKeyword("MadoguchiMunicipality")
	SAStep         = temporal.NewSearchAttributeKeyKeyword("MadoguchiStep")
)

// SearchAttributes returns the attributes a procedure starts with.
func SearchAttributes(procedure, caseNumber, municipality string) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		SACaseNumber.ValueSet(caseNumber),
		SAProcedure.ValueSet(procedure),
		SAMunicipality.ValueSet(municipality),
		SAStep.ValueSet(StepReception),
	)
}

// listedSteps are the steps the MadoguchiStep search attribute records:
// where a procedure waits for a person, and how it ended. Each upsert costs
// the Temporal server a visibility write, so the machine-only steps in
// between are left to the state query.
var listedSteps = map[string]bool{
	StepIdentityCheck: true, StepPINSetting: true, StepDone: true, StepRejected: true, StepLapsed: true,
}

// upsertStep records a listed step in the MadoguchiStep search attribute.
func upsertStep(ctx workflow.Context, step string) {
	if listedSteps[step] {
		// A failed upsert only affects listing, never the procedure.
		_ = workflow.UpsertTypedSearchAttributes(ctx, SAStep.ValueSet(step))
	}
}
