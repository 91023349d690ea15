// Package searchattr names madoguchi's Temporal search attributes. They hold
// case numbers, procedure names, municipality codes, steps, statuses and
// who a case waits for: never personal data. The gateway lists cases and
// waiting lists from them (visibility), not by querying each case.
package searchattr

import (
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
)

// The keys, registered with the dev server by scripts/lib.sh (Keyword
// unless said otherwise).
var (
	CaseNumber   = temporal.NewSearchAttributeKeyKeyword("MadoguchiCaseNumber")
	Procedure    = temporal.NewSearchAttributeKeyKeyword("MadoguchiProcedure")
	Municipality = temporal.NewSearchAttributeKeyKeyword("MadoguchiMunicipality")
	Step         = temporal.NewSearchAttributeKeyKeyword("MadoguchiStep")
	// Status is the case's status: open, completed, rejected, lapsed,
	// failed or cancelled.
	Status = temporal.NewSearchAttributeKeyKeyword("MadoguchiStatus")
	// Waiting names who the case waits for at its step (a role such as
	// "clerk" or "terminal", never a person); unset when nobody is awaited.
	Waiting = temporal.NewSearchAttributeKeyKeyword("MadoguchiWaiting")
	// Office is the code of the office that acts on the case: the
	// municipality itself, or a post office or another municipality under
	// a delegation (第2 5, 第2 6). Set by the gateway at the start; unset on
	// cases a procedure opens for another (a relay's address side).
	Office = temporal.NewSearchAttributeKeyKeyword("MadoguchiOffice")
	// Due is the legal deadline in force of an open case that has one (a
	// disclosure's 30 days, 法第59条), a Datetime; unset once the duty is
	// met. An open case whose Due has passed is overdue: the managers'
	// deadline list reads it from visibility.
	Due = temporal.NewSearchAttributeKeyTime("MadoguchiDue")
)

// Names lists every key, for registration and checks.
var Names = []string{"MadoguchiCaseNumber", "MadoguchiProcedure", "MadoguchiMunicipality", "MadoguchiStep", "MadoguchiStatus", "MadoguchiWaiting", "MadoguchiOffice", "MadoguchiDue"}

// Start returns the attributes a procedure starts with.
func Start(procedure, caseNumber, municipality, step string) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		CaseNumber.ValueSet(caseNumber),
		Procedure.ValueSet(procedure),
		Municipality.ValueSet(municipality),
		Step.ValueSet(step),
		Status.ValueSet("open"),
	)
}

// KeywordOf reads a Keyword attribute from a visibility row's indexed
// fields ("" when unset). Search attributes are never codec-encoded, so the
// default converter reads them.
func KeywordOf(fields map[string]*commonpb.Payload, key temporal.SearchAttributeKeyKeyword) string {
	p, ok := fields[key.GetName()]
	if !ok {
		return ""
	}
	var s string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &s); err != nil {
		return ""
	}
	return s
}

// TimeOf reads a Datetime attribute from a visibility row's indexed fields
// (false when unset).
func TimeOf(fields map[string]*commonpb.Payload, key temporal.SearchAttributeKeyTime) (time.Time, bool) {
	p, ok := fields[key.GetName()]
	if !ok {
		return time.Time{}, false
	}
	var t time.Time
	if err := converter.GetDefaultDataConverter().FromPayload(p, &t); err != nil || t.IsZero() {
		return time.Time{}, false
	}
	return t, true
}
