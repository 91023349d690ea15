package terminal_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/madoguchi/madoguchi/activities/terminal"
	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/cardclient"
	"github.com/madoguchi/madoguchi/internal/terminalauth"
	"github.com/madoguchi/madoguchi/internal/vcard"
)

// demoTerminal is the authorised terminal's key of these tests; rogue one
// that no card trusts.
var (
	demoTerminal = sync.OnceValue(newTerminalKey)
	rogue        = sync.OnceValue(newTerminalKey)
)

func newTerminalKey() *terminalauth.Key {
	k, err := terminalauth.GenerateKey()
	if err != nil {
		panic(err)
	}
	return k
}

// onCard opens the card directly, as any reader would, for checking it.
func onCard(a *vcard.Applet) *cardclient.Client {
	return cardclient.New(cardclient.NewDirect(a))
}

// messageOf is the clerk's message of an application error.
func messageOf(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return ""
}

// TestChangePIN changes PINs one step after another on one card: a wrong
// current PIN costs a try and changes nothing, the panel shows the tries
// left, a right one changes the PIN and refills the counter, and the third
// wrong current user-authentication PIN blocks it, after which the holder is
// not asked again.
func TestChangePIN(t *testing.T) {
	r := &reader{}
	card := issue(t, cardSpec{serial: "VC0101", pins: map[string]string{contract.KindUserAuth: "1234", contract.KindSigning: "SIGN2026"}})
	r.card.Store(card)
	for i, step := range []struct {
		kind, current, typed string
		enteredBy            string
		want                 contract.ChangePINResult
		shownLeft            int // the tries left the panel shows; 0: not asked
		pinNow               string
	}{
		{contract.KindUserAuth, "9999", "5678", "", contract.ChangePINResult{RetriesLeft: 2}, 3, "1234"},
		{contract.KindUserAuth, "1234", "5678", "clerk1", contract.ChangePINResult{Changed: true, RetriesLeft: 3}, 2, "5678"},
		{contract.KindUserAuth, "1234", "1111", "", contract.ChangePINResult{RetriesLeft: 2}, 3, "5678"},
		{contract.KindSigning, "SIGN2026", "NEWSIGN7", "", contract.ChangePINResult{Changed: true, RetriesLeft: 5}, 5, ""},
		{contract.KindUserAuth, "0000", "1111", "", contract.ChangePINResult{RetriesLeft: 1}, 2, "5678"},
		{contract.KindUserAuth, "0001", "1111", "", contract.ChangePINResult{Blocked: true}, 1, ""},
		{contract.KindUserAuth, "5678", "1111", "", contract.ChangePINResult{Blocked: true}, 0, ""},
	} {
		t.Run(fmt.Sprintf("%d %s", i, step.kind), func(t *testing.T) {
			h := &holder{typed: step.typed, current: step.current}
			got, err := run(t, &terminal.Card{Reader: r, Panel: h}, contract.ChangePIN,
				contract.ChangePINInput{CaseNumber: "C-10", CardSerial: "VC0101", Kind: step.kind, EnteredBy: step.enteredBy})
			if err != nil {
				t.Fatal(err)
			}
			if got != step.want {
				t.Fatalf("ChangePIN = %+v, want %+v", got, step.want)
			}
			if step.shownLeft == 0 {
				if len(h.asked) != 0 {
					t.Fatalf("the holder was asked %v for a blocked PIN", h.asked)
				}
				return
			}
			want := terminal.PINRequest{CaseNumber: "C-10", Kinds: []string{step.kind}, EnteredBy: step.enteredBy, Mode: terminal.ModeChange, TriesLeft: step.shownLeft}
			if len(h.asked) != 1 || !slices.Equal(h.asked[0].Kinds, want.Kinds) || h.asked[0].Mode != want.Mode ||
				h.asked[0].TriesLeft != want.TriesLeft || h.asked[0].EnteredBy != want.EnteredBy || h.asked[0].CaseNumber != want.CaseNumber {
				t.Fatalf("the panel was asked %+v, want once %+v", h.asked, want)
			}
			h.wiped(t)
			if step.pinNow != "" {
				// Checked on a copy, so this test's own VERIFY spends no try of the card in the reader.
				copyCard, err := vcard.NewApplet(card.State(), vcard.Options{PINIterations: 1000})
				if err != nil {
					t.Fatal(err)
				}
				if err := onCard(copyCard).Verify(cardclient.UserAuth, []byte(step.pinNow)); err != nil {
					t.Fatalf("the user-authentication PIN is not %q now: %v", step.pinNow, err)
				}
			}
		})
	}
}

// TestChangePINDropsTheVerification: after a change the key is not left
// open to whoever uses the reader next.
func TestChangePINDropsTheVerification(t *testing.T) {
	r := &reader{}
	card := issue(t, cardSpec{serial: "VC0102", pins: map[string]string{contract.KindUserAuth: "1234"}, certs: []string{contract.KindUserAuth}})
	r.card.Store(card)
	got, err := run(t, &terminal.Card{Reader: r, Panel: &holder{current: "1234", typed: "4321"}}, contract.ChangePIN,
		contract.ChangePINInput{CaseNumber: "C-11", CardSerial: "VC0102", Kind: contract.KindUserAuth})
	if err != nil || !got.Changed {
		t.Fatalf("ChangePIN = %+v, %v; want changed", got, err)
	}
	signWithoutPIN(t, card)
}

// TestChangePINRefusals: an unknown kind, another card than the holder's, a
// card without that PIN, and a new PIN that breaks the rules are refused for
// good, costing no try.
func TestChangePINRefusals(t *testing.T) {
	pins := map[string]string{contract.KindUserAuth: "1234"}
	for _, tc := range []struct {
		name   string
		card   cardSpec
		kind   string
		typed  string
		asked  bool
		detail string
	}{
		{"unknown kind", cardSpec{serial: "VC0103", pins: pins}, "other", "5678", false, "Unknown certificate kind"},
		{"another card", cardSpec{serial: "VC9999", pins: pins}, contract.KindUserAuth, "5678", false, "The inserted card is not the holder's card."},
		{"no PIN of that kind", cardSpec{serial: "VC0103", pins: pins}, contract.KindSigning, "NEWSIGN1", false, "This card has no signing PIN."},
		{"new PIN breaks the rule", cardSpec{serial: "VC0103", pins: pins}, contract.KindUserAuth, "12a4", true, "digits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &reader{}
			card := issue(t, tc.card)
			r.card.Store(card)
			h := &holder{current: "1234", typed: tc.typed}
			_, err := run(t, &terminal.Card{Reader: r, Panel: h}, contract.ChangePIN,
				contract.ChangePINInput{CaseNumber: "C-12", CardSerial: "VC0103", Kind: tc.kind})
			if !refusedForGood(err) || !strings.Contains(messageOf(err), tc.detail) {
				t.Fatalf("err = %v, want a non-retryable %s error saying %q", err, contract.ErrTypeInvalid, tc.detail)
			}
			if strings.Contains(err.Error(), tc.typed) {
				t.Fatalf("the error %q shows the PIN", err)
			}
			if asked := len(h.asked) > 0; asked != tc.asked {
				t.Fatalf("holder asked: %v, want %v", asked, tc.asked)
			}
			if st := card.State(); st.UserAuth.Retries != 3 || !st.UserAuth.PIN.Match([]byte("1234")) {
				t.Fatal("the card's PIN or counter changed")
			}
		})
	}
}

// blocked is a card of both PINs, both blocked by wrong VERIFYs.
func blocked(t *testing.T, serial string, trust *terminalauth.Key) *vcard.Applet {
	t.Helper()
	a := issue(t, cardSpec{serial: serial, trust: trust, pins: map[string]string{contract.KindUserAuth: "1234", contract.KindSigning: "SIGN2026"}})
	c := onCard(a)
	for range 5 {
		_ = c.Verify(cardclient.Signing, []byte("WRONG1"))
	}
	for range 3 {
		_ = c.Verify(cardclient.UserAuth, []byte("9999"))
	}
	if st := a.State(); st.Signing.Retries != 0 || st.UserAuth.Retries != 0 {
		t.Fatalf("not blocked: %d/%d", st.Signing.Retries, st.UserAuth.Retries)
	}
	return a
}

// TestResetPIN: from a terminal the card trusts, the PINs asked for get the
// new PINs typed on the panel (reset mode) and full counters; the others
// stay as they were.
func TestResetPIN(t *testing.T) {
	newPINs := map[string]string{contract.KindSigning: "RESET2026", contract.KindUserAuth: "2468"}
	for _, tc := range []struct {
		name  string
		kinds []string
		want  []string
	}{
		{"both", []string{contract.KindUserAuth, contract.KindSigning}, []string{contract.KindSigning, contract.KindUserAuth}},
		{"user authentication only", []string{contract.KindUserAuth}, []string{contract.KindUserAuth}},
		{"signing only", []string{contract.KindSigning}, []string{contract.KindSigning}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &reader{key: demoTerminal()}
			card := blocked(t, "VC0201", demoTerminal())
			r.card.Store(card)
			h := &holder{byKind: newPINs}
			got, err := run(t, &terminal.Card{Reader: r, Panel: h}, contract.ResetPIN,
				contract.ResetPINInput{CaseNumber: "C-20", CardSerial: "VC0201", Kinds: tc.kinds, EnteredBy: "clerk2"})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Kinds, tc.want) {
				t.Fatalf("reset %v, want %v", got.Kinds, tc.want)
			}
			if len(h.asked) != 1 || h.asked[0].Mode != terminal.ModeReset || !slices.Equal(h.asked[0].Kinds, tc.want) || h.asked[0].EnteredBy != "clerk2" {
				t.Fatalf("the panel was asked %+v", h.asked)
			}
			h.wiped(t)
			c := onCard(card)
			for _, k := range []string{contract.KindSigning, contract.KindUserAuth} {
				left, err := c.RetriesLeft(cardKind(k))
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Contains(tc.want, k) {
					if left != 0 {
						t.Fatalf("%s PIN: %d tries left, want still blocked", k, left)
					}
					continue
				}
				if left != cardKind(k).MaxRetries() {
					t.Fatalf("%s PIN: %d tries left, want the maximum", k, left)
				}
				if err := c.Verify(cardKind(k), []byte(newPINs[k])); err != nil {
					t.Fatalf("the new %s PIN: %v", k, err)
				}
			}
			// Nothing stays open after the step: no reset without a new authentication.
			if err := cardclient.New(cardclient.NewDirect(card)).ResetPIN(cardclient.UserAuth, []byte("1111")); !errors.Is(err, cardclient.ErrTerminalNotAuthenticated) {
				t.Fatalf("a reset right after the step: %v", err)
			}
		})
	}
}

// TestResetPINRefusals: a terminal without the key, with a key the card
// does not trust, or a card that trusts no terminal is refused by the card
// before anyone types; so are the wrong card, a card without that PIN and
// bad kinds; a new PIN that breaks the rules changes nothing. The card stays
// blocked each time.
func TestResetPINRefusals(t *testing.T) {
	const notAuthorised = "この統合端末は暗証番号の初期化を認められていません / This terminal is not authorised to reset PINs."
	auth := []string{contract.KindUserAuth}
	for _, tc := range []struct {
		name      string
		key       *terminalauth.Key // the terminal's
		trust     *terminalauth.Key // the card's
		serial    string            // of the card in the reader
		kinds     []string
		typed     string
		swap      bool // the holder's card is swapped for another while typing
		noSigning bool // the card has no signing PIN
		asked     bool
		detail    string
	}{
		{"terminal without a key", nil, demoTerminal(), "VC0301", auth, "2468", false, false, false, notAuthorised},
		{"untrusted terminal", rogue(), demoTerminal(), "VC0301", auth, "2468", false, false, false, notAuthorised},
		{"card that trusts no terminal", demoTerminal(), nil, "VC0301", auth, "2468", false, false, false, notAuthorised},
		{"another card", demoTerminal(), demoTerminal(), "VC9999", auth, "2468", false, false, false, "The inserted card is not the holder's card."},
		{"swapped while typing", demoTerminal(), demoTerminal(), "VC0301", auth, "2468", true, false, true, "The inserted card is not the holder's card."},
		{"no PIN of that kind", demoTerminal(), demoTerminal(), "VC0301", []string{contract.KindSigning}, "RESET2026", false, true, false, "This card has no signing PIN."},
		{"no kind", demoTerminal(), demoTerminal(), "VC0301", nil, "2468", false, false, false, "No PIN to reset"},
		{"unknown kind", demoTerminal(), demoTerminal(), "VC0301", []string{"other"}, "2468", false, false, false, "Unknown certificate kind"},
		{"a kind twice", demoTerminal(), demoTerminal(), "VC0301", []string{contract.KindUserAuth, contract.KindUserAuth}, "2468", false, false, false, "named twice"},
		{"new PIN breaks the rule", demoTerminal(), demoTerminal(), "VC0301", auth, "24a8", false, false, true, "digits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &reader{key: tc.key}
			var first *vcard.Applet
			if tc.noSigning {
				first = issue(t, cardSpec{serial: tc.serial, trust: tc.trust, pins: map[string]string{contract.KindUserAuth: "1234"}})
				_ = onCard(first).Verify(cardclient.UserAuth, []byte("9999"))
				_ = onCard(first).Verify(cardclient.UserAuth, []byte("9999"))
				_ = onCard(first).Verify(cardclient.UserAuth, []byte("9999"))
			} else {
				first = blocked(t, tc.serial, tc.trust)
			}
			r.card.Store(first)
			other := blocked(t, "VC8888", tc.trust)
			h := &holder{typed: tc.typed}
			if tc.swap {
				h.typing = func() { r.card.Store(other) }
			}
			_, err := run(t, &terminal.Card{Reader: r, Panel: h}, contract.ResetPIN,
				contract.ResetPINInput{CaseNumber: "C-30", CardSerial: "VC0301", Kinds: tc.kinds})
			if !refusedForGood(err) || !strings.Contains(messageOf(err), tc.detail) {
				t.Fatalf("err = %v, want a non-retryable %s error saying %q", err, contract.ErrTypeInvalid, tc.detail)
			}
			if strings.Contains(err.Error(), tc.typed) {
				t.Fatalf("the error %q shows the PIN", err)
			}
			if asked := len(h.asked) > 0; asked != tc.asked {
				t.Fatalf("holder asked: %v, want %v", asked, tc.asked)
			}
			for _, a := range []*vcard.Applet{first, other} {
				if st := a.State(); st.UserAuth.Retries != 0 || !st.UserAuth.PIN.Match([]byte("1234")) {
					t.Fatalf("card %s: the user-authentication PIN changed or was unblocked", st.Serial)
				}
			}
		})
	}
}

// TestSetPINsOverAnExistingPIN: issuance on a card that has PINs already (a
// retried step, a card issued again) sets them from an authorised terminal,
// and is refused for good on a terminal without the key.
func TestSetPINsOverAnExistingPIN(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  *terminalauth.Key
		ok   bool
	}{
		{"authorised terminal", demoTerminal(), true},
		{"terminal without a key", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &reader{key: tc.key}
			card := issue(t, cardSpec{serial: "VC0401", trust: demoTerminal(), pins: map[string]string{contract.KindUserAuth: "1234"}})
			r.card.Store(card)
			_, err := run(t, &terminal.Card{Reader: r, Panel: &holder{typed: "8642"}}, contract.SetPINs,
				contract.SetPINsInput{CaseNumber: "C-40", CardSerial: "VC0401", Kinds: []string{contract.KindUserAuth}})
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				if !card.State().UserAuth.PIN.Match([]byte("8642")) {
					t.Fatal("the PIN was not set")
				}
				return
			}
			if !refusedForGood(err) || !strings.Contains(messageOf(err), "not authorised to reset PINs") {
				t.Fatalf("err = %v, want a non-retryable refusal", err)
			}
			if !card.State().UserAuth.PIN.Match([]byte("1234")) {
				t.Fatal("the PIN was changed")
			}
		})
	}
}
