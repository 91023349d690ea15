package contract

import (
	"strconv"
	"time"
)

// RegisterChange is one change of the resident register (異動) as the
// register sends it: the register's own change id, the resident, the kind
// of change (internal/register.Change) and the day it took effect.
type RegisterChange struct {
	ChangeID     string `json:"changeId"`
	ResidentCode string `json:"residentCode"`
	Kind         string `json:"kind"`
	Date         string `json:"date"` // YYYY-MM-DD, Asia/Tokyo
}

// RegisterChangeChunk is a chunk of recorded register changes, column by
// column so that a thousand of them stay small in the workflow history.
// Each change is known by its event id in the municipal database, the
// business key of its revocations at the CA.
type RegisterChangeChunk struct {
	EventIDs      []int64  `json:"e"`
	ResidentCodes []string `json:"r"`
	Kinds         []string `json:"k"`
	Dates         []string `json:"d"`
}

// Len is the number of changes in the chunk.
func (c RegisterChangeChunk) Len() int { return len(c.EventIDs) }

// RevokeForRegisterChangesInput asks the Organization to revoke, ex
// officio, the certificates a chunk of register changes ends (第2 2(3)).
type RevokeForRegisterChangesInput struct {
	// Municipality is the code of the municipality whose register changed.
	Municipality string              `json:"municipality"`
	Changes      RegisterChangeChunk `json:"changes"`
	At           time.Time           `json:"at"`
	// WantSerials asks for the revoked certificates one by one (a single
	// case shows them); a batch gets the counts.
	WantSerials bool `json:"wantSerials,omitempty"`
}

// RevokedForChange is a certificate revoked for a register change.
type RevokedForChange struct {
	EventID int64  `json:"eventId"`
	Kind    string `json:"kind"`
	Serial  string `json:"serial"`
	Reason  string `json:"reason"`
}

// RevokeForRegisterChangesResult counts what the Organization did; a
// repeated chunk counts the earlier revocations as Replayed.
type RevokeForRegisterChangesResult struct {
	Revoked        int                `json:"revoked"`
	Replayed       int                `json:"replayed"`
	AlreadyRevoked int                `json:"alreadyRevoked"`
	Certificates   []RevokedForChange `json:"certificates,omitempty"`
}

// RegisterChangeRequestID is the CA business key of one register event.
func RegisterChangeRequestID(municipality string, eventID int64) string {
	return "register-change/" + municipality + "/" + strconv.FormatInt(eventID, 10)
}

// ReadRegisterChangesInput reads the next chunk of a batch's changes, those
// with event ids after After.
type ReadRegisterChangesInput struct {
	BatchCase string `json:"batchCase"`
	After     int64  `json:"after"`
	Limit     int    `json:"limit"`
}

// ReadRegisterChangesResult is the chunk; empty when the batch is done.
type ReadRegisterChangesResult struct {
	Changes RegisterChangeChunk `json:"changes"`
	// Total is the batch's number of changes, told with the first chunk
	// (After 0) only.
	Total int `json:"total"`
}

// CompleteRegisterChangesInput records that the Organization revoked for
// the changes with the given event ids: the municipality's certificate
// records are marked revoked and the events done.
type CompleteRegisterChangesInput struct {
	Municipality string    `json:"municipality"`
	EventIDs     []int64   `json:"eventIds"`
	Serials      []string  `json:"serials,omitempty"`
	At           time.Time `json:"at"`
}

// CompleteRegisterChangesResult counts the municipal records marked.
type CompleteRegisterChangesResult struct {
	Marked int `json:"marked"`
}

// The ex-officio revocation's activities: the Organization's revocation on
// the CA worker, the municipality's records on the municipal worker.
var (
	RevokeForRegisterChanges = Activity[RevokeForRegisterChangesInput, RevokeForRegisterChangesResult]{Name: "RevokeForRegisterChanges", Zone: ZoneOrganization}
	ReadRegisterChanges      = Activity[ReadRegisterChangesInput, ReadRegisterChangesResult]{Name: "ReadRegisterChanges", Zone: ZoneMunicipal}
	CompleteRegisterChanges  = Activity[CompleteRegisterChangesInput, CompleteRegisterChangesResult]{Name: "CompleteRegisterChanges", Zone: ZoneMunicipal}
)
