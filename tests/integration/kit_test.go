package integration

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/workflows"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// The endings of the procedure kit on the real stack: a case cancelled by a
// clerk, a case that fails for good (with its certificates revoked at the
// CA), a terminal that does not respond and then does, a card write longer
// than the old 5 s heartbeat, a step of a module the procedure does not use.

var endSteps = []string{workflows.StepDone, workflows.StepRejected, workflows.StepLapsed, workflows.StepFailed, workflows.StepCancelled}

// startInPerson starts an in-person issuance and waits for the identity check.
func startInPerson(t *testing.T, clerk *api, resident string, signing, auth bool) string {
	t.Helper()
	var started struct{ CaseNumber string }
	if code := clerk.do("POST", "/api/procedures/inperson-issuance", map[string]any{
		"terminalId": "T0001", "application": application(resident, signing, auth)}, &started); code != http.StatusCreated {
		t.Fatalf("start: HTTP %d", code)
	}
	clerk.waitStep(started.CaseNumber, time.Minute, workflows.StepIdentityCheck)
	return started.CaseNumber
}

func identityChecked(t *testing.T, clerk *api, n string, body map[string]any) {
	t.Helper()
	var e apiErr
	if code := clerk.do("POST", "/api/cases/"+n+"/identity-check", body, &e); code != http.StatusOK {
		t.Fatalf("identity check: HTTP %d %v", code, e)
	}
}

// TestKitCancelAndUnknownStep: a step of a module the procedure did not opt
// into is a 409; a clerk cancels an open case with a reason, and a manager
// finds it among the cancelled cases.
func TestKitCancelAndUnknownStep(t *testing.T) {
	beginTest(t)
	clerk, manager := login(t, "clerk1"), login(t, "manager1")
	n := startInPerson(t, clerk, demo.ResidentKitReach, true, true)
	var e apiErr
	if code := clerk.do("POST", "/api/cases/"+n+"/inquiry-mailed", map[string]any{}, &e); code != http.StatusConflict || e.Error.Code != "step_not_in_procedure" {
		t.Fatalf("a step the in-person procedure does not have: HTTP %d %v", code, e)
	}
	e = apiErr{}
	if code := clerk.do("POST", "/api/cases/"+n+"/cancel", map[string]any{}, &e); code != http.StatusConflict || e.Error.Message == "" {
		t.Fatalf("a cancel without a reason: HTTP %d %v", code, e)
	}
	if code := clerk.do("POST", "/api/cases/"+n+"/cancel", map[string]any{"reason": "申請者が取り下げ", "clerk": "mallory"}, &e); code != http.StatusOK {
		t.Fatalf("cancel: HTTP %d %v", code, e)
	}
	st := clerk.waitStep(n, time.Minute, workflows.StepCancelled)
	rej, _ := st["rejection"].(map[string]any)
	msg, _ := rej["message"].(string)
	if st["status"] != workflows.StatusCancelled || !strings.Contains(msg, "clerk1") || !strings.Contains(msg, "申請者が取り下げ") || strings.Contains(msg, "mallory") {
		t.Fatalf("cancelled case: %v", st)
	}
	if !eventuallyListed(t, manager, "/api/cases?status=cancelled", n) {
		t.Fatal("the manager does not see the cancelled case")
	}
	if code := clerk.do("POST", "/api/cases/"+n+"/identity-check", map[string]any{"documentType": "passport", "verified": true}, &e); code != http.StatusConflict {
		t.Fatalf("a step after the cancellation: HTTP %d", code)
	}
}

// TestKitFailureRevokesIssuedCertificates: the card refuses the
// certificates for good after the CA issued them: the case ends as failed
// with a reason a clerk can read, the CA shows the issued certificates
// revoked as never used (cessationOfOperation, 5), and a manager lists it.
func TestKitFailureRevokesIssuedCertificates(t *testing.T) {
	beginTest(t)
	r := demo.Find(demo.ResidentKitFail)
	startTerminalWith(t, chiyodaT, r.CardSerial, r.CardExpiry, "MADOGUCHI_FAULT_WRITE_FAIL=1")
	clerk, manager := login(t, "clerk1"), login(t, "manager1")
	n := startInPerson(t, clerk, demo.ResidentKitFail, true, true)
	identityChecked(t, clerk, n, map[string]any{"documentType": "individual_number_card", "verified": true})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if st := clerk.waitStep(n, time.Minute, append([]string{workflows.StepPINSetting}, endSteps...)...); st["step"] == workflows.StepPINSetting {
		enterPINs(t, ctx, testPINs)
	}
	st := clerk.waitStep(n, 2*time.Minute, endSteps...)
	rej, _ := st["rejection"].(map[string]any)
	if st["status"] != workflows.StatusFailed || rej["code"] != "failed" || !strings.Contains(rej["message"].(string), workflows.StepCardWrite) {
		t.Fatalf("want a failed case at the card write, state %v", st)
	}
	issued := certsOf(st)
	if len(issued) != 2 {
		t.Fatalf("want the 2 issued certificates in the state, got %v", st["issuance"])
	}
	db := jlis(t)
	for kind, c := range issued {
		var reason *int16
		if err := db.QueryRow(context.Background(), `SELECT revocation_reason FROM ca_certificates WHERE request_id = $1`, n+"/"+kind).Scan(&reason); err != nil {
			t.Fatalf("%s certificate at the CA: %v", kind, err)
		}
		if reason == nil || *reason != 5 {
			t.Fatalf("the %s certificate %v was not revoked as cessationOfOperation: reason %v", kind, c["serial"], reason)
		}
	}
	if !eventuallyListed(t, manager, "/api/cases?status=failed", n) {
		t.Fatal("the manager does not see the failed case")
	}
}

// TestKitTerminalUnreachableThenBack: with no card agent on the terminal the
// case says so instead of waiting silently, and it completes once the agent
// is back.
func TestKitTerminalUnreachableThenBack(t *testing.T) {
	beginTest(t)
	kill(t, "cardagent-"+chiyodaT.id)
	r := demo.Find(demo.ResidentKitReach)
	clerk := login(t, "clerk1")
	n := startInPerson(t, clerk, demo.ResidentKitReach, true, true)
	identityChecked(t, clerk, n, map[string]any{"documentType": "individual_number_card", "verified": true})
	deadline := time.Now().Add(kit.TerminalReach + time.Minute)
	for {
		var st map[string]any
		clerk.do("GET", "/api/cases/"+n, nil, &st)
		term, _ := st["terminal"].(map[string]any)
		if term["notResponding"] == true && strings.Contains(st["waitingFor"].(string), "not responding") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the case never said the terminal does not respond: %v", st)
		}
		time.Sleep(time.Second)
	}
	startTerminal(t, r.CardSerial, r.CardExpiry, false)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if st := clerk.waitStep(n, kit.TerminalReach+time.Minute, append([]string{workflows.StepPINSetting}, endSteps...)...); st["step"] == workflows.StepPINSetting {
		enterPINs(t, ctx, testPINs)
	}
	st := clerk.waitStep(n, 2*time.Minute, endSteps...)
	term, _ := st["terminal"].(map[string]any)
	if st["status"] != workflows.StatusCompleted || term["notResponding"] == true {
		t.Fatalf("after the terminal came back: %v", st)
	}
}

// TestKitSlowCardWrite: a card write of 8 s, longer than the old 5 s
// heartbeat timeout, completes in its first attempt, because card activities
// heartbeat while they work.
func TestKitSlowCardWrite(t *testing.T) {
	beginTest(t)
	r := demo.Find(demo.ResidentKitSlow)
	startTerminalWith(t, chiyodaT, r.CardSerial, r.CardExpiry, "MADOGUCHI_FAULT_WRITE_DELAY=8s")
	clerk := login(t, "clerk1")
	n, st := issue(t, clerk, application(demo.ResidentKitSlow, true, true))
	if st["status"] != workflows.StatusCompleted {
		t.Fatalf("slow write: %v", st)
	}
	c := dialTemporal(t)
	attempts, completed := activityAttempts(historyEvents(t, c, workflows.WorkflowID(workflows.ProcedureInPersonIssuance, n)), "WriteCertificates")
	if len(attempts) != 1 || attempts[0] != 1 || !completed[0] {
		t.Fatalf("WriteCertificates attempts %v completed %v, want one first attempt that completed", attempts, completed)
	}
}

// TestKitLegalRepresentative: a person under 15 asking for both
// certificates gets the user-authentication one, applied for by the legal
// representative, whose identity the clerk checks.
func TestKitLegalRepresentative(t *testing.T) {
	beginTest(t)
	r := demo.Find(demo.ResidentChild)
	startTerminal(t, r.CardSerial, r.CardExpiry, false)
	clerk := login(t, "clerk1")
	n := startInPerson(t, clerk, demo.ResidentChild, true, true)
	var e apiErr
	if code := clerk.do("POST", "/api/cases/"+n+"/identity-check", map[string]any{"documentType": "passport", "verified": true, "person": "applicant"}, &e); code != http.StatusConflict {
		t.Fatalf("the applicant's own check for a child: HTTP %d", code)
	}
	identityChecked(t, clerk, n, map[string]any{"documentType": "drivers_license", "verified": true, "person": "legal_representative"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if st := clerk.waitStep(n, time.Minute, append([]string{workflows.StepPINSetting}, endSteps...)...); st["step"] == workflows.StepPINSetting {
		enterPINs(t, ctx, map[string]string{"auth": testPINs["auth"]})
	}
	st := clerk.waitStep(n, 2*time.Minute, endSteps...)
	certs := certsOf(st)
	if st["status"] != workflows.StatusCompleted || len(certs) != 1 || certs["auth"] == nil {
		t.Fatalf("want the user-authentication certificate only: %v", st)
	}
}
