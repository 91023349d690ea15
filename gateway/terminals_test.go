package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

func (s *apiStore) Terminals(ctx context.Context, office string) ([]storage.Terminal, error) {
	if s.err != nil {
		return nil, s.err
	}
	var ids []string
	for id, o := range apiTerminals {
		if o == office {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	out := []storage.Terminal{}
	for _, id := range ids {
		t, _ := s.Terminal(ctx, id)
		out = append(out, t)
	}
	return out, nil
}

// SetTerminalStatus: a change counts as one of the store's events.
func (s *apiStore) SetTerminalStatus(ctx context.Context, id string, from []string, to string, _ int64, _ time.Time) error {
	t, err := s.Terminal(ctx, id)
	if err != nil {
		return err
	}
	if !slices.Contains(from, t.Status) {
		return storage.ErrTerminalStatus
	}
	if s.terminalStatus == nil {
		s.terminalStatus = map[string]string{}
	}
	s.terminalStatus[id] = to
	s.events++
	return nil
}

// TestTerminalList: a manager lists the office's terminals with their
// reader, PIN-reset authority and status, and no other office's.
func TestTerminalList(t *testing.T) {
	f := newAPIFixture(t, &apiTemporal{})
	f.store.terminalStatus = map[string]string{apiNoResetTerminal: storage.TerminalSuspended}
	rec := matrixGet("/api/terminals")(f, "manager1", "")
	var res struct{ Terminals []TerminalView }
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &res) != nil {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if len(res.Terminals) != 2 || res.Terminals[0].ID != apiTerminal || !res.Terminals[0].PINReset || res.Terminals[0].Status != "active" ||
		res.Terminals[1].ID != apiNoResetTerminal || res.Terminals[1].PINReset || res.Terminals[1].Status != "suspended" || res.Terminals[0].Reader == "" {
		t.Errorf("listed %+v", res.Terminals)
	}
}

// TestSuspendedTerminalGetsNoWork: once suspended, and once decommissioned,
// no procedure starts on the terminal (403 with its code, nothing recorded
// or started), while another terminal of the office still works.
func TestSuspendedTerminalGetsNoWork(t *testing.T) {
	for _, tc := range []struct{ path, code string }{
		{"/api/terminals/" + apiTerminal + "/suspend", "terminal_suspended"},
		{"/api/terminals/" + apiTerminal + "/decommission", "terminal_decommissioned"},
	} {
		f := newAPIFixture(t, &apiTemporal{})
		var v TerminalView
		rec := f.post("manager1", tc.path, nil)
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &v) != nil || v.StatusChangedBy != 2 || v.StatusChangedAt == "" {
			t.Fatalf("%s: %d %s", tc.path, rec.Code, rec.Body)
		}
		// The issuance family's start and a catalog procedure's.
		for _, p := range []string{workflows.ProcedureInPersonIssuance, contract.ProcInPersonPINChange} {
			rec := matrixStart(p, "12345678901", "")(f, "clerk1", apiTerminal)
			if rec.Code != http.StatusForbidden || errorBody(t, rec).Code != tc.code {
				t.Errorf("%s, %s: %d %s, want 403 %s", tc.path, p, rec.Code, rec.Body, tc.code)
			}
			if len(f.store.inserted)+len(f.tc.starts) != 0 {
				t.Fatalf("%s, %s: a start on the terminal recorded a case or started a workflow", tc.path, p)
			}
		}
		if rec := matrixStart(workflows.ProcedureInPersonIssuance, "12345678901", "")(f, "clerk1", apiNoResetTerminal); rec.Code != http.StatusCreated {
			t.Errorf("%s: another terminal: %d %s", tc.path, rec.Code, rec.Body)
		}
	}
}

// TestTerminalStatusBadInput: suspending twice, anything after the
// decommissioning, and another office's or an unknown terminal are clear
// 4xx and change nothing; a suspended terminal can be decommissioned.
func TestTerminalStatusBadInput(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before map[string]string
		path   string
		status int
		code   string
	}{
		{"suspend twice", map[string]string{apiTerminal: "suspended"}, "/api/terminals/T0001/suspend", http.StatusConflict, "already_suspended"},
		{"suspend a decommissioned one", map[string]string{apiTerminal: "decommissioned"}, "/api/terminals/T0001/suspend", http.StatusConflict, "terminal_decommissioned"},
		{"decommission twice", map[string]string{apiTerminal: "decommissioned"}, "/api/terminals/T0001/decommission", http.StatusConflict, "terminal_decommissioned"},
		{"another office's", nil, "/api/terminals/Y0001/suspend", http.StatusNotFound, "unknown_terminal"},
		{"unknown", nil, "/api/terminals/T9999/decommission", http.StatusNotFound, "unknown_terminal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAPIFixture(t, &apiTemporal{})
			f.store.terminalStatus = tc.before
			rec := f.post("manager1", tc.path, nil)
			if rec.Code != tc.status || errorBody(t, rec).Code != tc.code {
				t.Fatalf("%d %s, want %d %s", rec.Code, rec.Body, tc.status, tc.code)
			}
			if f.store.events != 0 {
				t.Error("a refused change changed the terminal")
			}
		})
	}
	f := newAPIFixture(t, &apiTemporal{})
	f.store.terminalStatus = map[string]string{apiTerminal: "suspended"}
	if rec := f.post("manager1", "/api/terminals/T0001/decommission", nil); rec.Code != http.StatusOK || f.store.terminalStatus[apiTerminal] != "decommissioned" {
		t.Errorf("decommission a suspended one: %d %s", rec.Code, rec.Body)
	}
}

// RegisterTerminal: a registration counts as one of the store's events.
func (s *apiStore) RegisterTerminal(ctx context.Context, t storage.Terminal) error {
	if s.err != nil {
		return s.err
	}
	if _, err := s.Terminal(ctx, t.ID); err == nil {
		return storage.ErrTerminalExists
	}
	for _, r := range s.registered {
		if r.ID == t.ID || (t.AgentIdentity != "" && r.AgentIdentity == t.AgentIdentity) {
			return storage.ErrTerminalExists
		}
	}
	s.registered = append(s.registered, t)
	s.events++
	return nil
}

// fakeRetiredKey is the sealing key the fake retires with a terminal.
const fakeRetiredKey = "00112233445566aa"

// DecommissionTerminal: the status change, and the open cases recorded on
// the terminal.
func (s *apiStore) DecommissionTerminal(ctx context.Context, id string, from []string, actor int64, at time.Time) (storage.Decommissioned, error) {
	if err := s.SetTerminalStatus(ctx, id, from, storage.TerminalDecommissioned, actor, at); err != nil {
		return storage.Decommissioned{}, err
	}
	d := storage.Decommissioned{RetiredSealingKey: fakeRetiredKey}
	for number, c := range s.cases {
		if c.TerminalID == id && (c.Status == "" || c.Status == "open") {
			d.OpenCases = append(d.OpenCases, number)
		}
	}
	sort.Strings(d.OpenCases)
	return d, nil
}

func (s *apiStore) SetCaseTerminal(_ context.Context, number, terminal string) error {
	c, ok := s.cases[number]
	if !ok {
		return storage.ErrNotFound
	}
	c.TerminalID = terminal
	s.cases[number] = c
	return nil
}

func (t *apiTemporal) DescribeTaskQueue(_ context.Context, queue string, _ enumspb.TaskQueueType) (*workflowservice.DescribeTaskQueueResponse, error) {
	return &workflowservice.DescribeTaskQueueResponse{Pollers: t.pollers[queue]}, nil
}

// TestTerminalRegistered: a manager registers a terminal of the office,
// active, with who and when; the list shows when each terminal's card agent
// last polled. A bad id or reader, a taken id or agent identity are clear
// 4xx, and a clerk may not register one.
func TestTerminalRegistered(t *testing.T) {
	seen := apiNow.Add(-2 * time.Minute)
	f := newAPIFixture(t, &apiTemporal{pollers: map[string][]*taskqueuepb.PollerInfo{
		contract.TerminalTaskQueue(apiTerminal): {
			{Identity: "cardagent@old", LastAccessTime: timestamppb.New(seen.Add(-time.Hour))},
			{Identity: "cardagent@T0001", LastAccessTime: timestamppb.New(seen)},
		}}})
	rec := f.post("manager1", "/api/terminals", []byte(`{"id":"T0009","reader":" Virtual PCD 00 01 ","agentIdentity":"cardagent@T0009"}`))
	var v TerminalView
	if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &v) != nil {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if v.ID != "T0009" || v.Office != apiMunicipality || v.Reader != "Virtual PCD 00 01" || v.Status != "active" || v.PINReset || v.RegisteredBy != 2 {
		t.Errorf("view %+v", v)
	}
	if len(f.store.registered) != 1 || f.store.registered[0].AgentIdentity != "cardagent@T0009" || !f.store.registered[0].RegisteredAt.Equal(apiNow) {
		t.Errorf("registered %+v", f.store.registered)
	}
	for _, tc := range []struct{ name, body, code string }{
		{"lower-case id", `{"id":"t0009","reader":"r"}`, "bad_terminal_id"},
		{"short id", `{"id":"T1","reader":"r"}`, "bad_terminal_id"},
		{"no reader", `{"id":"T0010","reader":" "}`, "bad_reader"},
		{"id taken", `{"id":"T0001","reader":"r"}`, "terminal_exists"},
		{"agent taken", `{"id":"T0011","reader":"r","agentIdentity":"cardagent@T0009"}`, "terminal_exists"},
		{"not JSON", `{`, "bad_request"},
	} {
		rec := f.post("manager1", "/api/terminals", []byte(tc.body))
		if rec.Code/100 != 4 || errorBody(t, rec).Code != tc.code {
			t.Errorf("%s: %d %s", tc.name, rec.Code, rec.Body)
		}
	}
	if rec := f.post("clerk1", "/api/terminals", []byte(`{"id":"T0012","reader":"r"}`)); rec.Code != http.StatusForbidden {
		t.Errorf("a clerk registered one: %d", rec.Code)
	}
	if len(f.store.registered) != 1 {
		t.Errorf("a refused registration was recorded: %+v", f.store.registered)
	}

	rec = matrixGet("/api/terminals")(f, "manager1", "")
	var res struct{ Terminals []TerminalView }
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &res) != nil {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if res.Terminals[0].LastSeen != seen.In(storage.Tokyo).Format(time.RFC3339) || res.Terminals[0].LastSeenBy != "cardagent@T0001" ||
		res.Terminals[1].LastSeen != "" {
		t.Errorf("last seen %+v", res.Terminals)
	}
}

// TestDecommissionCancelsOpenCases: decommissioning a terminal cancels the
// open cases started on it, under the manager's name with the reason, and
// reports the office's retired sealing key; a case on another terminal is
// left alone. A start on the terminal records it on the case.
func TestDecommissionCancelsOpenCases(t *testing.T) {
	f := newAPIFixture(t, &apiTemporal{})
	rec := f.post("clerk1", "/api/procedures/inperson-issuance", startBody(t))
	if rec.Code != http.StatusCreated {
		t.Fatalf("start: %d %s", rec.Code, rec.Body)
	}
	var started StartResult
	_ = json.Unmarshal(rec.Body.Bytes(), &started)
	if len(f.store.inserted) != 1 || f.store.inserted[0].TerminalID != apiTerminal {
		t.Fatalf("case recorded %+v", f.store.inserted)
	}
	f.store.cases[started.CaseNumber] = f.store.inserted[0]
	other := f.addCase(workflows.ProcedureInPersonIssuance, "131016-20261201-000077", apiMunicipality)
	other.TerminalID = apiNoResetTerminal
	f.store.cases[other.CaseNumber] = other
	updates := len(f.tc.updates)

	rec = f.post("manager1", "/api/terminals/T0001/decommission", nil)
	var res DecommissionResult
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &res) != nil {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if res.Status != "decommissioned" || len(res.Cancelled) != 1 || res.Cancelled[0] != started.CaseNumber || res.RetiredSealingKey != fakeRetiredKey {
		t.Errorf("answer %+v", res)
	}
	if len(f.tc.updates) != updates+1 {
		t.Fatalf("updates %+v", f.tc.updates[updates:])
	}
	u := f.tc.updates[updates]
	in, _ := u.Args[0].(kit.CancelInput)
	if u.UpdateName != kit.CancelUpdate || u.WorkflowID != workflows.WorkflowID(workflows.ProcedureInPersonIssuance, started.CaseNumber) ||
		in.Clerk != "manager1" || !strings.Contains(in.Reason, "T0001") {
		t.Errorf("cancel %+v %+v", u, in)
	}
}

// SetPINResetAuthority: a change counts as one of the store's events.
func (s *apiStore) SetPINResetAuthority(ctx context.Context, id string, grant bool, _ int64, _ time.Time) error {
	t, err := s.Terminal(ctx, id)
	if err != nil || t.Status == storage.TerminalDecommissioned {
		return storage.ErrNotFound
	}
	if s.pinReset == nil {
		s.pinReset = map[string]bool{}
	}
	s.pinReset[id] = grant
	s.events++
	return nil
}

// TestPINResetAuthorityGranted: the Organization's operator grants and
// withdraws a terminal's PIN-reset authority; a municipal manager may not;
// a body without the choice, an unknown terminal are 4xx. A post office's
// terminal is registered without sealing keys, a municipality's with them.
func TestPINResetAuthorityGranted(t *testing.T) {
	f := newAPIFixture(t, &apiTemporal{})
	if rec := f.post("operator1", "/api/terminals/T0002/pin-reset", []byte(`{"authorised":true}`)); rec.Code != http.StatusOK || !f.store.pinReset["T0002"] {
		t.Fatalf("grant: %d %s", rec.Code, rec.Body)
	}
	if rec := f.post("operator1", "/api/terminals/T0002/pin-reset", []byte(`{"authorised":false}`)); rec.Code != http.StatusOK || f.store.pinReset["T0002"] {
		t.Fatalf("withdraw: %d %s", rec.Code, rec.Body)
	}
	for _, tc := range []struct {
		login, path, body string
		status            int
	}{
		{"manager1", "/api/terminals/T0002/pin-reset", `{"authorised":true}`, http.StatusForbidden},
		{"operator1", "/api/terminals/T0002/pin-reset", `{}`, http.StatusBadRequest},
		{"operator1", "/api/terminals/T9999/pin-reset", `{"authorised":true}`, http.StatusNotFound},
	} {
		if rec := f.post(tc.login, tc.path, []byte(tc.body)); rec.Code != tc.status {
			t.Errorf("%s %s %s: %d %s", tc.login, tc.path, tc.body, rec.Code, rec.Body)
		}
	}
	rec := f.post("manager1", "/api/terminals", []byte(`{"id":"T0031","reader":"r"}`))
	if rec.Code != http.StatusCreated || !f.store.registered[len(f.store.registered)-1].HoldsSealingKeys {
		t.Errorf("a municipality's terminal: %d %s", rec.Code, rec.Body)
	}
	if rec := f.post("manager1", "/api/terminals", []byte(`{"id":"T0032","reader":"r","holdsSealingKeys":false}`)); rec.Code != http.StatusCreated ||
		f.store.registered[len(f.store.registered)-1].HoldsSealingKeys {
		t.Errorf("a municipality's terminal without keys: %d %s", rec.Code, rec.Body)
	}
}
