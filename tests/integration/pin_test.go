package integration

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/cardclient"
	"github.com/madoguchi/madoguchi/internal/temporalclient"
	"github.com/madoguchi/madoguchi/internal/terminalauth"
)

// The card of the PIN tests: not in the register, issued by the test itself
// over PC/SC, so it depends on no procedure.
const pinCardSerial = "C131016PIN001"

// PINs of the PIN tests, distinct from testPINs.
var (
	pinTestOld   = map[string]string{contract.KindSigning: "OLDSIGN42", contract.KindUserAuth: "3141"}
	pinTestNew   = map[string]string{contract.KindSigning: "NEWSIGN42", contract.KindUserAuth: "2718"}
	pinTestReset = map[string]string{contract.KindSigning: "RESETSIGN42", contract.KindUserAuth: "1618"}
)

// pinStepInput is one card step the probe workflow runs on T0001.
type pinStepInput struct {
	Change *contract.ChangePINInput
	Reset  *contract.ResetPINInput
}

// pinStepResult is the step's answer.
type pinStepResult struct {
	Change contract.ChangePINResult
	Reset  contract.ResetPINResult
}

// pinStepProbe runs ChangePIN or ResetPIN on terminal T0001's card agent,
// as the procedures of 第3 1 do, once (no retry hides a failure).
func pinStepProbe(ctx workflow.Context, in pinStepInput) (pinStepResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           contract.TerminalTaskQueue(chiyodaT.id),
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	var out pinStepResult
	if in.Change != nil {
		return out, workflow.ExecuteActivity(ctx, contract.ChangePIN.Name, *in.Change).Get(ctx, &out.Change)
	}
	return out, workflow.ExecuteActivity(ctx, contract.ResetPIN.Name, *in.Reset).Get(ctx, &out.Reset)
}

// pinProbe starts the probe workflow's worker in the test process, with the
// codec, so the card agent reads its inputs as it reads a procedure's.
func pinProbe(t *testing.T) (client.Client, string) {
	t.Helper()
	tc, err := temporalclient.Dial(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)
	queue := fmt.Sprintf("pin-probe-%d", time.Now().UnixNano())
	w := worker.New(tc, queue, worker.Options{})
	w.RegisterWorkflow(pinStepProbe)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return tc, queue
}

// runPINStep runs one step while answer types on the touch panel.
func runPINStep(t *testing.T, tc client.Client, queue string, in pinStepInput, answer func(ctx context.Context)) (pinStepResult, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// A municipality's scope in the id, as the codec derives the key from it.
	id := fmt.Sprintf("pin-probe/131016-%d", time.Now().UnixNano())
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, pinStepProbe, in)
	if err != nil {
		t.Fatal(err)
	}
	if answer != nil {
		answer(ctx)
	}
	var out pinStepResult
	err = run.Get(ctx, &out)
	return out, err
}

// issueOverPCSC gives the card in reader 0 both PINs, both key pairs and
// certificates of a test CA, over PC/SC; it returns the public keys.
func issueOverPCSC(t *testing.T, key *terminalauth.Key) map[string]*rsa.PublicKey {
	t.Helper()
	c, closeCard := openPINCard(t)
	defer closeCard()
	// A card left by an earlier run of the same state has PINs: the
	// authorised terminal may set them again.
	if err := c.AuthenticateTerminal(key); err != nil {
		t.Fatalf("the test card does not trust the demo terminal authority: %v", err)
	}
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	caCert := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "PIN test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caCert, caCert, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pubs := map[string]*rsa.PublicKey{}
	for i, k := range []string{contract.KindSigning, contract.KindUserAuth} {
		kind := cardKindOf(k)
		if err := c.SetPIN(kind, []byte(pinTestOld[k])); err != nil {
			t.Fatalf("set %s PIN: %v", k, err)
		}
		pub, err := c.GenerateKeyPair(kind)
		if err != nil {
			t.Fatalf("generate %s key: %v", k, err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(100 + i)), Subject: pkix.Name{CommonName: "PIN test " + k},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, pub, caKey)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.WriteCertificate(kind, der, caDER); err != nil {
			t.Fatalf("write %s certificate: %v", k, err)
		}
		pubs[k] = pub
	}
	return pubs
}

// openPINCard opens the test card in reader 0 over PC/SC once it is there:
// right after a card swap the reader may still answer for the card pulled
// out, or fail the first transaction, so it tries again until the card
// answers with the test card's serial. The returned func disconnects.
func openPINCard(t *testing.T) (*cardclient.Client, func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var last error
	for ctx.Err() == nil {
		r, err := cardclient.OpenReader(ctx, chiyodaT.reader)
		if err == nil {
			c := cardclient.New(r)
			var ci cardclient.CardInfo
			if err = c.SelectJPKI(); err == nil {
				ci, err = c.ReadCardInfo()
			}
			if err == nil && ci.Serial == pinCardSerial {
				var once sync.Once
				closeFn := func() { once.Do(func() { r.Close() }) }
				t.Cleanup(closeFn)
				return c, closeFn
			}
			if err == nil {
				err = fmt.Errorf("card %s in the reader", ci.Serial)
			}
			r.Close()
		}
		last = err
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the test card %s did not answer in reader 0: %v", pinCardSerial, last)
	return nil, nil
}

func cardKindOf(k string) cardclient.Kind {
	if k == contract.KindSigning {
		return cardclient.Signing
	}
	return cardclient.UserAuth
}

// TestPINChangeAndReset drives the card agent's PIN steps of 第3 1 on the
// real stack (Temporal, the card agent over pcscd and vpcd, the virtual
// card process, the touch panel): the holder changes the signing PIN,
// after a wrong current PIN that the panel counts; the user-authentication
// PIN, locked by wrong VERIFYs over PC/SC, cannot be changed but is reset
// by the authorised terminal; then PC/SC VERIFYs the new PINs, the counters
// are full, and OpenSC's JPKI driver signs with the reset PIN.
func TestPINChangeAndReset(t *testing.T) {
	beginTest(t)
	startTerminal(t, pinCardSerial, "20360101", false)
	key, err := terminalauth.LoadKey(terminalKeyFile())
	if err != nil {
		t.Fatal(err)
	}
	pubs := issueOverPCSC(t, key)

	// Lock the user-authentication PIN over PC/SC, as a holder who forgot it would.
	c, closeCard := openPINCard(t)
	for i := range 3 {
		err := c.Verify(cardclient.UserAuth, []byte("0000"))
		var wrong *cardclient.WrongPINError
		if i < 2 && (!errors.As(err, &wrong) || wrong.Left != 2-i) {
			t.Fatalf("wrong VERIFY %d: %v", i+1, err)
		}
		if i == 2 && !errors.Is(err, cardclient.ErrPINBlocked) {
			t.Fatalf("the third wrong VERIFY: %v, want blocked", err)
		}
	}
	closeCard()

	tc, queue := pinProbe(t)
	sign, auth := contract.KindSigning, contract.KindUserAuth
	change := func(kind string) pinStepInput {
		return pinStepInput{Change: &contract.ChangePINInput{CaseNumber: "PIN-CHANGE", CardSerial: pinCardSerial, Kind: kind}}
	}

	// A wrong current signing PIN: not changed, a try spent, the panel said 5 before.
	res, err := runPINStep(t, tc, queue, change(sign), func(ctx context.Context) {
		if p := waitPanel(t, ctx, panelURL, "change", sign); p.TriesLeft != 5 {
			t.Errorf("the panel shows %d tries left, want 5", p.TriesLeft)
		}
		changePINAt(t, ctx, panelURL, sign, "WRONGSIGN1", pinTestNew[sign])
	})
	if err != nil || res.Change != (contract.ChangePINResult{RetriesLeft: 4}) {
		t.Fatalf("change with a wrong current PIN: %+v, %v", res.Change, err)
	}
	// Asked again, as the workflow does: the panel shows 4 now; the right PIN changes it.
	res, err = runPINStep(t, tc, queue, change(sign), func(ctx context.Context) {
		if p := waitPanel(t, ctx, panelURL, "change", sign); p.TriesLeft != 4 {
			t.Errorf("the panel shows %d tries left, want 4", p.TriesLeft)
		}
		changePINAt(t, ctx, panelURL, sign, pinTestOld[sign], pinTestNew[sign])
	})
	if err != nil || res.Change != (contract.ChangePINResult{Changed: true, RetriesLeft: 5}) {
		t.Fatalf("change: %+v, %v", res.Change, err)
	}
	// The locked PIN: no change, the holder is not asked.
	res, err = runPINStep(t, tc, queue, change(auth), nil)
	if err != nil || !res.Change.Blocked || res.Change.Changed {
		t.Fatalf("change of the locked PIN: %+v, %v", res.Change, err)
	}

	// The reset of the locked PIN by the authorised terminal T0001.
	res, err = runPINStep(t, tc, queue, pinStepInput{Reset: &contract.ResetPINInput{CaseNumber: "PIN-RESET", CardSerial: pinCardSerial,
		Kinds: []string{auth}, EnteredBy: "clerk1"}}, func(ctx context.Context) {
		if p := waitPanel(t, ctx, panelURL, "reset", auth); p.EnteredBy != "clerk1" || !slices.Equal(p.Kinds, []string{auth}) {
			t.Errorf("the panel asks %+v, want the user-authentication PIN, entered by clerk1", p)
		}
		resetPINAt(t, ctx, panelURL, pinTestReset)
	})
	if err != nil || !slices.Equal(res.Reset.Kinds, []string{auth}) {
		t.Fatalf("reset: %+v, %v", res.Reset, err)
	}

	// Over PC/SC: full counters, the new PINs verify, the old ones do not.
	c, closeCard = openPINCard(t)
	if n, err := c.RetriesLeft(cardclient.UserAuth); err != nil || n != 3 {
		t.Fatalf("after the reset the user-authentication PIN has %d tries left (%v), want 3", n, err)
	}
	if err := c.Verify(cardclient.UserAuth, []byte(pinTestReset[auth])); err != nil {
		t.Fatalf("VERIFY of the reset PIN: %v", err)
	}
	var wrong *cardclient.WrongPINError
	if err := c.Verify(cardclient.Signing, []byte(pinTestOld[sign])); !errors.As(err, &wrong) || wrong.Left != 4 {
		t.Fatalf("the old signing PIN: %v, want refused with 4 left", err)
	}
	if err := c.Verify(cardclient.Signing, []byte(pinTestNew[sign])); err != nil {
		t.Fatalf("VERIFY of the changed signing PIN: %v", err)
	}
	// Without the terminal's authentication nobody with a reader resets it.
	if err := c.ResetPIN(cardclient.UserAuth, []byte("9999")); !errors.Is(err, cardclient.ErrTerminalNotAuthenticated) {
		t.Fatalf("a reset without terminal authentication over PC/SC: %v", err)
	}
	if err := c.SelectJPKI(); err != nil {
		t.Fatal(err)
	}
	closeCard()

	signWithOpenSC(t, pubs[auth], pinTestReset[auth])
}

// signWithOpenSC signs with the user-authentication key (OpenSC's key 01)
// through OpenSC's JPKI driver, giving the PIN on standard input so it is
// on no command line, and checks the signature with the card's public key.
func signWithOpenSC(t *testing.T, pub *rsa.PublicKey, pin string) {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "digest"), filepath.Join(dir, "sig")
	// --sha-256: the input is the SHA-256 digest; OpenSC wraps it in a DigestInfo for the card.
	digest := sha256.Sum256([]byte("signed after the PIN reset"))
	if err := os.WriteFile(in, digest[:], 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("pkcs15-crypt", "--reader", chiyodaT.reader, "--sign", "--key", "01", "--pin", "-",
		"--sha-256", "--pkcs1", "--input", in, "--output", out)
	cmd.Stdin = strings.NewReader(pin + "\n")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pkcs15-crypt --sign: %v\n%s", err, b)
	}
	sig, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
		t.Fatalf("the signature OpenSC made with the reset PIN does not verify: %v", err)
	}
}
