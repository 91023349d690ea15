// Package searchattr names madoguchi's Temporal search attributes. They hold
// case numbers, procedure names, municipality codes and steps: never
// personal data.
package searchattr

import "go.temporal.io/sdk/temporal"

// The keys, registered with the dev server by scripts/lib.sh.
var (
	CaseNumber   = temporal.NewSearchAttributeKeyKeyword("MadoguchiCaseNumber")
	Procedure    = temporal.NewSearchAttributeKeyKeyword("MadoguchiProcedure")
	Municipality = temporal.NewSearchAttributeKeyKeyword("MadoguchiMunicipality")
	Step         = temporal.NewSearchAttributeKeyKeyword("MadoguchiStep")
)

// Start returns the attributes a procedure starts with.
func Start(procedure, caseNumber, municipality, step string) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		CaseNumber.ValueSet(caseNumber),
		Procedure.ValueSet(procedure),
		Municipality.ValueSet(municipality),
		Step.ValueSet(step),
	)
}
