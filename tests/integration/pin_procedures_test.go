package integration

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/cardclient"
	"github.com/madoguchi/madoguchi/internal/cardproto"
	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/workflows"
)

// verifyOverPCSC VERIFYs a PIN on the card in T0001's reader, as a
// verifier's tool would, and returns the error (nil when right).
func verifyOverPCSC(t *testing.T, kind cardproto.Kind, pin string) error {
	t.Helper()
	card, done := readCard(t)
	defer done()
	return card.Verify(kind, []byte(pin))
}

// TestPINProceduresThroughTheGateway: the PIN change (第3 1(1)) with a wrong
// current PIN first, then the right one; the PIN reset (第3 1(1)) of a PIN
// locked by wrong VERIFYs over PC/SC, after which PC/SC VERIFYs the new PIN;
// and the proxy's PIN reset (第3 1(2)) through the mailed inquiry, the clerk
// who took the reply typing the new PIN after another clerk's confirmation.
func TestPINProceduresThroughTheGateway(t *testing.T) {
	beginTest(t)
	r := demo.Find(demo.ResidentPIN)
	startTerminal(t, r.CardSerial, r.CardExpiry, false)
	clerk1, clerk2 := login(t, "clerk1"), login(t, "clerk2")
	if _, st := issue(t, clerk1, application(demo.ResidentPIN, true, true)); st["status"] != workflows.StatusCompleted {
		t.Fatalf("issuance: %v", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// A request that names no PIN is refused before any case exists.
	var e apiErr
	if code := clerk1.do("POST", "/api/procedures/inperson-pin-change", map[string]any{"residentCode": r.ResidentCode, "terminalId": "T0001"}, &e); code != http.StatusBadRequest || e.Error.Code != "no_pin_requested" {
		t.Errorf("no PIN named: HTTP %d %+v", code, e)
	}

	// A reset at a terminal the Organization did not authorise (demo T0002)
	// is refused before any case exists.
	if code := clerk1.do("POST", "/api/procedures/inperson-pin-reset", map[string]any{"residentCode": r.ResidentCode, "userAuth": true, "terminalId": "T0002"}, &e); code != http.StatusForbidden || e.Error.Code != "terminal_not_authorised" {
		t.Errorf("reset at an unauthorised terminal: HTTP %d %+v", code, e)
	}

	// 第3 1(1) PIN change: a wrong current PIN first (the card counts it).
	n := startStatusChange(t, clerk1, "inperson-pin-change", map[string]any{"residentCode": r.ResidentCode, "userAuth": true, "terminalId": "T0001"})
	checkIdentity(t, clerk1, n, false)
	changePINAt(t, ctx, panelURL, contract.KindUserAuth, "0000", "2468")
	changePINAt(t, ctx, panelURL, contract.KindUserAuth, testPINs[contract.KindUserAuth], "2468")
	st := clerk1.waitStep(n, time.Minute, workflows.StepDone, workflows.StepRejected)
	if st["status"] != workflows.StatusCompleted {
		t.Fatalf("PIN change: %v", st)
	}
	if steps, _ := st["steps"].([]any); !strings.Contains(stepsNotes(steps), "2 tries left") {
		t.Errorf("the wrong current PIN is not in the step log: %v", steps)
	}
	if err := verifyOverPCSC(t, cardproto.UserAuth, "2468"); err != nil {
		t.Fatalf("the changed PIN does not verify over PC/SC: %v", err)
	}

	// Lock the user-authentication PIN by three wrong VERIFYs over PC/SC.
	for i := 0; i < 3; i++ {
		if err := verifyOverPCSC(t, cardproto.UserAuth, "9999"); err == nil {
			t.Fatal("a wrong PIN verified")
		}
	}
	if err := verifyOverPCSC(t, cardproto.UserAuth, "2468"); !errors.Is(err, cardclient.ErrPINBlocked) {
		t.Fatalf("the PIN is not locked after three wrong tries: %v", err)
	}

	// 第3 1(1) PIN reset of the locked PIN: identity, then card, then the
	// new PIN on the panel; the counter is full again.
	n = startStatusChange(t, clerk1, "inperson-pin-reset", map[string]any{"residentCode": r.ResidentCode, "userAuth": true, "terminalId": "T0001"})
	checkIdentity(t, clerk1, n, false)
	resetPINAt(t, ctx, panelURL, map[string]string{contract.KindUserAuth: "1357"})
	if st := clerk1.waitStep(n, time.Minute, workflows.StepDone, workflows.StepRejected); st["status"] != workflows.StatusCompleted {
		t.Fatalf("PIN reset: %v", st)
	}
	card, done := readCard(t)
	if left, err := card.RetriesLeft(cardproto.UserAuth); err != nil || left != 3 {
		t.Errorf("retries left after the reset: %d, %v; want 3", left, err)
	}
	if err := card.Verify(cardproto.UserAuth, []byte("1357")); err != nil {
		t.Errorf("the reset PIN does not verify over PC/SC: %v", err)
	}
	done()

	// 第3 1(2) by proxy, through the inquiry: the letter names the reset.
	var started struct{ CaseNumber string }
	if code := clerk1.do("POST", "/api/procedures/proxy-pin-reset", map[string]any{"residentCode": r.ResidentCode, "signing": true, "terminalId": "T0001",
		"proxy": map[string]string{"name": "代理 三郎", "address": "東京都港区芝公園1丁目1番1号", "relationship": "子"}}, &started); code != http.StatusCreated {
		t.Fatalf("start proxy PIN reset: HTTP %d", code)
	}
	n = started.CaseNumber
	checkIdentity(t, clerk1, n, true)
	clerk1.waitStep(n, time.Minute, workflows.StepInquiryMailing)
	pdf := clerk1.raw("GET", "/api/cases/"+n+"/inquiry.pdf")
	if !strings.Contains(pdfText(pdf), "暗証番号の初期化") {
		t.Error("the inquiry letter does not name the PIN reset")
	}
	reply := replyCodeOf(t, pdf)
	if code := clerk1.do("POST", "/api/cases/"+n+"/inquiry-mailed", map[string]any{}, nil); code != http.StatusOK {
		t.Fatalf("inquiry mailed: HTTP %d", code)
	}
	clerk1.waitStep(n, time.Minute, workflows.StepReplyWait)
	time.Sleep(testEarliestReply)
	if code := clerk1.do("POST", "/api/cases/"+n+"/reply", map[string]any{"caseNumber": n, "code": reply}, &e); code != http.StatusOK {
		t.Fatalf("reply: HTTP %d %+v", code, e)
	}
	clerk1.waitStep(n, time.Minute, workflows.StepSecondVisit)
	if code := clerk1.do("POST", "/api/cases/"+n+"/identity-check", map[string]any{"documentType": "drivers_license", "verified": true, "powerOfAttorney": true}, &e); code != http.StatusOK {
		t.Fatalf("second visit: HTTP %d %+v", code, e)
	}
	clerk1.waitStep(n, time.Minute, workflows.StepPINConfirmation)
	if code := clerk1.do("POST", "/api/cases/"+n+"/confirm-intent", map[string]any{}, &e); code != http.StatusConflict {
		t.Errorf("the entering clerk confirmed their own entry: HTTP %d", code)
	}
	if code := clerk2.do("POST", "/api/cases/"+n+"/confirm-intent", map[string]any{}, &e); code != http.StatusOK {
		t.Fatalf("second clerk's confirmation: HTTP %d %+v", code, e)
	}
	resetPINAt(t, ctx, panelURL, map[string]string{contract.KindSigning: "NEWPIN42"})
	st = clerk1.waitStep(n, time.Minute, workflows.StepDone, workflows.StepRejected)
	if st["status"] != workflows.StatusCompleted || st["pinEnteredBy"] != "clerk1" || st["pinConfirmedBy"] != "clerk2" {
		t.Fatalf("proxy PIN reset: %v", st)
	}
	if err := verifyOverPCSC(t, cardproto.Signing, "NEWPIN42"); err != nil {
		t.Errorf("the signing PIN reset by proxy does not verify: %v", err)
	}
}

// stepsNotes joins the step log's notes.
func stepsNotes(steps []any) string {
	var b strings.Builder
	for _, s := range steps {
		if m, ok := s.(map[string]any); ok {
			if n, ok := m["note"].(string); ok {
				b.WriteString(n + "\n")
			}
		}
	}
	return b.String()
}
