package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
)

// The fake disposal lists, by office and day.

func (s *apiStore) DisposalList(_ context.Context, office string, day time.Time) (storage.DisposalList, error) {
	if s.err != nil {
		return storage.DisposalList{}, s.err
	}
	l, ok := s.disposalLists[office+"/"+day.Format(time.DateOnly)]
	if !ok {
		return storage.DisposalList{}, storage.ErrNotFound
	}
	return l, nil
}

// addDisposalLists records the fixture's lists of 千代田区: 2026-11-30 drawn
// up; 2026-12-01 submitted by manager9, one document due, one held by an
// open disclosure request, one issuance record due; 2026-11-29 approved
// by manager1 and disposed of. 横浜市 has a list of 2026-12-01 too.
func (f *apiFixture) addDisposalLists() {
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	at := apiNow.Add(-9 * time.Hour)
	list := func(office, d, status string) storage.DisposalList {
		number := workflows.DisposalCaseNumber(office, d)
		return storage.DisposalList{Office: office, Day: day(d), Status: status, DrawnUpAt: at, CaseNumber: number,
			WorkflowID: workflows.WorkflowID("retention-disposal", number)}
	}
	drawn := list(apiMunicipality, "2026-11-30", storage.DisposalDrawnUp)
	submitted := list(apiMunicipality, "2026-12-01", storage.DisposalSubmitted)
	submitted.SubmittedBy, submitted.SubmittedAt = "manager9", &at
	submitted.Items = []storage.DisposalItem{
		{Kind: storage.ItemDocument, CaseNumber: "131016-20211201-000001", Item: "application", DueOn: day("2026-12-01")},
		{Kind: storage.ItemDocument, CaseNumber: "131016-20211201-000002", Item: "application", DueOn: day("2026-11-30"), HeldBy: "131016-20261120-000004"},
		{Kind: storage.ItemIssuanceRecord, CaseNumber: "131016-20110301-000001", Item: "5100", DueOn: day("2026-12-01")},
	}
	disposed := list(apiMunicipality, "2026-11-29", storage.DisposalDisposed)
	disposed.SubmittedBy, disposed.SubmittedAt, disposed.ApprovedBy, disposed.ApprovedAt = "manager9", &at, "manager1", &at
	disposed.Items = []storage.DisposalItem{{Kind: storage.ItemDocument, CaseNumber: "131016-20211129-000001", Item: "application", DueOn: day("2026-11-29"), DisposedAt: &at}}
	f.store.disposalLists = map[string]storage.DisposalList{}
	for _, l := range []storage.DisposalList{drawn, submitted, disposed, list("141003", "2026-12-01", storage.DisposalDrawnUp)} {
		f.store.disposalLists[l.Office+"/"+l.Day.Format(time.DateOnly)] = l
	}
}

// TestDisposalListRead: managers and auditors read their office's list of
// a day, with each item's status; the day defaults to today; a day without
// a list is a 404, a malformed day a 400, and a clerk is refused.
func TestDisposalListRead(t *testing.T) {
	f := newAPIFixture(t, &apiTemporal{})
	f.addDisposalLists()
	rec := matrixGet("/api/disposals?day=2026-12-01")(f, "auditor1", "")
	var v DisposalListView
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &v) != nil {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if v.Manual != "第3 3" || v.Office != apiMunicipality || v.CaseNumber != "131016-D20261201" || v.Status != storage.DisposalSubmitted ||
		v.SubmittedBy != "manager9" || v.Due != 2 || v.Held != 1 || v.Disposed != 0 || len(v.Items) != 3 ||
		v.Items[1].HeldBy != "131016-20261120-000004" || v.Items[2].Kind != storage.ItemIssuanceRecord || v.Items[0].DueOn != "2026-12-01" {
		t.Errorf("list %+v", v)
	}
	if rec := matrixGet("/api/disposals")(f, "manager1", ""); rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &v) != nil || v.Day != "2026-12-01" {
		t.Errorf("today's: %d %s", rec.Code, rec.Body)
	}
	if rec := matrixGet("/api/disposals?day=2026-11-29")(f, "manager1", ""); json.Unmarshal(rec.Body.Bytes(), &v) != nil || v.Disposed != 1 || v.Items[0].DisposedAt == "" {
		t.Errorf("a disposed list: %s", rec.Body)
	}
	if rec := matrixGet("/api/disposals?day=2026-10-01")(f, "manager1", ""); rec.Code != http.StatusNotFound || errorBody(t, rec).Code != "no_disposal_list" {
		t.Errorf("no list: %d %s", rec.Code, rec.Body)
	}
	for _, bad := range []string{"2026-02-30", "yesterday", "2026-1-1"} {
		if rec := matrixGet("/api/disposals?day="+bad)(f, "manager1", ""); rec.Code != http.StatusBadRequest || errorBody(t, rec).Code != "bad_date" {
			t.Errorf("%s: %d %s", bad, rec.Code, rec.Body)
		}
	}
	if rec := matrixGet("/api/disposals?day=2026-12-01")(f, "clerk1", ""); rec.Code != http.StatusForbidden {
		t.Errorf("a clerk: %d", rec.Code)
	}
}

// TestDisposalApproval: another manager's approval reaches the day's case
// as the approval update, the manager from the session; an approval of
// one's own list is a 403 own_list recorded as a refused attempt, and
// nothing is sent; a list not submitted is a 409; a validator's own-list
// refusal (a submission racing the check) is answered and recorded alike.
func TestDisposalApproval(t *testing.T) {
	tc := &apiTemporal{}
	f := newAPIFixture(t, tc)
	f.addDisposalLists()
	rec := f.post("manager1", "/api/disposals/2026-12-01/approve", []byte(`{"manager":"manager9"}`))
	if rec.Code != http.StatusOK || len(tc.updates) != 1 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	u := tc.updates[0]
	if u.WorkflowID != "retention-disposal/131016-D20261201" || u.UpdateName != workflows.ApproveDisposalListUpdate ||
		u.Args[0] != (workflows.ApproveDisposalListInput{Manager: "manager1"}) {
		t.Errorf("update %+v", u)
	}
	if len(f.store.refusals) != 0 {
		t.Errorf("refusals %+v", f.store.refusals)
	}

	// manager1 submitted it.
	l := f.store.disposalLists["131016/2026-12-01"]
	l.SubmittedBy = "manager1"
	f.store.disposalLists["131016/2026-12-01"] = l
	rec = f.post("manager1", "/api/disposals/2026-12-01/approve", nil)
	if rec.Code != http.StatusForbidden || errorBody(t, rec).Code != workflows.CodeOwnDisposalList || len(tc.updates) != 1 {
		t.Fatalf("own list: %d %s, %d updates", rec.Code, rec.Body, len(tc.updates))
	}
	if len(f.store.refusals) != 1 || f.store.refusals[0] != (storage.Refusal{ID: 1, Office: apiMunicipality, Kind: storage.RefusalApprovalOfOwnList,
		Actor: "manager1", Subject: "2026-12-01", Reason: "own_list", At: apiNow}) {
		t.Errorf("refusals %+v", f.store.refusals)
	}

	if rec := f.post("manager1", "/api/disposals/2026-11-30/approve", nil); rec.Code != http.StatusConflict || errorBody(t, rec).Code != workflows.CodeDisposalNotSubmitted {
		t.Errorf("not submitted: %d %s", rec.Code, rec.Body)
	}
	if rec := f.post("manager1", "/api/disposals/2026-11-29/approve", nil); rec.Code != http.StatusConflict || errorBody(t, rec).Code != "list_not_open" {
		t.Errorf("disposed: %d %s", rec.Code, rec.Body)
	}
	if rec := f.post("manager1", "/api/disposals/2026-13-01/approve", nil); rec.Code != http.StatusBadRequest {
		t.Errorf("bad day: %d %s", rec.Code, rec.Body)
	}
	if rec := f.post("manager1", "/api/disposals/2026-10-01/approve", nil); rec.Code != http.StatusNotFound {
		t.Errorf("no list: %d %s", rec.Code, rec.Body)
	}

	l.SubmittedBy = "manager9"
	f.store.disposalLists["131016/2026-12-01"] = l
	tc.getErr = temporal.NewNonRetryableApplicationError("自分が提出した廃棄リストは承認できません", workflows.CodeOwnDisposalList, nil)
	rec = f.post("manager1", "/api/disposals/2026-12-01/approve", nil)
	if rec.Code != http.StatusForbidden || errorBody(t, rec).Code != workflows.CodeOwnDisposalList || len(f.store.refusals) != 2 {
		t.Errorf("the validator's own-list refusal: %d %s, %d refusals", rec.Code, rec.Body, len(f.store.refusals))
	}
	// The database's refusal (a submission racing the validator) alike.
	tc.getErr = contract.Reject(workflows.CodeOwnDisposalList, "自分が提出した廃棄リストは承認できません / A manager cannot approve a list they submitted")
	rec = f.post("manager1", "/api/disposals/2026-12-01/approve", nil)
	if rec.Code != http.StatusForbidden || errorBody(t, rec).Code != workflows.CodeOwnDisposalList || len(f.store.refusals) != 3 {
		t.Errorf("the database's own-list refusal: %d %s, %d refusals", rec.Code, rec.Body, len(f.store.refusals))
	}
	tc.getErr = errors.New("connection reset: 10.0.0.7:7233")
	rec = f.post("manager1", "/api/disposals/2026-12-01/approve", nil)
	if rec.Code != http.StatusBadGateway || errorBody(t, rec).Message != msgUnavailable {
		t.Errorf("Temporal down: %d %s", rec.Code, rec.Body)
	}
}

// TestDisposalSubmit: a manager submits a drawn-up list as the submission
// update; a list already submitted is a 409 and nothing is sent.
func TestDisposalSubmit(t *testing.T) {
	tc := &apiTemporal{}
	f := newAPIFixture(t, tc)
	f.addDisposalLists()
	rec := f.post("manager1", "/api/disposals/2026-11-30/submit", nil)
	if rec.Code != http.StatusOK || len(tc.updates) != 1 || tc.updates[0].UpdateName != workflows.SubmitDisposalListUpdate ||
		tc.updates[0].Args[0] != (workflows.SubmitDisposalListInput{Manager: "manager1"}) || tc.updates[0].WorkflowID != "retention-disposal/131016-D20261130" {
		t.Fatalf("%d %s %+v", rec.Code, rec.Body, tc.updates)
	}
	if rec := f.post("manager1", "/api/disposals/2026-12-01/submit", nil); rec.Code != http.StatusConflict || len(tc.updates) != 1 {
		t.Errorf("submitted already: %d %s", rec.Code, rec.Body)
	}
	if rec := f.post("auditor1", "/api/disposals/2026-11-30/submit", nil); rec.Code != http.StatusForbidden || len(tc.updates) != 1 {
		t.Errorf("an auditor: %d", rec.Code)
	}
}

// TestDisposalWithoutApproval: a direct disposal of a list not approved
// (or of a day without a list) is a 409 not_approved, recorded as a
// refused attempt, and nothing is sent; an approved list answers its
// status and records nothing.
func TestDisposalWithoutApproval(t *testing.T) {
	tc := &apiTemporal{}
	f := newAPIFixture(t, tc)
	f.addDisposalLists()
	for i, d := range []string{"2026-12-01", "2026-11-30", "2026-10-01"} {
		rec := f.post("manager1", "/api/disposals/"+d+"/dispose", nil)
		if rec.Code != http.StatusConflict || errorBody(t, rec).Code != "not_approved" {
			t.Fatalf("%s: %d %s", d, rec.Code, rec.Body)
		}
		if len(f.store.refusals) != i+1 || f.store.refusals[i] != (storage.Refusal{ID: int64(i + 1), Office: apiMunicipality,
			Kind: storage.RefusalDisposalWithoutApproval, Actor: "manager1", Subject: d, Reason: "not_approved", At: apiNow}) {
			t.Errorf("%s: refusals %+v", d, f.store.refusals)
		}
	}
	rec := f.post("manager1", "/api/disposals/2026-11-29/dispose", nil)
	var v DisposalListView
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &v) != nil || v.Status != storage.DisposalDisposed || len(f.store.refusals) != 3 {
		t.Errorf("an approved list: %d %s", rec.Code, rec.Body)
	}
	if len(tc.updates) != 0 {
		t.Errorf("updates %+v", tc.updates)
	}
	if rec := f.post("manager1", "/api/disposals/someday/dispose", nil); rec.Code != http.StatusBadRequest || len(f.store.refusals) != 3 {
		t.Errorf("a bad day: %d %s", rec.Code, rec.Body)
	}
}

// The fake retention settings: 千代田区's default of 5 years, and the types
// it set; a setting counts as one of the store's events.

func (s *apiStore) RetentionPeriods(_ context.Context, municipality string) (storage.RetentionSettings, error) {
	if s.err != nil {
		return storage.RetentionSettings{}, s.err
	}
	if municipality != apiMunicipality {
		return storage.RetentionSettings{}, storage.ErrNotFound
	}
	rs := storage.RetentionSettings{DefaultYears: 5, DocumentTypes: []string{"application_form", "identity_check_record"}}
	for _, k := range slices.Sorted(maps.Keys(s.retention)) {
		rs.Periods = append(rs.Periods, storage.RetentionPeriod{DocType: k, Years: s.retention[k]})
	}
	return rs, nil
}

func (s *apiStore) SetRetentionPeriod(_ context.Context, municipality, docType string, years int) error {
	if s.err != nil {
		return s.err
	}
	if s.retention == nil {
		s.retention = map[string]int{}
	}
	s.retention[docType] = years
	s.events++
	return nil
}

// TestRetentionPeriods: a manager sets a document type's period and reads
// it back with the default and the issuance records' own rule; an auditor
// reads; bad types and periods are 400s that record nothing; a post
// office's staff have no periods to set.
func TestRetentionPeriods(t *testing.T) {
	f := newAPIFixture(t, &apiTemporal{})
	req := func(login, docType, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPut, "/api/retention-periods/"+docType, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+f.tokens[login])
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, r)
		return rec
	}
	rec := req("manager1", "power_of_attorney", `{"years":10}`)
	var v RetentionView
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &v) != nil {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if v.Manual != "第3 3" || v.DefaultYears != 5 || v.IssuanceRecordYears != 10 || len(v.Periods) != 1 ||
		v.Periods[0] != (RetentionPeriodView{DocType: "power_of_attorney", Years: 10}) || len(v.DocumentTypes) != 2 {
		t.Errorf("settings %+v", v)
	}
	if rec := matrixGet("/api/retention-periods")(f, "auditor1", ""); rec.Code != http.StatusOK {
		t.Errorf("an auditor: %d", rec.Code)
	}
	for _, tc := range []struct{ docType, body, code string }{
		{"Power-Of-Attorney", `{"years":10}`, "bad_doc_type"},
		{"power_of_attorney", `{"years":0}`, "bad_years"},
		{"power_of_attorney", `{"years":101}`, "bad_years"},
		{"power_of_attorney", `{"years":"ten"}`, "bad_request"},
	} {
		rec := req("manager1", tc.docType, tc.body)
		if rec.Code != http.StatusBadRequest || errorBody(t, rec).Code != tc.code {
			t.Errorf("%s %s: %d %s", tc.docType, tc.body, rec.Code, rec.Body)
		}
	}
	if f.store.events != 1 {
		t.Errorf("bad input recorded: %d events", f.store.events)
	}
	if rec := req("auditor1", "power_of_attorney", `{"years":3}`); rec.Code != http.StatusForbidden || f.store.retention["power_of_attorney"] != 10 {
		t.Errorf("an auditor's setting: %d", rec.Code)
	}
	if rec := matrixGet("/api/retention-periods")(f, "operator1", ""); rec.Code != http.StatusForbidden {
		t.Errorf("an operator: %d", rec.Code)
	}
}
