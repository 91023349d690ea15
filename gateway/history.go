package gateway

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"

	"github.com/madoguchi/madoguchi/internal/storage"
)

// A case's history (GET /api/cases/{case}/history): its Temporal history
// as a timeline, each payload decoded here, on the server, by the codec the
// gateway holds, restricted to the reader's own municipality. Managers and
// auditors of the case's own municipality only: any other case answers the
// same 404 as an unknown one. Every answer is recorded in the access log
// first (history_access_log): who read whose record, when, from which
// office; auditors and managers search it through GET /api/access-log.

// HistoryEntry is one entry of a case's timeline.
type HistoryEntry struct {
	// ID is the history event's id (the first, for an entry made of several).
	ID int64     `json:"id"`
	At time.Time `json:"at"`
	// Kind is started, update, activity, child, signal, timer, or the
	// ending: completed, failed, timed_out, terminated, cancelled,
	// continued_as_new.
	Kind string `json:"kind"`
	// Name is the workflow type, the update's, activity's or child's type,
	// the signal's name or the timer's id.
	Name string `json:"name,omitempty"`
	// Status is how an update, activity, child or timer ended (completed,
	// failed, timed_out, cancelled, fired; "" while under way).
	Status string `json:"status,omitempty"`
	// Who is the clerk the input names, else the caller's identity.
	Who      string          `json:"who,omitempty"`
	Identity string          `json:"identity,omitempty"`
	Input    json.RawMessage `json:"input,omitempty"`
	Result   json.RawMessage `json:"result,omitempty"`
	Failure  string          `json:"failure,omitempty"`
	// EndedAt is when the update, activity, child or timer ended.
	EndedAt *time.Time `json:"endedAt,omitempty"`
}

// CaseHistory answers GET /api/cases/{case}/history.
type CaseHistory struct {
	CaseNumber   string         `json:"caseNumber"`
	Procedure    string         `json:"procedure"`
	WorkflowID   string         `json:"workflowId"`
	Municipality string         `json:"municipality"`
	Entries      []HistoryEntry `json:"entries"`
}

// AccessLogger is the store's access log (history_access_log).
type AccessLogger interface {
	RecordHistoryAccess(ctx context.Context, a storage.HistoryAccess) error
	HistoryAccesses(ctx context.Context, f storage.AccessFilter) ([]storage.HistoryAccess, error)
}

// ownCase is scopedCase for the case's own municipality only: a case
// another office did on the clerk's behalf, or one the clerk's office did
// for another, is not the clerk's to read in full (its payloads are under
// another municipality's key anyway).
func (s *Server) ownCase(c *gin.Context) (storage.Case, bool) {
	cs, err := s.db.Case(c, c.Param("case"))
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.failInternal(c, err)
		return storage.Case{}, false
	}
	if err != nil || cs.MunicipalityCode != currentClerk(c).MunicipalityCode {
		failUnknownCase(c)
		return storage.Case{}, false
	}
	return cs, true
}

func (s *Server) caseHistory(c *gin.Context) {
	cs, ok := s.ownCase(c)
	if !ok {
		return
	}
	sc, ok := s.codec.(scopedCodec)
	if !ok {
		s.failInternal(c, errors.New("gateway: the codec cannot be restricted to a municipality"))
		return
	}
	// Recorded before anything is read: an opening that cannot be recorded
	// shows nothing.
	if !s.recordRead(c, storage.AccessHistory, cs.CaseNumber, cs.MunicipalityCode, "") {
		return
	}
	var events []*historypb.HistoryEvent
	it := s.temporal.GetWorkflowHistory(c, cs.WorkflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			s.failTemporal(c, err)
			return
		}
		events = append(events, ev)
	}
	c.JSON(http.StatusOK, CaseHistory{CaseNumber: cs.CaseNumber, Procedure: cs.Procedure, WorkflowID: cs.WorkflowID,
		Municipality: cs.MunicipalityCode, Entries: timeline(events, sc.ForScope(cs.MunicipalityCode))})
}

// undecodable stands for a payload the codec would not decode.
var undecodable = json.RawMessage(`"(復号できません / cannot be decoded)"`)

// decodePayloads is the JSON of payloads: one value, or an array of
// several; nil for none.
func decodePayloads(pc converter.PayloadCodec, ps *commonpb.Payloads) json.RawMessage {
	list := ps.GetPayloads()
	if len(list) == 0 {
		return nil
	}
	vals := make([]json.RawMessage, len(list))
	for i, p := range list {
		vals[i] = decodePayload(pc, p)
	}
	if len(vals) == 1 {
		return vals[0]
	}
	b, _ := json.Marshal(vals)
	return b
}

func decodePayload(pc converter.PayloadCodec, p *commonpb.Payload) json.RawMessage {
	out, err := pc.Decode([]*commonpb.Payload{p})
	if err != nil || len(out) != 1 {
		return undecodable
	}
	d := out[0]
	switch string(d.GetMetadata()[converter.MetadataEncoding]) {
	case converter.MetadataEncodingJSON:
		if json.Valid(d.GetData()) {
			return d.GetData()
		}
	case converter.MetadataEncodingNil:
		return json.RawMessage(`null`)
	}
	return json.RawMessage(`"(binary)"`)
}

// failureText is a failure's message (decoded when the failure converter
// encrypted it), with its causes'.
func failureText(pc converter.PayloadCodec, f *failurepb.Failure) string {
	var parts []string
	for ; f != nil && len(parts) < 4; f = f.GetCause() {
		msg := f.GetMessage()
		if ea := f.GetEncodedAttributes(); ea != nil {
			var attrs struct {
				Message string `json:"message"`
			}
			if out, err := pc.Decode([]*commonpb.Payload{ea}); err == nil && len(out) == 1 && json.Unmarshal(out[0].GetData(), &attrs) == nil {
				msg = attrs.Message
			}
		}
		if t := f.GetApplicationFailureInfo().GetType(); t != "" {
			msg = t + ": " + msg
		}
		if msg != "" {
			parts = append(parts, msg)
		}
	}
	return strings.Join(parts, " ← ")
}

// inputClerk is the clerk an input names (its "clerk" field).
func inputClerk(in json.RawMessage) string {
	var v struct {
		Clerk string `json:"clerk"`
	}
	if len(in) > 0 && in[0] == '{' && json.Unmarshal(in, &v) == nil {
		return v.Clerk
	}
	return ""
}

// timeline makes the entries of a history: one entry for each update,
// activity, child and timer from its start to its end, one for each start,
// signal and ending; workflow tasks and markers are left out.
func timeline(events []*historypb.HistoryEvent, pc converter.PayloadCodec) []HistoryEntry {
	out := []HistoryEntry{}
	byEvent := map[int64]int{}   // a scheduling/initiating/starting event's id → its entry
	byUpdate := map[string]int{} // an update's id → its entry
	end := func(i int, at time.Time, status string) {
		out[i].Status = status
		out[i].EndedAt = &at
	}
	for _, ev := range events {
		at, id := ev.GetEventTime().AsTime(), ev.GetEventId()
		add := func(e HistoryEntry) int {
			e.ID, e.At = id, at
			if e.Who == "" {
				e.Who = cmp.Or(inputClerk(e.Input), e.Identity)
			}
			out = append(out, e)
			return len(out) - 1
		}
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			a := ev.GetWorkflowExecutionStartedEventAttributes()
			add(HistoryEntry{Kind: "started", Name: a.GetWorkflowType().GetName(), Identity: a.GetIdentity(), Input: decodePayloads(pc, a.GetInput())})
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			a := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes()
			req := a.GetAcceptedRequest()
			i := add(HistoryEntry{Kind: "update", Name: req.GetInput().GetName(), Identity: req.GetMeta().GetIdentity(),
				Input: decodePayloads(pc, req.GetInput().GetArgs())})
			byUpdate[req.GetMeta().GetUpdateId()] = i
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
			a := ev.GetWorkflowExecutionUpdateCompletedEventAttributes()
			if i, ok := byUpdate[a.GetMeta().GetUpdateId()]; ok {
				if f := a.GetOutcome().GetFailure(); f != nil {
					end(i, at, "failed")
					out[i].Failure = failureText(pc, f)
				} else {
					end(i, at, "completed")
					out[i].Result = decodePayloads(pc, a.GetOutcome().GetSuccess())
				}
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			a := ev.GetActivityTaskScheduledEventAttributes()
			byEvent[id] = add(HistoryEntry{Kind: "activity", Name: a.GetActivityType().GetName(), Input: decodePayloads(pc, a.GetInput())})
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			a := ev.GetActivityTaskCompletedEventAttributes()
			if i, ok := byEvent[a.GetScheduledEventId()]; ok {
				end(i, at, "completed")
				out[i].Result = decodePayloads(pc, a.GetResult())
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
			a := ev.GetActivityTaskFailedEventAttributes()
			if i, ok := byEvent[a.GetScheduledEventId()]; ok {
				end(i, at, "failed")
				out[i].Failure = failureText(pc, a.GetFailure())
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
			a := ev.GetActivityTaskTimedOutEventAttributes()
			if i, ok := byEvent[a.GetScheduledEventId()]; ok {
				end(i, at, "timed_out")
				out[i].Failure = failureText(pc, a.GetFailure())
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
			if i, ok := byEvent[ev.GetActivityTaskCanceledEventAttributes().GetScheduledEventId()]; ok {
				end(i, at, "cancelled")
			}
		case enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
			a := ev.GetStartChildWorkflowExecutionInitiatedEventAttributes()
			byEvent[id] = add(HistoryEntry{Kind: "child", Name: a.GetWorkflowType().GetName(), Input: decodePayloads(pc, a.GetInput())})
		case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
			a := ev.GetChildWorkflowExecutionCompletedEventAttributes()
			if i, ok := byEvent[a.GetInitiatedEventId()]; ok {
				end(i, at, "completed")
				out[i].Result = decodePayloads(pc, a.GetResult())
			}
		case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED:
			a := ev.GetChildWorkflowExecutionFailedEventAttributes()
			if i, ok := byEvent[a.GetInitiatedEventId()]; ok {
				end(i, at, "failed")
				out[i].Failure = failureText(pc, a.GetFailure())
			}
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			a := ev.GetWorkflowExecutionSignaledEventAttributes()
			add(HistoryEntry{Kind: "signal", Name: a.GetSignalName(), Identity: a.GetIdentity(), Input: decodePayloads(pc, a.GetInput())})
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			a := ev.GetTimerStartedEventAttributes()
			d, _ := json.Marshal(a.GetStartToFireTimeout().AsDuration().String())
			byEvent[id] = add(HistoryEntry{Kind: "timer", Name: a.GetTimerId(), Input: d})
		case enumspb.EVENT_TYPE_TIMER_FIRED:
			if i, ok := byEvent[ev.GetTimerFiredEventAttributes().GetStartedEventId()]; ok {
				end(i, at, "fired")
			}
		case enumspb.EVENT_TYPE_TIMER_CANCELED:
			if i, ok := byEvent[ev.GetTimerCanceledEventAttributes().GetStartedEventId()]; ok {
				end(i, at, "cancelled")
			}
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
			add(HistoryEntry{Kind: "completed", Result: decodePayloads(pc, ev.GetWorkflowExecutionCompletedEventAttributes().GetResult())})
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
			add(HistoryEntry{Kind: "failed", Failure: failureText(pc, ev.GetWorkflowExecutionFailedEventAttributes().GetFailure())})
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
			add(HistoryEntry{Kind: "timed_out"})
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
			a := ev.GetWorkflowExecutionTerminatedEventAttributes()
			add(HistoryEntry{Kind: "terminated", Identity: a.GetIdentity(), Failure: a.GetReason()})
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
			add(HistoryEntry{Kind: "cancelled"})
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
			add(HistoryEntry{Kind: "continued_as_new", Input: decodePayloads(pc, ev.GetWorkflowExecutionContinuedAsNewEventAttributes().GetInput())})
		}
	}
	return out
}

// accessLogPage is how many entries GET /api/access-log answers at most at once.
const accessLogPage = 500

// AccessLogResult answers GET /api/access-log: a page of entries, newest
// first, and the offset of the next page when there may be one.
type AccessLogResult struct {
	Entries    []storage.HistoryAccess `json:"entries"`
	NextOffset int                     `json:"nextOffset,omitempty"`
}

// accessLog serves GET /api/access-log?kind=&staff=&case=&from=&to=&limit=&offset=
// to auditors and managers: the reads of their municipality's personal
// data, and those its staff made of another office's, newest first, a page
// at a time (limit 1–500, default 500); kind is history, register_record or
// disclosure, staff a login (clerk= as before), from and to are dates
// (YYYY-MM-DD, Japan time; to inclusive) or RFC 3339 times.
func (s *Server) accessLog(c *gin.Context) {
	clerk := currentClerk(c)
	f := storage.AccessFilter{Municipality: clerk.MunicipalityCode, CaseNumber: strings.TrimSpace(c.Query("case")),
		ClerkLogin: strings.TrimSpace(cmp.Or(c.Query("staff"), c.Query("clerk"))), Kind: c.Query("kind"), Staff: true, Limit: accessLogPage}
	if f.Kind != "" && !slices.Contains(storage.AccessKinds, f.Kind) {
		fail(c, http.StatusBadRequest, "bad_kind", "kind は history, register_record, disclosure のいずれかです / kind must be history, register_record or disclosure.")
		return
	}
	var ok bool
	if f.From, ok = parseWhen(c.Query("from"), false); !ok {
		fail(c, http.StatusBadRequest, "bad_from", "from は YYYY-MM-DD の形式で入力してください / from must be YYYY-MM-DD.")
		return
	}
	if f.To, ok = parseWhen(c.Query("to"), true); !ok {
		fail(c, http.StatusBadRequest, "bad_to", "to は YYYY-MM-DD の形式で入力してください / to must be YYYY-MM-DD.")
		return
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		fail(c, http.StatusBadRequest, "bad_range", "期間の終わりは始まり以降の日にしてください / to must not be before from.")
		return
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > accessLogPage {
			fail(c, http.StatusBadRequest, "bad_limit", "limit は1から500の数字で指定してください / limit must be a number from 1 to 500.")
			return
		}
		f.Limit = n
	}
	if v := c.Query("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			fail(c, http.StatusBadRequest, "bad_offset", "offset は0以上の数字で指定してください / offset must be a number, 0 or more.")
			return
		}
		f.Offset = n
	}
	// One more than the page tells whether there is a next page.
	want := f.Limit
	f.Limit++
	out, err := s.db.HistoryAccesses(c, f)
	if err != nil {
		s.failInternal(c, err)
		return
	}
	res := AccessLogResult{Entries: out}
	if len(out) > want {
		res.Entries, res.NextOffset = out[:want], f.Offset+want
	}
	c.JSON(http.StatusOK, res)
}

// parseWhen reads a date (a day in Japan; the day after it when end) or an
// RFC 3339 time; "" is the zero time.
func parseWhen(v string, end bool) (time.Time, bool) {
	if v == "" {
		return time.Time{}, true
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, true
	}
	d, err := time.ParseInLocation(time.DateOnly, v, storage.Tokyo)
	if err != nil {
		return time.Time{}, false
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d, true
}
