package codec

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ErrCurrentKey is returned when asked to retire the key that encrypts.
var ErrCurrentKey = errors.New("codec: the newest key encrypts and cannot be retired")

// ErrScopedKeyring is returned where a master keyring is needed (rotate,
// retire, export) and the file is a scoped one.
var ErrScopedKeyring = errors.New("codec: the file is a scoped keyring; this needs the master keyring")

// scopedPrefix starts each line of a scoped keyring (see ExportScoped).
const scopedPrefix = "scoped "

// ScopedKey is one line of a scoped keyring: the key derived from the master
// key KeyID for Scope. It decrypts and encrypts only that scope's payloads.
type ScopedKey struct {
	Scope string
	KeyID string
	Key   []byte
}

// keyFile is a parsed key file: a master keyring or a scoped one, never both.
type keyFile struct {
	master [][]byte
	scoped []ScopedKey
}

// ReadKeyFile reads a master keyring: one hex-encoded 32-byte key a line,
// oldest first, the last one encrypting; blank lines and lines starting with
// '#' are ignored. The single-key file scripts/lib.sh writes is a keyring of
// one. A scoped keyring gives ErrScopedKeyring: it holds no master key.
func ReadKeyFile(path string) ([][]byte, error) {
	kf, _, err := readKeyFileStamp(path)
	if err != nil {
		return nil, err
	}
	if kf.scoped != nil {
		return nil, fmt.Errorf("%w (%s)", ErrScopedKeyring, path)
	}
	return kf.master, nil
}

func readKeyFileStamp(path string) (keyFile, fileStamp, error) {
	f, err := os.Open(path)
	if err != nil {
		return keyFile{}, fileStamp{}, fmt.Errorf("codec: read key: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return keyFile{}, fileStamp{}, fmt.Errorf("codec: read key: %w", err)
	}
	var kf keyFile
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if rest, ok := strings.CutPrefix(line, scopedPrefix); ok {
			sk, err := parseScopedLine(rest)
			if err != nil {
				return keyFile{}, fileStamp{}, fmt.Errorf("%w: %s line %d: %w", ErrKeyFile, path, n, err)
			}
			kf.scoped = append(kf.scoped, sk)
			continue
		}
		k, err := hex.DecodeString(line)
		if err != nil {
			// The key itself is never put in the error.
			return keyFile{}, fileStamp{}, fmt.Errorf("%w: %s line %d is not hex", ErrKeyFile, path, n)
		}
		if len(k) != KeySize {
			return keyFile{}, fileStamp{}, fmt.Errorf("%w: %s line %d holds %d bytes, not %d", ErrKeyFile, path, n, len(k), KeySize)
		}
		kf.master = append(kf.master, k)
	}
	if err := sc.Err(); err != nil {
		return keyFile{}, fileStamp{}, fmt.Errorf("codec: read key: %w", err)
	}
	switch {
	case kf.master != nil && kf.scoped != nil:
		return keyFile{}, fileStamp{}, fmt.Errorf("%w: %s mixes master keys and scoped keys", ErrKeyFile, path)
	case kf.master == nil && kf.scoped == nil:
		return keyFile{}, fileStamp{}, fmt.Errorf("%w: %s holds no key", ErrKeyFile, path)
	}
	return kf, fileStamp{mod: st.ModTime(), size: st.Size()}, nil
}

// parseScopedLine reads "<scope> <key id> <hex key>"; errors never hold the key.
func parseScopedLine(s string) (ScopedKey, error) {
	f := strings.Fields(s)
	if len(f) != 3 {
		return ScopedKey{}, errors.New("a scoped key is \"scoped <scope> <key id> <hex key>\"")
	}
	if !ValidScope(f[0]) {
		return ScopedKey{}, fmt.Errorf("%w: %q", ErrInvalidScope, f[0])
	}
	if id, err := hex.DecodeString(f[1]); err != nil || len(id) != 4 {
		return ScopedKey{}, fmt.Errorf("key id %q is not 8 hex digits", f[1])
	}
	k, err := hex.DecodeString(f[2])
	if err != nil || len(k) != KeySize {
		return ScopedKey{}, fmt.Errorf("the key of scope %s, id %s, is not %d bytes of hex", f[0], f[1], KeySize)
	}
	return ScopedKey{Scope: f[0], KeyID: f[1], Key: k}, nil
}

// WriteKeyFile writes a master keyring atomically with mode 0600: a
// temporary file in the same folder, synced, then renamed over path, so a
// reader sees the old keyring or the new one, never half of one.
func WriteKeyFile(path string, keys [][]byte) error {
	if _, err := newRing(keys); err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString("# madoguchi payload codec keyring: oldest first, the last line encrypts.\n")
	b.WriteString("# Written by `codeckey`; keep mode 0600. Never remove a key while payloads encrypted with it may still be read.\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "# key %s\n%s\n", KeyID(k), hex.EncodeToString(k))
	}
	return writeFileAtomic(path, b.Bytes())
}

// ExportScoped derives, for each scope and each master key (oldest first),
// the key that scope's payloads are encrypted with. The derivation is
// deterministic: the same master key and scope always give the same key, so
// exporting again after a rotation adds the new key and keeps the old ones.
// A scoped key cannot be turned back into the master key, nor into another
// scope's key.
func ExportScoped(keys [][]byte, scopes []string) ([]ScopedKey, error) {
	r, err := newRing(keys)
	if err != nil {
		return nil, err
	}
	if len(scopes) == 0 {
		return nil, fmt.Errorf("%w: no scope to export", ErrInvalidScope)
	}
	seen := map[string]bool{}
	var out []ScopedKey
	for _, s := range scopes {
		if !ValidScope(s) {
			return nil, fmt.Errorf("%w: %q", ErrInvalidScope, s)
		}
		if seen[s] {
			continue
		}
		seen[s] = true
		for _, k := range r.keys {
			dk, err := deriveKey(k.raw, s)
			if err != nil {
				return nil, err
			}
			out = append(out, ScopedKey{Scope: s, KeyID: k.id, Key: dk})
		}
	}
	return out, nil
}

// WriteScopedKeyFile writes a scoped keyring (ExportScoped of the master
// keyring at masterPath) to path, atomically with mode 0600.
func WriteScopedKeyFile(masterPath, path string, scopes []string) error {
	keys, err := ReadKeyFile(masterPath)
	if err != nil {
		return err
	}
	sks, err := ExportScoped(keys, scopes)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString("# madoguchi payload codec scoped keyring: only the scopes below, oldest key first per scope, the last one encrypts.\n")
	b.WriteString("# Written by `codeckey export`; keep mode 0600. Export again after each `codeckey rotate` of the master.\n")
	for _, sk := range sks {
		fmt.Fprintf(&b, "%s%s %s %s\n", scopedPrefix, sk.Scope, sk.KeyID, hex.EncodeToString(sk.Key))
	}
	return writeFileAtomic(path, b.Bytes())
}

// writeFileAtomic writes data to path through a synced temporary file
// renamed over it, with mode 0600.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("codec: write key file: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("codec: write key file: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("codec: write key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("codec: write key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("codec: write key file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("codec: write key file: %w", err)
	}
	// The rename is durable once the folder is synced.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// Rotate adds a new random key to the keyring at path, which then encrypts;
// the older keys stay to decrypt. It returns the new key's id. The file must
// exist: a mistyped path must not start a keyring nobody can decrypt with.
func Rotate(path string) (string, error) {
	keys, err := ReadKeyFile(path)
	if err != nil {
		return "", err
	}
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return "", fmt.Errorf("codec: new key: %w", err)
	}
	if err := WriteKeyFile(path, append(keys, k)); err != nil {
		return "", err
	}
	return KeyID(k), nil
}

// Retire removes an older key from the keyring at path. Payloads encrypted
// with it can no longer be read: retire a key only once no history that
// holds such payloads is kept (or it was compromised).
func Retire(path, id string) error {
	keys, err := ReadKeyFile(path)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(keys, func(k []byte) bool { return KeyID(k) == id })
	switch {
	case i < 0:
		return fmt.Errorf("%w (%q)", ErrUnknownKey, id)
	case i == len(keys)-1:
		return ErrCurrentKey
	}
	return WriteKeyFile(path, slices.Delete(keys, i, i+1))
}
