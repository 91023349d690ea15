package cardclient

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ebfe/scard"

	"github.com/madoguchi/madoguchi/internal/cardproto"
	"github.com/madoguchi/madoguchi/internal/vcard"
)

// vpcdSlot is one of vpcd's two readers and the port its virtual card dials.
type vpcdSlot struct{ reader, addr string }

var vpcdSlots = []vpcdSlot{
	{"Virtual PCD 00 00", "127.0.0.1:35963"},
	{"Virtual PCD 00 01", "127.0.0.1:35964"},
}

// pickSlot returns reader 0, or reader 1 when a development card agent's vcard
// already sits in reader 0 (vpcd serves one card per reader).
func pickSlot(t *testing.T) vpcdSlot {
	t.Helper()
	sctx, err := scard.EstablishContext()
	if err != nil {
		t.Fatalf("pcscd not reachable: %v", err)
	}
	defer sctx.Release()
	for _, s := range vpcdSlots {
		states := []scard.ReaderState{{Reader: s.reader, CurrentState: scard.StateUnaware}}
		if err := sctx.GetStatusChange(states, 0); err != nil {
			t.Fatalf("status of %q: %v", s.reader, err)
		}
		if states[0].EventState&scard.StatePresent == 0 {
			return s
		}
		t.Logf("%q already holds another card; trying the next reader", s.reader)
	}
	t.Fatal("both vpcd readers already hold a card (other vcard processes on ports 35963 and 35964): stop one and rerun")
	return vpcdSlot{}
}

// insertCard loads the card in path and connects it to vpcd; the returned
// function removes it again (and waits until it is gone).
func insertCard(t *testing.T, path string, slot vpcdSlot) (remove func()) {
	t.Helper()
	st, _, err := vcard.LoadOrCreate(path, integrationSerial, "20370101")
	if err != nil {
		t.Fatal(err)
	}
	a, err := vcard.NewApplet(st, vcard.Options{Store: vcard.FileStore{Path: path}, Keys: testKeys, PINIterations: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	conn := &vcard.Connector{Addr: slot.addr, Applet: a, MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond}
	go func() { done <- conn.Run(ctx) }()
	removed := false
	remove = func() {
		if removed {
			return
		}
		removed = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("connector: %v", err)
		}
	}
	t.Cleanup(remove)
	return remove
}

func openReader(t *testing.T, slot vpcdSlot) *PCSCReader {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := OpenReader(ctx, slot.reader)
	if err != nil {
		t.Fatalf("OpenReader: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// integrationSerial identifies our card, so a foreign card grabbing the reader is noticed.
var integrationSerial = fmt.Sprintf("VC-IT-%d", time.Now().UnixNano()%1_000_000_000)

// TestPCSCIntegration drives the virtual card through the real pcscd and vpcd,
// exactly as a card agent at a counter drives a physical reader.
func TestPCSCIntegration(t *testing.T) {
	if os.Getenv("MADOGUCHI_PCSC") != "1" {
		t.Skip("MADOGUCHI_PCSC is not 1: needs pcscd with vsmartcard-vpcd running (mkdir -p /run/pcscd; pcscd --foreground)")
	}
	slot := pickSlot(t)
	path := filepath.Join(t.TempDir(), "card.json")
	remove := insertCard(t, path, slot)
	r := openReader(t, slot)

	atr, err := r.ATR()
	if err != nil || !bytes.Equal(atr, cardproto.ATR) {
		t.Fatalf("ATR % X %v", atr, err)
	}
	if p := r.Protocol(); p != "T=1" {
		t.Fatalf("protocol %s, want T=1 as the ATR offers", p)
	}
	t.Logf("reader %q: ATR % X, %s", r.Reader(), atr, r.Protocol())

	c := New(r)
	if err := c.SelectJPKI(); err != nil {
		t.Fatal(err)
	}
	if tok, err := c.ReadTokenInfo(); err != nil || tok != cardproto.TokenInfoName {
		t.Fatalf("token info %q %v", tok, err)
	}
	ci, err := c.ReadCardInfo()
	if err != nil || ci.Serial != integrationSerial || ci.Expiry != "20370101" {
		t.Fatalf("card info %+v %v (a serial not %s means another vcard took the reader)", ci, err, integrationSerial)
	}

	ca := newTestCA(t)
	pins := map[Kind][]byte{Signing: []byte("PCSC2025"), UserAuth: []byte("9876")}
	pubs := map[Kind]*rsa.PublicKey{}
	certs := map[Kind][]byte{}
	for i, k := range []Kind{Signing, UserAuth} {
		if err := c.SetPIN(k, pins[k]); err != nil {
			t.Fatal(err)
		}
		pub, err := c.GenerateKeyPair(k) // 294-byte answer: 61 xx + GET RESPONSE through pcscd
		if err != nil {
			t.Fatal(err)
		}
		pubs[k] = pub
		certs[k] = ca.issue(t, pub, int64(200+i))
		if err := c.WriteCertificate(k, certs[k], ca.der); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.ReadCertificate(Signing); !errors.Is(err, ErrPINNotVerified) {
		t.Fatalf("signing cert before VERIFY: %v", err)
	}
	if got, err := c.ReadCertificate(UserAuth); err != nil || !bytes.Equal(got, certs[UserAuth]) {
		t.Fatalf("user-auth cert: %v", err)
	}
	var wp *WrongPINError
	if err := c.Verify(UserAuth, []byte("0000")); !errors.As(err, &wp) || wp.Left != 2 {
		t.Fatalf("wrong PIN: %v", err)
	}
	if err := c.Verify(Signing, pins[Signing]); err != nil {
		t.Fatal(err)
	}
	if got, err := c.ReadCertificate(Signing); err != nil || !bytes.Equal(got, certs[Signing]) {
		t.Fatalf("signing cert: %v", err)
	}
	digest := sha256.Sum256([]byte("via pcscd"))
	sig, err := c.SignDigest(Signing, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(pubs[Signing], crypto.SHA256, digest[:], sig); err != nil {
		t.Fatalf("signature: %v", err)
	}

	// Take the card out: the reader notices, and soon says so as ErrCardRemoved.
	remove()
	deadline := time.Now().Add(10 * time.Second)
	var last string
	for {
		_, err := c.RetriesLeft(UserAuth)
		if err != nil && err.Error() != last {
			t.Logf("after removal: %v", err)
			last = err.Error()
		}
		if errors.Is(err, ErrCardRemoved) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("removal not reported as ErrCardRemoved: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = r.Close()
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := WaitForCardRemoval(wctx, slot.reader); err != nil {
		t.Fatal(err)
	}

	// Put it back (a restarted vcard): keys, certificates and the retry counter survived.
	insertCard(t, path, slot)
	r2 := openReader(t, slot)
	c2 := New(r2)
	if n, err := c2.RetriesLeft(UserAuth); err != nil || n != 2 {
		t.Fatalf("retry counter after reinsertion: %d %v", n, err)
	}
	if pub, err := c2.PublicKey(Signing); err != nil || !pub.Equal(pubs[Signing]) {
		t.Fatalf("signing key after reinsertion: %v", err)
	}
	// The security state did not survive the power cycle.
	if _, err := c2.SignDigest(Signing, crypto.SHA256, digest[:]); !errors.Is(err, ErrPINNotVerified) {
		t.Fatalf("sign after reinsertion without VERIFY: %v", err)
	}
	if err := c2.Verify(UserAuth, pins[UserAuth]); err != nil {
		t.Fatal(err)
	}
	if n, _ := c2.RetriesLeft(UserAuth); n != 3 {
		t.Fatalf("counter not reset by the right PIN: %d", n)
	}
	sig2, err := c2.SignDigest(UserAuth, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(pubs[UserAuth], crypto.SHA256, digest[:], sig2); err != nil {
		t.Fatalf("user-auth signature: %v", err)
	}
}

// TestOpenReaderHonoursContext checks that waiting for an absent reader ends with ctx.
func TestOpenReaderHonoursContext(t *testing.T) {
	if os.Getenv("MADOGUCHI_PCSC") != "1" {
		t.Skip("MADOGUCHI_PCSC is not 1: needs pcscd with vsmartcard-vpcd running")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	// A reader that never appears: OpenReader keeps waiting for it until ctx ends.
	r, err := OpenReader(ctx, "madoguchi test reader that does not exist")
	if err == nil {
		r.Close()
		t.Fatal("OpenReader returned a card for a reader that does not exist")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v to notice the deadline", d)
	}
}
