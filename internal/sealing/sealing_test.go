package sealing

import (
	"bytes"
	"context"
	"crypto/hpke"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/pinrule"
)

const (
	chiyoda  = "131016"
	yokohama = "141003"
	caseNo   = "131016-20260401-000001"
)

// newKey makes a key for municipality in a fresh directory.
func newKey(t *testing.T, municipality string) (PublicKey, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "sealing", municipality)
	pub, err := GenerateKey(dir, municipality)
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	return pub, dir
}

func loadKeyring(t *testing.T, dir string) *Keyring {
	t.Helper()
	kr, err := LoadKeyring(dir)
	if err != nil {
		t.Fatalf("LoadKeyring: %v", err)
	}
	return kr
}

func pinsOf(kv ...string) map[string][]byte {
	m := map[string][]byte{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = []byte(kv[i+1])
	}
	return m
}

func TestSealOpenRoundTrip(t *testing.T) {
	pub, dir := newKey(t, chiyoda)
	kr := loadKeyring(t, dir)
	if kr.Municipality() != chiyoda {
		t.Fatalf("keyring municipality %q", kr.Municipality())
	}
	for _, tc := range []struct {
		name string
		pins map[string][]byte
	}{
		{"both", pinsOf("sign", "ABC123", "auth", "0472")},
		{"signing only, longest", pinsOf("sign", "ABCDEFGHIJ012345")},
		{"user auth only", pinsOf("auth", "9999")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := Seal(pub, caseNo, tc.pins)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if n.Municipality != chiyoda || n.KeyID != pub.KeyID {
				t.Fatalf("notice labelled %s/%s, want %s/%s", n.Municipality, n.KeyID, chiyoda, pub.KeyID)
			}
			var want []string
			for k := range tc.pins {
				want = append(want, k)
			}
			slices.Sort(want)
			if !slices.Equal(n.Kinds, want) {
				t.Fatalf("kinds %v, want %v", n.Kinds, want)
			}
			got, err := kr.Open(n, caseNo)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if len(got) != len(tc.pins) {
				t.Fatalf("opened %d PINs, want %d", len(got), len(tc.pins))
			}
			for k, pin := range tc.pins {
				if !bytes.Equal(got[k], pin) {
					t.Errorf("PIN %s does not round-trip", k)
				}
			}
		})
	}
}

func TestSealLeavesCallerPINsAndReturnsCopies(t *testing.T) {
	pub, dir := newKey(t, chiyoda)
	pins := pinsOf("sign", "ZXCV9876")
	n, err := Seal(pub, caseNo, pins)
	if err != nil {
		t.Fatal(err)
	}
	if string(pins["sign"]) != "ZXCV9876" {
		t.Fatal("Seal changed the caller's PIN")
	}
	got, err := loadKeyring(t, dir).Open(n, caseNo)
	if err != nil {
		t.Fatal(err)
	}
	pinrule.Zero(got["sign"])
	if string(pins["sign"]) != "ZXCV9876" {
		t.Fatal("opened PIN aliases the caller's buffer")
	}
}

func TestOpenRefuses(t *testing.T) {
	pub, dir := newKey(t, chiyoda)
	kr := loadKeyring(t, dir)
	other, err := GenerateKey(dir, chiyoda) // a second key of the same municipality
	if err != nil {
		t.Fatal(err)
	}
	_, yDir := newKey(t, yokohama)
	ykr := loadKeyring(t, yDir)

	good, err := Seal(pub, caseNo, pinsOf("sign", "ABC123", "auth", "0472"))
	if err != nil {
		t.Fatal(err)
	}
	clone := func() Notice {
		return Notice{Municipality: good.Municipality, KeyID: good.KeyID, Enc: bytes.Clone(good.Enc),
			Ciphertext: bytes.Clone(good.Ciphertext), Kinds: slices.Clone(good.Kinds)}
	}
	for _, tc := range []struct {
		name    string
		kr      *Keyring
		notice  func() Notice
		caseNo  string
		wantErr error
	}{
		{"flipped ciphertext byte", kr, func() Notice { n := clone(); n.Ciphertext[3] ^= 1; return n }, caseNo, ErrTampered},
		{"flipped tag byte", kr, func() Notice { n := clone(); n.Ciphertext[len(n.Ciphertext)-1] ^= 0x80; return n }, caseNo, ErrTampered},
		{"truncated ciphertext", kr, func() Notice { n := clone(); n.Ciphertext = n.Ciphertext[:10]; return n }, caseNo, ErrTampered},
		{"flipped enc byte", kr, func() Notice { n := clone(); n.Enc[0] ^= 1; return n }, caseNo, ErrTampered},
		{"truncated enc", kr, func() Notice { n := clone(); n.Enc = n.Enc[:31]; return n }, caseNo, ErrTampered},
		{"other case number", kr, clone, "131016-20260401-000002", ErrTampered},
		{"kinds relabelled", kr, func() Notice { n := clone(); n.Kinds = []string{"auth"}; return n }, caseNo, ErrTampered},
		{"kinds reordered", kr, func() Notice { n := clone(); n.Kinds = []string{"sign", "auth"}; return n }, caseNo, ErrTampered},
		{"relabelled to the other key", kr, func() Notice { n := clone(); n.KeyID = other.KeyID; return n }, caseNo, ErrTampered},
		{"opened at another municipality", ykr, clone, caseNo, ErrWrongMunicipality},
		{"relabelled to another municipality", kr, func() Notice { n := clone(); n.Municipality = yokohama; return n }, caseNo, ErrWrongMunicipality},
		{"key id not here", kr, func() Notice { n := clone(); n.KeyID = "0123456789abcdef"; return n }, caseNo, ErrUnknownKey},
		{"key id path traversal", kr, func() Notice { n := clone(); n.KeyID = "../" + pub.KeyID; return n }, caseNo, ErrUnknownKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pins, err := tc.kr.Open(tc.notice(), tc.caseNo)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Open error %v, want %v", err, tc.wantErr)
			}
			if pins != nil {
				t.Fatal("Open returned PINs with an error")
			}
			for _, pin := range []string{"ABC123", "0472"} {
				if strings.Contains(err.Error(), pin) {
					t.Fatalf("error %q contains a PIN", err)
				}
			}
		})
	}
	// The untouched notice still opens: the refusals above are not flukes.
	if _, err := kr.Open(good, caseNo); err != nil {
		t.Fatalf("Open of the untouched notice: %v", err)
	}
}

func TestSealRefuses(t *testing.T) {
	pub, _ := newKey(t, chiyoda)
	secret := "abc123" // lower case: refused, and must not appear in the error
	for _, tc := range []struct {
		name    string
		pub     PublicKey
		caseNo  string
		pins    map[string][]byte
		wantErr error
	}{
		{"no PIN", pub, caseNo, nil, ErrNoPINs},
		{"lower-case signing PIN", pub, caseNo, pinsOf("sign", secret), pinrule.ErrLowerCase},
		{"short signing PIN", pub, caseNo, pinsOf("sign", "AB12"), pinrule.ErrTooShort},
		{"letters in user-auth PIN", pub, caseNo, pinsOf("sign", "ABC123", "auth", "12A4"), pinrule.ErrNotDigit},
		{"unknown kind", pub, caseNo, pinsOf("card", "1234"), pinrule.ErrUnknownKind},
		{"bad public key bytes", PublicKey{Municipality: chiyoda, KeyID: pub.KeyID, Key: pub.Key[:100]}, caseNo, pinsOf("auth", "1234"), ErrInvalidKey},
		{"bad key id", PublicKey{Municipality: chiyoda, KeyID: "../x", Key: pub.Key}, caseNo, pinsOf("auth", "1234"), ErrInvalidKey},
		{"bad municipality", PublicKey{Municipality: "13101", KeyID: pub.KeyID, Key: pub.Key}, caseNo, pinsOf("auth", "1234"), ErrInvalidKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := Seal(tc.pub, tc.caseNo, tc.pins)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Seal error %v, want %v", err, tc.wantErr)
			}
			if n.Ciphertext != nil {
				t.Fatal("Seal returned a notice with an error")
			}
			for _, pin := range tc.pins {
				if strings.Contains(err.Error(), string(pin)) {
					t.Fatalf("error %q contains the PIN", err)
				}
			}
		})
	}
	if _, err := Seal(pub, "", pinsOf("auth", "1234")); err == nil {
		t.Fatal("Seal accepted an empty case number")
	}
}

func TestNoticeJSONHoldsNoPIN(t *testing.T) {
	pub, dir := newKey(t, chiyoda)
	sign, auth := "QWERTY7890", "5831"
	n, err := Seal(pub, caseNo, pinsOf("sign", sign, "auth", auth))
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	for _, pin := range []string{sign, auth} {
		for _, form := range []string{pin, base64.StdEncoding.EncodeToString([]byte(pin)), hex.EncodeToString([]byte(pin))} {
			if bytes.Contains(js, []byte(form)) {
				t.Fatalf("notice JSON contains PIN form %q", form)
			}
		}
		if bytes.Contains(n.Ciphertext, []byte(pin)) || bytes.Contains(n.Enc, []byte(pin)) {
			t.Fatal("notice bytes contain a PIN in clear")
		}
	}
	// It travels as JSON (a Temporal payload) and still opens.
	var back Notice
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	got, err := loadKeyring(t, dir).Open(back, caseNo)
	if err != nil {
		t.Fatalf("Open after JSON: %v", err)
	}
	if string(got["sign"]) != sign || string(got["auth"]) != auth {
		t.Fatal("PINs do not survive the JSON round trip")
	}
}

func TestCiphertextHidesPINLength(t *testing.T) {
	pub, _ := newKey(t, chiyoda)
	short, err := Seal(pub, caseNo, pinsOf("sign", "ABC123", "auth", "1234"))
	if err != nil {
		t.Fatal(err)
	}
	long, err := Seal(pub, caseNo, pinsOf("sign", "ABCDEFGHIJ123456", "auth", "1234"))
	if err != nil {
		t.Fatal(err)
	}
	if len(short.Ciphertext) != len(long.Ciphertext) {
		t.Fatalf("ciphertext lengths %d and %d differ with the PIN length", len(short.Ciphertext), len(long.Ciphertext))
	}
	again, err := Seal(pub, caseNo, pinsOf("sign", "ABC123", "auth", "1234"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(again.Enc, short.Enc) || bytes.Equal(again.Ciphertext, short.Ciphertext) {
		t.Fatal("sealing the same PINs twice gave the same notice")
	}
}

func TestKeyFiles(t *testing.T) {
	pub, dir := newKey(t, chiyoda)
	if !ValidKeyID(pub.KeyID) {
		t.Fatalf("key id %q is not 16 hex characters", pub.KeyID)
	}
	if err := pub.Validate(); err != nil {
		t.Fatalf("public key does not validate: %v", err)
	}
	path := filepath.Join(dir, pub.KeyID+".key")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %04o, want 0600", fi.Mode().Perm())
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Fatalf("key directory mode %04o, want 0700", di.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only the key file (no temporary left)", len(entries))
	}
	second, err := GenerateKey(dir, chiyoda)
	if err != nil {
		t.Fatal(err)
	}
	if second.KeyID == pub.KeyID || bytes.Equal(second.Key, pub.Key) {
		t.Fatal("two generated keys are the same")
	}
	kr := loadKeyring(t, dir)
	ids, err := kr.KeyIDs()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{pub.KeyID, second.KeyID}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Fatalf("key ids %v, want %v", ids, want)
	}
	back, err := kr.PublicKey(pub.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Key, pub.Key) {
		t.Fatal("keyring's public key differs from the generated one")
	}

	// Another municipality's key is refused in this directory.
	if _, err := GenerateKey(dir, yokohama); !errors.Is(err, ErrWrongMunicipality) {
		t.Fatalf("GenerateKey of another municipality into the directory: %v, want ErrWrongMunicipality", err)
	}

	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadKeyring(dir); !errors.Is(err, ErrInsecureKeyFile) {
			t.Errorf("LoadKeyring with a %04o key file: %v, want ErrInsecureKeyFile", mode, err)
		}
		// Open re-reads the file and refuses it too.
		n, err := Seal(pub, caseNo, pinsOf("auth", "1234"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kr.Open(n, caseNo); !errors.Is(err, ErrInsecureKeyFile) {
			t.Errorf("Open with a %04o key file: %v, want ErrInsecureKeyFile", mode, err)
		}
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyring(dir); err != nil {
		t.Fatalf("LoadKeyring after chmod 0600: %v", err)
	}

	// A symlink is not a key file.
	link := filepath.Join(dir, "fedcba9876543210.key")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyring(dir); !errors.Is(err, ErrInsecureKeyFile) {
		t.Errorf("LoadKeyring with a symlinked key: %v, want ErrInsecureKeyFile", err)
	}
	os.Remove(link)

	// A key file renamed to another id is refused.
	if err := os.Link(path, filepath.Join(dir, "0000000000000000.key")); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyring(dir); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("LoadKeyring with a misnamed key file: %v, want ErrInvalidKey", err)
	}
}

func TestLoadKeyringEmptyOrMissing(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadKeyring(dir); !errors.Is(err, ErrNoKeys) {
		t.Fatalf("empty directory: %v, want ErrNoKeys", err)
	}
	if _, err := LoadKeyring(filepath.Join(dir, "nope")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing directory: %v, want os.ErrNotExist", err)
	}
}

// memRegistry is an in-memory Registry with the storage's rules: a new key
// becomes current and the previous current one retires after overlap.
type memRegistry struct {
	mu      sync.Mutex
	overlap time.Duration
	keys    []memKey
	fail    error
}

type memKey struct {
	pub    PublicKey
	retire time.Time
}

func (r *memRegistry) RegisterSealingKey(_ context.Context, pub PublicKey, now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	for i := range r.keys {
		if r.keys[i].pub.Municipality == pub.Municipality && r.keys[i].retire.IsZero() {
			r.keys[i].retire = now.Add(r.overlap)
		}
	}
	r.keys = append(r.keys, memKey{pub: pub})
	return nil
}

func (r *memRegistry) RetiredSealingKeys(_ context.Context, municipality string, now time.Time) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, k := range r.keys {
		if k.pub.Municipality == municipality && !k.retire.IsZero() && !k.retire.After(now) {
			ids = append(ids, k.pub.KeyID)
		}
	}
	return ids, nil
}

func TestRotationOverlapAndPrune(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), chiyoda)
	reg := &memRegistry{overlap: 30 * 24 * time.Hour}

	old, err := Rotate(ctx, dir, chiyoda, reg)
	if err != nil {
		t.Fatalf("first Rotate: %v", err)
	}
	kr := loadKeyring(t, dir) // loaded before the rotation, like a running card agent
	sealedOld, err := Seal(old, caseNo, pinsOf("sign", "OLDKEY1", "auth", "1111"))
	if err != nil {
		t.Fatal(err)
	}

	cur, err := Rotate(ctx, dir, chiyoda, reg)
	if err != nil {
		t.Fatalf("second Rotate: %v", err)
	}
	if cur.KeyID == old.KeyID {
		t.Fatal("rotation kept the key id")
	}
	sealedNew, err := Seal(cur, caseNo, pinsOf("auth", "2222"))
	if err != nil {
		t.Fatal(err)
	}

	// During the overlap both open, with the keyring loaded before the rotation.
	if got, err := kr.Open(sealedOld, caseNo); err != nil || string(got["sign"]) != "OLDKEY1" {
		t.Fatalf("notice sealed to the old key during the overlap: %v", err)
	}
	if got, err := kr.Open(sealedNew, caseNo); err != nil || string(got["auth"]) != "2222" {
		t.Fatalf("notice sealed to the new key: %v", err)
	}

	// Before the overlap ends nothing is pruned.
	removed, err := Prune(ctx, dir, chiyoda, reg, time.Now().Add(29*24*time.Hour))
	if err != nil || len(removed) != 0 {
		t.Fatalf("Prune within the overlap removed %v (%v)", removed, err)
	}
	if _, err := kr.Open(sealedOld, caseNo); err != nil {
		t.Fatalf("old notice after an early prune: %v", err)
	}

	removed, err = Prune(ctx, dir, chiyoda, reg, time.Now().Add(31*24*time.Hour))
	if err != nil {
		t.Fatalf("Prune: %v", err)
	}
	if !slices.Equal(removed, []string{old.KeyID}) {
		t.Fatalf("pruned %v, want [%s]", removed, old.KeyID)
	}
	if _, err := os.Stat(filepath.Join(dir, old.KeyID+".key")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("old key file still there: %v", err)
	}
	if _, err := kr.Open(sealedOld, caseNo); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("old notice after prune: %v, want ErrUnknownKey", err)
	}
	if _, err := loadKeyring(t, dir).Open(sealedOld, caseNo); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("old notice after prune, fresh keyring: %v, want ErrUnknownKey", err)
	}
	if _, err := kr.Open(sealedNew, caseNo); err != nil {
		t.Fatalf("current key's notice after prune: %v", err)
	}

	// Pruning again is a no-op.
	if removed, err := Prune(ctx, dir, chiyoda, reg, time.Now().Add(31*24*time.Hour)); err != nil || len(removed) != 0 {
		t.Fatalf("second Prune removed %v (%v)", removed, err)
	}
}

func TestRotateRemovesKeyWhenRegistrationFails(t *testing.T) {
	dir := filepath.Join(t.TempDir(), chiyoda)
	boom := errors.New("registry down")
	_, err := Rotate(context.Background(), dir, chiyoda, &memRegistry{fail: boom})
	if !errors.Is(err, boom) {
		t.Fatalf("Rotate error %v, want the registry's", err)
	}
	ids, err := KeyIDs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 0 {
		t.Fatalf("unregistered key files left behind: %v", ids)
	}
}

// TestSuiteIsPinned pins the suite the README and docs/SEALING.md promise,
// by its RFC 9180 wire ids and sizes, and opens a sealed notice with a
// recipient built from those ids alone: swapping the KEM for plain X25519
// (or ML-KEM alone), or the KDF or AEAD, fails here.
func TestSuiteIsPinned(t *testing.T) {
	const (
		kemMLKEM768X25519 = 0x647a // X-Wing
		kdfHKDFSHA256     = 0x0001
		aeadAES256GCM     = 0x0002
		// ML-KEM-768's 1088-byte ciphertext plus an X25519 share; 1184 + 32
		// bytes of public key. DHKEM(X25519) would be 32 and 32.
		xwingEncSize       = 1120
		xwingPublicKeySize = 1216
		gcmTagSize         = 16
	)
	for _, id := range []struct {
		what      string
		got, want uint16
	}{{"KEM", kem.ID(), kemMLKEM768X25519}, {"KDF", kdf.ID(), kdfHKDFSHA256}, {"AEAD", aead.ID(), aeadAES256GCM}} {
		if id.got != id.want {
			t.Errorf("%s id is %#04x, want %#04x", id.what, id.got, id.want)
		}
	}

	pub, dir := newKey(t, chiyoda)
	if len(pub.Key) != xwingPublicKeySize {
		t.Errorf("public key is %d bytes, want %d (MLKEM768-X25519)", len(pub.Key), xwingPublicKeySize)
	}
	pins := pinsOf("sign", "SUITE7PIN", "auth", "4821")
	n, err := Seal(pub, caseNo, pins)
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Enc) != xwingEncSize {
		t.Errorf("encapsulated key is %d bytes, want %d (MLKEM768-X25519)", len(n.Enc), xwingEncSize)
	}
	plain := encodePlain(n.Kinds, pins)
	if len(n.Ciphertext) != len(plain)+gcmTagSize {
		t.Errorf("ciphertext is %d bytes, want %d plus a %d-byte tag", len(n.Ciphertext), len(plain), gcmTagSize)
	}

	// The key file records the KEM id, and a recipient made from the wire
	// ids, not from the package's suite, opens the notice.
	b, err := os.ReadFile(filepath.Join(dir, pub.KeyID+".key"))
	if err != nil {
		t.Fatal(err)
	}
	var kf keyFile
	if err := json.Unmarshal(b, &kf); err != nil {
		t.Fatal(err)
	}
	if kf.KEM != kemMLKEM768X25519 {
		t.Errorf("key file records KEM %#04x, want %#04x", kf.KEM, kemMLKEM768X25519)
	}
	k, err := hpke.NewKEM(kemMLKEM768X25519)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := hpke.NewKDF(kdfHKDFSHA256)
	a, _ := hpke.NewAEAD(aeadAES256GCM)
	sk, err := k.NewPrivateKey(kf.PrivateKey)
	if err != nil {
		t.Fatalf("the key file's private key is not an MLKEM768-X25519 key: %v", err)
	}
	r, err := hpke.NewRecipient(n.Enc, sk, f, a, info(n.Municipality, n.KeyID, caseNo))
	if err != nil {
		t.Fatalf("an MLKEM768-X25519 recipient refuses the notice: %v", err)
	}
	got, err := r.Open(aad(n.Kinds), n.Ciphertext)
	if err != nil {
		t.Fatalf("the notice does not open with MLKEM768-X25519, HKDF-SHA256, AES-256-GCM: %v", err)
	}
	if !bytes.Equal(got, plain) {
		t.Error("the opened notice is not the sealed PINs")
	}
}
