package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
)

// The fake complaints register: a complaint recorded or answered counts as
// one of the store's events, so the RBAC matrix sees a refused call change
// nothing.

func (s *apiStore) RecordComplaint(_ context.Context, k storage.Complaint) (int64, error) {
	if s.err != nil {
		return 0, s.err
	}
	k.ID = int64(len(s.complaints) + 1)
	s.complaints = append(s.complaints, k)
	s.events++
	return k.ID, nil
}

func (s *apiStore) Complaint(_ context.Context, id int64) (storage.Complaint, error) {
	if s.err != nil {
		return storage.Complaint{}, s.err
	}
	for _, k := range s.complaints {
		if k.ID == id {
			return k, nil
		}
	}
	return storage.Complaint{}, storage.ErrNotFound
}

func (s *apiStore) Complaints(_ context.Context, f storage.ComplaintFilter) ([]storage.Complaint, error) {
	if s.err != nil {
		return nil, s.err
	}
	s.complaintFilters = append(s.complaintFilters, f)
	out := []storage.Complaint{}
	for _, k := range s.complaints {
		if k.Office == f.Office && (f.Status == "" || k.Status == f.Status) && (!f.Overdue || (k.Status == "open" && k.DueOn.Before(f.Today))) {
			out = append(out, k)
		}
	}
	return out, nil
}

func (s *apiStore) AnswerComplaint(_ context.Context, id int64, response string, actor int64, at time.Time) error {
	if s.err != nil {
		return s.err
	}
	for i, k := range s.complaints {
		if k.ID == id {
			if k.Status != "open" {
				return storage.ErrComplaintAnswered
			}
			s.complaints[i].Status, s.complaints[i].Response, s.complaints[i].AnsweredBy, s.complaints[i].AnsweredAt = "answered", response, actor, &at
			s.events++
			return nil
		}
	}
	return storage.ErrNotFound
}

// addComplaints records the fixture's complaints: 1, 千代田区's, open and
// overdue; 2, 千代田区's, open and due later; 3, 横浜市's, open.
func (f *apiFixture) addComplaints() {
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	f.store.complaints = []storage.Complaint{
		{ID: 1, Office: apiMunicipality, Category: "pin", Summary: "暗証番号の再設定の待ち時間", ReceivedAt: apiNow.AddDate(0, 0, -20), DueOn: day("2026-11-25"), Status: "open", RecordedBy: 1},
		{ID: 2, Office: apiMunicipality, Category: "other", Summary: "窓口の受付時間", ReceivedAt: apiNow, DueOn: day("2026-12-15"), Status: "open", RecordedBy: 1},
		{ID: 3, Office: "141003", Category: "card", Summary: "カードの受取", ReceivedAt: apiNow, DueOn: day("2026-11-20"), Status: "open", RecordedBy: 6},
	}
}

// TestComplaintRecorded: a clerk records a complaint linked to the office's
// case; it is the clerk's office's, open, due 14 days after today, and a
// post office's clerk records one of the post office's own.
func TestComplaintRecorded(t *testing.T) {
	f := newAPIFixture(t, &apiTemporal{})
	f.addCase(workflows.ProcedureInPersonIssuance, "131016-20261201-000001", apiMunicipality)
	rec := f.post("clerk1", "/api/complaints", []byte(`{"category":"procedure","caseNumber":"131016-20261201-000001","summary":"  交付までの日数の問合せ "}`))
	var v ComplaintView
	if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &v) != nil {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if v.Status != "open" || v.DueOn != "2026-12-15" || v.CategoryName != "手続" || v.Summary != "交付までの日数の問合せ" || v.Overdue || v.Manual != "第3 7" {
		t.Errorf("view %+v", v)
	}
	if len(f.store.complaints) != 1 {
		t.Fatalf("recorded %+v", f.store.complaints)
	}
	k := f.store.complaints[0]
	if k.Office != apiMunicipality || k.CaseNumber != "131016-20261201-000001" || k.RecordedBy != 1 || !k.ReceivedAt.Equal(apiNow) {
		t.Errorf("recorded %+v", k)
	}
	// A due date of the clerk's choosing, and a post office's own register.
	rec = f.post("post1", "/api/complaints", []byte(`{"category":"card","summary":"カードの受取日","dueOn":"2026-12-05"}`))
	if rec.Code != http.StatusCreated || len(f.store.complaints) != 2 || f.store.complaints[1].Office != apiPostOffice ||
		f.store.complaints[1].DueOn.Format(time.DateOnly) != "2026-12-05" {
		t.Errorf("post office: %d %s %+v", rec.Code, rec.Body, f.store.complaints)
	}
}

// TestComplaintBadInput: an unknown category, an empty or overlong
// summary, a bad or past due date, an unknown case or another office's
// case are clear 4xx, and nothing is recorded.
func TestComplaintBadInput(t *testing.T) {
	long := make([]byte, 0, 3100)
	for range 1001 {
		long = append(long, "あ"...)
	}
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"unknown category", `{"category":"weather","summary":"雨"}`, http.StatusBadRequest, "unknown_category"},
		{"no category", `{"summary":"雨"}`, http.StatusBadRequest, "unknown_category"},
		{"empty summary", `{"category":"other","summary":"  "}`, http.StatusBadRequest, "empty_summary"},
		{"overlong summary", `{"category":"other","summary":"` + string(long) + `"}`, http.StatusBadRequest, "summary_too_long"},
		{"not a date", `{"category":"other","summary":"問合せ","dueOn":"2026-02-30"}`, http.StatusBadRequest, "bad_date"},
		{"due in the past", `{"category":"other","summary":"問合せ","dueOn":"2026-11-30"}`, http.StatusBadRequest, "due_in_past"},
		{"unknown case", `{"category":"other","summary":"問合せ","caseNumber":"131016-20261201-000099"}`, http.StatusNotFound, "unknown_case"},
		{"another office's case", `{"category":"other","summary":"問合せ","caseNumber":"141003-20261201-000001"}`, http.StatusNotFound, "unknown_case"},
		{"not JSON", `{`, http.StatusBadRequest, "bad_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAPIFixture(t, &apiTemporal{})
			f.addCase(workflows.ProcedureProxyIssuance, "141003-20261201-000001", "141003")
			rec := f.post("manager1", "/api/complaints", []byte(tc.body))
			if rec.Code != tc.status || errorBody(t, rec).Code != tc.code {
				t.Fatalf("%d %s, want %d %s", rec.Code, rec.Body, tc.status, tc.code)
			}
			if len(f.store.complaints) != 0 || f.store.events != 0 {
				t.Errorf("a refused complaint was recorded: %+v", f.store.complaints)
			}
		})
	}
}

// TestComplaintList: a manager lists the office's register, by status and
// the overdue ones (open past due); another office's complaints are not in
// it; a bad filter is refused before the database.
func TestComplaintList(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  []int64
	}{
		{"", []int64{1, 2}},
		{"?status=open", []int64{1, 2}},
		{"?overdue=1", []int64{1}},
		{"?status=answered", nil},
	} {
		f := newAPIFixture(t, &apiTemporal{})
		f.addComplaints()
		rec := matrixGet("/api/complaints"+tc.query)(f, "auditor1", "")
		var res struct{ Complaints []ComplaintView }
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &res) != nil {
			t.Fatalf("%s: %d %s", tc.query, rec.Code, rec.Body)
		}
		var got []int64
		for _, v := range res.Complaints {
			got = append(got, v.ID)
			if v.Office != apiMunicipality || v.Overdue != (v.ID == 1) {
				t.Errorf("%s: %+v", tc.query, v)
			}
		}
		if len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) {
			t.Errorf("%s: listed %v, want %v", tc.query, got, tc.want)
		}
		if f := f.store.complaintFilters[0]; f.Office != apiMunicipality || !f.Today.Equal(storage.Day(apiNow)) {
			t.Errorf("%s: filter %+v", tc.query, f)
		}
	}
	for _, bad := range []string{"?status=pending", "?overdue=yes"} {
		f := newAPIFixture(t, &apiTemporal{})
		if rec := matrixGet("/api/complaints"+bad)(f, "manager1", ""); rec.Code != http.StatusBadRequest || len(f.store.complaintFilters) != 0 {
			t.Errorf("%s: %d %s", bad, rec.Code, rec.Body)
		}
	}
}

// TestComplaintAnswer: the office's manager answers an open complaint
// once; a second answer, an empty one, an unknown complaint or another
// office's are clear 4xx and change nothing.
func TestComplaintAnswer(t *testing.T) {
	f := newAPIFixture(t, &apiTemporal{})
	f.addComplaints()
	rec := f.post("manager1", "/api/complaints/1/answer", []byte(`{"response":"待ち時間の短縮に努めます"}`))
	var v ComplaintView
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &v) != nil || v.Status != "answered" || v.AnsweredBy != 2 || v.Overdue {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if k := f.store.complaints[0]; k.Status != "answered" || k.Response != "待ち時間の短縮に努めます" || k.AnsweredBy != 2 || !k.AnsweredAt.Equal(apiNow) {
		t.Errorf("recorded %+v", k)
	}
	for _, tc := range []struct {
		name, path, body string
		status           int
		code             string
	}{
		{"twice", "/api/complaints/1/answer", `{"response":"再回答"}`, http.StatusConflict, "already_answered"},
		{"empty", "/api/complaints/2/answer", `{"response":" "}`, http.StatusBadRequest, "empty_response"},
		{"unknown", "/api/complaints/99/answer", `{"response":"回答"}`, http.StatusNotFound, "unknown_complaint"},
		{"not a number", "/api/complaints/x/answer", `{"response":"回答"}`, http.StatusNotFound, "unknown_complaint"},
		{"another office's", "/api/complaints/3/answer", `{"response":"回答"}`, http.StatusNotFound, "unknown_complaint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.store.events
			rec := f.post("manager1", tc.path, []byte(tc.body))
			if rec.Code != tc.status || errorBody(t, rec).Code != tc.code {
				t.Fatalf("%d %s, want %d %s", rec.Code, rec.Body, tc.status, tc.code)
			}
			if f.store.events != before || f.store.complaints[0].Response != "待ち時間の短縮に努めます" || f.store.complaints[1].Status != "open" || f.store.complaints[2].Status != "open" {
				t.Errorf("a refused answer changed the register: %+v", f.store.complaints)
			}
		})
	}
}
