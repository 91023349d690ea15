// Package sealing seals a PIN notice (暗証番号届出) to the address
// municipality's public key and opens it on that municipality's terminal.
//
// In the relay-municipality case (経由市区町村) the applicant types their
// PIN(s) on the relay terminal's touch panel; the relay card agent calls Seal
// at once with the address municipality's current public key, and the Notice
// travels through Temporal to the address municipality, whose card agent
// opens it with its Keyring and sets the PINs on the card.
//
// The suite is HPKE (RFC 9180, crypto/hpke) with the hybrid post-quantum KEM
// MLKEM768-X25519 (X-Wing), HKDF-SHA256 and AES-256-GCM: a signing PIN
// guards a signing key for up to five years and people reuse PINs, so a
// notice recorded today (Temporal keeps histories) must not open with a
// quantum computer later; X-Wing stays at least as strong as X25519 should
// ML-KEM fall, and costs only ~1 KB per notice. docs/SEALING.md has the rest.
//
// A PIN never appears in an error, a Notice field or a log: the ciphertext
// is padded so that even the PINs' lengths are hidden.
package sealing

import (
	"crypto/hpke"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/madoguchi/madoguchi/internal/pinrule"
)

// PublicKey is a municipality's sealing public key, as registered in the
// municipal database. Public keys are public: they may be logged and stored.
type PublicKey struct {
	// Municipality is the 6-digit local government code of the key's owner.
	Municipality string `json:"municipality"`
	// KeyID names the key (16 random hex characters, no personal data).
	KeyID string `json:"keyId"`
	// Key is the KEM public key (SerializePublicKey of MLKEM768-X25519).
	Key []byte `json:"key"`
}

// Notice is a sealed PIN notice. It is JSON-serialisable so that it can
// travel as a Temporal payload; it holds the PINs only encrypted.
type Notice struct {
	// Municipality is the address municipality the notice is sealed to.
	Municipality string `json:"municipality"`
	// KeyID names the public key it was sealed to.
	KeyID string `json:"keyId"`
	// Enc is HPKE's encapsulated key.
	Enc []byte `json:"enc"`
	// Ciphertext is the AEAD-sealed, padded PINs.
	Ciphertext []byte `json:"ciphertext"`
	// Kinds lists the PINs the notice carries ("sign", "auth"), sorted.
	Kinds []string `json:"kinds"`
}

// Errors callers map to answers. None of them ever carries a PIN.
var (
	// ErrUnknownKey: the notice names a key this keyring does not hold (for
	// example one retired past the overlap and pruned).
	ErrUnknownKey = errors.New("sealing: unknown key")
	// ErrWrongMunicipality: the notice is sealed to another municipality, or
	// a key file belongs to another municipality than its keyring.
	ErrWrongMunicipality = errors.New("sealing: notice or key of another municipality")
	// ErrTampered: the notice does not open: altered, truncated, sealed for
	// another case, or relabelled with another key id or kinds.
	ErrTampered = errors.New("sealing: notice tampered with or not for this case")
	// ErrNoPINs: Seal was given no PIN.
	ErrNoPINs = errors.New("sealing: no PIN to seal")
	// ErrInvalidKey: a public or private key, key id or municipality code is
	// malformed.
	ErrInvalidKey = errors.New("sealing: invalid key")
	// ErrInsecureKeyFile: a private key file is readable or writable by
	// others than its owner, or is not a regular file.
	ErrInsecureKeyFile = errors.New("sealing: insecure key file")
	// ErrNoKeys: a keyring directory holds no key.
	ErrNoKeys = errors.New("sealing: no key in directory")
)

// The suite (see the package comment). Changing it is a new format version.
var (
	kem  = hpke.MLKEM768X25519()
	kdf  = hpke.HKDFSHA256()
	aead = hpke.AES256GCM()
)

// Format constants.
const (
	// infoLabel starts every HPKE info string; the version changes with the suite or layout.
	infoLabel = "madoguchi/sealed-pin-notice/v1"
	// plainVersion is the first byte of the plaintext layout.
	plainVersion = 1
	// pinSlot is the padded size of every PIN in the plaintext, so the
	// ciphertext length never reveals a PIN's length.
	pinSlot = pinrule.SigningMaxLen
)

var (
	municipalityRE = regexp.MustCompile(`^[0-9]{6}$`)
	keyIDRE        = regexp.MustCompile(`^[0-9a-f]{16}$`)
)

// ValidMunicipality reports whether code looks like a 6-digit local
// government code.
func ValidMunicipality(code string) bool { return municipalityRE.MatchString(code) }

// ValidKeyID reports whether id has the form GenerateKey makes (16 lower-case
// hex characters). Only such ids are ever turned into file names.
func ValidKeyID(id string) bool { return keyIDRE.MatchString(id) }

// Validate checks that the public key is well formed: a municipality code, a
// key id and a KEM public key of the package's suite.
func (p PublicKey) Validate() error {
	_, err := p.parse()
	return err
}

func (p PublicKey) parse() (hpke.PublicKey, error) {
	if !ValidMunicipality(p.Municipality) {
		return nil, fmt.Errorf("%w: municipality code %q is not 6 digits", ErrInvalidKey, p.Municipality)
	}
	if !ValidKeyID(p.KeyID) {
		return nil, fmt.Errorf("%w: key id %q is not 16 hex characters", ErrInvalidKey, p.KeyID)
	}
	pk, err := kem.NewPublicKey(p.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: public key %s/%s: %v", ErrInvalidKey, p.Municipality, p.KeyID, err)
	}
	return pk, nil
}

// Seal validates the PINs with internal/pinrule and seals them to pub for the
// given case. The HPKE info binds the notice to pub's municipality, its key id
// and the case number, and the AAD to the list of kinds, so the notice opens
// only for that case at that municipality with that key. Seal does not wipe
// pins (the caller owns them and should pinrule.Zero them after the call);
// it wipes its own copies.
func Seal(pub PublicKey, caseNumber string, pins map[string][]byte) (Notice, error) {
	pk, err := pub.parse()
	if err != nil {
		return Notice{}, err
	}
	if caseNumber == "" {
		return Notice{}, errors.New("sealing: empty case number")
	}
	if len(pins) == 0 {
		return Notice{}, ErrNoPINs
	}
	kinds := make([]string, 0, len(pins))
	for k, pin := range pins {
		// The error names the kind and the reason only, never the PIN.
		if err := pinrule.Validate(pinrule.Kind(k), pin); err != nil {
			return Notice{}, fmt.Errorf("sealing: %w", err)
		}
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)

	plain := encodePlain(kinds, pins)
	defer pinrule.Zero(plain)

	enc, sender, err := hpke.NewSender(pk, kdf, aead, info(pub.Municipality, pub.KeyID, caseNumber))
	if err != nil {
		return Notice{}, fmt.Errorf("sealing: hpke sender: %w", err)
	}
	ct, err := sender.Seal(aad(kinds), plain)
	if err != nil {
		return Notice{}, fmt.Errorf("sealing: hpke seal: %w", err)
	}
	return Notice{Municipality: pub.Municipality, KeyID: pub.KeyID, Enc: enc, Ciphertext: ct, Kinds: kinds}, nil
}

// open decrypts n with the private key sk; the municipality and key id have
// been checked by the caller.
func open(sk hpke.PrivateKey, n Notice, caseNumber string) (map[string][]byte, error) {
	r, err := hpke.NewRecipient(n.Enc, sk, kdf, aead, info(n.Municipality, n.KeyID, caseNumber))
	if err != nil {
		return nil, fmt.Errorf("%w: key %s: %v", ErrTampered, n.KeyID, err)
	}
	plain, err := r.Open(aad(n.Kinds), n.Ciphertext)
	if err != nil {
		// Deliberately no detail: AEAD failures all look alike.
		return nil, fmt.Errorf("%w: key %s, case %s", ErrTampered, n.KeyID, caseNumber)
	}
	defer pinrule.Zero(plain)
	pins, err := decodePlain(plain, n.Kinds)
	if err != nil {
		return nil, err
	}
	return pins, nil
}

// info is the HPKE info string: label, municipality, key id, case number,
// each length-prefixed so no two tuples encode alike.
func info(municipality, keyID, caseNumber string) []byte {
	return appendFields(nil, infoLabel, municipality, keyID, caseNumber)
}

// aad binds the notice's visible kinds to the ciphertext.
func aad(kinds []string) []byte {
	return appendFields(nil, kinds...)
}

func appendFields(b []byte, fields ...string) []byte {
	for _, f := range fields {
		b = binary.BigEndian.AppendUint16(b, uint16(len(f)))
		b = append(b, f...)
	}
	return b
}

// encodePlain lays the PINs out as: version, count, then per kind (sorted)
// the kind's length and name, the PIN's length and the PIN zero-padded to
// pinSlot bytes. The PINs were validated, so each fits its slot.
func encodePlain(kinds []string, pins map[string][]byte) []byte {
	size := 2
	for _, k := range kinds {
		size += 1 + len(k) + 1 + pinSlot
	}
	b := make([]byte, 0, size)
	b = append(b, plainVersion, byte(len(kinds)))
	for _, k := range kinds {
		pin := pins[k]
		b = append(b, byte(len(k)))
		b = append(b, k...)
		b = append(b, byte(len(pin)))
		b = append(b, pin...)
		b = append(b, make([]byte, pinSlot-len(pin))...)
	}
	return b
}

// decodePlain parses encodePlain's layout and checks that it carries exactly
// the notice's kinds and PINs that pass the rules. The returned PINs are
// fresh slices the caller must wipe.
func decodePlain(b []byte, kinds []string) (map[string][]byte, error) {
	bad := fmt.Errorf("%w: malformed content", ErrTampered)
	if len(b) < 2 || b[0] != plainVersion || int(b[1]) != len(kinds) {
		return nil, bad
	}
	pins := make(map[string][]byte, len(kinds))
	wipe := func() {
		for _, p := range pins {
			pinrule.Zero(p)
		}
	}
	rest := b[2:]
	for _, want := range kinds {
		if len(rest) < 1 || len(rest) < 1+int(rest[0])+1+pinSlot {
			wipe()
			return nil, bad
		}
		kl := int(rest[0])
		k := string(rest[1 : 1+kl])
		pl := int(rest[1+kl])
		slot := rest[2+kl : 2+kl+pinSlot]
		rest = rest[2+kl+pinSlot:]
		if k != want || pl > pinSlot {
			wipe()
			return nil, bad
		}
		pin := make([]byte, pl)
		copy(pin, slot[:pl])
		pins[k] = pin
		if err := pinrule.Validate(pinrule.Kind(k), pin); err != nil {
			wipe()
			return nil, fmt.Errorf("sealing: opened notice: %w", err)
		}
	}
	if len(rest) != 0 {
		wipe()
		return nil, bad
	}
	return pins, nil
}
