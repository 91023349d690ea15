package cardclient

import (
	"bytes"
	"errors"
	"sync"
	"testing"

	"github.com/madoguchi/madoguchi/internal/cardproto"
	"github.com/madoguchi/madoguchi/internal/terminalauth"
)

// testTerminal is the key the virtual cards of these tests trust;
// rogueTerminal one they do not.
var (
	testTerminal  = sync.OnceValue(func() *terminalauth.Key { return mustTerminalKey() })
	rogueTerminal = sync.OnceValue(func() *terminalauth.Key { return mustTerminalKey() })
)

func mustTerminalKey() *terminalauth.Key {
	k, err := terminalauth.GenerateKey()
	if err != nil {
		panic(err)
	}
	return k
}

// TestAuthenticateTerminalAndReset: only the trusted terminal's signature
// opens the reset; a blocked PIN then takes a new one with a full counter,
// and reselecting the application closes the reset again.
func TestAuthenticateTerminalAndReset(t *testing.T) {
	for _, tt := range []struct {
		name    string
		trusted *terminalauth.Key
		signer  TerminalSigner
		authErr error // nil: authenticated
	}{
		{"trusted terminal", testTerminal(), testTerminal(), nil},
		{"untrusted terminal", testTerminal(), rogueTerminal(), ErrTerminalNotTrusted},
		{"card trusting no terminal", nil, testTerminal(), ErrTerminalNotTrusted},
		{"terminal without a key", testTerminal(), nil, ErrTerminalNotTrusted},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, a, _ := newTrusting(t, tt.trusted)
			if err := c.SetPIN(UserAuth, []byte("1234")); err != nil {
				t.Fatal(err)
			}
			for range 3 {
				_ = c.Verify(UserAuth, []byte("9999"))
			}
			err := c.AuthenticateTerminal(tt.signer)
			if !errors.Is(err, tt.authErr) || (tt.authErr == nil) != (err == nil) {
				t.Fatalf("AuthenticateTerminal: %v, want %v", err, tt.authErr)
			}
			err = c.ResetPIN(UserAuth, []byte("5678"))
			if tt.authErr != nil {
				if !errors.Is(err, ErrTerminalNotAuthenticated) {
					t.Fatalf("reset after a refused authentication: %v", err)
				}
				if n, _ := c.RetriesLeft(UserAuth); n != 0 || a.State().UserAuth.Retries != 0 {
					t.Fatalf("a refused reset unblocked the PIN: %d left", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n, err := c.RetriesLeft(UserAuth); err != nil || n != 3 {
				t.Fatalf("after the reset %d tries left (%v), want 3", n, err)
			}
			if err := c.Verify(UserAuth, []byte("5678")); err != nil {
				t.Fatalf("new PIN: %v", err)
			}
			if err := c.SelectJPKI(); err != nil {
				t.Fatal(err)
			}
			if err := c.ResetPIN(UserAuth, []byte("2468")); !errors.Is(err, ErrTerminalNotAuthenticated) {
				t.Fatalf("reset after reselection: %v", err)
			}
		})
	}
}

// TestAuthenticateTerminalCommands: the serial is read first, and the
// challenge is answered by the very next command, as the card requires.
func TestAuthenticateTerminalCommands(t *testing.T) {
	c, _, rec := newVirtual(t)
	if err := c.AuthenticateTerminal(testTerminal()); err != nil {
		t.Fatal(err)
	}
	n := len(rec.cmds)
	if n < 3 {
		t.Fatalf("%d commands", n)
	}
	if !bytes.Equal(rec.cmds[n-2], cardproto.GetChallenge()) || rec.cmds[n-1][1] != cardproto.INSExternalAuth || rec.cmds[n-3][1] != cardproto.INSReadBinary {
		t.Fatalf("last commands % X / % X / % X", rec.cmds[n-3][:2], rec.cmds[n-2], rec.cmds[n-1][:4])
	}
}

// TestResetPINRefusals: a PIN that breaks the rules is not sent; a PIN
// never set is not reset (issuance sets it); SET PIN over a set PIN is a
// reset too and needs the terminal authenticated.
func TestResetPINRefusals(t *testing.T) {
	c, _, rec := newVirtual(t)
	if err := c.SetPIN(Signing, []byte("SIGN2026")); err != nil {
		t.Fatal(err)
	}
	if err := c.SetPIN(Signing, []byte("SIGN2027")); !errors.Is(err, ErrTerminalNotAuthenticated) {
		t.Fatalf("SET PIN over a set PIN without authentication: %v", err)
	}
	if err := c.AuthenticateTerminal(testTerminal()); err != nil {
		t.Fatal(err)
	}
	sent := len(rec.cmds)
	if err := c.ResetPIN(Signing, []byte("lower1")); !errors.Is(err, ErrInvalidPIN) {
		t.Fatalf("invalid PIN: %v", err)
	}
	if len(rec.cmds) != sent {
		t.Fatal("an invalid PIN was sent to the card")
	}
	if err := c.ResetPIN(UserAuth, []byte("1234")); !errors.Is(err, ErrPINNotSet) {
		t.Fatalf("reset of a PIN never set: %v", err)
	}
	if err := c.SetPIN(Signing, []byte("SIGN2027")); err != nil {
		t.Fatalf("SET PIN over a set PIN, authenticated: %v", err)
	}
	if err := c.ResetPIN(Signing, []byte("SIGN2028")); err != nil {
		t.Fatal(err)
	}
}

// keeper passes commands on and keeps the very buffers it was given.
type keeper struct {
	inner Transmitter
	bufs  [][]byte
}

func (k *keeper) Transmit(cmd []byte) ([]byte, error) {
	k.bufs = append(k.bufs, cmd)
	return k.inner.Transmit(cmd)
}

// TestResetPINWipesTheCommand: the buffer that carried the new PIN is
// cleared once the card answered.
func TestResetPINWipesTheCommand(t *testing.T) {
	_, a, _ := newVirtual(t)
	k := &keeper{inner: NewDirect(a)}
	c := New(k)
	if err := c.SetPIN(UserAuth, []byte("1357")); err != nil {
		t.Fatal(err)
	}
	if err := c.AuthenticateTerminal(testTerminal()); err != nil {
		t.Fatal(err)
	}
	if err := c.ResetPIN(UserAuth, []byte("2468")); err != nil {
		t.Fatal(err)
	}
	for _, b := range k.bufs {
		if bytes.Contains(b, []byte("1357")) || bytes.Contains(b, []byte("2468")) {
			t.Fatalf("a command buffer still holds a PIN: % X", b[:min(4, len(b))])
		}
	}
}
