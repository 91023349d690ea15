// Package verifier keeps the register of verifiers (検証者) allowed to ask
// the Organization's repository about certificates, with their access
// rights (seed 第1 4 (4) エ–キ):
//
//   - 署名検証者 (signature verifier, 法17①): bodies of エ①–⑥; learn the
//     status of signing certificates.
//   - 利用者証明検証者 (user-authentication verifier, 法36①): the same
//     bodies; learn the status of user-authentication certificates.
//   - 団体署名検証者 (group signature verifier, 法17⑤): the groups of カ①②;
//     learn signing-certificate status on behalf of their members, the
//     署名確認者 (キ), who are not registered here and never ask directly.
//
// One registered both as a signature verifier and as a user-authentication
// verifier may map a certificate's serial to its counterpart's (対応証明書の
// 発行の番号, 図1-8 ③).
//
// Verifiers authenticate with an API key issued at registration and shown
// once; only its SHA-256 is stored. Keys are 256-bit random strings, so a
// fast hash is as safe as a slow one and costs nothing on the OCSP hot path.
package verifier

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/madoguchi/madoguchi/internal/ca"
)

// HeaderName is the HTTP header that carries a verifier's API key.
const HeaderName = "X-JPKI-Verifier-Key"

// KeyPrefix starts every API key: "jpkiv_" + 16 hex key id + "_" + 43
// base64url characters (256 random bits).
const KeyPrefix = "jpkiv_"

// Role is a registration a verifier holds.
type Role string

// The three roles.
const (
	RoleSignature      Role = "signature"       // 署名検証者
	RoleUserAuth       Role = "user_auth"       // 利用者証明検証者
	RoleGroupSignature Role = "group_signature" // 団体署名検証者
)

// Japanese returns the manual's name of the role.
func (r Role) Japanese() string {
	switch r {
	case RoleSignature:
		return "署名検証者"
	case RoleUserAuth:
		return "利用者証明検証者"
	case RoleGroupSignature:
		return "団体署名検証者"
	}
	return ""
}

// Category is the legal basis of a registration (seed 第1 4 (4) エ①–⑥, カ①②).
type Category string

// The categories.
const (
	CategoryAdministrative   Category = "administrative"    // エ① 行政機関等
	CategoryCourt            Category = "court"             // エ② 裁判所
	CategoryDesignated       Category = "designated"        // エ③ 行政庁が指定・登録・認定・承認した者
	CategoryAccreditedCA     Category = "accredited_ca"     // エ④ 認定認証事業者
	CategorySpecifiedCA      Category = "specified_ca"      // エ⑤ 特定認証業務を行う者（主務大臣認定）
	CategoryMinisterApproved Category = "minister_approved" // エ⑥ 主務大臣が認定する者
	CategoryGroupProxy       Category = "group_proxy"       // カ① 代理で手続を行う者が所属する団体
	CategoryGroupProvider    Category = "group_provider"    // カ② 電磁的記録を提供する者が所属する団体・機関
)

// Categories lists every category, エ then カ.
var Categories = []Category{CategoryAdministrative, CategoryCourt, CategoryDesignated, CategoryAccreditedCA,
	CategorySpecifiedCA, CategoryMinisterApproved, CategoryGroupProxy, CategoryGroupProvider}

// Group reports whether the category is one of カ's groups.
func (c Category) Group() bool { return c == CategoryGroupProxy || c == CategoryGroupProvider }

// Valid reports whether c is a known category.
func (c Category) Valid() bool {
	for _, k := range Categories {
		if c == k {
			return true
		}
	}
	return false
}

// Errors callers can map.
var (
	// ErrInvalid: a registration breaks a rule (the message says which).
	ErrInvalid = errors.New("verifier: invalid registration")
	// ErrNameTaken: a verifier with that name is registered.
	ErrNameTaken = errors.New("verifier: name already registered")
	// ErrNotFound: no such verifier.
	ErrNotFound = errors.New("verifier: not found")
)

// Registration asks to register a verifier.
type Registration struct {
	Name     string
	Category Category
	Roles    []Role
}

// Validate checks the manual's rules: a group signature verifier (カ) holds
// only that role; signature and user-authentication verifiers are エ's
// bodies.
func (r Registration) Validate() error {
	name := strings.TrimSpace(r.Name)
	if name == "" || name != r.Name || utf8.RuneCountInString(name) > 200 || !utf8.ValidString(name) ||
		strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return fmt.Errorf("%w: name must be 1 to 200 printable characters without surrounding space", ErrInvalid)
	}
	if !r.Category.Valid() {
		return fmt.Errorf("%w: unknown category %q", ErrInvalid, r.Category)
	}
	if len(r.Roles) == 0 {
		return fmt.Errorf("%w: at least one role is required", ErrInvalid)
	}
	seen := map[Role]bool{}
	for _, role := range r.Roles {
		switch role {
		case RoleSignature, RoleUserAuth, RoleGroupSignature:
		default:
			return fmt.Errorf("%w: unknown role %q", ErrInvalid, role)
		}
		seen[role] = true
	}
	if seen[RoleGroupSignature] {
		if seen[RoleSignature] || seen[RoleUserAuth] {
			return fmt.Errorf("%w: a group signature verifier (団体署名検証者) holds no other role", ErrInvalid)
		}
		if !r.Category.Group() {
			return fmt.Errorf("%w: a group signature verifier must be a group of category %s or %s", ErrInvalid,
				CategoryGroupProxy, CategoryGroupProvider)
		}
	} else if r.Category.Group() {
		return fmt.Errorf("%w: signature and user-authentication verifiers are the bodies of エ①–⑥, not groups", ErrInvalid)
	}
	return nil
}

// Verifier is a registered verifier. Its rights follow from its roles.
type Verifier struct {
	ID             int64     `json:"id"`
	Name           string    `json:"name"`
	Category       Category  `json:"category"`
	Signature      bool      `json:"signature"`
	UserAuth       bool      `json:"user_auth"`
	GroupSignature bool      `json:"group_signature"`
	KeyID          string    `json:"key_id"`
	RegisteredAt   time.Time `json:"registered_at"`
	KeyIssuedAt    time.Time `json:"key_issued_at"`
	DisabledAt     time.Time `json:"disabled_at,omitzero"`
}

// Roles lists the verifier's roles.
func (v *Verifier) Roles() []Role {
	var out []Role
	if v.Signature {
		out = append(out, RoleSignature)
	}
	if v.UserAuth {
		out = append(out, RoleUserAuth)
	}
	if v.GroupSignature {
		out = append(out, RoleGroupSignature)
	}
	return out
}

// Active reports whether the registration is in force.
func (v *Verifier) Active() bool { return v != nil && v.DisabledAt.IsZero() }

// MayCheck reports whether the verifier may learn the status (OCSP, CRLs,
// past revocation-information files) of certificates of kind: signing
// certificates for 署名検証者 and 団体署名検証者, user-authentication
// certificates for 利用者証明検証者.
func (v *Verifier) MayCheck(kind ca.Kind) bool {
	if !v.Active() {
		return false
	}
	switch kind {
	case ca.KindSign:
		return v.Signature || v.GroupSignature
	case ca.KindAuth:
		return v.UserAuth
	}
	return false
}

// MayMapCounterpart reports whether the verifier may learn counterpart
// serials: 署名検証者等かつ利用者証明検証者である者 (図1-8 ③).
func (v *Verifier) MayMapCounterpart() bool {
	return v.Active() && (v.Signature || v.GroupSignature) && v.UserAuth
}

// String names the verifier; it never holds the key.
func (v *Verifier) String() string {
	return fmt.Sprintf("verifier %d %q (%s)", v.ID, v.Name, strings.Join(roleStrings(v.Roles()), ","))
}

func roleStrings(rs []Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}

// newKey draws an API key and returns it with its id and hash.
func newKey() (key, keyID string, sum [32]byte, err error) {
	id := make([]byte, 8)
	secret := make([]byte, 32)
	if _, err := rand.Read(id); err != nil {
		return "", "", sum, fmt.Errorf("verifier: random key id: %w", err)
	}
	if _, err := rand.Read(secret); err != nil {
		return "", "", sum, fmt.Errorf("verifier: random key: %w", err)
	}
	keyID = hex.EncodeToString(id)
	key = KeyPrefix + keyID + "_" + base64.RawURLEncoding.EncodeToString(secret)
	return key, keyID, HashKey(key), nil
}

// HashKey is what the register stores of a key.
func HashKey(key string) [32]byte { return sha256.Sum256([]byte(key)) }

const verifierCols = `id, name, category, signature, user_auth, group_signature, key_id, registered_at, key_issued_at, disabled_at`

func scanVerifier(row pgx.Row) (*Verifier, []byte, error) {
	var v Verifier
	var cat string
	var disabled *time.Time
	var hash []byte
	err := row.Scan(&v.ID, &v.Name, &cat, &v.Signature, &v.UserAuth, &v.GroupSignature, &v.KeyID, &v.RegisteredAt,
		&v.KeyIssuedAt, &disabled, &hash)
	if err != nil {
		return nil, nil, err
	}
	v.Category = Category(cat)
	if disabled != nil {
		v.DisabledAt = disabled.UTC()
	}
	v.RegisteredAt = v.RegisteredAt.UTC()
	v.KeyIssuedAt = v.KeyIssuedAt.UTC()
	return &v, hash, nil
}

// Register records a verifier and returns it with its API key, which is shown
// this once and never stored.
func Register(ctx context.Context, pool *pgxpool.Pool, r Registration) (*Verifier, string, error) {
	if err := r.Validate(); err != nil {
		return nil, "", err
	}
	key, keyID, sum, err := newKey()
	if err != nil {
		return nil, "", err
	}
	has := map[Role]bool{}
	for _, role := range r.Roles {
		has[role] = true
	}
	v, _, err := scanVerifier(pool.QueryRow(ctx, `INSERT INTO repo_verifiers
		(name, category, signature, user_auth, group_signature, key_id, key_sha256)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+verifierCols+`, key_sha256`,
		r.Name, string(r.Category), has[RoleSignature], has[RoleUserAuth], has[RoleGroupSignature], keyID, sum[:]))
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" && strings.Contains(pgErr.ConstraintName, "name") {
			return nil, "", fmt.Errorf("%w: %q", ErrNameTaken, r.Name)
		}
		return nil, "", fmt.Errorf("verifier: register: %w", err)
	}
	return v, key, nil
}

// RotateKey issues a new API key for a verifier; the old one stops working
// as soon as the servers reload (they are notified).
func RotateKey(ctx context.Context, pool *pgxpool.Pool, id int64) (string, error) {
	key, keyID, sum, err := newKey()
	if err != nil {
		return "", err
	}
	tag, err := pool.Exec(ctx, `UPDATE repo_verifiers SET key_id = $1, key_sha256 = $2, key_issued_at = now()
		WHERE id = $3 AND disabled_at IS NULL`, keyID, sum[:], id)
	if err != nil {
		return "", fmt.Errorf("verifier: rotate key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return "", fmt.Errorf("%w: active verifier %d", ErrNotFound, id)
	}
	return key, nil
}

// Disable ends a registration (the access rights are withdrawn); the row is
// kept for the record.
func Disable(ctx context.Context, pool *pgxpool.Pool, id int64) error {
	tag, err := pool.Exec(ctx, "UPDATE repo_verifiers SET disabled_at = now() WHERE id = $1 AND disabled_at IS NULL", id)
	if err != nil {
		return fmt.Errorf("verifier: disable: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: active verifier %d", ErrNotFound, id)
	}
	return nil
}

// List returns every registration, active or not, by id.
func List(ctx context.Context, pool *pgxpool.Pool) ([]*Verifier, error) {
	all, _, err := load(ctx, pool)
	return all, err
}

// ByName returns the verifier registered under name.
func ByName(ctx context.Context, pool *pgxpool.Pool, name string) (*Verifier, error) {
	v, _, err := scanVerifier(pool.QueryRow(ctx, "SELECT "+verifierCols+", key_sha256 FROM repo_verifiers WHERE name = $1", name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	if err != nil {
		return nil, fmt.Errorf("verifier: look up: %w", err)
	}
	return v, nil
}

func load(ctx context.Context, pool *pgxpool.Pool) ([]*Verifier, map[[32]byte]*Verifier, error) {
	rows, err := pool.Query(ctx, "SELECT "+verifierCols+", key_sha256 FROM repo_verifiers ORDER BY id")
	if err != nil {
		return nil, nil, fmt.Errorf("verifier: load: %w", err)
	}
	defer rows.Close()
	var all []*Verifier
	byHash := map[[32]byte]*Verifier{}
	for rows.Next() {
		v, hash, err := scanVerifier(rows)
		if err != nil {
			return nil, nil, fmt.Errorf("verifier: load: %w", err)
		}
		all = append(all, v)
		if v.Active() && len(hash) == 32 {
			byHash[[32]byte(hash)] = v
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("verifier: load: %w", err)
	}
	return all, byHash, nil
}

// Registry is the in-memory copy of the active registrations that the
// repository server authenticates against: a key check is one SHA-256 and a
// map lookup. Run keeps it current.
type Registry struct {
	pool   *pgxpool.Pool
	byHash atomic.Pointer[map[[32]byte]*Verifier]
	logger *slog.Logger
}

// NewRegistry loads the register.
func NewRegistry(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) (*Registry, error) {
	if logger == nil {
		logger = slog.Default()
	}
	r := &Registry{pool: pool, logger: logger}
	if err := r.Reload(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload reads the register again.
func (r *Registry) Reload(ctx context.Context) error {
	_, byHash, err := load(ctx, r.pool)
	if err != nil {
		return err
	}
	r.byHash.Store(&byHash)
	return nil
}

// Authenticate returns the active verifier holding key, or nil.
func (r *Registry) Authenticate(key string) *Verifier {
	if len(key) < len(KeyPrefix) || key[:len(KeyPrefix)] != KeyPrefix {
		return nil
	}
	m := r.byHash.Load()
	if m == nil {
		return nil
	}
	return (*m)[HashKey(key)]
}

// Run keeps the registry current until ctx ends: it listens for changes
// (a trigger on repo_verifiers notifies) and also reloads every
// reloadInterval in case a notification was missed while reconnecting.
func (r *Registry) Run(ctx context.Context) error {
	go func() {
		t := time.NewTicker(reloadInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := r.Reload(ctx); err != nil && ctx.Err() == nil {
					r.logger.Warn("verifier: reload failed", "err", err)
				}
			}
		}
	}()
	backoff := 100 * time.Millisecond
	for {
		err := r.listen(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.logger.Warn("verifier: change listener lost", "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

const (
	notifyChannel  = "repo_verifiers_changed"
	reloadInterval = 30 * time.Second
)

func (r *Registry) listen(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, r.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var schema string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	// Changes made while we were not listening.
	if err := r.Reload(ctx); err != nil {
		return err
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Payload != schema { // the payload is the changed table's schema
			continue
		}
		if err := r.Reload(ctx); err != nil {
			return err
		}
	}
}
