package contract

import (
	"slices"
	"time"
)

// The procedures of the certification records (認証業務情報, 法第58条〜): the
// counter's side of a request, and the Organization's side that decides it.
const (
	// ProcInPersonDisclosureRequest is 第2 3(1): a disclosure request at a
	// counter, by the person.
	ProcInPersonDisclosureRequest = "inperson-disclosure-request"
	// ProcProxyDisclosureRequest is 第2 3(2): the same, by a proxy.
	ProcProxyDisclosureRequest = "proxy-disclosure-request"
	// ProcDisclosure is the Organization's side of a disclosure request:
	// compiling the records, the extension notice and the disclosure notice
	// (法第58条, 第59条).
	ProcDisclosure = "disclosure"
	// ProcInPersonCorrectionRequest is 第2 4(1): a correction request
	// (訂正・追加・削除) at a counter, by the person.
	ProcInPersonCorrectionRequest = "inperson-correction-request"
	// ProcProxyCorrectionRequest is 第2 4(2): the same, by a proxy.
	ProcProxyCorrectionRequest = "proxy-correction-request"
	// ProcCorrection is the Organization's side of a correction request:
	// its decision and the amended records (法第61条).
	ProcCorrection = "correction"
)

// RecordsProcedures are the Organization-side procedures that may read and
// amend a person's certification records; the CA refuses any other caller.
var RecordsProcedures = []string{ProcDisclosure, ProcCorrection, ProcReadRecordsLetter}

// ProcReadRecordsLetter names the operator's reads of a queued letter of
// the Organization's records procedures, to print it (a short look-up on
// the CA worker: the gateway has no access to the Organization's database).
const ProcReadRecordsLetter = "records-letter-read"

// MayUseRecords reports whether a procedure may compile or amend records.
func MayUseRecords(procedure string) bool { return slices.Contains(RecordsProcedures, procedure) }

// How the Organization's letter reaches the requester, as they chose at the
// request.
const (
	DeliveryMail   = "mail"   // 郵送 (本人限定受取郵便) to the registered address
	DeliveryPickup = "pickup" // 窓口交付 at the Organization's counter
)

// Delivery outcomes of a letter.
const (
	DeliveredByMail     = "mailed"      // handed to the mail room
	DeliveredByHandOver = "handed_over" // given at the counter after an identity check
)

// The Organization's letters of these procedures.
const (
	LetterDisclosure = "disclosure" // 認証業務情報開示通知書
	LetterExtension  = "extension"  // 期限延長通知書 (法第59条第2項)
	LetterCorrection = "correction" // 訂正等決定通知書
)

// Correction actions (法第61条: 訂正、追加又は削除).
const (
	ActionCorrect = "correct"
	ActionAdd     = "add"
	ActionDelete  = "delete"
)

// The record fields a correction may name. A certificate and a signed CRL
// are never rewritten: these are the Organization's records about them
// (docs/DISCLOSURE.md).
const (
	// FieldMunicipality is the issuing municipality the record names.
	FieldMunicipality = "municipality"
	// FieldCounterpart is the counterpart certificate's serial (対応証明書).
	FieldCounterpart = "counterpart"
	// FieldRevocationReason is the revocation reason the record names.
	FieldRevocationReason = "revocation_reason"
	// FieldRecord is the whole record (delete only: it is not the
	// requester's).
	FieldRecord = "record"
)

// Requester is the person whose records are asked for, as the register
// reads: the Organization writes to them directly.
type Requester struct {
	ResidentCode string `json:"residentCode"`
	Name         string `json:"name"`
	Address      string `json:"address"`
}

// CorrectionItem is one thing the requester says is wrong.
type CorrectionItem struct {
	Serial string `json:"serial"`
	Action string `json:"action"`
	Field  string `json:"field"`
	// Value is the value asked for (correct, add); empty for delete.
	Value string `json:"value,omitempty"`
	// Statement is the requester's statement of what is wrong.
	Statement string `json:"statement"`
}

// ReceiveRecordsRequestInput records a disclosure or correction request at
// the Organization (idempotent by case number).
type ReceiveRecordsRequestInput struct {
	CaseNumber string    `json:"caseNumber"`
	Procedure  string    `json:"procedure"` // ProcDisclosure or ProcCorrection
	Requester  Requester `json:"requester"`
	Delivery   string    `json:"delivery"`
	ReceivedAt time.Time `json:"receivedAt"`
	// CounterOffice and CounterCase are where the request was made.
	CounterOffice string `json:"counterOffice"`
	CounterCase   string `json:"counterCase"`
	// DisclosureCase and Items are a correction's.
	DisclosureCase string           `json:"disclosureCase,omitempty"`
	Items          []CorrectionItem `json:"items,omitempty"`
}

// ReceiveRecordsRequestResult acknowledges it.
type ReceiveRecordsRequestResult struct {
	ReceivedAt time.Time `json:"receivedAt"`
}

// CompileDisclosureInput compiles the requester's records of a disclosure
// case (once: a retry returns the first compilation).
type CompileDisclosureInput struct {
	CaseNumber string    `json:"caseNumber"`
	Operator   string    `json:"operator"`
	At         time.Time `json:"at"`
}

// CompileDisclosureResult says what was compiled: serials only.
type CompileDisclosureResult struct {
	Serials    []string  `json:"serials,omitempty"`
	CompiledAt time.Time `json:"compiledAt"`
}

// ExtensionDetail is what an extension notice says besides the requester.
type ExtensionDetail struct {
	OriginalDue time.Time `json:"originalDue"`
	NewDue      time.Time `json:"newDue"`
	Reason      string    `json:"reason"`
}

// CorrectionDecision is the Organization's decision on each item.
type CorrectionDecision struct {
	Items []DecidedItem `json:"items"`
	// Reason is the decision's reason, printed on the letter.
	Reason string `json:"reason"`
}

// DecidedItem is one item with the decision.
type DecidedItem struct {
	CorrectionItem
	Accepted bool `json:"accepted"`
}

// Outcome of a correction decision.
const (
	DecisionFull    = "accepted"           // 全部訂正等
	DecisionPart    = "partially_accepted" // 一部訂正等
	DecisionRefused = "refused"            // 訂正等をしない
)

// Outcome says whether the decision accepts all, some or none of the items.
func (d CorrectionDecision) Outcome() string {
	n := 0
	for _, it := range d.Items {
		if it.Accepted {
			n++
		}
	}
	switch {
	case n == 0:
		return DecisionRefused
	case n == len(d.Items):
		return DecisionFull
	}
	return DecisionPart
}

// SendRecordsLetterInput renders one of the Organization's letters of a
// case and queues it for the requester (once per case and letter).
type SendRecordsLetterInput struct {
	CaseNumber string              `json:"caseNumber"`
	Letter     string              `json:"letter"`
	IssuedOn   time.Time           `json:"issuedOn"`
	Extension  *ExtensionDetail    `json:"extension,omitempty"`
	Correction *CorrectionDecision `json:"correction,omitempty"`
}

// SendRecordsLetterResult says when and how it was queued.
type SendRecordsLetterResult struct {
	QueuedAt time.Time `json:"queuedAt"`
	Delivery string    `json:"delivery"`
}

// DeliverLetterInput records how a queued letter left the Organization.
type DeliverLetterInput struct {
	CaseNumber string    `json:"caseNumber"`
	Letter     string    `json:"letter"`
	How        string    `json:"how"` // DeliveredByMail or DeliveredByHandOver
	By         string    `json:"by,omitempty"`
	At         time.Time `json:"at"`
}

// DeliverLetterResult acknowledges it.
type DeliverLetterResult struct {
	DeliveredAt time.Time `json:"deliveredAt"`
	How         string    `json:"how"`
}

// ApplyCorrectionsInput amends the records as decided (once per case and
// item), keeping the old values in the audit.
type ApplyCorrectionsInput struct {
	CaseNumber     string        `json:"caseNumber"`
	DisclosureCase string        `json:"disclosureCase"`
	Items          []DecidedItem `json:"items"`
	DecidedBy      string        `json:"decidedBy"`
	Reason         string        `json:"reason"`
	At             time.Time     `json:"at"`
}

// AppliedCorrection is one amendment made, with the value it replaced.
type AppliedCorrection struct {
	Item     int    `json:"item"`
	Serial   string `json:"serial"`
	Field    string `json:"field"`
	OldValue string `json:"oldValue"`
	NewValue string `json:"newValue"`
}

// ApplyCorrectionsResult lists the amendments.
type ApplyCorrectionsResult struct {
	Applied []AppliedCorrection `json:"applied,omitempty"`
}

// The Organization's records activities (法第58条〜第61条).
var (
	ReceiveRecordsRequest = Activity[ReceiveRecordsRequestInput, ReceiveRecordsRequestResult]{Name: "ReceiveRecordsRequest", Zone: ZoneOrganization}
	CompileDisclosure     = Activity[CompileDisclosureInput, CompileDisclosureResult]{Name: "CompileDisclosure", Zone: ZoneOrganization}
	SendRecordsLetter     = Activity[SendRecordsLetterInput, SendRecordsLetterResult]{Name: "SendRecordsLetter", Zone: ZoneOrganization}
	DeliverLetter         = Activity[DeliverLetterInput, DeliverLetterResult]{Name: "DeliverLetter", Zone: ZoneOrganization}
	ApplyCorrections      = Activity[ApplyCorrectionsInput, ApplyCorrectionsResult]{Name: "ApplyCorrections", Zone: ZoneOrganization}
	ReadRecordsLetter     = Activity[ReadRecordsLetterInput, ReadRecordsLetterResult]{Name: "ReadRecordsLetter", Zone: ZoneOrganization}
)

// ReadRecordsLetterInput names a queued letter: the Organization's case
// and the letter (LetterDisclosure, LetterExtension, LetterCorrection).
type ReadRecordsLetterInput struct {
	CaseNumber string `json:"caseNumber"`
	Letter     string `json:"letter"`
}

// ReadRecordsLetterResult is the letter as queued, to print. Found is
// false when no such letter was queued.
type ReadRecordsLetterResult struct {
	Found bool   `json:"found"`
	PDF   []byte `json:"pdf,omitempty"`
}

// ReadRequesterInput asks the register for the person a request is about.
// An empty MunicipalityCode reads any municipality's register (the
// Organization's counter, through 住基ネット).
type ReadRequesterInput struct {
	MunicipalityCode string `json:"municipalityCode"`
	ResidentCode     string `json:"residentCode"`
}

// ReadRequesterResult is the person as the register reads.
type ReadRequesterResult struct {
	Requester Requester `json:"requester"`
}

// OpenCaseInput records a case one procedure opens at another office (the
// Organization's side of a request made at a counter), idempotently by
// case number, before its workflow starts.
type OpenCaseInput struct {
	CaseNumber string `json:"caseNumber"`
	Office     string `json:"office"`
	Procedure  string `json:"procedure"`
	WorkflowID string `json:"workflowId"`
	OpenedBy   int64  `json:"openedBy"`
}

// OpenCaseResult acknowledges it.
type OpenCaseResult struct{}

// The counter's side of a records request.
var (
	ReadRequester = Activity[ReadRequesterInput, ReadRequesterResult]{Name: "ReadRequester", Zone: ZoneMunicipal}
	OpenCase      = Activity[OpenCaseInput, OpenCaseResult]{Name: "OpenCase", Zone: ZoneMunicipal}
)
