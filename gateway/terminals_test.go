package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
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
