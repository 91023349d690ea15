// Package vcard is a virtual JPKI card: an Applet that answers the card
// protocol of package cardproto exactly as the card at a counter would, a
// Connector that plugs it into pcscd through vsmartcard-vpcd, and the card's
// persistent state. Private keys live only in the state; PINs are kept as
// salted PBKDF2 verifiers, never in the clear.
package vcard

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/madoguchi/madoguchi/internal/cardproto"
	"github.com/madoguchi/madoguchi/internal/terminalauth"
)

// StateVersion is the version of the state file layout this package writes.
const StateVersion = 1

// DefaultPINIterations is the PBKDF2 iteration count of new PIN verifiers
// (about 3 ms per VERIFY on the 2-core reference machine).
const DefaultPINIterations = 10000

// PINAlgorithm names the verifier scheme: PBKDF2-HMAC-SHA256, 16-byte salt, 32-byte output.
const PINAlgorithm = "pbkdf2-sha256"

// ErrInvalidState reports a state file that is damaged or inconsistent.
var ErrInvalidState = errors.New("vcard: invalid card state")

// State is everything the card remembers across power cycles and restarts.
// It is stored as JSON; byte slices appear base64-encoded.
type State struct {
	Version int `json:"version"`
	// Serial is the card's serial number, shown in EF 0010.
	Serial string `json:"serial"`
	// Expiry is the card's expiry date, YYYYMMDD, shown in EF 0010.
	Expiry   string `json:"expiry"`
	Signing  Slot   `json:"signing"`
	UserAuth Slot   `json:"user_auth"`
	// TerminalAuthority is the public key (PKIX DER, ECDSA P-256) of the
	// terminal authority the card trusts: a terminal that signs the card's
	// challenge with the matching private key may reset PINs (docs/CARD.md
	// §5a). Empty: no terminal may, and a PIN once set stays as its holder
	// keeps it.
	TerminalAuthority []byte `json:"terminal_authority,omitempty"`
}

// Slot is one key pair's files: key EF, certificate EFs and PIN EF.
type Slot struct {
	// Key is the RSA private key as PKCS#8 DER; empty when no key was generated.
	Key []byte `json:"key,omitempty"`
	// Cert is the certificate DER; cleared whenever a new key is generated.
	Cert []byte `json:"cert,omitempty"`
	// CACert is the issuing CA's certificate DER.
	CACert []byte `json:"ca_cert,omitempty"`
	// PIN is the PIN verifier; nil until a PIN is set.
	PIN *PINVerifier `json:"pin,omitempty"`
	// Retries is the number of wrong PINs still allowed; 0 means blocked.
	Retries int `json:"retries"`
}

// PINVerifier lets the card check a PIN without storing it.
type PINVerifier struct {
	Algorithm  string `json:"alg"`
	Iterations int    `json:"iterations"`
	Salt       []byte `json:"salt"`
	Hash       []byte `json:"hash"`
}

// NewPINVerifier derives a verifier for pin with a fresh random salt.
func NewPINVerifier(pin []byte, iterations int) (*PINVerifier, error) {
	if iterations <= 0 {
		iterations = DefaultPINIterations
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("vcard: PIN salt: %w", err)
	}
	h, err := pbkdf2.Key(sha256.New, string(pin), salt, iterations, 32)
	if err != nil {
		return nil, fmt.Errorf("vcard: PIN verifier: %w", err)
	}
	return &PINVerifier{Algorithm: PINAlgorithm, Iterations: iterations, Salt: salt, Hash: h}, nil
}

// Match reports whether pin is the PIN the verifier was made from, in constant time.
func (v *PINVerifier) Match(pin []byte) bool {
	if v == nil || v.Algorithm != PINAlgorithm || v.Iterations <= 0 {
		return false
	}
	h, err := pbkdf2.Key(sha256.New, string(pin), v.Salt, v.Iterations, len(v.Hash))
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(h, v.Hash) == 1
}

// NewState returns a blank card: no keys, no certificates, no PINs set.
func NewState(serial, expiry string) (*State, error) {
	ci := cardproto.CardInfo{Serial: serial, Expiry: expiry}
	if err := ci.Validate(); err != nil {
		return nil, err
	}
	return &State{Version: StateVersion, Serial: serial, Expiry: expiry}, nil
}

// Slot returns the slot of a kind, or nil for an unknown kind.
func (s *State) Slot(k cardproto.Kind) *Slot {
	switch k {
	case cardproto.Signing:
		return &s.Signing
	case cardproto.UserAuth:
		return &s.UserAuth
	}
	return nil
}

// Clone returns a deep copy, so a change can be prepared, saved and only then adopted.
func (s *State) Clone() *State {
	c := *s
	c.Signing = s.Signing.clone()
	c.UserAuth = s.UserAuth.clone()
	c.TerminalAuthority = bytes.Clone(s.TerminalAuthority)
	return &c
}

func (sl Slot) clone() Slot {
	c := sl
	c.Key = bytes.Clone(sl.Key)
	c.Cert = bytes.Clone(sl.Cert)
	c.CACert = bytes.Clone(sl.CACert)
	if sl.PIN != nil {
		p := *sl.PIN
		p.Salt = bytes.Clone(sl.PIN.Salt)
		p.Hash = bytes.Clone(sl.PIN.Hash)
		c.PIN = &p
	}
	return c
}

// Validate checks the state for internal consistency.
func (s *State) Validate() error {
	if s.Version != StateVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrInvalidState, s.Version, StateVersion)
	}
	if err := (cardproto.CardInfo{Serial: s.Serial, Expiry: s.Expiry}).Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidState, err)
	}
	for _, k := range cardproto.Kinds {
		sl := s.Slot(k)
		if sl.Retries < 0 || sl.Retries > k.MaxRetries() {
			return fmt.Errorf("%w: %v retry counter %d", ErrInvalidState, k, sl.Retries)
		}
		if sl.PIN != nil && (sl.PIN.Algorithm != PINAlgorithm || len(sl.PIN.Salt) == 0 || len(sl.PIN.Hash) == 0) {
			return fmt.Errorf("%w: %v PIN verifier", ErrInvalidState, k)
		}
		if len(sl.Cert) > cardproto.MaxEFSize || len(sl.CACert) > cardproto.MaxEFSize {
			return fmt.Errorf("%w: %v certificate too large", ErrInvalidState, k)
		}
	}
	if len(s.TerminalAuthority) > 0 {
		if _, err := terminalauth.ParseAuthority(s.TerminalAuthority); err != nil {
			return fmt.Errorf("%w: terminal authority: %w", ErrInvalidState, err)
		}
	}
	return nil
}

// Store keeps the card state somewhere durable.
type Store interface {
	// Save durably replaces the stored state; on error the old state must survive.
	Save(*State) error
}

// FileStore stores the state in a JSON file, replaced atomically on every change.
type FileStore struct {
	Path string
}

// Save implements Store.
func (f FileStore) Save(s *State) error { return SaveState(f.Path, s) }

// SaveState writes the state to path atomically: a temporary file in the same
// directory is written, synced and renamed over path, so a crash leaves either
// the old or the new card, never half of one. The file is private (0600)
// because it holds the card's private keys.
func SaveState(path string, s *State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("vcard: encode state: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("vcard: save state: %w", err)
	}
	tmpName := tmp.Name()
	cleanup := func() { _ = os.Remove(tmpName) }
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		cleanup()
		return fmt.Errorf("vcard: save state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		cleanup()
		return fmt.Errorf("vcard: save state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		cleanup()
		return fmt.Errorf("vcard: save state: %w", err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		cleanup()
		return fmt.Errorf("vcard: save state: %w", err)
	}
	// Sync the directory so the rename itself survives a power cut.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// LoadState reads and validates a state file.
func LoadState(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("vcard: load state: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidState, path, err)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

// LoadOrCreate loads the state at path, or creates a blank card with the given
// serial and expiry there when the file does not exist. created tells which.
func LoadOrCreate(path, serial, expiry string) (s *State, created bool, err error) {
	s, err = LoadState(path)
	if err == nil {
		return s, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	s, err = NewState(serial, expiry)
	if err != nil {
		return nil, false, err
	}
	if err := SaveState(path, s); err != nil {
		return nil, false, err
	}
	return s, true, nil
}
