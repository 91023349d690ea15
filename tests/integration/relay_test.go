package integration

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/cardproto"
	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/workflows"
)

// TestRelayIssuance: a 千代田区 resident applies at 横浜市 (the relay). The
// PINs typed on Yokohama's terminal are sealed to Chiyoda's key; Chiyoda's
// clerk reviews, another clerk confirms, Chiyoda's terminal opens the
// notice and sets the PINs on the card in its reader; the card goes back to
// Yokohama, whose clerk hands it over. Yokohama sees only the status.
func TestRelayIssuance(t *testing.T) {
	beginTest(t)
	r := demo.Find(demo.ResidentRelay)
	startTerminal(t, r.CardSerial, r.CardExpiry, false) // the card waits at the address municipality
	startTerminalOf(t, yokohamaT, "", "", false)
	yokohama, clerk1, clerk2 := login(t, "yokohama1"), login(t, "clerk1"), login(t, "clerk2")

	var started struct{ CaseNumber string }
	if c := yokohama.do("POST", "/api/procedures/relay-forwarding", map[string]any{
		"terminalId": "Y0001", "addressMunicipality": demo.Chiyoda, "handOverAt": workflows.HandOverAtRelay,
		"application": application(demo.ResidentRelay, true, true),
	}, &started); c != http.StatusCreated {
		t.Fatalf("start relay: HTTP %d", c)
	}
	rc := started.CaseNumber
	yokohama.waitStep(rc, time.Minute, workflows.StepIdentityCheck)
	if c := yokohama.do("POST", "/api/cases/"+rc+"/identity-check", map[string]any{"documentType": "individual_number_card", "verified": true}, nil); c != http.StatusOK {
		t.Fatalf("relay identity check: HTTP %d", c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	enterPINsAt(t, ctx, yokohamaT.panel, testPINs) // the applicant, at the relay
	st := yokohama.waitStep(rc, time.Minute, workflows.StepForwarded)
	relayState, _ := st["relay"].(map[string]any)
	ac, _ := relayState["addressCase"].(string)
	if ac == "" {
		t.Fatalf("the relay does not know the address case: %v", st)
	}

	// The address municipality sees the notice arrived and reviews it.
	clerk1.waitStep(ac, time.Minute, workflows.StepRelayReview)
	if !eventuallyListed(t, clerk1, "/api/waiting", ac) {
		t.Fatal("the arrived notice is not in the address municipality's waiting list")
	}
	var e apiErr
	if c := yokohama.do("GET", "/api/cases/"+ac, nil, &e); c != http.StatusNotFound {
		t.Fatalf("the relay read the address municipality's case: HTTP %d", c)
	}
	if c := clerk1.do("POST", "/api/cases/"+ac+"/review", map[string]any{"terminalId": "T0001", "approve": true}, &e); c != http.StatusOK {
		t.Fatalf("review: HTTP %d %v", c, e)
	}
	clerk1.waitStep(ac, time.Minute, workflows.StepPINConfirmation)
	if c := clerk1.do("POST", "/api/cases/"+ac+"/confirm-intent", map[string]any{}, &e); c != http.StatusConflict {
		t.Fatalf("the setting clerk confirmed their own entry: HTTP %d", c)
	}
	if c := clerk2.do("POST", "/api/cases/"+ac+"/confirm-intent", map[string]any{}, &e); c != http.StatusOK {
		t.Fatalf("second clerk: HTTP %d %v", c, e)
	}
	clerk1.waitStep(ac, 2*time.Minute, workflows.StepHandOver)

	// The notified PINs are on the card: VERIFY with the PIN typed at Yokohama.
	card, closeCard := readCard(t)
	if err := card.Verify(cardproto.Signing, []byte(testPINs["sign"])); err != nil {
		t.Fatalf("the signing PIN set from the notice does not verify: %v", err)
	}
	if err := card.Verify(cardproto.UserAuth, []byte(testPINs["auth"])); err != nil {
		t.Fatalf("the user-authentication PIN set from the notice does not verify: %v", err)
	}
	if _, err := card.ReadCertificate(cardproto.Signing); err != nil {
		t.Fatalf("no signing certificate on the card: %v", err)
	}
	closeCard()

	// The card travels to the relay: out of Chiyoda's reader, into Yokohama's.
	stop("vcard-" + chiyodaT.id)
	insertCard(t, yokohamaT, r.CardSerial, r.CardExpiry)
	// The card is handed over at the relay, after its terminal read it; the
	// hand-over is recorded there.
	if c := clerk1.do("POST", "/api/cases/"+ac+"/hand-over", map[string]any{}, &e); c != http.StatusConflict {
		t.Fatalf("the address municipality handed over a card meant for the relay: HTTP %d", c)
	}
	yokohama.waitStep(rc, time.Minute, workflows.StepHandOver)
	if c := yokohama.do("POST", "/api/cases/"+rc+"/hand-over", map[string]any{}, &e); c != http.StatusOK {
		t.Fatalf("hand-over at the relay: HTTP %d %v", c, e)
	}
	ast := clerk1.waitStep(ac, time.Minute, workflows.StepDone)
	rst := yokohama.waitStep(rc, time.Minute, workflows.StepDone)
	if ast["status"] != workflows.StatusCompleted || rst["status"] != workflows.StatusCompleted {
		t.Fatalf("relay %v / address %v", rst["status"], ast["status"])
	}
	if ast["pinEnteredBy"] != "clerk1" || ast["pinConfirmedBy"] != "clerk2" {
		t.Fatalf("who entered and who confirmed is not recorded: %v", ast)
	}
	if _, ok := rst["certificates"]; ok {
		t.Fatal("the relay sees the address municipality's certificates")
	}
}
