package contract

import "time"

// ProcRetentionDisposal is 第3 3 申請書等の保存: a municipality's disposal
// of the documents and issuance records whose retention has passed, one
// case per municipality and day, started by the daily Schedule.
const ProcRetentionDisposal = "retention-disposal"

// HoldingProcedures are the counter's records requests (第2 3, 第2 4): while
// one is open about a resident, nothing about that resident is disposed of.
var HoldingProcedures = []string{ProcInPersonDisclosureRequest, ProcProxyDisclosureRequest,
	ProcInPersonCorrectionRequest, ProcProxyCorrectionRequest}

// CodeOwnDisposalList refuses a manager's approval of the list they
// submitted.
const CodeOwnDisposalList = "own_list"

// DisposalListResult is a day's list as recorded: its status and counts
// (the items stay in the database; the history carries counts only).
type DisposalListResult struct {
	Status string `json:"status"`
	Due    int    `json:"due"`
	Held   int    `json:"held"`
}

// DrawUpDisposalListInput draws up a municipality's list of a day.
type DrawUpDisposalListInput struct {
	Office string `json:"office"`
	// CaseNumber is the day's case, recorded with the list.
	CaseNumber string    `json:"caseNumber,omitempty"`
	Day        string    `json:"day"` // YYYY-MM-DD, Asia/Tokyo
	WorkflowID string    `json:"workflowId"`
	At         time.Time `json:"at"`
}

// DisposalListStepInput records a manager's step on a day's list: its
// submission or its approval.
type DisposalListStepInput struct {
	Office  string    `json:"office"`
	Day     string    `json:"day"`
	Step    string    `json:"step"` // "submit" or "approve"
	Manager string    `json:"manager"`
	At      time.Time `json:"at"`
}

// DisposalListStepResult is empty.
type DisposalListStepResult struct{}

// DisposeListInput disposes of an approved list's items.
type DisposeListInput struct {
	Office string    `json:"office"`
	Day    string    `json:"day"`
	At     time.Time `json:"at"`
}

// CloseDisposalListInput ends a list never approved: lapsed or cancelled.
type CloseDisposalListInput struct {
	Office string    `json:"office"`
	Day    string    `json:"day"`
	Status string    `json:"status"`
	At     time.Time `json:"at"`
}

// CloseDisposalListResult is empty.
type CloseDisposalListResult struct{}

// DisposalOfficesInput asks for the municipalities lists are drawn up for.
type DisposalOfficesInput struct{}

// DisposalOfficesResult lists their codes.
type DisposalOfficesResult struct {
	Offices []string `json:"offices"`
}

// Activities of the retention and disposal (activities/municipal/disposal.go).
var (
	DrawUpDisposalList = Activity[DrawUpDisposalListInput, DisposalListResult]{Name: "DrawUpDisposalList", Zone: ZoneMunicipal}
	RecordDisposalStep = Activity[DisposalListStepInput, DisposalListStepResult]{Name: "RecordDisposalStep", Zone: ZoneMunicipal}
	DisposeList        = Activity[DisposeListInput, DisposalListResult]{Name: "DisposeList", Zone: ZoneMunicipal}
	CloseDisposalList  = Activity[CloseDisposalListInput, CloseDisposalListResult]{Name: "CloseDisposalList", Zone: ZoneMunicipal}
	DisposalOffices    = Activity[DisposalOfficesInput, DisposalOfficesResult]{Name: "DisposalOffices", Zone: ZoneMunicipal}
)
