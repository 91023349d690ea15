// Package terminalauth holds the keys by which a counter terminal proves to a
// JPKI card that it may reset PINs (暗証番号の初期化): the terminal's ECDSA
// P-256 private key, which only the card agent reads, and the terminal
// authority's public key, which cards are provisioned with and trust. The
// card sends a challenge (GET CHALLENGE), the terminal signs it bound to the
// card's serial (cardproto.TerminalAuthMessage) and sends the signature
// (EXTERNAL AUTHENTICATE); docs/CARD.md §5a has the whole scheme.
package terminalauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/madoguchi/madoguchi/internal/cardproto"
)

// File names inside a terminal-authentication folder.
const (
	// KeyFile is the terminal's private key (PKCS#8 PEM, mode 0600).
	KeyFile = "terminal.key"
	// AuthorityFile is the public key cards trust (PKIX PEM).
	AuthorityFile = "authority.pub"
)

// ErrInvalidKey reports a key file that is not a P-256 ECDSA key.
var ErrInvalidKey = errors.New("terminalauth: not a P-256 ECDSA key")

// Key is a terminal's signing key.
type Key struct {
	priv *ecdsa.PrivateKey
}

// NewKey wraps a P-256 private key.
func NewKey(priv *ecdsa.PrivateKey) (*Key, error) {
	if priv == nil || priv.Curve != elliptic.P256() {
		return nil, ErrInvalidKey
	}
	return &Key{priv: priv}, nil
}

// GenerateKey makes a fresh terminal key.
func GenerateKey() (*Key, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("terminalauth: generate key: %w", err)
	}
	return &Key{priv: priv}, nil
}

// PublicDER is the key's public half as PKIX DER: what a card that trusts
// this terminal holds.
func (k *Key) PublicDER() ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(&k.priv.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("terminalauth: public key: %w", err)
	}
	return der, nil
}

// SignChallenge signs a card's challenge for EXTERNAL AUTHENTICATE: ECDSA
// P-256 over SHA-256 of cardproto.TerminalAuthMessage(serial, challenge),
// DER-encoded (at most 72 bytes).
func (k *Key) SignChallenge(serial string, challenge []byte) ([]byte, error) {
	h := sha256.Sum256(cardproto.TerminalAuthMessage(serial, challenge))
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, h[:])
	if err != nil {
		return nil, fmt.Errorf("terminalauth: sign challenge: %w", err)
	}
	return sig, nil
}

// ParseAuthority parses a trusted terminal-authority key (PKIX DER).
func ParseAuthority(der []byte) (*ecdsa.PublicKey, error) {
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, ErrInvalidKey
	}
	return ec, nil
}

// VerifyChallenge reports whether sig is the trusted authority's signature
// over this card's serial and challenge.
func VerifyChallenge(pub *ecdsa.PublicKey, serial string, challenge, sig []byte) bool {
	h := sha256.Sum256(cardproto.TerminalAuthMessage(serial, challenge))
	return ecdsa.VerifyASN1(pub, h[:], sig)
}

// LoadKey reads a terminal key file (PKCS#8 PEM).
func LoadKey(path string) (*Key, error) {
	der, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidKey, path, err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrInvalidKey, path)
	}
	return NewKey(ec)
}

// LoadAuthority reads a trusted authority key file (PKIX PEM) and returns
// its DER, checked to be a P-256 key.
func LoadAuthority(path string) ([]byte, error) {
	der, err := readPEM(path, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	if _, err := ParseAuthority(der); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return der, nil
}

func readPEM(path, typ string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("terminalauth: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != typ {
		return nil, fmt.Errorf("%w: %s holds no %s block", ErrInvalidKey, path, typ)
	}
	return blk.Bytes, nil
}

// Ensure gives the folder dir a terminal key and its authority file once:
// an existing key is kept (cards already trust it), and the public file is
// rewritten from it, so running it again changes nothing. It reports whether
// it made a new key.
func Ensure(dir string) (created bool, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("terminalauth: %w", err)
	}
	keyPath := filepath.Join(dir, KeyFile)
	k, err := LoadKey(keyPath)
	if errors.Is(err, fs.ErrNotExist) {
		if k, err = GenerateKey(); err != nil {
			return false, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(k.priv)
		if err != nil {
			return false, fmt.Errorf("terminalauth: encode key: %w", err)
		}
		if err := writeFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return false, err
		}
		created = true
	} else if err != nil {
		return false, err
	}
	pub, err := k.PublicDER()
	if err != nil {
		return false, err
	}
	if err := writeFile(filepath.Join(dir, AuthorityFile), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644); err != nil {
		return false, err
	}
	return created, nil
}

// writeFile replaces path atomically (temporary file, sync, rename), so a
// reader never sees half a key.
func writeFile(path string, b []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("terminalauth: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("terminalauth: write %s: %w", path, err)
	}
	return nil
}
