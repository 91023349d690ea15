// Package workflows holds madoguchi's procedures, one file per procedure of
// the national procedures manual, each named after it, on the procedure kit
// (workflows/kit). catalog.go is the one list of them.
package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/searchattr"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// Procedure names; each is also the prefix of its workflow ids.
const (
	ProcedureInPersonIssuance = contract.ProcInPersonIssuance
	ProcedureProxyIssuance    = contract.ProcProxyIssuance
	ProcedureRelayForwarding  = contract.ProcRelayForwarding
	ProcedureRelayIssuance    = contract.ProcRelayIssuance

	ProcedureExOfficioRevocation      = contract.ProcExOfficioRevocation
	ProcedureExOfficioRevocationBatch = contract.ProcExOfficioRevocationBatch
)

// Statuses and final steps of every case (workflows/kit).
const (
	StatusOpen      = kit.StatusOpen
	StatusCompleted = kit.StatusCompleted
	StatusRejected  = kit.StatusRejected
	StatusLapsed    = kit.StatusLapsed
	StatusFailed    = kit.StatusFailed
	StatusCancelled = kit.StatusCancelled

	StepReception       = kit.StepReception
	StepDone            = kit.StepDone
	StepRejected        = kit.StepRejected
	StepLapsed          = kit.StepLapsed
	StepFailed          = kit.StepFailed
	StepCancelled       = kit.StepCancelled
	StepPINConfirmation = kit.StepPINConfirmation
	StepInquiryMailing  = kit.StepInquiryMailing
	StepReplyWait       = kit.StepReplyWait
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

// SearchAttributes returns the attributes a procedure starts with.
func SearchAttributes(procedure, caseNumber, municipality string) temporal.SearchAttributes {
	return searchattr.Start(procedure, caseNumber, municipality, StepReception)
}

// SearchAttributesAt is SearchAttributes with the office that acts on the
// case (the municipality itself, or an office under a delegation).
func SearchAttributesAt(procedure, caseNumber, municipality, office string) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(searchattr.Start(procedure, caseNumber, municipality, StepReception).Copy(),
		searchattr.Office.ValueSet(office))
}

// The kit's names, for the gateway, the tests and the console.
type (
	// State is what the state query returns.
	State = kit.State
	// InquiryPolicy is the municipality's setting for proxy inquiries.
	InquiryPolicy = kit.InquiryPolicy
)

// Message names of the kit's modules.
const (
	StateQuery            = kit.StateQuery
	CancelUpdate          = kit.CancelUpdate
	ConfirmIdentityUpdate = kit.ConfirmIdentityUpdate
	DeclarePINEntryUpdate = kit.DeclarePINEntryUpdate
	ConfirmIntentUpdate   = kit.ConfirmIntentUpdate
	InquiryMailedUpdate   = kit.InquiryMailedUpdate
	EnterReplyUpdate      = kit.EnterReplyUpdate
)

// Input and result types of the kit's clerk steps.
type (
	ConfirmIdentityInput  = kit.ConfirmIdentityInput
	ConfirmIdentityResult = kit.ConfirmIdentityResult
	DeclarePINEntryInput  = kit.DeclarePINEntryInput
	ConfirmIntentInput    = kit.ConfirmIntentInput
	InquiryMailedInput    = kit.InquiryMailedInput
	EnterReplyInput       = kit.EnterReplyInput
	CancelInput           = kit.CancelInput
)
