package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	updatepb "go.temporal.io/api/update/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
)

// The fakes' access log and history.
func (s *apiStore) RecordHistoryAccess(_ context.Context, a storage.HistoryAccess) error {
	if s.err != nil {
		return s.err
	}
	if s.accessErr != nil {
		return s.accessErr
	}
	a.ID = int64(len(s.accesses) + 1)
	s.accesses = append(s.accesses, a)
	return nil
}

func (s *apiStore) HistoryAccesses(_ context.Context, f storage.AccessFilter) ([]storage.HistoryAccess, error) {
	s.accessFilters = append(s.accessFilters, f)
	out := []storage.HistoryAccess{}
	for _, a := range s.accesses {
		if (a.Municipality == f.Municipality || (f.Staff && a.Office == f.Municipality)) && (f.CaseNumber == "" || a.CaseNumber == f.CaseNumber) &&
			(f.Kind == "" || a.Kind == f.Kind) && (f.ClerkLogin == "" || a.ClerkLogin == f.ClerkLogin) {
			out = append([]storage.HistoryAccess{a}, out...) // newest first, as storage answers
		}
	}
	out = out[min(f.Offset, len(out)):]
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

type apiHistory struct{ events []*historypb.HistoryEvent }

func (h *apiHistory) HasNext() bool { return len(h.events) > 0 }
func (h *apiHistory) Next() (*historypb.HistoryEvent, error) {
	e := h.events[0]
	h.events = h.events[1:]
	return e, nil
}

func (t *apiTemporal) GetWorkflowHistory(_ context.Context, id, _ string, _ bool, _ enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	t.queried = append(t.queried, id)
	return &apiHistory{events: append([]*historypb.HistoryEvent(nil), t.history...)}
}

// encodedPayloads are values as the workers' data converter stores them:
// JSON, encrypted under the workflow's municipality.
func encodedPayloads(t *testing.T, f *apiFixture, workflowID string, vals ...any) *commonpb.Payloads {
	t.Helper()
	dc := converter.WithDataConverterSerializationContext(f.codec.DataConverter(),
		converter.WorkflowSerializationContext{Namespace: "default", WorkflowID: workflowID})
	ps, err := dc.ToPayloads(vals...)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps.Payloads {
		if strings.Contains(string(p.Data), "試験") {
			t.Fatal("the fixture's payload is not encrypted")
		}
	}
	return ps
}

func historyOf(t *testing.T, f *apiFixture, workflowID string) []*historypb.HistoryEvent {
	at := func(s int) *timestamppb.Timestamp { return timestamppb.New(apiNow.Add(time.Duration(s) * time.Second)) }
	return []*historypb.HistoryEvent{
		{EventId: 1, EventTime: at(0), EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
			Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{
				WorkflowType: &commonpb.WorkflowType{Name: "InPersonIssuance"}, Input: encodedPayloads(t, f, workflowID, map[string]any{"clerk": "clerk1", "name": "試験 花子"})}}},
		{EventId: 5, EventTime: at(10), EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
			Attributes: &historypb.HistoryEvent_WorkflowExecutionUpdateAcceptedEventAttributes{WorkflowExecutionUpdateAcceptedEventAttributes: &historypb.WorkflowExecutionUpdateAcceptedEventAttributes{
				AcceptedRequest: &updatepb.Request{Meta: &updatepb.Meta{UpdateId: "u1", Identity: "gateway"},
					Input: &updatepb.Input{Name: "identity-check", Args: encodedPayloads(t, f, workflowID, map[string]any{"clerk": "clerk2", "documentType": "individual_number_card"})}}}}},
		{EventId: 6, EventTime: at(11), EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
			Attributes: &historypb.HistoryEvent_WorkflowExecutionUpdateCompletedEventAttributes{WorkflowExecutionUpdateCompletedEventAttributes: &historypb.WorkflowExecutionUpdateCompletedEventAttributes{
				Meta: &updatepb.Meta{UpdateId: "u1"}, Outcome: &updatepb.Outcome{Value: &updatepb.Outcome_Success{Success: encodedPayloads(t, f, workflowID, map[string]any{"ok": true})}}}}},
		{EventId: 7, EventTime: at(12), EventType: enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
			Attributes: &historypb.HistoryEvent_ActivityTaskScheduledEventAttributes{ActivityTaskScheduledEventAttributes: &historypb.ActivityTaskScheduledEventAttributes{
				ActivityType: &commonpb.ActivityType{Name: "RecordFee"}, Input: encodedPayloads(t, f, workflowID, "試験")}}},
		{EventId: 9, EventTime: at(13), EventType: enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
			Attributes: &historypb.HistoryEvent_ActivityTaskCompletedEventAttributes{ActivityTaskCompletedEventAttributes: &historypb.ActivityTaskCompletedEventAttributes{
				ScheduledEventId: 7, Result: encodedPayloads(t, f, workflowID, 200)}}},
		{EventId: 12, EventTime: at(20), EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
			Attributes: &historypb.HistoryEvent_WorkflowExecutionCompletedEventAttributes{WorkflowExecutionCompletedEventAttributes: &historypb.WorkflowExecutionCompletedEventAttributes{
				Result: encodedPayloads(t, f, workflowID, map[string]any{"status": "completed"})}}},
	}
}

// TestCaseHistory: the history is decoded on the server into a timeline,
// each opening recorded; another office's case is the unknown case's 404,
// and a clerk may not read it.
func TestCaseHistory(t *testing.T) {
	const number = "131016-20261201-000001"
	id := workflows.WorkflowID(workflows.ProcedureInPersonIssuance, number)
	f := newAPIFixture(t, &apiTemporal{})
	f.store.cases[number] = f.addCase(workflows.ProcedureInPersonIssuance, number, apiMunicipality)
	f.tc.history = historyOf(t, f, id)

	rec := matrixGet("/api/cases/"+number+"/history")(f, "manager1", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var h CaseHistory
	if err := json.Unmarshal(rec.Body.Bytes(), &h); err != nil {
		t.Fatal(err)
	}
	if len(h.Entries) != 4 {
		t.Fatalf("entries %+v", h.Entries)
	}
	want := []struct{ kind, name, status, who, input, result string }{
		{"started", "InPersonIssuance", "", "clerk1", `"name":"試験 花子"`, ""},
		{"update", "identity-check", "completed", "clerk2", `"documentType":"individual_number_card"`, `{"ok":true}`},
		{"activity", "RecordFee", "completed", "", `"試験"`, `200`},
		{"completed", "", "", "", "", `{"status":"completed"}`},
	}
	for i, w := range want {
		e := h.Entries[i]
		if e.Kind != w.kind || e.Name != w.name || e.Status != w.status || e.Who != w.who ||
			!strings.Contains(string(e.Input), w.input) || !strings.Contains(string(e.Result), w.result) {
			t.Errorf("entry %d: %+v (input %s, result %s), want %+v", i, e, e.Input, e.Result, w)
		}
	}
	if len(f.store.accesses) != 1 || f.store.accesses[0].ClerkLogin != "manager1" || f.store.accesses[0].CaseNumber != number ||
		f.store.accesses[0].Office != apiMunicipality || !f.store.accesses[0].At.Equal(apiNow) {
		t.Errorf("access log %+v", f.store.accesses)
	}

	// The auditor reads it too, and finds both openings.
	if rec := matrixGet("/api/cases/"+number+"/history")(f, "auditor1", ""); rec.Code != http.StatusOK {
		t.Fatalf("auditor: %d %s", rec.Code, rec.Body)
	}
	rec = matrixGet("/api/access-log?case="+number+"&from=2026-12-01&to=2026-12-01")(f, "auditor1", "")
	var log struct{ Entries []storage.HistoryAccess }
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &log) != nil || len(log.Entries) != 2 {
		t.Fatalf("access log: %d %s", rec.Code, rec.Body)
	}
	fl := f.store.accessFilters[0]
	if fl.Municipality != apiMunicipality || fl.CaseNumber != number || !fl.From.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, storage.Tokyo)) ||
		!fl.To.Equal(time.Date(2026, 12, 2, 0, 0, 0, 0, storage.Tokyo)) {
		t.Errorf("filter %+v", fl)
	}
	if rec := matrixGet("/api/access-log?from=yesterday")(f, "auditor1", ""); rec.Code != http.StatusBadRequest {
		t.Errorf("a bad from: %d", rec.Code)
	}
	if rec := matrixGet("/api/access-log")(f, "manager1", ""); rec.Code != http.StatusOK {
		t.Errorf("a manager searching the access log: %d", rec.Code)
	}
	if rec := matrixGet("/api/access-log")(f, "clerk1", ""); rec.Code != http.StatusForbidden {
		t.Errorf("a clerk searching the access log: %d", rec.Code)
	}
	// Pages of one: the newest (the auditor's opening) and where the next
	// page starts, then the last (the manager's), with no next page.
	type logPage struct {
		Entries    []storage.HistoryAccess
		NextOffset int
	}
	f.store.accessFilters = nil
	var first, second logPage
	rec = matrixGet("/api/access-log?case="+number+"&limit=1")(f, "manager1", "")
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &first) != nil || len(first.Entries) != 1 || first.Entries[0].ClerkLogin != "auditor1" || first.NextOffset != 1 {
		t.Errorf("the first page of one: %d %s", rec.Code, rec.Body)
	}
	rec = matrixGet("/api/access-log?case="+number+"&limit=1&offset=1")(f, "manager1", "")
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &second) != nil || len(second.Entries) != 1 || second.Entries[0].ClerkLogin != "manager1" || second.NextOffset != 0 {
		t.Errorf("the second page of one: %d %s", rec.Code, rec.Body)
	}
	if fl := f.store.accessFilters[1]; fl.Limit != 2 || fl.Offset != 1 || fl.CaseNumber != number {
		t.Errorf("the page's filter %+v", fl)
	}
	if rec := matrixGet("/api/access-log?clerk=auditor1")(f, "manager1", ""); json.Unmarshal(rec.Body.Bytes(), &first) != nil || len(first.Entries) != 1 {
		t.Errorf("by clerk: %s", rec.Body)
	}
	for _, bad := range []string{"limit=0", "limit=501", "limit=x", "offset=-1", "from=2026-12-02&to=2026-12-01"} {
		if rec := matrixGet("/api/access-log?"+bad)(f, "auditor1", ""); rec.Code != http.StatusBadRequest || strings.Contains(rec.Body.String(), "strconv") {
			t.Errorf("%s: %d %s", bad, rec.Code, rec.Body)
		}
	}

	// Not a clerk's; not another municipality's, nor a case done on the
	// municipality's behalf... by another: the same 404 as an unknown case.
	if rec := matrixGet("/api/cases/"+number+"/history")(f, "clerk1", ""); rec.Code != http.StatusForbidden {
		t.Errorf("a clerk: %d", rec.Code)
	}
	const theirs = "141305-20261201-000001"
	f.store.cases[theirs] = f.addCaseAt(workflows.ProcedureInPersonIssuance, theirs, "141305", "141003")
	unknown := matrixGet("/api/cases/131016-20000101-999999/history")(f, "manager1", "")
	other := matrixGet("/api/cases/"+theirs+"/history")(f, "manager1", "")
	if unknown.Code != http.StatusNotFound || other.Code != unknown.Code || other.Body.String() != unknown.Body.String() {
		t.Errorf("another's: %d %s; unknown: %d %s", other.Code, other.Body, unknown.Code, unknown.Body)
	}
	if len(f.store.accesses) != 2 {
		t.Errorf("refused openings were logged: %+v", f.store.accesses)
	}
}
