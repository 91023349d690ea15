package sealing

import (
	"crypto/hpke"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// keyFileFormat names the private key file layout.
const keyFileFormat = "madoguchi-sealing-key/v1"

// keyFile is the JSON content of <dir>/<keyid>.key. The KEM id is stored so a
// later suite change can tell old files apart.
type keyFile struct {
	Format       string `json:"format"`
	Municipality string `json:"municipality"`
	KeyID        string `json:"keyId"`
	KEM          uint16 `json:"kem"`
	PrivateKey   []byte `json:"privateKey"`
}

// Keyring is the sealing private keys of one municipality, on its terminals:
// one file per key in a directory. Open reads the named key's file at each
// call, so a key pruned from the directory stops opening at once and a key
// added by a rotation opens without a restart.
type Keyring struct {
	dir          string
	municipality string
}

// GenerateKey makes a new key pair for municipality, writes the private key
// to <dir>/<keyid>.key atomically with mode 0600 (creating dir with mode 0700
// if needed) and returns the public key. It does not register the key; see
// Rotate. It refuses a directory holding another municipality's keys.
func GenerateKey(dir, municipality string) (PublicKey, error) {
	if !ValidMunicipality(municipality) {
		return PublicKey{}, fmt.Errorf("%w: municipality code %q is not 6 digits", ErrInvalidKey, municipality)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return PublicKey{}, fmt.Errorf("sealing: key directory: %w", err)
	}
	ids, err := KeyIDs(dir)
	if err != nil {
		return PublicKey{}, err
	}
	for _, id := range ids {
		kf, err := readKeyFile(dir, municipality, id)
		if err != nil {
			return PublicKey{}, err
		}
		clear(kf.PrivateKey)
	}

	var idb [8]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return PublicKey{}, fmt.Errorf("sealing: key id: %w", err)
	}
	id := hex.EncodeToString(idb[:])
	if slices.Contains(ids, id) {
		return PublicKey{}, fmt.Errorf("sealing: key id %s already exists in %s", id, dir)
	}

	sk, err := kem.GenerateKey()
	if err != nil {
		return PublicKey{}, fmt.Errorf("sealing: generate key: %w", err)
	}
	raw, err := sk.Bytes()
	if err != nil {
		return PublicKey{}, fmt.Errorf("sealing: serialise key: %w", err)
	}
	data, err := json.Marshal(keyFile{Format: keyFileFormat, Municipality: municipality, KeyID: id, KEM: kem.ID(), PrivateKey: raw})
	clear(raw)
	if err != nil {
		return PublicKey{}, fmt.Errorf("sealing: encode key: %w", err)
	}
	defer clear(data)
	if err := writeFileAtomic(dir, id+".key", data); err != nil {
		return PublicKey{}, err
	}
	return PublicKey{Municipality: municipality, KeyID: id, Key: sk.PublicKey().Bytes()}, nil
}

// writeFileAtomic writes data to a temporary file of mode 0600 in dir, syncs
// it and renames it into place, then syncs dir: a reader sees either no file
// or the whole key, even after a crash.
func writeFileAtomic(dir, name string, data []byte) (err error) {
	tmp, err := os.CreateTemp(dir, ".partial-*")
	if err != nil {
		return fmt.Errorf("sealing: write key: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	// CreateTemp already uses 0600; Chmod makes it independent of that detail.
	if err = tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("sealing: write key: %w", err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("sealing: write key: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("sealing: write key: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("sealing: write key: %w", err)
	}
	if err = os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("sealing: write key: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sealing: sync key directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sealing: sync key directory: %w", err)
	}
	return nil
}

// KeyIDs lists the key ids of the <keyid>.key files in dir, sorted, without
// reading them. A missing directory is an error (wrapping fs.ErrNotExist).
func KeyIDs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("sealing: key directory: %w", err)
	}
	var ids []string
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".key")
		if ok && ValidKeyID(id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// LoadKeyring reads every <keyid>.key file of dir and checks that each is a
// regular file of mode 0600 (no group or other access: ErrInsecureKeyFile),
// holds a valid key (ErrInvalidKey), and belongs to the same municipality (ErrWrongMunicipality). A
// directory without keys is ErrNoKeys.
func LoadKeyring(dir string) (*Keyring, error) {
	ids, err := KeyIDs(dir)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoKeys, dir)
	}
	municipality := ""
	for _, id := range ids {
		kf, err := readKeyFile(dir, municipality, id)
		if err != nil {
			return nil, err
		}
		_, err = kem.NewPrivateKey(kf.PrivateKey)
		clear(kf.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("%w: key file %s: %v", ErrInvalidKey, id, err)
		}
		municipality = kf.Municipality
	}
	return &Keyring{dir: dir, municipality: municipality}, nil
}

// Municipality returns the code of the municipality whose keys these are.
func (kr *Keyring) Municipality() string { return kr.municipality }

// Dir returns the keyring's directory.
func (kr *Keyring) Dir() string { return kr.dir }

// KeyIDs lists the ids of the keys now in the keyring's directory.
func (kr *Keyring) KeyIDs() ([]string, error) { return KeyIDs(kr.dir) }

// PublicKey returns the public key of one of the keyring's keys, so an
// operator can check it against the registry. ErrUnknownKey when absent.
func (kr *Keyring) PublicKey(keyID string) (PublicKey, error) {
	sk, err := kr.privateKey(keyID)
	if err != nil {
		return PublicKey{}, err
	}
	return PublicKey{Municipality: kr.municipality, KeyID: keyID, Key: sk.PublicKey().Bytes()}, nil
}

// Open opens a notice sealed to this municipality for caseNumber and returns
// its PINs by kind. The caller must pinrule.Zero every returned PIN once it
// is on the card. Errors: ErrWrongMunicipality, ErrUnknownKey (no such key
// here, e.g. retired past the overlap and pruned), ErrTampered (altered, or
// for another case); none carries a PIN.
func (kr *Keyring) Open(n Notice, caseNumber string) (map[string][]byte, error) {
	if n.Municipality != kr.municipality {
		return nil, fmt.Errorf("%w: notice for %q opened at %s", ErrWrongMunicipality, n.Municipality, kr.municipality)
	}
	sk, err := kr.privateKey(n.KeyID)
	if err != nil {
		return nil, err
	}
	return open(sk, n, caseNumber)
}

// privateKey reads one key file afresh.
func (kr *Keyring) privateKey(keyID string) (hpke.PrivateKey, error) {
	if !ValidKeyID(keyID) {
		// Never turn a malformed id into a path.
		return nil, fmt.Errorf("%w: %q", ErrUnknownKey, keyID)
	}
	kf, err := readKeyFile(kr.dir, kr.municipality, keyID)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s at %s", ErrUnknownKey, keyID, kr.municipality)
	}
	if err != nil {
		return nil, err
	}
	defer clear(kf.PrivateKey)
	sk, err := kem.NewPrivateKey(kf.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("%w: key file %s: %v", ErrInvalidKey, keyID, err)
	}
	return sk, nil
}

// readKeyFile reads and checks <dir>/<id>.key; municipality, when not empty,
// is the one the key must belong to. The caller clears kf.PrivateKey.
func readKeyFile(dir, municipality, id string) (keyFile, error) {
	path := filepath.Join(dir, id+".key")
	fi, err := os.Lstat(path)
	if err != nil {
		return keyFile{}, fmt.Errorf("sealing: key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return keyFile{}, fmt.Errorf("%w: %s is not a regular file", ErrInsecureKeyFile, path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return keyFile{}, fmt.Errorf("%w: %s has mode %04o, want 0600", ErrInsecureKeyFile, path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return keyFile{}, fmt.Errorf("sealing: key file: %w", err)
	}
	defer clear(data)
	var kf keyFile
	if err := json.Unmarshal(data, &kf); err != nil {
		// The JSON error might quote the file's bytes: keep it out.
		return keyFile{}, fmt.Errorf("%w: %s is not a sealing key file", ErrInvalidKey, path)
	}
	switch {
	case kf.Format != keyFileFormat:
		err = fmt.Errorf("%w: %s: format %q", ErrInvalidKey, path, kf.Format)
	case kf.KEM != kem.ID():
		err = fmt.Errorf("%w: %s: KEM 0x%04x, want 0x%04x", ErrInvalidKey, path, kf.KEM, kem.ID())
	case kf.KeyID != id:
		err = fmt.Errorf("%w: %s holds key id %q", ErrInvalidKey, path, kf.KeyID)
	case !ValidMunicipality(kf.Municipality):
		err = fmt.Errorf("%w: %s: municipality %q", ErrInvalidKey, path, kf.Municipality)
	case municipality != "" && kf.Municipality != municipality:
		err = fmt.Errorf("%w: %s belongs to %s, not %s", ErrWrongMunicipality, path, kf.Municipality, municipality)
	}
	if err != nil {
		clear(kf.PrivateKey)
		return keyFile{}, err
	}
	return kf, nil
}
