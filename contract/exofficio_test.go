package contract

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/madoguchi/madoguchi/internal/register"
)

// TestRegisterChangeChunkJSON: the compact form reads back as written,
// kinds keep their letters in the register's order, and 1,000 changes of
// a merger stay small.
func TestRegisterChangeChunkJSON(t *testing.T) {
	var kinds []string
	for _, c := range register.Changes() {
		kinds = append(kinds, string(c))
	}
	if !slices.Equal(kinds, changeKinds) {
		t.Fatalf("the chunk's kind letters %v are not the register's kinds %v", changeKinds, kinds)
	}
	merger := RegisterChangeChunk{}
	for i := range 1000 {
		merger.EventIDs = append(merger.EventIDs, int64(5_000_000+i))
		merger.ResidentCodes = append(merger.ResidentCodes, fmt.Sprintf("%011d", 80_000_000_000+i))
		merger.Kinds = append(merger.Kinds, "address_change")
		merger.Dates = append(merger.Dates, "2026-12-01")
	}
	for name, c := range map[string]RegisterChangeChunk{
		"empty": {},
		"one":   {EventIDs: []int64{42}, ResidentCodes: []string{"00000000011"}, Kinds: []string{"death"}, Dates: []string{"2026-11-30"}},
		"mixed": {EventIDs: []int64{7, 9, 30, 31}, ResidentCodes: []string{"00000000011", "00000000028", "00000000036", "00000000044"},
			Kinds: kinds[:4], Dates: []string{"2026-11-30", "2026-11-30", "2026-12-01", "2026-11-30"}},
		"every kind": {EventIDs: []int64{1, 2, 3, 4, 5, 6, 7, 8}, ResidentCodes: slices.Repeat([]string{"00000000011"}, 8),
			Kinds: kinds, Dates: slices.Repeat([]string{"2026-11-30"}, 8)},
		"merger": merger,
	} {
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var back RegisterChangeChunk
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v (%s)", name, err, b)
		}
		if back.Len() != c.Len() || !slices.Equal(back.EventIDs, c.EventIDs) || !slices.Equal(back.ResidentCodes, c.ResidentCodes) ||
			!slices.Equal(back.Kinds, c.Kinds) || !slices.Equal(back.Dates, c.Dates) {
			t.Errorf("%s: read back %+v, wrote %+v", name, back, c)
		}
		if name == "merger" && len(b) > 15_000 { // about 14 bytes a change
			t.Errorf("1,000 changes take %d bytes", len(b))
		}
	}
	// An unknown kind reads back as none (the CA refuses it); bad columns
	// are refused both ways.
	b, err := json.Marshal(RegisterChangeChunk{EventIDs: []int64{1}, ResidentCodes: []string{"00000000011"}, Kinds: []string{"marriage"}, Dates: []string{"2026-11-30"}})
	var back RegisterChangeChunk
	if err != nil || json.Unmarshal(b, &back) != nil || back.Kinds[0] != "" {
		t.Errorf("unknown kind: %s %v %+v", b, err, back)
	}
	for _, bad := range []RegisterChangeChunk{
		{EventIDs: []int64{1}, ResidentCodes: []string{"00000000011"}, Kinds: []string{"death"}},
		{EventIDs: []int64{1}, ResidentCodes: []string{"0011"}, Kinds: []string{"death"}, Dates: []string{"2026-11-30"}},
	} {
		if _, err := json.Marshal(bad); err == nil {
			t.Errorf("%+v marshalled", bad)
		}
	}
	for _, bad := range []string{`{"e":[1],"r":"0000000001","k":"c","d":["2026-11-30"],"dn":[1]}`, `{"e":[1,1],"r":"0000000001100000000011","k":"cc","d":["2026-11-30"],"dn":[1]}`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("%s read", bad)
		}
	}
}
