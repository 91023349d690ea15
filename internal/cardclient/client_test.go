package cardclient

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/cardproto"
	"github.com/madoguchi/madoguchi/internal/terminalauth"
	"github.com/madoguchi/madoguchi/internal/vcard"
)

var testKeys vcard.KeySource = vcard.OnDemand{}

func TestMain(m *testing.M) {
	pool, err := vcard.NewKeyPool(8)
	if err != nil {
		panic(err)
	}
	testKeys = pool
	os.Exit(m.Run())
}

// recorder is a Transmitter that keeps every command it passes on.
type recorder struct {
	inner Transmitter
	cmds  [][]byte
}

func (r *recorder) Transmit(cmd []byte) ([]byte, error) {
	r.cmds = append(r.cmds, append([]byte(nil), cmd...))
	return r.inner.Transmit(cmd)
}

func newVirtual(t *testing.T) (*Client, *vcard.Applet, *recorder) {
	t.Helper()
	return newTrusting(t, testTerminal())
}

// newTrusting is a blank virtual card that trusts the terminal key k (none when nil).
func newTrusting(t *testing.T, k *terminalauth.Key) (*Client, *vcard.Applet, *recorder) {
	t.Helper()
	st, err := vcard.NewState("VC-CLIENT-1", "20360331")
	if err != nil {
		t.Fatal(err)
	}
	if k != nil {
		if st.TerminalAuthority, err = k.PublicDER(); err != nil {
			t.Fatal(err)
		}
	}
	a, err := vcard.NewApplet(st, vcard.Options{Keys: testKeys, PINIterations: 1000})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{inner: NewDirect(a)}
	return New(rec), a, rec
}

type testCA struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
	der  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := testKeys.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test JPKI CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{key: key, cert: cert, der: der}
}

func (ca *testCA) issue(t *testing.T, pub *rsa.PublicKey, serial int64) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "holder"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestIssuanceAndUse(t *testing.T) {
	c, _, rec := newVirtual(t)
	ca := newTestCA(t)

	if err := c.SelectJPKI(); err != nil {
		t.Fatal(err)
	}
	if tok, err := c.ReadTokenInfo(); err != nil || tok != "JPKIAPICCTOKEN2" {
		t.Fatalf("token %q %v", tok, err)
	}
	ci, err := c.ReadCardInfo()
	if err != nil || ci.Serial != "VC-CLIENT-1" || ci.Expiry != "20360331" {
		t.Fatalf("card info %+v %v", ci, err)
	}
	for _, k := range []Kind{Signing, UserAuth} {
		if has, err := c.HasKey(k); err != nil || has {
			t.Fatalf("%v: blank card has key=%v err=%v", k, has, err)
		}
		if _, err := c.RetriesLeft(k); !errors.Is(err, ErrPINNotSet) {
			t.Fatalf("%v: retries on blank card: %v", k, err)
		}
		if _, err := c.ReadCertificate(k); !errors.Is(err, ErrNoCertificate) && !errors.Is(err, ErrPINNotVerified) {
			t.Fatalf("%v: certificate on blank card: %v", k, err)
		}
	}
	if err := c.WriteCertificate(UserAuth, ca.issue(t, &ca.key.PublicKey, 9), ca.der); !errors.Is(err, ErrNoKey) {
		t.Fatalf("certificate before key: %v", err)
	}

	// Issuance as the counter does it.
	pins := map[Kind][]byte{Signing: []byte("MADO2024"), UserAuth: []byte("2580")}
	certs := map[Kind][]byte{}
	pubs := map[Kind]*rsa.PublicKey{}
	for i, k := range []Kind{Signing, UserAuth} {
		if err := c.SetPIN(k, pins[k]); err != nil {
			t.Fatal(err)
		}
		pub, err := c.GenerateKeyPair(k)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := c.PublicKey(k); err != nil || !again.Equal(pub) {
			t.Fatalf("%v: PublicKey differs from generated: %v", k, err)
		}
		pubs[k] = pub
		certs[k] = ca.issue(t, pub, int64(100+i))
		// Twice, as a retried activity would.
		for range 2 {
			if err := c.WriteCertificate(k, certs[k], ca.der); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := c.RetriesLeft(k); err != nil || n != k.MaxRetries() {
			t.Fatalf("%v: retries %d %v", k, n, err)
		}
	}
	if pubs[Signing].Equal(pubs[UserAuth]) {
		t.Fatal("both kinds got the same key")
	}

	// The user-authentication certificate is public; the signing one needs the signing PIN.
	if got, err := c.ReadCertificate(UserAuth); err != nil || !bytes.Equal(got, certs[UserAuth]) {
		t.Fatalf("user-auth cert: %v", err)
	}
	if got, err := c.ReadCACertificate(Signing); err != nil || !bytes.Equal(got, ca.der) {
		t.Fatalf("signing CA cert: %v", err)
	}
	if _, err := c.ReadCertificate(Signing); !errors.Is(err, ErrPINNotVerified) {
		t.Fatalf("signing cert before VERIFY: %v", err)
	}
	digest := sha256.Sum256([]byte("電子申請"))
	if _, err := c.SignDigest(Signing, crypto.SHA256, digest[:]); !errors.Is(err, ErrPINNotVerified) {
		t.Fatalf("sign before VERIFY: %v", err)
	}
	if err := c.Verify(Signing, pins[Signing]); err != nil {
		t.Fatal(err)
	}
	if got, err := c.ReadCertificate(Signing); err != nil || !bytes.Equal(got, certs[Signing]) {
		t.Fatalf("signing cert after VERIFY: %v", err)
	}
	sig, err := c.SignDigest(Signing, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	// The signature verifies with the certificate read back from the card.
	cert, err := x509.ParseCertificate(certs[Signing])
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
		t.Fatalf("signature: %v", err)
	}
	// The user-auth key is still locked: verifying one PIN does not open the other key.
	if _, err := c.SignDigest(UserAuth, crypto.SHA256, digest[:]); !errors.Is(err, ErrPINNotVerified) {
		t.Fatalf("user-auth sign without its PIN: %v", err)
	}
	// Selecting the application again forgets the verification.
	if err := c.SelectJPKI(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SignDigest(Signing, crypto.SHA256, digest[:]); !errors.Is(err, ErrPINNotVerified) {
		t.Fatalf("sign after reselect: %v", err)
	}

	// Every command stayed a short APDU, so any reader and T=0/T=1 path carries it.
	for _, cmd := range rec.cmds {
		if parsed, err := cardproto.ParseCommand(cmd); err != nil || parsed.Extended {
			t.Fatalf("command % X is not a short APDU", cmd[:min(8, len(cmd))])
		}
	}
}

func TestPINLockoutAndReset(t *testing.T) {
	for _, tt := range []struct {
		kind       Kind
		pin, wrong string
	}{
		{Signing, "ABCDEF1", "ABCDEF2"},
		{UserAuth, "1357", "7531"},
	} {
		t.Run(tt.kind.String(), func(t *testing.T) {
			c, _, _ := newVirtual(t)
			if err := c.SetPIN(tt.kind, []byte(tt.pin)); err != nil {
				t.Fatal(err)
			}
			max := tt.kind.MaxRetries()
			// One wrong, then right: the counter goes back to the maximum.
			var wp *WrongPINError
			if err := c.Verify(tt.kind, []byte(tt.wrong)); !errors.As(err, &wp) || wp.Left != max-1 {
				t.Fatalf("first wrong PIN: %v", err)
			}
			if err := c.Verify(tt.kind, []byte(tt.pin)); err != nil {
				t.Fatal(err)
			}
			if n, _ := c.RetriesLeft(tt.kind); n != max {
				t.Fatalf("counter after success %d, want %d", n, max)
			}
			for left := max - 1; left > 0; left-- {
				err := c.Verify(tt.kind, []byte(tt.wrong))
				if !errors.As(err, &wp) || wp.Left != left {
					t.Fatalf("want %d left, got %v", left, err)
				}
				if strings.Contains(err.Error(), tt.wrong) {
					t.Fatalf("error %q reveals the PIN", err)
				}
			}
			if err := c.Verify(tt.kind, []byte(tt.wrong)); !errors.Is(err, ErrPINBlocked) {
				t.Fatalf("last wrong PIN: %v", err)
			}
			if err := c.Verify(tt.kind, []byte(tt.pin)); !errors.Is(err, ErrPINBlocked) {
				t.Fatalf("right PIN on blocked card: %v", err)
			}
			if n, err := c.RetriesLeft(tt.kind); err != nil || n != 0 {
				t.Fatalf("retries on blocked card %d %v", n, err)
			}
			// The counter reset (PIN 初期化) at a counter, by an authorised terminal.
			if err := c.ResetPIN(tt.kind, []byte(tt.pin)); !errors.Is(err, ErrTerminalNotAuthenticated) {
				t.Fatalf("reset without terminal authentication: %v", err)
			}
			if err := c.AuthenticateTerminal(testTerminal()); err != nil {
				t.Fatal(err)
			}
			if err := c.ResetPIN(tt.kind, []byte(tt.pin)); err != nil {
				t.Fatal(err)
			}
			if n, _ := c.RetriesLeft(tt.kind); n != max {
				t.Fatalf("after reset %d", n)
			}
			if err := c.Verify(tt.kind, []byte(tt.pin)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestInvalidPINNeverReachesCard(t *testing.T) {
	c, _, rec := newVirtual(t)
	if err := c.SetPIN(UserAuth, []byte("1234")); err != nil {
		t.Fatal(err)
	}
	sent := len(rec.cmds)
	for _, bad := range []string{"12a4", "123", "12345"} {
		err := c.Verify(UserAuth, []byte(bad))
		if !errors.Is(err, ErrInvalidPIN) {
			t.Fatalf("%q: %v", bad, err)
		}
		if strings.Contains(err.Error(), bad) {
			t.Fatalf("error %q reveals the PIN", err)
		}
	}
	if err := c.SetPIN(Signing, []byte("short")); !errors.Is(err, ErrInvalidPIN) {
		t.Fatalf("bad signing PIN: %v", err)
	}
	if len(rec.cmds) != sent {
		t.Fatalf("%d commands sent for invalid PINs", len(rec.cmds)-sent)
	}
	if n, _ := c.RetriesLeft(UserAuth); n != 3 {
		t.Fatalf("a try was spent: %d left", n)
	}
}

func TestRenewalReplacesKey(t *testing.T) {
	c, _, _ := newVirtual(t)
	ca := newTestCA(t)
	if err := c.SetPIN(UserAuth, []byte("4444")); err != nil {
		t.Fatal(err)
	}
	old, err := c.GenerateKeyPair(UserAuth)
	if err != nil {
		t.Fatal(err)
	}
	oldCert := ca.issue(t, old, 1)
	if err := c.WriteCertificate(UserAuth, oldCert, ca.der); err != nil {
		t.Fatal(err)
	}
	renewed, err := c.GenerateKeyPair(UserAuth)
	if err != nil {
		t.Fatal(err)
	}
	if renewed.Equal(old) {
		t.Fatal("renewal kept the old key")
	}
	if _, err := c.ReadCertificate(UserAuth); !errors.Is(err, ErrNoCertificate) {
		t.Fatalf("old certificate survived renewal: %v", err)
	}
	if got, err := c.ReadCACertificate(UserAuth); err != nil || !bytes.Equal(got, ca.der) {
		t.Fatalf("CA certificate lost: %v", err)
	}
	if err := c.WriteCertificate(UserAuth, oldCert, nil); !errors.Is(err, ErrCertificateRejected) {
		t.Fatalf("old certificate accepted for the new key: %v", err)
	}
	if err := c.Verify(UserAuth, []byte("4444")); err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("login"))
	sig, err := c.SignDigest(UserAuth, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	if rsa.VerifyPKCS1v15(old, crypto.SHA256, digest[:], sig) == nil {
		t.Fatal("signed with the replaced key")
	}
	if err := rsa.VerifyPKCS1v15(renewed, crypto.SHA256, digest[:], sig); err != nil {
		t.Fatal(err)
	}
}

func TestSignWithoutKey(t *testing.T) {
	c, _, _ := newVirtual(t)
	if err := c.SetPIN(Signing, []byte("NOKEY1")); err != nil {
		t.Fatal(err)
	}
	if err := c.Verify(Signing, []byte("NOKEY1")); err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(nil)
	if _, err := c.SignDigest(Signing, crypto.SHA256, digest[:]); !errors.Is(err, ErrNoKey) {
		t.Fatalf("sign without key: %v", err)
	}
	if _, err := c.PublicKey(Signing); !errors.Is(err, ErrNoKey) {
		t.Fatalf("public key without key: %v", err)
	}
}

func TestChangePIN(t *testing.T) {
	c, _, _ := newVirtual(t)
	if err := c.SetPIN(Signing, []byte("OLDPIN1")); err != nil {
		t.Fatal(err)
	}
	var wp *WrongPINError
	if err := c.ChangePIN(Signing, []byte("WRONG12"), []byte("NEWPIN2")); !errors.As(err, &wp) || wp.Left != 4 {
		t.Fatalf("change with wrong old PIN: %v", err)
	}
	if err := c.ChangePIN(Signing, []byte("OLDPIN1"), []byte("newpin2")); !errors.Is(err, ErrInvalidPIN) {
		t.Fatalf("change to invalid PIN: %v", err)
	}
	if err := c.ChangePIN(Signing, []byte("OLDPIN1"), []byte("NEWPIN2")); err != nil {
		t.Fatal(err)
	}
	if err := c.SelectJPKI(); err != nil {
		t.Fatal(err)
	}
	if err := c.Verify(Signing, []byte("OLDPIN1")); !errors.As(err, &wp) {
		t.Fatalf("old PIN still works: %v", err)
	}
	if err := c.Verify(Signing, []byte("NEWPIN2")); err != nil {
		t.Fatal(err)
	}
}

// scripted is a Transmitter that answers from a function, to simulate other cards and transports.
type scripted func(cmd []byte) ([]byte, error)

func (s scripted) Transmit(cmd []byte) ([]byte, error) { return s(cmd) }

func TestNotAJPKICard(t *testing.T) {
	c := New(scripted(func([]byte) ([]byte, error) { return []byte{0x6A, 0x82}, nil }))
	if err := c.SelectJPKI(); !errors.Is(err, ErrNotJPKI) {
		t.Fatalf("err = %v", err)
	}
	var se *cardproto.StatusError
	if err := c.SelectJPKI(); !errors.As(err, &se) || se.SW != cardproto.SWFileNotFound {
		t.Fatalf("status error not exposed: %v", err)
	}
}

func TestResetForcesReselect(t *testing.T) {
	_, a, _ := newVirtual(t)
	direct := NewDirect(a)
	resetOnce := false
	selects := 0
	c := New(scripted(func(cmd []byte) ([]byte, error) {
		if bytes.Equal(cmd, cardproto.SelectAP()) {
			selects++
		}
		if resetOnce {
			resetOnce = false
			a.Reset()
			return nil, ErrCardReset
		}
		return direct.Transmit(cmd)
	}))
	if _, err := c.ReadCardInfo(); err != nil {
		t.Fatal(err)
	}
	if selects != 1 {
		t.Fatalf("%d selects", selects)
	}
	resetOnce = true
	if _, err := c.ReadCardInfo(); !errors.Is(err, ErrCardReset) {
		t.Fatalf("reset not reported: %v", err)
	}
	// The next operation selects the application again instead of reading into nothing.
	if ci, err := c.ReadCardInfo(); err != nil || ci.Serial != "VC-CLIENT-1" {
		t.Fatalf("after reset: %+v %v", ci, err)
	}
	if selects != 2 {
		t.Fatalf("%d selects, want 2", selects)
	}
}

func TestGetResponseAndWrongLeHandling(t *testing.T) {
	// A card that answers 6C xx first and splits its data with 61 xx.
	payload := bytes.Repeat([]byte{0x42}, 300)
	calls := 0
	c := New(scripted(func(cmd []byte) ([]byte, error) {
		calls++
		switch calls {
		case 1:
			return []byte{0x90, 0x00}, nil // SELECT AP
		case 2:
			return []byte{0x90, 0x00}, nil // SELECT EF
		case 3:
			return []byte{0x6C, 0x20}, nil // wrong Le
		case 4:
			if cmd[len(cmd)-1] != 0x20 {
				t.Errorf("Le not corrected: % X", cmd)
			}
			return append(append([]byte(nil), payload[:256]...), 0x61, 44), nil
		case 5:
			if !bytes.Equal(cmd, cardproto.GetResponse(44)) {
				t.Errorf("GET RESPONSE % X", cmd)
			}
			return append(append([]byte(nil), payload[256:]...), 0x90, 0x00), nil
		}
		return []byte{0x6F, 0x00}, nil
	}))
	_, err := c.PublicKey(UserAuth)
	// The 300 bytes are no SubjectPublicKeyInfo, but they must have been collected whole.
	if !errors.Is(err, ErrUnexpectedResponse) || calls != 5 {
		t.Fatalf("calls %d err %v", calls, err)
	}
}
