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

// TestCrashBetweenKeyGenerationAndCardWrite kills every worker process with
// SIGKILL after the keys were generated and the certificates issued, before
// they are written to the card; after a restart the procedure completes and
// the Organization issued exactly one certificate of each kind for it.
func TestCrashBetweenKeyGenerationAndCardWrite(t *testing.T) {
	beginTest(t)
	r := demo.Find(demo.ResidentCrash)
	kill(t, "cardagent-T0001")
	startTerminal(t, r.CardSerial, r.CardExpiry, true)
	clerk := login(t, "clerk1")

	var started struct{ CaseNumber string }
	if code := clerk.do("POST", "/api/procedures/inperson-issuance",
		map[string]any{"terminalId": "T0001", "application": application(demo.ResidentCrash, true, true)}, &started); code != http.StatusCreated {
		t.Fatalf("start: HTTP %d", code)
	}
	n := started.CaseNumber
	clerk.waitStep(n, time.Minute, workflows.StepIdentityCheck)
	if code := clerk.do("POST", "/api/cases/"+n+"/identity-check", map[string]any{"documentType": "passport", "verified": true}, nil); code != http.StatusOK {
		t.Fatalf("identity check: HTTP %d", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// A first issuance asks for PINs; a renewal keeps the card's.
	if st := clerk.waitStep(n, time.Minute, workflows.StepPINSetting, workflows.StepKeyGeneration, workflows.StepIssuance, workflows.StepCardWrite); st["step"] == workflows.StepPINSetting {
		enterPINs(t, ctx, testPINs)
	}
	clerk.waitStep(n, time.Minute, workflows.StepCardWrite)
	time.Sleep(2 * time.Second) // the card agent has picked up the write and holds

	for _, name := range []string{"worker-municipal", "worker-ca", "cardagent-T0001"} {
		kill(t, name)
	}
	startBackOffice(t)
	startTerminal(t, r.CardSerial, r.CardExpiry, false)

	st := clerk.waitStep(n, 2*time.Minute, workflows.StepDone, workflows.StepRejected)
	if st["status"] != workflows.StatusCompleted {
		t.Fatalf("procedure did not complete after the crash: %v", st)
	}
	db := jlis(t)
	for _, kind := range []string{"sign", "auth"} {
		var count int
		if err := db.QueryRow(context.Background(), `SELECT count(*) FROM ca_certificates WHERE request_id = $1`, n+"/"+kind).Scan(&count); err != nil {
			t.Fatal(err)
		}
		if count != 1 {
			t.Fatalf("%s: %d certificates issued for the case, want exactly 1", kind, count)
		}
	}
	var total int
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM ca_certificates WHERE request_id LIKE $1`, n+"/%").Scan(&total); err != nil {
		t.Fatal(err)
	}
	if total != 2 {
		t.Fatalf("%d certificates issued for the case, want 2", total)
	}
	// The card holds the issued user-authentication certificate.
	card, _ := readCard(t)
	der, err := card.ReadCertificate(cardproto.UserAuth)
	if err != nil {
		t.Fatalf("read certificate after the crash: %v", err)
	}
	var serialOnCard string
	if err := db.QueryRow(context.Background(), `SELECT serial FROM ca_certificates WHERE cert_der = $1`, der).Scan(&serialOnCard); err != nil {
		t.Fatalf("the card's certificate is not the one the Organization recorded: %v", err)
	}
	if certsOf(st)["auth"]["serial"] != serialOnCard {
		t.Fatalf("card holds %s, procedure reports %v", serialOnCard, certsOf(st)["auth"]["serial"])
	}
}
