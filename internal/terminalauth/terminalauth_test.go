package terminalauth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestEnsureIsIdempotent: the first call makes a private key file readable
// by its owner only and the matching authority file; later calls keep the
// key, so cards provisioned with the authority keep trusting the terminal.
func TestEnsureIsIdempotent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "terminal-auth")
	created, err := Ensure(dir)
	if err != nil || !created {
		t.Fatalf("first Ensure: created %v, %v", created, err)
	}
	key1, err := os.ReadFile(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if err := os.Remove(filepath.Join(dir, AuthorityFile)); err != nil {
		t.Fatal(err)
	}
	created, err = Ensure(dir)
	if err != nil || created {
		t.Fatalf("second Ensure: created %v, %v", created, err)
	}
	key2, _ := os.ReadFile(filepath.Join(dir, KeyFile))
	if !bytes.Equal(key1, key2) {
		t.Fatal("the second Ensure replaced the key")
	}
	k, err := LoadKey(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	auth, err := LoadAuthority(filepath.Join(dir, AuthorityFile))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := k.PublicDER()
	if !bytes.Equal(auth, want) {
		t.Fatal("the authority file is not the key's public half")
	}
}

// TestSignAndVerifyChallenge: a signature verifies for its card and
// challenge only, and only under the key that made it.
func TestSignAndVerifyChallenge(t *testing.T) {
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := GenerateKey()
	der, _ := k.PublicDER()
	pub, err := ParseAuthority(der)
	if err != nil {
		t.Fatal(err)
	}
	ch := []byte{9, 8, 7, 6, 5, 4, 3, 2}
	sig, err := k.SignChallenge("C131016000001", ch)
	if err != nil {
		t.Fatal(err)
	}
	otherSig, _ := other.SignChallenge("C131016000001", ch)
	tampered := bytes.Clone(sig)
	tampered[len(tampered)-1] ^= 1
	for _, tt := range []struct {
		name      string
		serial    string
		challenge []byte
		sig       []byte
		want      bool
	}{
		{"right", "C131016000001", ch, sig, true},
		{"another card", "C131016000002", ch, sig, false},
		{"another challenge", "C131016000001", []byte{9, 8, 7, 6, 5, 4, 3, 3}, sig, false},
		{"untrusted key", "C131016000001", ch, otherSig, false},
		{"tampered", "C131016000001", ch, tampered, false},
		{"empty", "C131016000001", ch, nil, false},
	} {
		if got := VerifyChallenge(pub, tt.serial, tt.challenge, tt.sig); got != tt.want {
			t.Errorf("%s: verified %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestRefusesOtherKeys: only P-256 keys are terminal keys.
func TestRefusesOtherKeys(t *testing.T) {
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if _, err := NewKey(p384); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("P-384 key: %v", err)
	}
	if _, err := ParseAuthority([]byte("not a key")); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("garbage authority: %v", err)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pub")
	if err := os.WriteFile(bad, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadAuthority(bad); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("a certificate as authority: %v", err)
	}
}
