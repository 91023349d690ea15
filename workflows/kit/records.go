package kit

import "time"

// RecordsState is the section of a disclosure or correction request
// (認証業務情報, 法第58条〜第61条) on either side. The counter's side holds
// where the request went and how it stands there; the Organization's adds
// what it did. It never holds the records: only the requester receives
// them, by the Organization's letter.
type RecordsState struct {
	// Delivery is how the requester chose to receive the letter.
	Delivery string `json:"delivery"`
	// OrgCase is the Organization's case (on the counter's side).
	OrgCase string `json:"organizationCase,omitempty"`
	// CounterOffice and CounterCase are where the request was made (on the
	// Organization's side).
	CounterOffice string `json:"counterOffice,omitempty"`
	CounterCase   string `json:"counterCase,omitempty"`
	// OrgStep, OrgStatus, Due and Extended are the Organization's side, as
	// the counter last heard them.
	OrgStep   string    `json:"organizationStep,omitempty"`
	OrgStatus string    `json:"organizationStatus,omitempty"`
	Due       time.Time `json:"due,omitzero"`
	Extended  bool      `json:"extended,omitempty"`
	// The Organization's own steps.
	Received     time.Time `json:"received,omitzero"`
	DoneBy       string    `json:"doneBy,omitempty"`
	LetterQueued time.Time `json:"letterQueued,omitzero"`
	DeliveredHow string    `json:"deliveredHow,omitempty"`
	DeliveredAt  time.Time `json:"deliveredAt,omitzero"`
	// CorrectionsUntil is the last day a correction may be asked of this
	// disclosure.
	CorrectionsUntil time.Time `json:"correctionsUntil,omitzero"`
	// Decision is a correction's outcome (contract.DecisionFull, …).
	Decision string `json:"decision,omitempty"`
}
