package integration

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/workflows"
)

// TestDecommissionedTerminalGetsNoWork (第3 6): a manager registers a
// terminal; a case started on it waits at the identity check; the manager
// decommissions the terminal: the case ends cancelled with the reason, its
// history has no card step scheduled on the terminal's task queue, a step
// sent to it afterwards and a new start on the terminal are refused. The
// terminal list shows when a running card agent last polled.
//
// The terminal is 川崎市's: that office has no sealing key, so its
// decommissioning retires none that other tests seal to.
func TestDecommissionedTerminalGetsNoWork(t *testing.T) {
	beginTest(t)
	manager := login(t, "kawasaki1")
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	id := fmt.Sprintf("K%X", b)

	var e apiErr
	var reg struct {
		ID, Status, RegisteredAt string
	}
	if code := manager.do("POST", "/api/terminals", map[string]any{"id": id, "reader": "Virtual PCD 00 01", "agentIdentity": "cardagent@" + id}, &reg); code != http.StatusCreated ||
		reg.ID != id || reg.Status != "active" || reg.RegisteredAt == "" {
		t.Fatalf("register: HTTP %d %+v", code, reg)
	}
	if code := manager.do("POST", "/api/terminals", map[string]any{"id": id, "reader": "Virtual PCD 00 01"}, &e); code != http.StatusConflict || e.Error.Code != "terminal_exists" {
		t.Fatalf("registered twice: HTTP %d %v", code, e)
	}

	var started struct{ CaseNumber string }
	if code := manager.do("POST", "/api/procedures/inperson-issuance", map[string]any{
		"terminalId": id, "application": application(demo.ResidentKawasaki, false, true)}, &started); code != http.StatusCreated {
		t.Fatalf("start on the new terminal: HTTP %d", code)
	}
	n := started.CaseNumber
	manager.waitStep(n, time.Minute, workflows.StepIdentityCheck)

	var dec struct {
		Status            string
		Cancelled         []string
		RetiredSealingKey string
	}
	if code := manager.do("POST", "/api/terminals/"+id+"/decommission", nil, &dec); code != http.StatusOK || dec.Status != "decommissioned" ||
		len(dec.Cancelled) != 1 || dec.Cancelled[0] != n || dec.RetiredSealingKey != "" {
		t.Fatalf("decommission: HTTP %d %+v", code, dec)
	}
	st := manager.waitStep(n, time.Minute, workflows.StepCancelled)
	rej, _ := st["rejection"].(map[string]any)
	if msg, _ := rej["message"].(string); st["status"] != workflows.StatusCancelled || !strings.Contains(msg, id) {
		t.Fatalf("the case on the decommissioned terminal: %v", st)
	}
	e = apiErr{}
	if code := manager.do("POST", "/api/cases/"+n+"/identity-check", map[string]any{"documentType": "individual_number_card", "verified": true}, &e); code != http.StatusConflict {
		t.Fatalf("a step after the decommissioning: HTTP %d %v", code, e)
	}
	e = apiErr{}
	if code := manager.do("POST", "/api/procedures/inperson-issuance", map[string]any{
		"terminalId": id, "application": application(demo.ResidentKawasaki, false, true)}, &e); code != http.StatusForbidden || e.Error.Code != "terminal_decommissioned" {
		t.Fatalf("a start on the decommissioned terminal: HTTP %d %v", code, e)
	}
	queue := contract.TerminalTaskQueue(id)
	for _, ev := range historyEvents(t, dialTemporal(t), workflows.WorkflowID(workflows.ProcedureInPersonIssuance, n)) {
		if ev.GetEventType() == enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && ev.GetActivityTaskScheduledEventAttributes().GetTaskQueue().GetName() == queue {
			t.Fatalf("work was scheduled on %s: %v", queue, ev)
		}
	}

	// A running card agent's last poll, as the Temporal server saw it.
	startTerminal(t, "", "", false)
	chiyoda := login(t, "manager1")
	deadline := time.Now().Add(30 * time.Second)
	for {
		var list struct {
			Terminals []struct{ ID, LastSeen, LastSeenBy string }
		}
		if code := chiyoda.do("GET", "/api/terminals", nil, &list); code != http.StatusOK {
			t.Fatalf("list: HTTP %d", code)
		}
		seen := ""
		for _, tm := range list.Terminals {
			if tm.ID == chiyodaT.id {
				seen = tm.LastSeen
			}
		}
		if at, err := time.Parse(time.RFC3339, seen); err == nil && time.Since(at) < 5*time.Minute {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("T0001's card agent runs, but the list shows it last seen %q: %+v", seen, list.Terminals)
		}
		time.Sleep(time.Second)
	}
}
