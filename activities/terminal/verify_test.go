package terminal_test

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
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/madoguchi/madoguchi/activities/terminal"
	"github.com/madoguchi/madoguchi/cardagent"
	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/cardclient"
	"github.com/madoguchi/madoguchi/internal/cardproto"
	"github.com/madoguchi/madoguchi/internal/terminalauth"
	"github.com/madoguchi/madoguchi/internal/vcard"
)

// testKey is the one RSA key of these tests: the cards' key pairs and the
// issuer's, so that only one is generated.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

type fixedKey struct{}

func (fixedKey) GenerateKey() (*rsa.PrivateKey, error) { return testKey(), nil }

// authSerial is a serial of the CA's shape (127 bits); its hexadecimal and
// decimal forms differ, so the test sees which one ReadCard uses.
const authSerial = "5f3a9c0d2e71b4a8c6d90e1f2a3b4c5d"

// cardSpec is a virtual card to issue: PINs by kind, and the kinds whose
// certificate is written.
type cardSpec struct {
	serial string
	pins   map[string]string
	certs  []string
	// trust is the terminal key whose authority the card trusts for the PIN reset; nil: none.
	trust *terminalauth.Key
}

func cardKind(k string) cardclient.Kind {
	if k == contract.KindSigning {
		return cardclient.Signing
	}
	return cardclient.UserAuth
}

// issue makes the card through the card protocol, as a counter does.
func issue(t *testing.T, spec cardSpec) *vcard.Applet {
	t.Helper()
	st, err := vcard.NewState(spec.serial, "20351231")
	if err != nil {
		t.Fatal(err)
	}
	if spec.trust != nil {
		if st.TerminalAuthority, err = spec.trust.PublicDER(); err != nil {
			t.Fatal(err)
		}
	}
	a, err := vcard.NewApplet(st, vcard.Options{Keys: fixedKey{}, PINIterations: 1000})
	if err != nil {
		t.Fatal(err)
	}
	c := cardclient.New(cardclient.NewDirect(a))
	if err := c.SelectJPKI(); err != nil {
		t.Fatal(err)
	}
	for k, pin := range spec.pins {
		if err := c.SetPIN(cardKind(k), []byte(pin)); err != nil {
			t.Fatalf("set %s PIN: %v", k, err)
		}
	}
	for _, k := range spec.certs {
		pub, err := c.GenerateKeyPair(cardKind(k))
		if err != nil {
			t.Fatal(err)
		}
		serial, _ := new(big.Int).SetString(authSerial, 16)
		if k == contract.KindSigning {
			serial = big.NewInt(77)
		}
		tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "test " + k},
			NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
		issuer := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, pub, testKey())
		if err != nil {
			t.Fatal(err)
		}
		if err := c.WriteCertificate(cardKind(k), der, nil); err != nil {
			t.Fatalf("write %s certificate: %v", k, err)
		}
	}
	return a
}

// reader is a terminal's reader holding an in-process card; key is the
// terminal's key for the PIN reset (nil: the terminal has none).
type reader struct {
	card atomic.Pointer[vcard.Applet]
	key  *terminalauth.Key
}

func (r *reader) Open(context.Context) (terminal.CardSession, error) {
	a := r.card.Load()
	if a == nil {
		return nil, errors.New("no card in the reader")
	}
	return cardagent.AttachWithKey(cardclient.NewDirect(a), func() error { return nil }, r.key)
}

// holder types a PIN on the panel. It keeps what it handed over, to check
// the activity wiped it, and can swap the card while typing.
type holder struct {
	mu    sync.Mutex
	typed string
	// byKind, when set, is what is typed for each kind instead of typed.
	byKind map[string]string
	// current is the current PIN typed in change mode.
	current string
	asked   []terminal.PINRequest
	handed  [][]byte
	typing  func()
}

func (h *holder) Collect(_ context.Context, req terminal.PINRequest) (map[string][]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.asked = append(h.asked, req)
	if h.typing != nil {
		h.typing()
	}
	out := map[string][]byte{}
	hand := func(key, pin string) {
		b := []byte(pin)
		h.handed = append(h.handed, b)
		out[key] = b
	}
	for _, k := range req.Kinds {
		pin, ok := h.byKind[k]
		if !ok {
			pin = h.typed
		}
		hand(k, pin)
		if req.Mode == terminal.ModeChange {
			hand(terminal.CurrentPINKey(k), h.current)
		}
	}
	return out, nil
}

// wiped fails the test when a PIN handed over was not cleared.
func (h *holder) wiped(t *testing.T) {
	t.Helper()
	for _, b := range h.handed {
		if slices.ContainsFunc(b, func(c byte) bool { return c != 0 }) {
			t.Fatal("a PIN was not wiped")
		}
	}
}

// run executes one card activity in the SDK's activity test environment.
func run[In, Out any](t *testing.T, card *terminal.Card, a contract.Activity[In, Out], in In) (Out, error) {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(card)
	var out Out
	v, err := env.ExecuteActivity(a.Name, in)
	if err != nil {
		return out, err
	}
	if err := v.Get(&out); err != nil {
		t.Fatal(err)
	}
	return out, nil
}

func refusedForGood(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.NonRetryable() && appErr.Type() == contract.ErrTypeInvalid
}

// TestReadCardAuthSerial: ReadCard gives the user-authentication
// certificate's serial as the CA writes serials (lower-case hexadecimal),
// and nothing when the card has none — also when it has a signing
// certificate, which cannot be read without its PIN.
func TestReadCardAuthSerial(t *testing.T) {
	for _, tc := range []struct {
		name  string
		certs []string
		want  string
	}{
		{"blank card", nil, ""},
		{"signing certificate only", []string{contract.KindSigning}, ""},
		{"user-authentication certificate", []string{contract.KindUserAuth}, authSerial},
		{"both", []string{contract.KindSigning, contract.KindUserAuth}, authSerial},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &reader{}
			r.card.Store(issue(t, cardSpec{serial: "VC0001", certs: tc.certs}))
			res, err := run(t, &terminal.Card{Reader: r}, contract.ReadCard, contract.ReadCardInput{CaseNumber: "C-1"})
			if err != nil {
				t.Fatal(err)
			}
			if res.CardSerial != "VC0001" || res.Expiry != "20351231" || res.AuthSerial != tc.want {
				t.Fatalf("ReadCard = %+v, want serial VC0001, expiry 20351231, auth serial %q", res, tc.want)
			}
		})
	}
}

// TestVerifyPIN types PINs one after another on one card: a right PIN is
// verified and refills the counter, a wrong one counts down, the third
// wrong user-authentication PIN blocks it, and a blocked PIN is answered
// without asking the holder for anything.
func TestVerifyPIN(t *testing.T) {
	r := &reader{}
	card := issue(t, cardSpec{serial: "VC0002", pins: map[string]string{contract.KindUserAuth: "1234", contract.KindSigning: "SIGN2026"}})
	r.card.Store(card)
	for i, step := range []struct {
		kind, typed string
		want        contract.VerifyPINResult
		asked       bool
	}{
		{contract.KindUserAuth, "1234", contract.VerifyPINResult{Verified: true, RetriesLeft: 3}, true},
		{contract.KindUserAuth, "9999", contract.VerifyPINResult{RetriesLeft: 2}, true},
		{contract.KindUserAuth, "1234", contract.VerifyPINResult{Verified: true, RetriesLeft: 3}, true},
		{contract.KindSigning, "WRONG1", contract.VerifyPINResult{RetriesLeft: 4}, true},
		{contract.KindSigning, "SIGN2026", contract.VerifyPINResult{Verified: true, RetriesLeft: 5}, true},
		{contract.KindUserAuth, "0000", contract.VerifyPINResult{RetriesLeft: 2}, true},
		{contract.KindUserAuth, "0001", contract.VerifyPINResult{RetriesLeft: 1}, true},
		{contract.KindUserAuth, "0002", contract.VerifyPINResult{Blocked: true}, true},
		{contract.KindUserAuth, "1234", contract.VerifyPINResult{Blocked: true}, false},
	} {
		t.Run(fmt.Sprintf("%d %s", i, step.kind), func(t *testing.T) {
			h := &holder{typed: step.typed}
			got, err := run(t, &terminal.Card{Reader: r, Panel: h}, contract.VerifyPIN,
				contract.VerifyPINInput{CaseNumber: "C-2", CardSerial: "VC0002", Kind: step.kind})
			if err != nil {
				t.Fatal(err)
			}
			if got != step.want {
				t.Fatalf("VerifyPIN = %+v, want %+v", got, step.want)
			}
			if !step.asked {
				if len(h.asked) != 0 {
					t.Fatalf("the holder was asked %v for a blocked PIN", h.asked)
				}
				return
			}
			want := terminal.PINRequest{CaseNumber: "C-2", Kinds: []string{step.kind}, Mode: terminal.ModeVerify}
			if len(h.asked) != 1 || h.asked[0].CaseNumber != want.CaseNumber || !slices.Equal(h.asked[0].Kinds, want.Kinds) || h.asked[0].Mode != want.Mode {
				t.Fatalf("the panel was asked %+v, want once %+v", h.asked, want)
			}
			for _, b := range h.handed {
				if slices.ContainsFunc(b, func(c byte) bool { return c != 0 }) {
					t.Fatal("the PIN was not wiped")
				}
			}
		})
	}
}

// TestVerifyPINDropsTheVerification: after a verified PIN the card's key is
// not left open to whoever uses the reader next (a signature without the
// PIN is refused).
func TestVerifyPINDropsTheVerification(t *testing.T) {
	r := &reader{}
	card := issue(t, cardSpec{serial: "VC0003", pins: map[string]string{contract.KindUserAuth: "1234"}, certs: []string{contract.KindUserAuth}})
	r.card.Store(card)
	got, err := run(t, &terminal.Card{Reader: r, Panel: &holder{typed: "1234"}}, contract.VerifyPIN,
		contract.VerifyPINInput{CaseNumber: "C-3", CardSerial: "VC0003", Kind: contract.KindUserAuth})
	if err != nil || !got.Verified {
		t.Fatalf("VerifyPIN = %+v, %v; want verified", got, err)
	}
	signWithoutPIN(t, card)
}

// signWithoutPIN checks the card refuses a signature without the PIN: no
// verified state was left behind.
func signWithoutPIN(t *testing.T, card *vcard.Applet) {
	t.Helper()
	// Straight to the card, without reselecting (which would reset it anyway).
	if sw := swOf(t, card.Process(cardproto.SelectEF(cardproto.UserAuth.KeyEF()))); sw != cardproto.SWOK {
		t.Fatalf("SELECT key EF: %v", sw)
	}
	digest := sha256.Sum256([]byte("challenge"))
	di, err := cardproto.DigestInfo(crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := cardproto.Sign(di)
	if err != nil {
		t.Fatal(err)
	}
	if sw := swOf(t, card.Process(cmd)); sw != cardproto.SWSecurityNotSatisfied {
		t.Fatalf("SIGN after the activity: %v, want %v (PIN not verified)", sw, cardproto.SWSecurityNotSatisfied)
	}
}

func swOf(t *testing.T, raw []byte) cardproto.StatusWord {
	t.Helper()
	resp, err := cardproto.ParseResponse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return resp.SW
}

// TestVerifyPINRefusals: a card without the PIN, another card than the
// holder's (from the start or swapped while the holder types) and an
// unknown kind are refused for good, costing no try on any card.
func TestVerifyPINRefusals(t *testing.T) {
	pins := map[string]string{contract.KindUserAuth: "1234"}
	for _, tc := range []struct {
		name   string
		card   cardSpec
		kind   string
		swap   bool // the holder's card is swapped for another while typing
		asked  bool
		detail string
	}{
		{"no PIN of that kind", cardSpec{serial: "VC0004"}, contract.KindUserAuth, false, false, "This card has no user-authentication PIN."},
		{"no signing PIN", cardSpec{serial: "VC0004", pins: pins}, contract.KindSigning, false, false, "This card has no signing PIN."},
		{"another card", cardSpec{serial: "VC9999", pins: pins}, contract.KindUserAuth, false, false, "The inserted card is not the holder's card."},
		{"swapped while typing", cardSpec{serial: "VC0004", pins: pins}, contract.KindUserAuth, true, true, "The inserted card is not the holder's card."},
		{"unknown kind", cardSpec{serial: "VC0004", pins: pins}, "other", false, false, "Unknown certificate kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &reader{}
			first := issue(t, tc.card)
			r.card.Store(first)
			other := issue(t, cardSpec{serial: "VC8888", pins: pins})
			h := &holder{typed: "9999"}
			if tc.swap {
				h.typing = func() { r.card.Store(other) }
			}
			_, err := run(t, &terminal.Card{Reader: r, Panel: h}, contract.VerifyPIN,
				contract.VerifyPINInput{CaseNumber: "C-4", CardSerial: "VC0004", Kind: tc.kind})
			if !refusedForGood(err) {
				t.Fatalf("err = %v, want a non-retryable %s error", err, contract.ErrTypeInvalid)
			}
			var appErr *temporal.ApplicationError
			errors.As(err, &appErr)
			if !strings.Contains(appErr.Message(), tc.detail) {
				t.Fatalf("message %q does not say %q", appErr.Message(), tc.detail)
			}
			if asked := len(h.asked) > 0; asked != tc.asked {
				t.Fatalf("holder asked: %v, want %v", asked, tc.asked)
			}
			for _, a := range []*vcard.Applet{first, other} {
				if st := a.State(); st.UserAuth.PIN != nil && st.UserAuth.Retries != 3 {
					t.Fatalf("card %s: %d tries left, want 3: a try was spent", st.Serial, st.UserAuth.Retries)
				}
			}
		})
	}
}
