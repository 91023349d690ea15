package hsm

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/miekg/pkcs11"
)

// Return values that mean the session, its login or its object handles are
// gone: the token was restarted or removed, or the library lost its state.
// Only a new context (sessions, login, handles) can sign again.
var sessionLostCodes = map[uint]bool{
	pkcs11.CKR_SESSION_HANDLE_INVALID:   true,
	pkcs11.CKR_SESSION_CLOSED:           true,
	pkcs11.CKR_DEVICE_REMOVED:           true,
	pkcs11.CKR_TOKEN_NOT_PRESENT:        true,
	pkcs11.CKR_USER_NOT_LOGGED_IN:       true,
	pkcs11.CKR_KEY_HANDLE_INVALID:       true,
	pkcs11.CKR_OBJECT_HANDLE_INVALID:    true,
	pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED: true,
}

// IsSessionLost reports whether a signing failure means the session was lost
// (CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED, CKR_DEVICE_REMOVED, a lost
// login or stale object handles), so that reopening the token may help.
func IsSessionLost(err error) bool {
	var code pkcs11.Error
	return errors.As(err, &code) && sessionLostCodes[uint(code)]
}

// Key is an RSA key pair in the token, as FindRSAKey and GenerateRSAKey
// return it. Sign reopens the HSM once when the token reports the session
// lost, finds the key again by its label and signs again. It is safe for
// concurrent use.
type Key struct {
	h     *HSM
	label string
	bits  int
	pub   crypto.PublicKey

	mu     sync.Mutex
	signer crypto.Signer
	gen    uint64 // the HSM generation signer belongs to
}

func newKey(h *HSM, label string, bits int, s crypto.Signer, gen uint64) *Key {
	return &Key{h: h, label: label, bits: bits, pub: s.Public(), signer: s, gen: gen}
}

// Label is the key's CKA_LABEL.
func (k *Key) Label() string { return k.label }

// Public returns the public key, read once when the key was found.
func (k *Key) Public() crypto.PublicKey { return k.pub }

// Sign signs digest in the token. Failures wrap ErrSign and the PKCS#11
// error; they say nothing about the digest, so callers may retry.
func (k *Key) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s, gen, err := k.current()
	if err != nil {
		return nil, fmt.Errorf("%w with %q: %w", ErrSign, k.label, err)
	}
	sig, err := s.Sign(rand, digest, opts)
	if err == nil {
		return sig, nil
	}
	lost := IsSessionLost(err)
	if !lost && k.h.generation() == gen {
		return nil, fmt.Errorf("%w with %q: %w", ErrSign, k.label, err)
	}
	// Lost, or another signer reopened the token under us (our signer's
	// context is closed): once more on the current context.
	if lost {
		k.h.log.Warn("hsm: session lost while signing; reopening the token", "token", k.h.token,
			"key", k.label, "ckr", returnValue(err), "err", err)
		if rerr := k.h.reopen(gen, err); rerr != nil {
			return nil, fmt.Errorf("%w with %q: %w (after: %w)", ErrSign, k.label, rerr, err)
		}
	}
	s, _, rerr := k.current()
	if rerr != nil {
		return nil, fmt.Errorf("%w with %q: %w (after: %w)", ErrSign, k.label, rerr, err)
	}
	sig, err = s.Sign(rand, digest, opts)
	if err != nil {
		return nil, fmt.Errorf("%w with %q after reopening: %w", ErrSign, k.label, err)
	}
	return sig, nil
}

// current returns the signer on the HSM's current context, finding the key
// again (and checking it is the same key) after a reopen.
func (k *Key) current() (crypto.Signer, uint64, error) {
	ctx, gen, done, err := k.h.context()
	if err != nil {
		return nil, 0, err
	}
	defer done()
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.gen == gen {
		return k.signer, gen, nil
	}
	s, err := findRSAKey(ctx, k.label, k.bits)
	if err != nil {
		return nil, 0, err
	}
	if eq, ok := s.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(k.pub) {
		return nil, 0, fmt.Errorf("%w: %q holds another key than before the reopen", ErrKeyType, k.label)
	}
	k.signer, k.gen = s, gen
	return s, gen, nil
}

func (h *HSM) generation() uint64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.gen
}

// reopen replaces the context of generation seen with a new one: sessions,
// login and object handles all come anew. Callers that lost the same
// context reopen it once between them; the others find it reopened (or the
// reopen's failure). cause is the failure that prompted it, nil when an
// earlier reopen failed.
func (h *HSM) reopen(seen uint64, cause error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return ErrClosed
	}
	if h.gen != seen {
		if h.ctx == nil {
			return h.reopenErr
		}
		return nil
	}
	h.gen++
	if h.ctx != nil {
		// Close first: when this was the module's last context the library
		// is finalized and initialized again, as after a device reset. It
		// waits for sessions in use, whose signers fail and come here.
		_ = h.ctx.Close()
		h.ctx = nil
	}
	c, err := configure(context.Background(), h.cfg)
	if err != nil {
		h.reopenErr = fmt.Errorf("hsm: reopen %q: %w", h.token, err)
		return h.reopenErr
	}
	h.ctx, h.reopenErr = c, nil
	h.log.Info("hsm: token reopened", "token", h.token, "generation", h.gen, "after", cause)
	return nil
}
