// Package hsm gives the Organization's CA its issuer keys (発行者署名符号) in a
// PKCS#11 token — SoftHSM2 in development and tests, a network HSM in
// production — through github.com/ThalesGroup/crypto11.
//
// One HSM value holds one long-lived, logged-in PKCS#11 context with a pool of
// open sessions, so a signature costs one C_Sign round trip (≈1,450 RSA-2048
// signatures/s on SoftHSM2 here) instead of a process start and a login.
//
// Every process of the Organization opens the token through Open, which
// retries transient failures (IsTransient) with bounded backoff: SoftHSM's
// file object store can be read half-written while other processes open the
// same token (issue 14). A key's signer reopens the context once when the
// token reports the session lost (IsSessionLost).
package hsm

import (
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"

	"github.com/ThalesGroup/crypto11"
	"github.com/miekg/pkcs11"
)

// Environment variables read by ConfigFromEnv.
const (
	EnvModule      = "MADOGUCHI_PKCS11_MODULE"
	EnvToken       = "MADOGUCHI_PKCS11_TOKEN"
	EnvPIN         = "MADOGUCHI_PKCS11_PIN"
	EnvSoftHSMConf = "SOFTHSM2_CONF"
)

// Defaults used when the environment leaves a setting empty.
const (
	DefaultModule = "/usr/lib/softhsm/libsofthsm2.so"
	DefaultToken  = "jlis"
	// DefaultMaxSessions bounds the session pool; a CA worker signs from a few
	// goroutines at most, and every open session costs HSM memory.
	DefaultMaxSessions = 16
)

// Sentinel errors callers can map.
var (
	// ErrConfig means the configuration is incomplete (e.g. no PIN).
	ErrConfig = errors.New("hsm: invalid configuration")
	// ErrOpen means the module could not be loaded, the token was not found
	// or the login failed, after the retries of a transient failure.
	ErrOpen = errors.New("hsm: cannot open token")
	// ErrSign means the token failed to sign. The failure says nothing
	// about the request: callers answer "try later" or retry.
	ErrSign = errors.New("hsm: signature failed")
	// ErrKeyNotFound means no key pair with the label exists in the token.
	ErrKeyNotFound = errors.New("hsm: key not found")
	// ErrKeyType means a key with the label exists but is not of the wanted
	// type or size.
	ErrKeyType = errors.New("hsm: unexpected key type")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("hsm: closed")
)

// Config selects the PKCS#11 module, the token and the user PIN.
//
// SoftHSM2 finds its token directory through the SOFTHSM2_CONF environment
// variable, read by the library itself when it is loaded; SoftHSMConf only
// records what ConfigFromEnv saw, for diagnostics.
//
// The PIN is never printed: String, GoString and LogValue redact it.
type Config struct {
	Module      string
	TokenLabel  string
	PIN         string
	SoftHSMConf string
	MaxSessions int
	// Retry bounds the retries of a transient open failure, at Open and
	// when a lost session is reopened; the zero value is the default.
	Retry RetryPolicy
}

// ConfigFromEnv reads MADOGUCHI_PKCS11_MODULE, MADOGUCHI_PKCS11_TOKEN,
// MADOGUCHI_PKCS11_PIN and SOFTHSM2_CONF, applying the defaults. A missing
// PIN is an error wrapping ErrConfig.
func ConfigFromEnv() (Config, error) {
	c := Config{
		Module:      os.Getenv(EnvModule),
		TokenLabel:  os.Getenv(EnvToken),
		PIN:         os.Getenv(EnvPIN),
		SoftHSMConf: os.Getenv(EnvSoftHSMConf),
	}
	if c.Module == "" {
		c.Module = DefaultModule
	}
	if c.TokenLabel == "" {
		c.TokenLabel = DefaultToken
	}
	if c.PIN == "" {
		return c, fmt.Errorf("%w: %s is not set", ErrConfig, EnvPIN)
	}
	return c, nil
}

// String describes the configuration without the PIN.
func (c Config) String() string {
	pin := "unset"
	if c.PIN != "" {
		pin = "set"
	}
	return fmt.Sprintf("hsm.Config{Module:%q TokenLabel:%q PIN:%s SoftHSMConf:%q MaxSessions:%d}",
		c.Module, c.TokenLabel, pin, c.SoftHSMConf, c.MaxSessions)
}

// GoString is String, so %#v cannot leak the PIN either.
func (c Config) GoString() string { return c.String() }

// LogValue keeps the PIN out of structured logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("module", c.Module),
		slog.String("token", c.TokenLabel),
		slog.Bool("pin_set", c.PIN != ""),
		slog.String("softhsm2_conf", c.SoftHSMConf),
	)
}

// HSM is an open, logged-in token. It is safe for concurrent use.
type HSM struct {
	cfg   Config
	token string
	log   *slog.Logger

	mu sync.RWMutex
	// ctx is nil after a reopen failed; the next use tries again.
	ctx *crypto11.Context
	// gen counts reopens, so that signers notice their handles are stale
	// and concurrent callers that lost the same session reopen once.
	gen       uint64
	reopenErr error
	closed    bool
}

// Open is OpenContext without a deadline.
func Open(cfg Config) (*HSM, error) { return OpenContext(context.Background(), cfg) }

// OpenContext loads the module, finds the token by label and logs in once,
// retrying a transient failure (IsTransient) as cfg.Retry says and logging
// each retry with the PKCS#11 return value; a refused PIN fails at once with
// ErrPIN. Errors wrap ErrOpen. Close the HSM when done: the PKCS#11 library
// is finalized when its last user closes.
func OpenContext(ctx context.Context, cfg Config) (*HSM, error) {
	if cfg.Module == "" || cfg.TokenLabel == "" {
		return nil, fmt.Errorf("%w: module and token label are required", ErrConfig)
	}
	if cfg.PIN == "" {
		return nil, fmt.Errorf("%w: PIN is required", ErrConfig)
	}
	if _, err := os.Stat(cfg.Module); err != nil {
		return nil, fmt.Errorf("%w: module %s: %w", ErrOpen, cfg.Module, err)
	}
	c, err := configure(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &HSM{cfg: cfg, token: cfg.TokenLabel, log: cfg.Retry.withDefaults().Logger, ctx: c}, nil
}

// configure makes a crypto11 context with the retry policy. A failed
// crypto11.Configure releases the module, so when this process has no other
// context on it the next try initializes the library again and SoftHSM
// reads the token store afresh.
func configure(ctx context.Context, cfg Config) (*crypto11.Context, error) {
	sessions := cfg.MaxSessions
	if sessions == 0 {
		sessions = DefaultMaxSessions
	}
	// crypto11's messages name the token and the PKCS#11 return value,
	// never the PIN.
	return withRetry(ctx, cfg.Retry, "open", cfg.TokenLabel, func() (*crypto11.Context, error) {
		return crypto11.Configure(&crypto11.Config{
			Path:        cfg.Module,
			TokenLabel:  cfg.TokenLabel,
			Pin:         cfg.PIN,
			MaxSessions: sessions,
		})
	})
}

// TokenLabel returns the label of the open token.
func (h *HSM) TokenLabel() string { return h.token }

// Close logs out and releases the sessions. It is safe to call twice.
func (h *HSM) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	if h.ctx == nil {
		return nil
	}
	return h.ctx.Close()
}

// context returns the open context and its generation, reopening it first if
// an earlier reopen failed; done releases it.
func (h *HSM) context() (ctx *crypto11.Context, gen uint64, done func(), err error) {
	for range 2 {
		h.mu.RLock()
		if h.closed {
			h.mu.RUnlock()
			return nil, 0, nil, ErrClosed
		}
		if h.ctx != nil {
			return h.ctx, h.gen, h.mu.RUnlock, nil
		}
		gen := h.gen
		h.mu.RUnlock()
		if err := h.reopen(gen, nil); err != nil {
			return nil, 0, nil, err
		}
	}
	return nil, 0, nil, fmt.Errorf("%w %q: the token was lost again while reopening", ErrOpen, h.token)
}

// FindRSAKey returns a signer for the RSA key pair whose CKA_LABEL is label,
// checking that its modulus has bits bits. It wraps ErrKeyNotFound when the
// token has no such key and ErrKeyType when the key is of another kind.
//
// The signer is a *Key: it reopens the token once when the session is lost.
func (h *HSM) FindRSAKey(label string, bits int) (crypto.Signer, error) {
	ctx, gen, done, err := h.context()
	if err != nil {
		return nil, err
	}
	defer done()
	s, err := findRSAKey(ctx, label, bits)
	if err != nil {
		return nil, err
	}
	return newKey(h, label, bits, s, gen), nil
}

func findRSAKey(ctx *crypto11.Context, label string, bits int) (crypto11.Signer, error) {
	signers, err := ctx.FindKeyPairs(nil, []byte(label))
	if err != nil {
		return nil, fmt.Errorf("hsm: find key %q: %w", label, err)
	}
	switch len(signers) {
	case 0:
		return nil, fmt.Errorf("%w: %q", ErrKeyNotFound, label)
	case 1:
	default:
		// Two keys under one issuer label would make "which key signed"
		// ambiguous; refuse rather than guess.
		return nil, fmt.Errorf("%w: %d key pairs share label %q", ErrKeyType, len(signers), label)
	}
	signer := signers[0]
	pub, ok := signer.Public().(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: %q holds a %T, want RSA", ErrKeyType, label, signer.Public())
	}
	if pub.N.BitLen() != bits {
		return nil, fmt.Errorf("%w: %q is RSA-%d, want RSA-%d", ErrKeyType, label, pub.N.BitLen(), bits)
	}
	return signer, nil
}

// GenerateRSAKey makes a new RSA key pair inside the token with CKA_LABEL and
// CKA_ID set to label. The private key is sensitive, not extractable and may
// only sign: an issuer key has no business decrypting. The signer is a *Key,
// as FindRSAKey's.
func (h *HSM) GenerateRSAKey(label string, bits int) (crypto.Signer, error) {
	ctx, gen, done, err := h.context()
	if err != nil {
		return nil, err
	}
	defer done()
	public, err := crypto11.NewAttributeSetWithIDAndLabel([]byte(label), []byte(label))
	if err != nil {
		return nil, fmt.Errorf("hsm: attributes for %q: %w", label, err)
	}
	private := public.Copy()
	public.AddIfNotPresent([]*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, false),
		pkcs11.NewAttribute(pkcs11.CKA_WRAP, false),
	})
	private.AddIfNotPresent([]*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, false),
		pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, false),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
	})
	signer, err := ctx.GenerateRSAKeyPairWithAttributes(public, private, bits)
	if err != nil {
		return nil, fmt.Errorf("hsm: generate RSA-%d key %q: %w", bits, label, err)
	}
	return newKey(h, label, bits, signer, gen), nil
}

// FindOrGenerateRSAKey returns the key pair labelled label, generating it in
// the token first if it does not exist. created reports whether it was made
// now. Callers that may race (two processes bootstrapping) must serialize
// around it, e.g. with a database advisory lock, because PKCS#11 labels are
// not unique.
func (h *HSM) FindOrGenerateRSAKey(label string, bits int) (signer crypto.Signer, created bool, err error) {
	signer, err = h.FindRSAKey(label, bits)
	if err == nil {
		return signer, false, nil
	}
	if !errors.Is(err, ErrKeyNotFound) {
		return nil, false, err
	}
	signer, err = h.GenerateRSAKey(label, bits)
	if err != nil {
		return nil, false, err
	}
	return signer, true, nil
}

// String names the token, never the PIN.
func (h *HSM) String() string { return "hsm.HSM{token:" + strconv.Quote(h.token) + "}" }
