// Package codec encrypts Temporal payloads with AES-256-GCM so that personal
// data (the 4 information, addresses, register records) never reaches the
// Temporal server or its history in the clear.
//
// # Keys
//
// The key file holds a keyring: one hex-encoded 32-byte master key a line,
// oldest first; the last one encrypts, the others are kept to decrypt what
// they encrypted (see Rotate). A key is named by its id, the hex of the first
// 4 bytes of its SHA-256, recorded in each payload's metadata. The file of a
// single key written by scripts/lib.sh is a keyring of one.
//
// # Scopes
//
// Each payload is encrypted under a key derived (HKDF-SHA256) from the master
// key for its scope, recorded in its metadata: the 6-digit code of the
// municipality whose procedure it belongs to, read from the workflow id
// (every case number starts with it), ScopeOrganization for the
// Organization's workflows and ScopeSystem where the SDK names no workflow.
// The processes that hold the master keyring decrypt every scope; the
// gateway's codec endpoint decrypts for a manager only the scope of the
// manager's own municipality (ForScope), so a manager cannot read another
// municipality's history in the Temporal UI.
//
// # Scoped keyrings
//
// A scoped keyring (ExportScoped, `codeckey export`) holds only the derived
// keys of some scopes, one for each master key id: a counter terminal's card
// agent holds its municipality's, and cannot derive any other. A codec
// loaded from one encrypts and decrypts only those scopes and refuses any
// other with ErrScopeNotHeld, so that process can neither start nor work a
// workflow of another municipality.
//
// Payloads encrypted before scopes existed (no scope in the metadata) were
// sealed with the master key itself; they still decrypt, except through
// ForScope, which cannot tell whose they are.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

const (
	// Encoding marks a payload as encrypted by this codec.
	Encoding = "binary/encrypted"
	// MetadataKeyID names the master key a payload was encrypted with.
	MetadataKeyID = "encryption-key-id"
	// MetadataScope names the scope whose derived key encrypted a payload.
	// Payloads without it predate scopes and are sealed with the master key.
	MetadataScope = "encryption-scope"

	// ScopeOrganization is the scope of workflows whose id names no
	// municipality: the Organization's (CRL publication, for example).
	ScopeOrganization = "organization"
	// ScopeSystem is the scope of payloads the SDK converts without naming a
	// workflow, and of direct calls to Encode.
	ScopeSystem = "system"

	// KeySize is the size of a master key in bytes.
	KeySize = 32
)

var (
	// ErrUnknownKey is returned when a payload names a key the keyring lacks
	// (even after reading the key file again).
	ErrUnknownKey = errors.New("codec: payload encrypted with an unknown key")
	// ErrScopeMismatch is returned when a payload belongs to another scope
	// than the one a codec is restricted to, or when a caller's scope
	// (WithScope) contradicts the workflow the SDK names.
	ErrScopeMismatch = errors.New("codec: payload belongs to another scope")
	// ErrUnscoped is returned by a scope-restricted codec for a payload
	// encrypted before scopes existed: whose it is cannot be told.
	ErrUnscoped = errors.New("codec: payload predates per-scope keys")
	// ErrDecrypt is returned when a payload does not authenticate under the
	// key its metadata names (tampered, or its scope forged).
	ErrDecrypt = errors.New("codec: payload does not decrypt")
	// ErrInvalidScope is returned for an empty or malformed scope.
	ErrInvalidScope = errors.New("codec: invalid scope")
	// ErrKeyFile is returned for a key file that is not a keyring.
	ErrKeyFile = errors.New("codec: malformed key file")
	// ErrScopeNotHeld is returned by a codec of a scoped keyring for a
	// payload (to encrypt or to decrypt) of a scope it holds no key for.
	ErrScopeNotHeld = errors.New("codec: this process holds no key for the payload's scope")
)

// masterKey is one key of the keyring with the AEADs made from it. In a
// scoped keyring raw and legacy are nil and scoped holds only the exported
// scopes.
type masterKey struct {
	id     string
	raw    []byte
	legacy cipher.AEAD // the master key itself, for payloads without a scope
	scoped sync.Map    // scope → cipher.AEAD, derived on first use
}

// ring is an immutable keyring; AESGCM swaps it whole on reload.
type ring struct {
	keys []*masterKey // oldest first; the last encrypts
	byID map[string]*masterKey
	// held are the scopes of a scoped keyring, each with its newest key;
	// nil for a master keyring, which holds every scope.
	held map[string]*masterKey
}

// newScopedRing builds the ring of a scoped keyring: key ids in the order
// they first appear (oldest first), the last one of a scope encrypting it.
func newScopedRing(sks []ScopedKey) (*ring, error) {
	if len(sks) == 0 {
		return nil, fmt.Errorf("%w: no key", ErrKeyFile)
	}
	r := &ring{byID: map[string]*masterKey{}, held: map[string]*masterKey{}}
	for _, sk := range sks {
		if !ValidScope(sk.Scope) {
			return nil, fmt.Errorf("%w: %q", ErrInvalidScope, sk.Scope)
		}
		mk, ok := r.byID[sk.KeyID]
		if !ok {
			mk = &masterKey{id: sk.KeyID}
			r.keys = append(r.keys, mk)
			r.byID[sk.KeyID] = mk
		}
		if _, dup := mk.scoped.Load(sk.Scope); dup {
			return nil, fmt.Errorf("%w: key %s of scope %s appears twice", ErrKeyFile, sk.KeyID, sk.Scope)
		}
		a, err := newAEAD(sk.Key)
		if err != nil {
			return nil, err
		}
		mk.scoped.Store(sk.Scope, a)
		r.held[sk.Scope] = mk
	}
	return r, nil
}

// encrypting is the key that encrypts a scope, or ErrScopeNotHeld.
func (r *ring) encrypting(scope string) (*masterKey, error) {
	if r.held == nil {
		return r.current(), nil
	}
	if k, ok := r.held[scope]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("%w (%q)", ErrScopeNotHeld, scope)
}

// holds tells whether the ring has keys for scope.
func (r *ring) holds(scope string) bool {
	if r.held == nil {
		return true
	}
	_, ok := r.held[scope]
	return ok
}

// ringOf builds the ring of a parsed key file.
func ringOf(kf keyFile) (*ring, error) {
	if kf.scoped != nil {
		return newScopedRing(kf.scoped)
	}
	return newRing(kf.master)
}

func newRing(keys [][]byte) (*ring, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no key", ErrKeyFile)
	}
	r := &ring{byID: make(map[string]*masterKey, len(keys))}
	for _, k := range keys {
		if len(k) != KeySize {
			return nil, fmt.Errorf("codec: key must be %d bytes, got %d", KeySize, len(k))
		}
		aead, err := newAEAD(k)
		if err != nil {
			return nil, err
		}
		mk := &masterKey{id: KeyID(k), raw: append([]byte(nil), k...), legacy: aead}
		if _, dup := r.byID[mk.id]; dup {
			return nil, fmt.Errorf("%w: key %s appears twice", ErrKeyFile, mk.id)
		}
		r.keys = append(r.keys, mk)
		r.byID[mk.id] = mk
	}
	return r, nil
}

func (r *ring) current() *masterKey { return r.keys[len(r.keys)-1] }

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("codec: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("codec: %w", err)
	}
	return aead, nil
}

// hkdfInfo separates the derived keys of this codec (and of its version)
// from any other use of the master key.
const hkdfInfo = "madoguchi payload codec v1 scope="

// deriveKey is the key of a scope under a master key.
func deriveKey(master []byte, scope string) ([]byte, error) {
	dk, err := hkdf.Key(sha256.New, master, nil, hkdfInfo+scope, KeySize)
	if err != nil {
		return nil, fmt.Errorf("codec: derive: %w", err)
	}
	return dk, nil
}

// aeadFor returns the AEAD of a scope, deriving its key once; a key of a
// scoped keyring has only the exported scopes.
func (k *masterKey) aeadFor(scope string) (cipher.AEAD, error) {
	if a, ok := k.scoped.Load(scope); ok {
		return a.(cipher.AEAD), nil
	}
	if k.raw == nil {
		return nil, fmt.Errorf("%w (%q, key %s)", ErrScopeNotHeld, scope, k.id)
	}
	dk, err := deriveKey(k.raw, scope)
	if err != nil {
		return nil, err
	}
	a, err := newAEAD(dk)
	if err != nil {
		return nil, err
	}
	actual, _ := k.scoped.LoadOrStore(scope, a)
	return actual.(cipher.AEAD), nil
}

// aad binds the key id and the scope into the ciphertext as well.
func aad(keyID, scope string) []byte {
	return []byte("madoguchi-codec-v1\x00" + keyID + "\x00" + scope)
}

// KeyID names a master key: hex(sha256(key)[:4]).
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:4])
}

// ValidScope tells whether s can be a scope: 1–64 characters of letters,
// digits, '-', '_' and '.'.
func ValidScope(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}

// AESGCM is the payload codec: a keyring of AES-256-GCM master keys with a
// key derived per scope. Used directly, it encrypts under ScopeSystem and
// decrypts any scope; the SDK binds it to a workflow through
// WithSerializationContext, and the gateway restricts it with ForScope.
type AESGCM struct {
	ring atomic.Pointer[ring]

	// path is the key file read again on an unknown key id or a change.
	path    string
	checked atomic.Int64 // unix nanoseconds of the last look at the file
	mu      sync.Mutex   // serialises reloads
	stamp   fileStamp
}

type fileStamp struct {
	mod  time.Time
	size int64
}

// How often a codec looks at its key file: after an unknown key id at most
// once a second (another process may have rotated), otherwise every 30 s,
// so a rotation reaches running processes without a restart.
const (
	reloadAfterUnknown = time.Second
	reloadPeriod       = 30 * time.Second
)

// New builds a codec from one 32-byte key.
func New(key []byte) (*AESGCM, error) { return NewKeyring(key) }

// NewKeyring builds a codec from master keys, oldest first; the last one
// encrypts.
func NewKeyring(keys ...[]byte) (*AESGCM, error) {
	r, err := newRing(keys)
	if err != nil {
		return nil, err
	}
	c := &AESGCM{}
	c.ring.Store(r)
	return c, nil
}

// NewScoped builds a codec from a scoped keyring (ExportScoped): it encrypts
// and decrypts only the scopes of keys.
func NewScoped(keys []ScopedKey) (*AESGCM, error) {
	r, err := newScopedRing(keys)
	if err != nil {
		return nil, err
	}
	c := &AESGCM{}
	c.ring.Store(r)
	return c, nil
}

// Load reads the keyring from a key file: a master keyring (see
// ReadKeyFile) or a scoped one (WriteScopedKeyFile). The codec reads the
// file again when a payload names a key or a scope it lacks and when the
// file changes (looked at every 30 s), so running processes follow a
// rotation and a re-export.
func Load(path string) (*AESGCM, error) {
	kf, stamp, err := readKeyFileStamp(path)
	if err != nil {
		return nil, err
	}
	r, err := ringOf(kf)
	if err != nil {
		return nil, fmt.Errorf("codec: %s: %w", path, err)
	}
	c := &AESGCM{}
	c.ring.Store(r)
	c.path, c.stamp = path, stamp
	c.checked.Store(time.Now().UnixNano())
	return c, nil
}

// KeyID is the id of the key that encrypts now.
func (c *AESGCM) KeyID() string {
	c.refresh(false)
	return c.ring.Load().current().id
}

// Scopes are the scopes of a scoped keyring, sorted; nil for a master
// keyring, which holds every scope.
func (c *AESGCM) Scopes() []string {
	r := c.ring.Load()
	if r.held == nil {
		return nil
	}
	out := make([]string, 0, len(r.held))
	for s := range r.held {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// Holds tells whether the codec has keys for scope: always for a master
// keyring; for a scoped one, only for its scopes.
func (c *AESGCM) Holds(scope string) bool {
	if c.ring.Load().holds(scope) {
		return true
	}
	c.refresh(true) // a re-export may have added it
	return c.ring.Load().holds(scope)
}

// KeyIDs are the ids of the keyring, oldest first.
func (c *AESGCM) KeyIDs() []string {
	r := c.ring.Load()
	ids := make([]string, len(r.keys))
	for i, k := range r.keys {
		ids[i] = k.id
	}
	return ids
}

// refresh reads the key file again if it is due: after an unknown key id
// (unknown) or when the file changed. A file that cannot be read or parsed
// leaves the keyring as it was: a half-written file never empties it.
func (c *AESGCM) refresh(unknown bool) {
	if c.path == "" {
		return
	}
	every := reloadPeriod
	if unknown {
		every = reloadAfterUnknown
	}
	now := time.Now().UnixNano()
	last := c.checked.Load()
	if now-last < int64(every) || !c.checked.CompareAndSwap(last, now) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st, err := os.Stat(c.path)
	if err != nil || (!unknown && st.ModTime().Equal(c.stamp.mod) && st.Size() == c.stamp.size) {
		return
	}
	kf, stamp, err := readKeyFileStamp(c.path)
	if err != nil {
		return
	}
	r, err := ringOf(kf)
	if err != nil {
		return
	}
	c.ring.Store(r)
	c.stamp = stamp
}

// key finds a master key by id, reading the key file again once if needed.
func (c *AESGCM) key(id string) (*masterKey, error) {
	if k, ok := c.ring.Load().byID[id]; ok {
		return k, nil
	}
	c.refresh(true)
	if k, ok := c.ring.Load().byID[id]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("%w (%q)", ErrUnknownKey, id)
}

// Encode encrypts each payload whole (metadata and data) under ScopeSystem.
func (c *AESGCM) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	return c.encode(payloads, ScopeSystem)
}

// Decode decrypts payloads this codec encrypted, whatever their scope, and
// passes others through.
func (c *AESGCM) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	return c.decode(payloads, "")
}

// EncodeScope encrypts payloads under a scope.
func (c *AESGCM) EncodeScope(payloads []*commonpb.Payload, scope string) ([]*commonpb.Payload, error) {
	return c.encode(payloads, scope)
}

// ForScope returns a codec restricted to one scope: it encrypts under it and
// decrypts only payloads of that scope, refusing others with
// ErrScopeMismatch and payloads that predate scopes with ErrUnscoped. The
// gateway's codec endpoint uses it with the manager's municipality.
func (c *AESGCM) ForScope(scope string) converter.PayloadCodec {
	return &restricted{c: c, scope: scope}
}

func (c *AESGCM) encode(payloads []*commonpb.Payload, scope string) ([]*commonpb.Payload, error) {
	if !ValidScope(scope) {
		return nil, fmt.Errorf("%w: %q", ErrInvalidScope, scope)
	}
	c.refresh(false)
	if !c.Holds(scope) {
		return nil, fmt.Errorf("%w (%q)", ErrScopeNotHeld, scope)
	}
	k, err := c.ring.Load().encrypting(scope)
	if err != nil {
		return nil, err
	}
	aead, err := k.aeadFor(scope)
	if err != nil {
		return nil, err
	}
	ad := aad(k.id, scope)
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := p.Marshal()
		if err != nil {
			return nil, fmt.Errorf("codec: marshal: %w", err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("codec: nonce: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(Encoding),
				MetadataKeyID:              []byte(k.id),
				MetadataScope:              []byte(scope),
			},
			Data: aead.Seal(nonce, nonce, plain, ad),
		}
	}
	return out, nil
}

// decode decrypts; only, if set, is the one scope accepted.
func (c *AESGCM) decode(payloads []*commonpb.Payload, only string) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if !Encrypted(p) {
			out[i] = p
			continue
		}
		scope, scoped := PayloadScope(p)
		switch {
		case only != "" && !scoped:
			return nil, ErrUnscoped
		case only != "" && scope != only:
			return nil, fmt.Errorf("%w: %q, not %q", ErrScopeMismatch, scope, only)
		case scoped && !ValidScope(scope):
			return nil, fmt.Errorf("%w: %q", ErrInvalidScope, scope)
		case !scoped && c.ring.Load().held != nil:
			// A scoped keyring has no master key to open them with.
			return nil, ErrUnscoped
		case scoped && !c.Holds(scope):
			return nil, fmt.Errorf("%w (%q)", ErrScopeNotHeld, scope)
		}
		k, err := c.key(string(p.GetMetadata()[MetadataKeyID]))
		if err != nil {
			return nil, err
		}
		aead, ad := k.legacy, []byte(nil)
		if scoped {
			if aead, err = k.aeadFor(scope); err != nil {
				return nil, err
			}
			ad = aad(k.id, scope)
		}
		data := p.GetData()
		ns := aead.NonceSize()
		if len(data) < ns+aead.Overhead() {
			return nil, fmt.Errorf("%w: too short", ErrDecrypt)
		}
		plain, err := aead.Open(nil, data[:ns], data[ns:], ad)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrDecrypt, err)
		}
		var dec commonpb.Payload
		if err := dec.Unmarshal(plain); err != nil {
			return nil, fmt.Errorf("codec: unmarshal: %w", err)
		}
		out[i] = &dec
	}
	return out, nil
}

// Encrypted tells whether a payload was encrypted by this codec.
func Encrypted(p *commonpb.Payload) bool {
	return string(p.GetMetadata()[converter.MetadataEncoding]) == Encoding
}

// PayloadScope is the scope an encrypted payload's metadata names; ok is
// false for a payload without one (not encrypted, or encrypted before
// scopes). The metadata is not authenticated by itself: a forged scope makes
// the payload fail to decrypt.
func PayloadScope(p *commonpb.Payload) (scope string, ok bool) {
	s, ok := p.GetMetadata()[MetadataScope]
	if !ok || !Encrypted(p) {
		return "", false
	}
	return string(s), true
}

// restricted is a codec limited to one scope (ForScope).
type restricted struct {
	c     *AESGCM
	scope string
}

func (r *restricted) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	return r.c.encode(payloads, r.scope)
}

func (r *restricted) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	if !ValidScope(r.scope) {
		return nil, fmt.Errorf("%w: %q", ErrInvalidScope, r.scope)
	}
	return r.c.decode(payloads, r.scope)
}

// ScopeOfWorkflowID is the scope of a workflow's payloads: the municipality
// code that starts its case number (`<procedure>/<caseNumber>`, the case
// number starting with the 6-digit code, relay address cases included), or
// ScopeOrganization for an id that names no municipality. An empty id names
// no workflow and gives "".
func ScopeOfWorkflowID(id string) string {
	if id == "" {
		return ""
	}
	if _, cn, ok := strings.Cut(id, "/"); ok {
		id = cn
	}
	if len(id) >= 6 && allDigits(id[:6]) && (len(id) == 6 || id[6] == '-') {
		return id[:6]
	}
	return ScopeOrganization
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
