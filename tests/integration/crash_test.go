package integration

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/madoguchi/madoguchi/internal/cardproto"
	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/workflows"
)

// crashCase is a place in an in-person issuance where the crash test kills
// processes with SIGKILL.
type crashCase struct {
	name string
	// caHold and caKind are the CA worker's fault point (internal/ca,
	// fault_on.go) and the kind of certificate it holds at.
	caHold, caKind string
	// cardHold makes the card agent hold before writing the certificates.
	cardHold bool
	// killed are the processes killed there.
	killed []string
	// activity is the activity cut short, which must have been retried.
	activity string
}

// TestCrashRecovery kills the back office in the middle of an in-person
// issuance and restarts it; the procedure completes, the activity cut short
// was retried, and the Organization signed exactly one certificate of each
// kind, the one on the card:
//   - the CA worker and the card agent inside IssueCertificates, after the
//     user-authentication certificate's reservation was committed and before
//     anything was signed: the retry signs that reservation, same serial;
//   - the same after the signing certificate (the pair's last) was signed and
//     stored, before the answer: the retry returns what was signed;
//   - every worker and the card agent while the card agent holds before
//     writing the issued certificates to the card.
//
// The CA's fault points exist only in binaries built with the
// madoguchi_faults tag (scripts/lib.sh md_build does so for the tests).
func TestCrashRecovery(t *testing.T) {
	caAndCard := []string{"worker-ca", "cardagent-T0001"}
	for _, cc := range []crashCase{
		{name: "CA between reservation and signing", caHold: "reserved", caKind: "auth", killed: caAndCard, activity: "IssueCertificates"},
		{name: "CA after signing before the answer", caHold: "signed", caKind: "sign", killed: caAndCard, activity: "IssueCertificates"},
		{name: "card agent before writing", cardHold: true, killed: []string{"worker-municipal", "worker-ca", "cardagent-T0001"}, activity: "WriteCertificates"},
	} {
		t.Run(cc.name, func(t *testing.T) { crashAndRecover(t, cc) })
	}
}

func crashAndRecover(t *testing.T, cc crashCase) {
	beginTest(t)
	r := demo.Find(demo.ResidentCrash)
	db := jlis(t)
	before := caSerialsOf(t, db, r.ResidentCode)
	kill(t, "cardagent-T0001")
	startTerminal(t, r.CardSerial, r.CardExpiry, cc.cardHold)
	mark := filepath.Join(t.TempDir(), "ca-fault")
	if cc.caHold != "" {
		kill(t, "worker-ca")
		// The fault switch must not outlive the test that set it.
		t.Cleanup(func() { kill(t, "worker-ca") })
		startCAWorker(t, []string{"MADOGUCHI_FAULT_CA_HOLD=" + cc.caHold,
			"MADOGUCHI_FAULT_CA_KIND=" + cc.caKind, "MADOGUCHI_FAULT_CA_MARK=" + mark})
	}
	clerk := login(t, "clerk1")
	n := startInPersonToIssuance(t, clerk, demo.ResidentCrash)
	id := workflows.WorkflowID(workflows.ProcedureInPersonIssuance, n)
	tc := dialTemporal(t)

	// Sync on the fault point itself, never on time.
	var held []string
	if cc.caHold != "" {
		held = waitForMark(t, mark, 2*time.Minute)
		if len(held) != 3 || held[0] != cc.caHold || held[1] != n+"/"+cc.caKind {
			t.Fatalf("the CA held at %q, want %s for request %s/%s", held, cc.caHold, n, cc.caKind)
		}
	} else {
		waitActivityHeld(t, tc, id, cc.activity, 2*time.Minute)
	}
	for _, name := range cc.killed {
		kill(t, name)
	}
	killedAt := time.Now()
	startBackOffice(t)
	startTerminal(t, r.CardSerial, r.CardExpiry, false)

	st := clerk.waitStep(n, 3*time.Minute, workflows.StepDone, workflows.StepRejected)
	if st["status"] != workflows.StatusCompleted {
		t.Fatalf("procedure did not complete after the crash: %v", st)
	}

	// The activity cut short ran again: its one scheduling closed with a
	// later attempt than the one killed.
	attempts, completed := activityAttempts(historyEvents(t, tc, id), cc.activity)
	if len(attempts) != 1 || attempts[0] < 2 || !completed[0] {
		t.Fatalf("%s: attempts %v, completed %v; want one activity completed by a retry (attempt ≥ 2)", cc.activity, attempts, completed)
	}

	// What the Organization signed since the case began, read from its
	// records and classified by the CA whose signature each DER carries.
	signed := caCertificatesSince(t, db, r.ResidentCode, before)
	proc := certsOf(st)
	for _, kind := range []string{"sign", "auth"} {
		certs := signed[kind]
		if len(certs) != 1 {
			t.Fatalf("%s: the CA signed %d certificates for the case, want exactly 1", kind, len(certs))
		}
		c := certs[0]
		if proc[kind]["serial"] != c.serial {
			t.Fatalf("%s: the procedure reports serial %v, the CA signed %s", kind, proc[kind]["serial"], c.serial)
		}
		if cc.caHold == "" && !c.issuedAt.Before(killedAt) {
			t.Fatalf("%s: signed at %v, after the crash (%v): the CA signed again for a card write", kind, c.issuedAt, killedAt)
		}
		if kind != cc.caKind {
			continue
		}
		// The CA's record of the certificate held at shows the retry.
		if c.serial != held[2] {
			t.Fatalf("%s: the retry signed serial %s, not the %s reserved before the crash", kind, c.serial, held[2])
		}
		switch cc.caHold {
		case "reserved":
			if !c.notBefore.Before(killedAt) || !c.issuedAt.After(killedAt) {
				t.Fatalf("%s: reserved at %v and signed at %v; want reserved before the crash (%v) and signed by the retry after it",
					kind, c.notBefore, c.issuedAt, killedAt)
			}
		case "signed":
			if !c.issuedAt.Before(killedAt) {
				t.Fatalf("%s: signed at %v, after the crash (%v): the retry signed again", kind, c.issuedAt, killedAt)
			}
		}
	}

	// The card holds exactly those certificates.
	card, _ := readCard(t)
	if err := card.Verify(cardproto.Signing, []byte(testPINs["sign"])); err != nil {
		t.Fatalf("verify the signing PIN: %v", err)
	}
	for kind, k := range map[string]cardproto.Kind{"sign": cardproto.Signing, "auth": cardproto.UserAuth} {
		der, err := card.ReadCertificate(k)
		if err != nil {
			t.Fatalf("read the %s certificate after the crash: %v", kind, err)
		}
		if string(der) != string(signed[kind][0].der) {
			t.Fatalf("the card's %s certificate is not the one the CA signed for the case", kind)
		}
	}
}

// startInPersonToIssuance starts an in-person issuance at T0001, answers the
// identity check and, for a first issuance, the touch panel, and returns the
// case number; the procedure then runs on to the keys and the CA.
func startInPersonToIssuance(t *testing.T, clerk *api, resident string) string {
	t.Helper()
	var started struct{ CaseNumber string }
	if code := clerk.do("POST", "/api/procedures/inperson-issuance",
		map[string]any{"terminalId": "T0001", "application": application(resident, true, true)}, &started); code != http.StatusCreated {
		t.Fatalf("start: HTTP %d", code)
	}
	n := started.CaseNumber
	clerk.waitStep(n, time.Minute, workflows.StepIdentityCheck)
	if code := clerk.do("POST", "/api/cases/"+n+"/identity-check", map[string]any{"documentType": "passport", "verified": true}, nil); code != http.StatusOK {
		t.Fatalf("identity check: HTTP %d", code)
	}
	// A first issuance asks for PINs; a renewal keeps the card's.
	if st := clerk.waitStep(n, time.Minute, workflows.StepPINSetting, workflows.StepKeyGeneration, workflows.StepIssuance,
		workflows.StepCardWrite); st["step"] == workflows.StepPINSetting {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		enterPINs(t, ctx, testPINs)
	}
	return n
}

// waitForMark waits for the file a fault point writes when it starts
// holding and returns its fields (point, request id, serial).
func waitForMark(t *testing.T, path string, limit time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			return strings.Fields(string(b))
		}
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the CA worker did not reach its fault point within %v: are the binaries built with -tags madoguchi_faults (scripts/lib.sh md_build)? See %s",
				limit, filepath.Join(logDir, "worker-ca.log"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitActivityHeld waits until an activity of the workflow has been started
// by a worker and has heartbeated since: it is running (the card agent's
// hold heartbeats while it waits).
func waitActivityHeld(t *testing.T, c client.Client, workflowID, activityType string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		d, err := c.DescribeWorkflowExecution(context.Background(), workflowID, "")
		if err == nil {
			for _, pa := range d.GetPendingActivities() {
				if pa.GetActivityType().GetName() == activityType && pa.GetState() == enumspb.PENDING_ACTIVITY_STATE_STARTED &&
					pa.GetLastHeartbeatTime() != nil {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s of %s was not held within %v (describe: %v): are the binaries built with -tags madoguchi_faults?", activityType, workflowID, limit, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// caSerialsOf returns the serials of every certificate row the CA holds for
// a resident, reserved or signed.
func caSerialsOf(t *testing.T, db *pgx.Conn, residentCode string) map[string]bool {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT serial FROM ca_certificates WHERE resident_code = $1`, residentCode)
	if err != nil {
		t.Fatal(err)
	}
	serials, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, s := range serials {
		out[s] = true
	}
	return out
}

// caCertificate is one certificate the CA signed, as its records hold it.
type caCertificate struct {
	serial              string
	der                 []byte
	notBefore, issuedAt time.Time
}

// caCertificatesSince reads the CA's rows for a resident that are not in
// before and groups them by the issuing CA whose signature the DER carries
// (not by a column, nor by request id, which a unique index keeps single).
// Every row must be a signed certificate whose DER carries the row's serial:
// a reservation left unsigned would be a second attempt at a certificate.
func caCertificatesSince(t *testing.T, db *pgx.Conn, residentCode string, before map[string]bool) map[string][]caCertificate {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT serial, kind, cert_der, not_before, issued_at FROM ca_certificates WHERE resident_code = $1`, residentCode)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	issuers := map[string]*x509.Certificate{"sign": loadCA(t, cardproto.Signing), "auth": loadCA(t, cardproto.UserAuth)}
	out := map[string][]caCertificate{}
	for rows.Next() {
		var serial, kind string
		var der []byte
		var notBefore time.Time
		var issuedAt *time.Time
		if err := rows.Scan(&serial, &kind, &der, &notBefore, &issuedAt); err != nil {
			t.Fatal(err)
		}
		if before[serial] {
			continue
		}
		if der == nil || issuedAt == nil {
			t.Fatalf("the CA holds a %s reservation %s that was never signed", kind, serial)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatalf("the CA's certificate %s does not parse: %v", serial, err)
		}
		if got := cert.SerialNumber.Text(16); got != serial {
			t.Fatalf("the CA's row %s holds the certificate of serial %s", serial, got)
		}
		signedBy := ""
		for k, iss := range issuers {
			if cert.CheckSignatureFrom(iss) == nil {
				signedBy = k
			}
		}
		if signedBy == "" || signedBy != kind {
			t.Fatalf("certificate %s (row kind %s) is signed by the %q CA", serial, kind, signedBy)
		}
		out[signedBy] = append(out[signedBy], caCertificate{serial: serial, der: der, notBefore: notBefore, issuedAt: *issuedAt})
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
