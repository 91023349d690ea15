// Package auditreport builds the compliance audit's report of one office
// for a period (第3 10 準拠性監査): the procedures by type and outcome, the
// PINs a clerk typed with their second clerk's confirmations and the
// exceptions, the cases that lapsed, failed or were cancelled with their
// reason codes, the refused attempts, the access log's summary per staff
// member and kind, and the disposals. Build is pure: the gateway gathers
// the inputs from the municipal database; CSV and PDF render the same
// content. The report holds no personal data: cases by number, staff by
// login, reasons by code.
package auditreport

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// The outcomes of a case, as the cases table records them, in the
// report's order.
const (
	Completed = "completed"
	Rejected  = "rejected"
	Lapsed    = "lapsed"
	Failed    = "failed"
	Cancelled = "cancelled"
	Open      = "open"
)

// Outcomes are the report's columns.
var Outcomes = []string{Completed, Rejected, Lapsed, Failed, Cancelled, Open}

// The exceptions of a clerk-typed PIN.
const (
	// PINConfirmed: another clerk confirmed the applicant's intent.
	PINConfirmed = "confirmed"
	// PINSameClerk: the confirmation is by the clerk who typed the PIN.
	PINSameClerk = "same_clerk"
	// PINConfirmationMissing: the case lapsed waiting for the second clerk.
	PINConfirmationMissing = "confirmation_missing"
	// PINEntererMissing: the confirmation does not say who typed the PIN.
	PINEntererMissing = "enterer_missing"
)

// LapseNoConfirmation is the lapse code of a case no second clerk
// confirmed in time (workflows/kit's clerk-typed PIN).
const LapseNoConfirmation = "intent_not_confirmed"

// Case is one case opened in the period.
type Case struct {
	CaseNumber string
	Procedure  string
	Status     string
	// Reason is the code of why it did not complete ("" when it did, or
	// when it closed before the code was recorded).
	Reason string
}

// PINConfirmation is a recorded confirmation of a clerk-typed PIN (the
// case event pin_entry_confirmed).
type PINConfirmation struct {
	CaseNumber  string
	EnteredBy   string
	ConfirmedBy string
}

// Refusal is a refused attempt (internal/storage refused_attempts).
type Refusal struct {
	Kind, Actor, Subject, Reason string
	At                           time.Time
}

// AccessCount is the number of reads one staff member made of one kind.
type AccessCount struct {
	Staff, Kind string
	Count       int
}

// Disposal is one disposal of application documents.
type Disposal struct {
	CaseNumber, Document, By string
	At                       time.Time
}

// Input is what the report is built from.
type Input struct {
	Office     string
	OfficeName string
	// From and To are the period's first and last days (Japan), inclusive.
	From, To  time.Time
	Generated time.Time
	// GeneratedBy is the login that asked for the report.
	GeneratedBy string
	Cases       []Case
	PINs        []PINConfirmation
	Refusals    []Refusal
	Access      []AccessCount
	// Disposals is nil while disposals are not recorded anywhere yet; the
	// report then says so.
	Disposals *[]Disposal
}

// ProcedureRow counts one procedure's cases by outcome.
type ProcedureRow struct {
	Procedure string
	Counts    map[string]int
	Total     int
}

// PINRow is one clerk-typed PIN and how it was confirmed.
type PINRow struct {
	CaseNumber, Procedure, EnteredBy, ConfirmedBy string
	// Outcome is PINConfirmed or an exception.
	Outcome string
}

// Report is the report's content.
type Report struct {
	Office, OfficeName string
	From, To           time.Time
	Generated          time.Time
	GeneratedBy        string
	// Procedures are by procedure name; Totals is every procedure's.
	Procedures []ProcedureRow
	Totals     ProcedureRow
	PINs       []PINRow
	// PINExceptions counts the PIN rows that are not PINConfirmed.
	PINExceptions int
	// NotCompleted are the lapsed, failed and cancelled cases, by number.
	NotCompleted []Case
	Refusals     []Refusal
	Access       []AccessCount
	AccessTotal  int
	// DisposalsRecorded is false while disposals are not recorded yet.
	DisposalsRecorded bool
	Disposals         []Disposal
}

// Build makes the report's content from its inputs.
func Build(in Input) Report {
	r := Report{Office: in.Office, OfficeName: in.OfficeName, From: in.From, To: in.To, Generated: in.Generated, GeneratedBy: in.GeneratedBy,
		Totals: ProcedureRow{Procedure: "(all)", Counts: map[string]int{}}}
	byProc := map[string]*ProcedureRow{}
	procOf := map[string]string{}
	for _, c := range in.Cases {
		procOf[c.CaseNumber] = c.Procedure
		row, ok := byProc[c.Procedure]
		if !ok {
			row = &ProcedureRow{Procedure: c.Procedure, Counts: map[string]int{}}
			byProc[c.Procedure] = row
		}
		row.Counts[c.Status]++
		row.Total++
		r.Totals.Counts[c.Status]++
		r.Totals.Total++
		switch c.Status {
		case Lapsed, Failed, Cancelled:
			r.NotCompleted = append(r.NotCompleted, c)
		}
	}
	for _, row := range byProc {
		r.Procedures = append(r.Procedures, *row)
	}
	slices.SortFunc(r.Procedures, func(a, b ProcedureRow) int { return strings.Compare(a.Procedure, b.Procedure) })
	slices.SortFunc(r.NotCompleted, func(a, b Case) int { return strings.Compare(a.CaseNumber, b.CaseNumber) })

	confirmed := map[string]bool{}
	for _, p := range in.PINs {
		// Only the period's own cases: a confirmation of an older case is
		// that period's.
		proc, ok := procOf[p.CaseNumber]
		if !ok {
			continue
		}
		confirmed[p.CaseNumber] = true
		row := PINRow{CaseNumber: p.CaseNumber, Procedure: proc, EnteredBy: p.EnteredBy, ConfirmedBy: p.ConfirmedBy, Outcome: PINConfirmed}
		switch {
		case p.EnteredBy == "":
			row.Outcome = PINEntererMissing
		case p.EnteredBy == p.ConfirmedBy:
			row.Outcome = PINSameClerk
		}
		r.PINs = append(r.PINs, row)
	}
	for _, c := range in.Cases {
		if c.Status == Lapsed && c.Reason == LapseNoConfirmation && !confirmed[c.CaseNumber] {
			r.PINs = append(r.PINs, PINRow{CaseNumber: c.CaseNumber, Procedure: c.Procedure, Outcome: PINConfirmationMissing})
		}
	}
	slices.SortFunc(r.PINs, func(a, b PINRow) int { return strings.Compare(a.CaseNumber, b.CaseNumber) })
	for _, p := range r.PINs {
		if p.Outcome != PINConfirmed {
			r.PINExceptions++
		}
	}

	r.Refusals = slices.Clone(in.Refusals)
	slices.SortFunc(r.Refusals, func(a, b Refusal) int { return cmp.Or(a.At.Compare(b.At), strings.Compare(a.Kind, b.Kind)) })
	r.Access = slices.Clone(in.Access)
	slices.SortFunc(r.Access, func(a, b AccessCount) int {
		return cmp.Or(strings.Compare(a.Staff, b.Staff), strings.Compare(a.Kind, b.Kind))
	})
	for _, a := range r.Access {
		r.AccessTotal += a.Count
	}
	if in.Disposals != nil {
		r.DisposalsRecorded = true
		r.Disposals = slices.Clone(*in.Disposals)
		slices.SortFunc(r.Disposals, func(a, b Disposal) int {
			return cmp.Or(a.At.Compare(b.At), strings.Compare(a.CaseNumber, b.CaseNumber))
		})
	}
	return r
}
