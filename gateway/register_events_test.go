package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestCheckChange: what a register change must look like.
func TestCheckChange(t *testing.T) {
	ok := RegisterEventInput{ChangeID: "131016-2026-000123", ResidentCode: "00000000011", Kind: "death", Date: "2026-11-30"}
	for _, tc := range []struct {
		name string
		edit func(*RegisterEventInput)
		want string
	}{
		{"valid", func(*RegisterEventInput) {}, ""},
		{"today", func(in *RegisterEventInput) { in.Date = "2026-12-01" }, ""},
		{"every kind", func(in *RegisterEventInput) { in.Kind = "sex_correction" }, ""},
		{"no change id", func(in *RegisterEventInput) { in.ChangeID = "" }, "bad_change_id"},
		{"change id with a space", func(in *RegisterEventInput) { in.ChangeID = "a b" }, "bad_change_id"},
		{"change id too long", func(in *RegisterEventInput) { in.ChangeID = strings.Repeat("a", 65) }, "bad_change_id"},
		{"short resident code", func(in *RegisterEventInput) { in.ResidentCode = "1234" }, "bad_resident_code"},
		{"unknown kind", func(in *RegisterEventInput) { in.Kind = "marriage" }, "bad_change_kind"},
		{"no kind", func(in *RegisterEventInput) { in.Kind = "" }, "bad_change_kind"},
		{"no date", func(in *RegisterEventInput) { in.Date = "" }, "bad_date"},
		{"not a date", func(in *RegisterEventInput) { in.Date = "2026-02-30" }, "bad_date"},
		{"other format", func(in *RegisterEventInput) { in.Date = "2026/11/30" }, "bad_date"},
		{"future", func(in *RegisterEventInput) { in.Date = "2026-12-02" }, "future_date"},
	} {
		in := ok
		tc.edit(&in)
		if code, msg := checkChange(in, "2026-12-01"); code != tc.want || (code != "" && msg == "") {
			t.Errorf("%s: %q %q, want %q", tc.name, code, msg, tc.want)
		}
	}
}

// TestRegisterEventsRolesAndMalformed: only the register's account and
// managers post changes; malformed events are refused before anything is
// recorded or started.
func TestRegisterEventsRolesAndMalformed(t *testing.T) {
	f := newAPIFixture(t, &apiTemporal{})
	good := `{"changeId":"C1","residentCode":"00000000011","kind":"death","date":"2026-03-31"}`
	for _, login := range []string{"clerk1", "auditor1", "operator1", "norole"} {
		if rec := f.post(login, "/api/register-events", []byte(good)); rec.Code != http.StatusForbidden {
			t.Errorf("%s: HTTP %d, want 403", login, rec.Code)
		}
	}
	for body, code := range map[string]string{
		`{`: "bad_request",
		`{"changeId":"C1","residentCode":"00000000011","kind":"divorce","date":"2026-03-31"}`: "bad_change_kind",
		`{"changeId":"C1","residentCode":"0011","kind":"death","date":"2026-03-31"}`:          "bad_resident_code",
	} {
		rec := f.post("manager1", "/api/register-events", []byte(body))
		if rec.Code != http.StatusBadRequest || errorBody(t, rec).Code != code {
			t.Errorf("%s: HTTP %d %s, want 400 %s", body, rec.Code, rec.Body, code)
		}
	}
	rows := make([]string, 3)
	for i := range rows {
		rows[i] = fmt.Sprintf(`{"changeId":"B%d","residentCode":"0000000001%d","kind":"address_change","date":"2026-03-31"}`, i, i)
	}
	rows[2] = strings.Replace(rows[2], "address_change", "nope", 1)
	rec := f.post("manager1", "/api/register-events/batch", []byte(`{"batchId":"M1","changes":[`+strings.Join(rows, ",")+`]}`))
	var body struct {
		Error apiError
		Rows  []BadRow
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != http.StatusBadRequest || len(body.Rows) != 1 || body.Rows[0] != (BadRow{Row: 2, Code: "bad_change_kind"}) {
		t.Errorf("batch with a bad row: HTTP %d %s", rec.Code, rec.Body)
	}
	if rec := f.post("manager1", "/api/register-events/batch", []byte(`{"batchId":"M1","changes":[]}`)); rec.Code != http.StatusBadRequest {
		t.Errorf("empty batch: HTTP %d", rec.Code)
	}
	if len(f.tc.starts) != 0 {
		t.Errorf("a refused event started %d procedures", len(f.tc.starts))
	}
}
