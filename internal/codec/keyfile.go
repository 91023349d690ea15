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

// ReadKeyFile reads a keyring: one hex-encoded 32-byte key a line, oldest
// first, the last one encrypting; blank lines and lines starting with '#'
// are ignored. The single-key file scripts/lib.sh writes is a keyring of one.
func ReadKeyFile(path string) ([][]byte, error) {
	keys, _, err := readKeyFileStamp(path)
	return keys, err
}

func readKeyFileStamp(path string) ([][]byte, fileStamp, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("codec: read key: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("codec: read key: %w", err)
	}
	var keys [][]byte
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := hex.DecodeString(line)
		if err != nil {
			// The key itself is never put in the error.
			return nil, fileStamp{}, fmt.Errorf("%w: %s line %d is not hex", ErrKeyFile, path, n)
		}
		if len(k) != KeySize {
			return nil, fileStamp{}, fmt.Errorf("%w: %s line %d holds %d bytes, not %d", ErrKeyFile, path, n, len(k), KeySize)
		}
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fileStamp{}, fmt.Errorf("codec: read key: %w", err)
	}
	if len(keys) == 0 {
		return nil, fileStamp{}, fmt.Errorf("%w: %s holds no key", ErrKeyFile, path)
	}
	return keys, fileStamp{mod: st.ModTime(), size: st.Size()}, nil
}

// WriteKeyFile writes a keyring atomically with mode 0600: a temporary file
// in the same folder, synced, then renamed over path, so a reader sees the
// old keyring or the new one, never half of one.
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
	if _, err := tmp.Write(b.Bytes()); err != nil {
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
