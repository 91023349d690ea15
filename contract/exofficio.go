package contract

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
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
// column. Each change is known by its event id in the municipal database,
// the business key of its revocations at the CA. A chunk travels twice in
// a batch's history (read, then sent to the CA), so its JSON is compact
// (MarshalJSON): ids as differences, resident codes as one string, a letter
// per kind, dates as runs — about 14 bytes a change, so that the history of
// a batch of 100,000 stays near 3 MB.
type RegisterChangeChunk struct {
	EventIDs      []int64
	ResidentCodes []string
	Kinds         []string
	Dates         []string
}

// changeKinds are the register's kinds (internal/register.Changes) in the
// order of their letters a, b, c, … in a chunk's JSON.
var changeKinds = []string{"moved_out", "moved_abroad", "death", "name_change", "address_change",
	"birth_date_correction", "sex_correction", "record_removal"}

type chunkJSON struct {
	IDs       []int64  `json:"e"`
	Residents string   `json:"r"`
	Kinds     string   `json:"k"`
	Dates     []string `json:"d"`
	Runs      []int    `json:"dn"`
}

// MarshalJSON writes the compact form. Every column must be as long as
// EventIDs and every resident code 11 characters long; a kind the register
// does not know is written as "?" and read back as "", which the CA refuses.
func (c RegisterChangeChunk) MarshalJSON() ([]byte, error) {
	n := len(c.EventIDs)
	if len(c.ResidentCodes) != n || len(c.Kinds) != n || len(c.Dates) != n {
		return nil, errors.New("contract: the columns of a register change chunk differ in length")
	}
	j := chunkJSON{IDs: make([]int64, n), Dates: []string{}, Runs: []int{}}
	var res, kinds strings.Builder
	for i := range n {
		j.IDs[i] = c.EventIDs[i]
		if i > 0 {
			j.IDs[i] -= c.EventIDs[i-1]
		}
		if len(c.ResidentCodes[i]) != 11 {
			return nil, errors.New("contract: a resident code of a register change chunk is not 11 characters")
		}
		res.WriteString(c.ResidentCodes[i])
		letter := byte('?')
		if k := slices.Index(changeKinds, c.Kinds[i]); k >= 0 {
			letter = byte('a' + k)
		}
		kinds.WriteByte(letter)
		if last := len(j.Dates) - 1; last >= 0 && j.Dates[last] == c.Dates[i] {
			j.Runs[last]++
		} else {
			j.Dates, j.Runs = append(j.Dates, c.Dates[i]), append(j.Runs, 1)
		}
	}
	j.Residents, j.Kinds = res.String(), kinds.String()
	return json.Marshal(j)
}

// UnmarshalJSON reads the compact form.
func (c *RegisterChangeChunk) UnmarshalJSON(b []byte) error {
	var j chunkJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	n := len(j.IDs)
	total := 0
	for _, r := range j.Runs {
		total += r
	}
	if len(j.Residents) != 11*n || len(j.Kinds) != n || len(j.Dates) != len(j.Runs) || total != n {
		return errors.New("contract: a register change chunk's columns differ in length")
	}
	out := RegisterChangeChunk{}
	var id int64
	for i := range n {
		id += j.IDs[i] // the first is the id itself, the others differences
		kind := ""
		if k := int(j.Kinds[i] - 'a'); k >= 0 && k < len(changeKinds) {
			kind = changeKinds[k]
		}
		out.EventIDs = append(out.EventIDs, id)
		out.ResidentCodes = append(out.ResidentCodes, j.Residents[11*i:11*i+11])
		out.Kinds = append(out.Kinds, kind)
	}
	for d, r := range j.Runs {
		for range r {
			out.Dates = append(out.Dates, j.Dates[d])
		}
	}
	*c = out
	return nil
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
