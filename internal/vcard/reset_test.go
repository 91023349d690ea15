package vcard

import (
	"bytes"
	"path/filepath"
	"sync"
	"testing"

	"github.com/madoguchi/madoguchi/internal/cardproto"
	"github.com/madoguchi/madoguchi/internal/terminalauth"
)

// testTerminal is the authorised terminal of these tests; rogueTerminal
// one whose key no card trusts.
var (
	testTerminal  = sync.OnceValue(func() *terminalauth.Key { return mustKey() })
	rogueTerminal = sync.OnceValue(func() *terminalauth.Key { return mustKey() })
)

func mustKey() *terminalauth.Key {
	k, err := terminalauth.GenerateKey()
	if err != nil {
		panic(err)
	}
	return k
}

// trustingCard is a card provisioned with the authority of trusted (none when nil).
func trustingCard(t *testing.T, trusted *terminalauth.Key) *card {
	t.Helper()
	st, err := NewState("VC-TEST-0002", "20351231")
	if err != nil {
		t.Fatal(err)
	}
	if trusted != nil {
		if st.TerminalAuthority, err = trusted.PublicDER(); err != nil {
			t.Fatal(err)
		}
	}
	a, err := NewApplet(st, Options{Keys: testKeys, PINIterations: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return &card{t: t, a: a}
}

// authenticate runs GET CHALLENGE and EXTERNAL AUTHENTICATE signed by k for
// the card's serial.
func (c *card) authenticate(k *terminalauth.Key, serial string) cardproto.StatusWord {
	c.t.Helper()
	ch := c.expect(cardproto.GetChallenge(), cardproto.SWOK)
	if len(ch) != cardproto.ChallengeLen {
		c.t.Fatalf("challenge of %d bytes", len(ch))
	}
	sig, err := k.SignChallenge(serial, ch)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.send(must(cardproto.ExternalAuthenticate(sig))).SW
}

// block spends every try of the kind's PIN.
func (c *card) block(k cardproto.Kind, wrong string) {
	c.t.Helper()
	c.selectEF(k.PINEF())
	for range k.MaxRetries() {
		c.send(c.verifyApdu(wrong))
	}
	c.expect(cardproto.VerifyStatus(), cardproto.RetriesSW(0))
}

// TestResetRetryCounter: a blocked PIN is reset only after an authorised
// terminal proved itself with the challenge just issued, for this card;
// then the new PIN works, the old one does not, and the counter is full.
func TestResetRetryCounter(t *testing.T) {
	const serial = "VC-TEST-0002"
	for _, tt := range []struct {
		name    string
		trusted *terminalauth.Key // the card's authority; nil: none
		auth    func(c *card) cardproto.StatusWord
		authSW  cardproto.StatusWord
		resetSW cardproto.StatusWord
	}{
		{"no terminal authentication", testTerminal(), nil, 0, cardproto.SWSecurityNotSatisfied},
		{"an untrusted terminal", testTerminal(), func(c *card) cardproto.StatusWord { return c.authenticate(rogueTerminal(), serial) },
			cardproto.SWAuthFailed, cardproto.SWSecurityNotSatisfied},
		{"a card that trusts no terminal", nil, func(c *card) cardproto.StatusWord { return c.authenticate(testTerminal(), serial) },
			cardproto.SWReferencedDataNotFound, cardproto.SWSecurityNotSatisfied},
		{"a signature made for another card", testTerminal(), func(c *card) cardproto.StatusWord { return c.authenticate(testTerminal(), "VC-TEST-0003") },
			cardproto.SWAuthFailed, cardproto.SWSecurityNotSatisfied},
		{"no challenge asked", testTerminal(), func(c *card) cardproto.StatusWord {
			sig, _ := testTerminal().SignChallenge(serial, make([]byte, 8))
			return c.send(must(cardproto.ExternalAuthenticate(sig))).SW
		}, cardproto.SWConditionsNotSatisfied, cardproto.SWSecurityNotSatisfied},
		{"a command between challenge and answer", testTerminal(), func(c *card) cardproto.StatusWord {
			ch := c.expect(cardproto.GetChallenge(), cardproto.SWOK)
			c.selectEF(cardproto.EFUserAuthPIN)
			sig, _ := testTerminal().SignChallenge(serial, ch)
			return c.send(must(cardproto.ExternalAuthenticate(sig))).SW
		}, cardproto.SWConditionsNotSatisfied, cardproto.SWSecurityNotSatisfied},
		{"a replayed answer", testTerminal(), func(c *card) cardproto.StatusWord {
			ch := c.expect(cardproto.GetChallenge(), cardproto.SWOK)
			sig, _ := testTerminal().SignChallenge(serial, ch)
			c.expect(must(cardproto.ExternalAuthenticate(sig)), cardproto.SWOK)
			c.selectAP() // the session ends; an eavesdropper replays the answer to a new challenge
			c.expect(cardproto.GetChallenge(), cardproto.SWOK)
			return c.send(must(cardproto.ExternalAuthenticate(sig))).SW
		}, cardproto.SWAuthFailed, cardproto.SWSecurityNotSatisfied},
		{"authentication lost by reselection", testTerminal(), func(c *card) cardproto.StatusWord {
			sw := c.authenticate(testTerminal(), serial)
			c.selectAP()
			return sw
		}, cardproto.SWOK, cardproto.SWSecurityNotSatisfied},
		{"the authorised terminal", testTerminal(), func(c *card) cardproto.StatusWord { return c.authenticate(testTerminal(), serial) },
			cardproto.SWOK, cardproto.SWOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := trustingCard(t, tt.trusted)
			c.selectAP()
			c.setPIN(cardproto.UserAuth, "1234")
			c.block(cardproto.UserAuth, "9999")
			if tt.auth != nil {
				if got := tt.auth(c); got != tt.authSW {
					t.Fatalf("EXTERNAL AUTHENTICATE: %v, want %v", got, tt.authSW)
				}
			}
			c.selectEF(cardproto.EFUserAuthPIN)
			if got := c.send(must(cardproto.ResetRetryCounter([]byte("5678")))).SW; got != tt.resetSW {
				t.Fatalf("RESET RETRY COUNTER: %v, want %v", got, tt.resetSW)
			}
			// SET PIN over the existing PIN is the same reset and needs the same proof.
			if got := c.send(must(cardproto.SetPIN([]byte("5678")))).SW; got != tt.resetSW {
				t.Fatalf("SET PIN over a set PIN: %v, want %v", got, tt.resetSW)
			}
			if tt.resetSW != cardproto.SWOK {
				c.expect(cardproto.VerifyStatus(), cardproto.RetriesSW(0))
				if st := c.a.State(); st.UserAuth.Retries != 0 || !st.UserAuth.PIN.Match([]byte("1234")) {
					t.Fatal("a refused reset changed the PIN or its counter")
				}
				return
			}
			c.expect(cardproto.VerifyStatus(), cardproto.RetriesSW(3))
			c.expect(c.verifyApdu("1234"), cardproto.RetriesSW(2))
			c.expect(c.verifyApdu("5678"), cardproto.SWOK)
			c.expect(cardproto.VerifyStatus(), cardproto.RetriesSW(3))
		})
	}
}

// TestResetRetryCounterRefusals: with the terminal authenticated, the card
// still refuses a PIN that breaks the rules, a PIN never set (that is
// issuance's SET PIN), an EF that is no PIN, and wrong parameters; the
// signing and user-authentication PINs are reset separately.
func TestResetRetryCounterRefusals(t *testing.T) {
	c := trustingCard(t, testTerminal())
	c.selectAP()
	c.setPIN(cardproto.Signing, "SIGN2026")
	c.block(cardproto.Signing, "WRONG1")
	if sw := c.authenticate(testTerminal(), "VC-TEST-0002"); sw != cardproto.SWOK {
		t.Fatalf("EXTERNAL AUTHENTICATE: %v", sw)
	}
	c.selectEF(cardproto.EFSigningPIN)
	c.expect(must(cardproto.ResetRetryCounter([]byte("lower1"))), cardproto.SWWrongData)
	c.selectEF(cardproto.EFUserAuthPIN)
	c.expect(must(cardproto.ResetRetryCounter([]byte("1234"))), cardproto.SWReferenceDataNotUsable)
	c.selectEF(cardproto.EFSigningKey)
	c.expect(must(cardproto.ResetRetryCounter([]byte("NEWSIGN1"))), cardproto.SWNoCurrentEF)
	c.selectEF(cardproto.EFSigningPIN)
	c.expect([]byte{0x00, 0x2C, 0x03, 0x80, 0x01, 0x31}, cardproto.SWIncorrectP1P2)
	c.expect(must(cardproto.ResetRetryCounter([]byte("NEWSIGN1"))), cardproto.SWOK)
	c.expect(cardproto.VerifyStatus(), cardproto.RetriesSW(5))
	if st := c.a.State(); st.UserAuth.PIN != nil {
		t.Fatal("the user-authentication PIN was set by the signing PIN's reset")
	}
}

// TestGetChallenge: 8 fresh bytes each time, and only an Le of 8.
func TestGetChallenge(t *testing.T) {
	c := trustingCard(t, testTerminal())
	c.selectAP()
	a := c.expect(cardproto.GetChallenge(), cardproto.SWOK)
	b := c.expect(cardproto.GetChallenge(), cardproto.SWOK)
	if len(a) != 8 || bytes.Equal(a, b) {
		t.Fatalf("challenges % X and % X", a, b)
	}
	c.expect([]byte{0x00, 0x84, 0x00, 0x00, 0x10}, cardproto.SWWrongLength)
	c.expect([]byte{0x00, 0x84, 0x00, 0x00}, cardproto.SWWrongLength)
	c.expect([]byte{0x00, 0x84, 0x01, 0x00, 0x08}, cardproto.SWIncorrectP1P2)
	c.expect([]byte{0x00, 0x82, 0x00, 0x00}, cardproto.SWWrongLength)
}

// TestChangePINCountsWrongOldPIN: the holder's change goes through VERIFY of
// the current PIN, so a wrong one counts a try and leaves the change
// refused; a blocked PIN cannot be changed; the right one then changes it.
func TestChangePINCountsWrongOldPIN(t *testing.T) {
	c := newCard(t, Options{})
	c.selectAP()
	c.setPIN(cardproto.Signing, "OLDSIGN1")
	c.selectEF(cardproto.EFSigningPIN)
	c.expect(c.verifyApdu("WRONG12"), cardproto.RetriesSW(4))
	c.expect(must(cardproto.ChangePIN([]byte("NEWSIGN1"))), cardproto.SWSecurityNotSatisfied)
	c.expect(c.verifyApdu("OLDSIGN1"), cardproto.SWOK)
	c.expect(must(cardproto.ChangePIN([]byte("NEWSIGN1"))), cardproto.SWOK)
	c.expect(cardproto.VerifyStatus(), cardproto.RetriesSW(5))
	c.selectAP()
	c.block(cardproto.Signing, "WRONG12")
	c.expect(must(cardproto.ChangePIN([]byte("NEWSIGN2"))), cardproto.SWAuthMethodBlocked)
	if !c.a.State().Signing.PIN.Match([]byte("NEWSIGN1")) {
		t.Fatal("the blocked PIN was changed")
	}
}

// TestTerminalAuthorityState: the trusted key survives a save and load, and
// a state with a key that is no P-256 key is refused.
func TestTerminalAuthorityState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "card.json")
	st, _ := NewState("VC-TEST-0004", "20351231")
	st.TerminalAuthority, _ = testTerminal().PublicDER()
	if err := SaveState(path, st); err != nil {
		t.Fatal(err)
	}
	got, err := LoadState(path)
	if err != nil || !bytes.Equal(got.TerminalAuthority, st.TerminalAuthority) {
		t.Fatalf("loaded %v, %v", got, err)
	}
	got.TerminalAuthority = []byte{1, 2, 3}
	if err := got.Validate(); err == nil {
		t.Fatal("a broken authority key passed validation")
	}
}
