// Package cardclient is the terminal side of the JPKI card protocol: a Client
// that reads, verifies, signs and issues over any Transmitter — a PC/SC reader
// (PCSCReader) at a counter, or an in-process virtual card (Direct) in tests
// and benchmarks. Status words come back as the typed and sentinel errors
// below; PINs never appear in errors or logs.
package cardclient

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/madoguchi/madoguchi/internal/cardproto"
)

// Kind selects the signing or the user-authentication key pair.
type Kind = cardproto.Kind

// The two kinds of certificate on a JPKI card.
const (
	Signing  = cardproto.Signing
	UserAuth = cardproto.UserAuth
)

// CardInfo is the card's serial number and expiry date (EF 0010).
type CardInfo = cardproto.CardInfo

// Transmitter sends one command APDU and returns the response APDU (data and SW1 SW2).
type Transmitter interface {
	Transmit(cmd []byte) ([]byte, error)
}

// Transactor is implemented by transmitters that can hold the card for a
// sequence of commands (PC/SC transactions), so another application sharing
// the reader cannot interleave its commands with one Client operation.
type Transactor interface {
	BeginTransaction() error
	EndTransaction() error
}

// Errors a Client returns; callers map them to what the clerk sees.
var (
	// ErrNotJPKI: the card has no JPKI application.
	ErrNotJPKI = errors.New("cardclient: not a JPKI card")
	// ErrPINBlocked: too many wrong PINs; only a reset at a counter (ResetPIN) unblocks it.
	ErrPINBlocked = errors.New("cardclient: PIN blocked")
	// ErrPINNotSet: the card was never issued a PIN of this kind.
	ErrPINNotSet = errors.New("cardclient: PIN not set")
	// ErrPINNotVerified: the operation needs the PIN of this kind verified first in this session.
	ErrPINNotVerified = errors.New("cardclient: PIN not verified")
	// ErrInvalidPIN: the PIN breaks its kind's rules (it was not sent to the card).
	ErrInvalidPIN = cardproto.ErrInvalidPIN
	// ErrNoKey: no key pair of this kind on the card.
	ErrNoKey = errors.New("cardclient: no key pair on the card")
	// ErrNoCertificate: the certificate EF is empty.
	ErrNoCertificate = errors.New("cardclient: no certificate on the card")
	// ErrCertificateRejected: the card refused a certificate (not X.509, or not for the on-card key).
	ErrCertificateRejected = errors.New("cardclient: certificate rejected by the card")
	// ErrUnexpectedResponse: the card answered something the protocol does not allow.
	ErrUnexpectedResponse = errors.New("cardclient: unexpected response from the card")
	// ErrCardRemoved: the card left the reader.
	ErrCardRemoved = errors.New("cardclient: card removed")
	// ErrCardReset: another application reset the card; its security state (verified PINs) is gone.
	ErrCardReset = errors.New("cardclient: card was reset")
	// ErrTerminalNotTrusted: the card refused the terminal's authentication
	// (a key it does not trust), or trusts no terminal at all.
	ErrTerminalNotTrusted = errors.New("cardclient: the card does not trust this terminal")
	// ErrTerminalNotAuthenticated: resetting a PIN (ResetPIN, or SetPIN over a
	// PIN already set) needs AuthenticateTerminal first in the same session.
	ErrTerminalNotAuthenticated = errors.New("cardclient: the card wants terminal authentication first")
)

// TerminalSigner signs a card's challenge for terminal authentication
// (terminalauth.Key): the signature covers the card's serial and the
// challenge (cardproto.TerminalAuthMessage).
type TerminalSigner interface {
	SignChallenge(serial string, challenge []byte) ([]byte, error)
}

// WrongPINError reports a wrong PIN and how many tries are left before the PIN blocks.
type WrongPINError struct {
	Left int
}

// Error implements error.
func (e *WrongPINError) Error() string {
	return fmt.Sprintf("cardclient: wrong PIN, %d tries left", e.Left)
}

// Client drives a JPKI card. It is safe for concurrent use, but the card has
// one security state: Verify then Sign must come from the same caller with
// nothing reselecting the application in between.
type Client struct {
	mu       sync.Mutex
	t        Transmitter
	selected bool // the JPKI application is selected; Verify's effect lasts while it is
}

// New returns a Client over t.
func New(t Transmitter) *Client { return &Client{t: t} }

// do runs one operation under the client lock and, when available, a card transaction.
func (c *Client) do(f func() error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if tr, ok := c.t.(Transactor); ok {
		if err := tr.BeginTransaction(); err != nil {
			c.noteTransportError(err)
			return err // already says what failed
		}
		defer func() { _ = tr.EndTransaction() }()
	}
	return f()
}

func (c *Client) noteTransportError(err error) {
	if errors.Is(err, ErrCardReset) || errors.Is(err, ErrCardRemoved) {
		c.selected = false
	}
}

// transmit sends one command and follows 61 xx (GET RESPONSE) and 6C xx (wrong Le)
// until the card gives a final status word. The command buffer is cleared afterwards,
// since VERIFY and SET PIN carry PINs.
func (c *Client) transmit(op string, apdu []byte) (cardproto.Response, error) {
	return c.transmitLe(op, apdu, true)
}

func (c *Client) transmitLe(op string, apdu []byte, fixLe bool) (cardproto.Response, error) {
	defer clear(apdu)
	raw, err := c.t.Transmit(apdu)
	if err != nil {
		c.noteTransportError(err)
		return cardproto.Response{}, fmt.Errorf("cardclient: %s: %w", op, err)
	}
	resp, err := cardproto.ParseResponse(raw)
	if err != nil {
		return cardproto.Response{}, fmt.Errorf("cardclient: %s: %w: %w", op, ErrUnexpectedResponse, err)
	}
	if le, ok := resp.SW.CorrectLe(); ok && fixLe && len(apdu) >= 5 {
		again := append([]byte(nil), apdu...)
		again[len(again)-1] = byte(le) // a short Le is always the last byte
		return c.transmitLe(op, again, false)
	}
	data := append([]byte(nil), resp.Data...)
	for guard := 0; ; guard++ {
		n, more := resp.SW.Remaining()
		if !more {
			break
		}
		if guard > cardproto.MaxEFSize/cardproto.MaxShortNe+4 {
			return cardproto.Response{}, fmt.Errorf("cardclient: %s: %w: endless GET RESPONSE", op, ErrUnexpectedResponse)
		}
		raw, err = c.t.Transmit(cardproto.GetResponse(n))
		if err != nil {
			c.noteTransportError(err)
			return cardproto.Response{}, fmt.Errorf("cardclient: %s: GET RESPONSE: %w", op, err)
		}
		if resp, err = cardproto.ParseResponse(raw); err != nil {
			return cardproto.Response{}, fmt.Errorf("cardclient: %s: %w: %w", op, ErrUnexpectedResponse, err)
		}
		data = append(data, resp.Data...)
	}
	resp.Data = data
	return resp, nil
}

// statusErr wraps a failing status word, optionally under a sentinel.
func statusErr(op string, sw cardproto.StatusWord, sentinel error) error {
	se := &cardproto.StatusError{Op: op, SW: sw}
	if sentinel == nil {
		return fmt.Errorf("cardclient: %w", se)
	}
	return fmt.Errorf("%w: %w", sentinel, se)
}

// selectAP selects the JPKI application, wiping the card's security state.
func (c *Client) selectAP() error {
	resp, err := c.transmit("SELECT JPKI", cardproto.SelectAP())
	if err != nil {
		return err
	}
	switch resp.SW {
	case cardproto.SWOK:
		c.selected = true
		return nil
	case cardproto.SWFileNotFound:
		return statusErr("SELECT JPKI", resp.SW, ErrNotJPKI)
	}
	return statusErr("SELECT JPKI", resp.SW, nil)
}

func (c *Client) ensureSelected() error {
	if c.selected {
		return nil
	}
	return c.selectAP()
}

func (c *Client) selectEF(f cardproto.FID) error {
	if err := c.ensureSelected(); err != nil {
		return err
	}
	op := "SELECT EF " + f.String()
	resp, err := c.transmit(op, cardproto.SelectEF(f))
	if err != nil {
		return err
	}
	if resp.SW != cardproto.SWOK {
		if resp.SW == cardproto.SWFileNotFound {
			// The application is gone from under us (e.g. another program selected the MF).
			c.selected = false
		}
		return statusErr(op, resp.SW, nil)
	}
	return nil
}

func validKind(k Kind) error {
	if !k.Valid() {
		return fmt.Errorf("cardclient: unknown kind %v", k)
	}
	return nil
}

// SelectJPKI selects the JPKI application. This also forgets any verified PIN,
// so call it at the start of a session, not between Verify and Sign.
func (c *Client) SelectJPKI() error {
	return c.do(c.selectAP)
}

// readChunk is the READ BINARY size: 255 keeps every command a plain short APDU.
const readChunk = 0xFF

// readEF reads a whole EF: the first 4 bytes give the DER length, the rest follows in chunks.
func (c *Client) readEF(f cardproto.FID, notFound error) ([]byte, error) {
	if err := c.selectEF(f); err != nil {
		return nil, err
	}
	op := "READ BINARY " + f.String()
	read := func(off, n int) ([]byte, error) {
		cmd, err := cardproto.ReadBinary(off, n)
		if err != nil {
			return nil, err
		}
		resp, err := c.transmit(op, cmd)
		if err != nil {
			return nil, err
		}
		switch resp.SW {
		case cardproto.SWOK:
			if len(resp.Data) == 0 {
				return nil, fmt.Errorf("cardclient: %s: %w: no data", op, ErrUnexpectedResponse)
			}
			return resp.Data, nil
		case cardproto.SWSecurityNotSatisfied:
			return nil, statusErr(op, resp.SW, ErrPINNotVerified)
		case cardproto.SWReferencedDataNotFound:
			return nil, statusErr(op, resp.SW, notFound)
		}
		return nil, statusErr(op, resp.SW, nil)
	}
	head, err := read(0, 4)
	if err != nil {
		return nil, err
	}
	total, err := cardproto.DERLength(head)
	if err != nil {
		return nil, fmt.Errorf("cardclient: %s: %w: %w", op, ErrUnexpectedResponse, err)
	}
	if total > cardproto.MaxEFSize {
		return nil, fmt.Errorf("cardclient: %s: %w: element of %d bytes", op, ErrUnexpectedResponse, total)
	}
	out := make([]byte, 0, total)
	out = append(out, head[:min(len(head), total)]...)
	for len(out) < total {
		chunk, err := read(len(out), min(readChunk, total-len(out)))
		if err != nil {
			return nil, err
		}
		out = append(out, chunk[:min(len(chunk), total-len(out))]...)
	}
	return out, nil
}

// ReadTokenInfo returns EF 0006 without its padding: "JPKIAPICCTOKEN2" on an Individual Number Card.
func (c *Client) ReadTokenInfo() (string, error) {
	var tok string
	err := c.do(func() error {
		if err := c.selectEF(cardproto.EFTokenInfo); err != nil {
			return err
		}
		cmd, err := cardproto.ReadBinary(0, cardproto.TokenInfoSize)
		if err != nil {
			return err
		}
		resp, err := c.transmit("READ BINARY 0006", cmd)
		if err != nil {
			return err
		}
		if resp.SW != cardproto.SWOK {
			return statusErr("READ BINARY 0006", resp.SW, nil)
		}
		tok = strings.TrimRight(string(resp.Data), " \x00")
		return nil
	})
	return tok, err
}

// ReadCardInfo returns the card's serial number and expiry date; no PIN is needed.
func (c *Client) ReadCardInfo() (CardInfo, error) {
	var ci CardInfo
	err := c.do(func() error {
		b, err := c.readEF(cardproto.EFCardInfo, ErrUnexpectedResponse)
		if err != nil {
			return err
		}
		ci, err = cardproto.ParseCardInfo(b)
		if err != nil {
			return fmt.Errorf("cardclient: card information: %w: %w", ErrUnexpectedResponse, err)
		}
		return nil
	})
	return ci, err
}

// ReadCertificate returns the DER of the kind's certificate. The signing
// certificate needs Verify(Signing, ...) first (ErrPINNotVerified otherwise);
// an empty EF gives ErrNoCertificate.
func (c *Client) ReadCertificate(kind Kind) ([]byte, error) {
	if err := validKind(kind); err != nil {
		return nil, err
	}
	var der []byte
	err := c.do(func() (err error) {
		der, err = c.readEF(kind.CertEF(), ErrNoCertificate)
		return err
	})
	return der, err
}

// ReadCACertificate returns the DER of the certificate of the CA that issued the kind's certificate.
func (c *Client) ReadCACertificate(kind Kind) ([]byte, error) {
	if err := validKind(kind); err != nil {
		return nil, err
	}
	var der []byte
	err := c.do(func() (err error) {
		der, err = c.readEF(kind.CACertEF(), ErrNoCertificate)
		return err
	})
	return der, err
}

// RetriesLeft returns how many wrong PINs the kind still tolerates (0: blocked),
// without spending a try. ErrPINNotSet when the card has no such PIN yet.
func (c *Client) RetriesLeft(kind Kind) (int, error) {
	if err := validKind(kind); err != nil {
		return 0, err
	}
	left := 0
	err := c.do(func() error {
		if err := c.selectEF(kind.PINEF()); err != nil {
			return err
		}
		resp, err := c.transmit("VERIFY (retry counter)", cardproto.VerifyStatus())
		if err != nil {
			return err
		}
		if n, ok := resp.SW.RetryCounter(); ok {
			left = n
			return nil
		}
		switch resp.SW {
		case cardproto.SWOK: // some cards answer 90 00 while the PIN is verified: the counter is full
			left = kind.MaxRetries()
			return nil
		case cardproto.SWAuthMethodBlocked:
			left = 0
			return nil
		case cardproto.SWReferenceDataNotUsable:
			return statusErr("VERIFY", resp.SW, ErrPINNotSet)
		}
		return statusErr("VERIFY", resp.SW, nil)
	})
	return left, err
}

// Verify presents the kind's PIN. A PIN that breaks the kind's rules is
// refused with ErrInvalidPIN before it reaches the card, so it costs no try.
// A wrong PIN gives *WrongPINError; the last wrong one, or any PIN on a
// blocked card, gives ErrPINBlocked.
func (c *Client) Verify(kind Kind, pin []byte) error {
	if err := validKind(kind); err != nil {
		return err
	}
	if err := cardproto.ValidatePIN(kind, pin); err != nil {
		return err
	}
	return c.do(func() error { return c.verify(kind, pin) })
}

func (c *Client) verify(kind Kind, pin []byte) error {
	if err := c.selectEF(kind.PINEF()); err != nil {
		return err
	}
	cmd, err := cardproto.Verify(pin)
	if err != nil {
		return err
	}
	resp, err := c.transmit("VERIFY", cmd)
	if err != nil {
		return err
	}
	if n, ok := resp.SW.RetryCounter(); ok {
		if n == 0 {
			return statusErr("VERIFY", resp.SW, ErrPINBlocked)
		}
		return &WrongPINError{Left: n}
	}
	switch resp.SW {
	case cardproto.SWOK:
		return nil
	case cardproto.SWAuthMethodBlocked:
		return statusErr("VERIFY", resp.SW, ErrPINBlocked)
	case cardproto.SWReferenceDataNotUsable:
		return statusErr("VERIFY", resp.SW, ErrPINNotSet)
	}
	return statusErr("VERIFY", resp.SW, nil)
}

// Sign computes the RSA PKCS#1 v1.5 signature over a DigestInfo with the
// kind's key. The kind's PIN must have been verified (ErrPINNotVerified).
func (c *Client) Sign(kind Kind, digestInfo []byte) ([]byte, error) {
	if err := validKind(kind); err != nil {
		return nil, err
	}
	var sig []byte
	err := c.do(func() error {
		if err := c.selectEF(kind.KeyEF()); err != nil {
			return err
		}
		cmd, err := cardproto.Sign(digestInfo)
		if err != nil {
			return err
		}
		resp, err := c.transmit("SIGN", cmd)
		if err != nil {
			return err
		}
		switch resp.SW {
		case cardproto.SWOK:
			if len(resp.Data) == 0 {
				return fmt.Errorf("cardclient: SIGN: %w: empty signature", ErrUnexpectedResponse)
			}
			sig = resp.Data
			return nil
		case cardproto.SWSecurityNotSatisfied:
			return statusErr("SIGN", resp.SW, ErrPINNotVerified)
		case cardproto.SWReferencedDataNotFound:
			return statusErr("SIGN", resp.SW, ErrNoKey)
		}
		return statusErr("SIGN", resp.SW, nil)
	})
	return sig, err
}

// SignDigest signs a digest made with h: it wraps it in a DigestInfo and calls Sign.
func (c *Client) SignDigest(kind Kind, h crypto.Hash, digest []byte) ([]byte, error) {
	di, err := cardproto.DigestInfo(h, digest)
	if err != nil {
		return nil, err
	}
	return c.Sign(kind, di)
}

func parseRSAPublicKey(op string, spki []byte) (*rsa.PublicKey, error) {
	pub, err := x509.ParsePKIXPublicKey(spki)
	if err != nil {
		return nil, fmt.Errorf("cardclient: %s: %w: %w", op, ErrUnexpectedResponse, err)
	}
	rk, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("cardclient: %s: %w: %T key", op, ErrUnexpectedResponse, pub)
	}
	return rk, nil
}

// GenerateKeyPair makes the card generate a new RSA-2048 key pair of the kind
// and returns its public key. An existing key is replaced (renewal) and the
// kind's certificate is cleared until WriteCertificate stores a new one; so a
// retried step should check PublicKey/HasKey first rather than generate again.
func (c *Client) GenerateKeyPair(kind Kind) (*rsa.PublicKey, error) {
	return c.publicKey(kind, "GENERATE KEY PAIR", cardproto.GenerateKeyPair)
}

// PublicKey returns the public key of the kind's key pair on the card, or ErrNoKey.
func (c *Client) PublicKey(kind Kind) (*rsa.PublicKey, error) {
	return c.publicKey(kind, "READ PUBLIC KEY", cardproto.ReadPublicKey)
}

func (c *Client) publicKey(kind Kind, op string, cmd func() []byte) (*rsa.PublicKey, error) {
	if err := validKind(kind); err != nil {
		return nil, err
	}
	var pub *rsa.PublicKey
	err := c.do(func() error {
		if err := c.selectEF(kind.KeyEF()); err != nil {
			return err
		}
		resp, err := c.transmit(op, cmd())
		if err != nil {
			return err
		}
		switch resp.SW {
		case cardproto.SWOK:
			pub, err = parseRSAPublicKey(op, resp.Data)
			return err
		case cardproto.SWReferencedDataNotFound:
			return statusErr(op, resp.SW, ErrNoKey)
		}
		return statusErr(op, resp.SW, nil)
	})
	return pub, err
}

// HasKey reports whether the card holds a key pair of the kind.
func (c *Client) HasKey(kind Kind) (bool, error) {
	_, err := c.PublicKey(kind)
	if errors.Is(err, ErrNoKey) {
		return false, nil
	}
	return err == nil, err
}

// WriteCertificate stores the kind's certificate and, when caDER is not
// empty, its CA certificate. The card checks that the certificate certifies
// its key (ErrCertificateRejected otherwise; ErrNoKey without a key).
// Writing the same certificates again is harmless, so the step can be retried.
func (c *Client) WriteCertificate(kind Kind, certDER, caDER []byte) error {
	if err := validKind(kind); err != nil {
		return err
	}
	if len(certDER) == 0 {
		return fmt.Errorf("cardclient: WRITE CERTIFICATE: empty certificate")
	}
	return c.do(func() error {
		if err := c.writeEF(kind.CertEF(), certDER); err != nil {
			return err
		}
		if len(caDER) > 0 {
			return c.writeEF(kind.CACertEF(), caDER)
		}
		return nil
	})
}

func (c *Client) writeEF(f cardproto.FID, der []byte) error {
	op := "WRITE CERTIFICATE " + f.String()
	cmds, err := cardproto.WriteCertificate(der)
	if err != nil {
		return fmt.Errorf("cardclient: %s: %w: %w", op, ErrCertificateRejected, err)
	}
	if err := c.selectEF(f); err != nil {
		return err
	}
	for _, cmd := range cmds {
		resp, err := c.transmit(op, cmd)
		if err != nil {
			return err
		}
		switch resp.SW {
		case cardproto.SWOK:
			continue
		case cardproto.SWWrongData, cardproto.SWNotEnoughMemory:
			return statusErr(op, resp.SW, ErrCertificateRejected)
		case cardproto.SWConditionsNotSatisfied:
			return statusErr(op, resp.SW, ErrNoKey)
		}
		return statusErr(op, resp.SW, nil)
	}
	return nil
}

// SetPIN sets the kind's PIN and resets its retry counter: issuance. Over a
// PIN already set it is a reset and, like ResetPIN, needs
// AuthenticateTerminal first (ErrTerminalNotAuthenticated otherwise).
func (c *Client) SetPIN(kind Kind, pin []byte) error {
	if err := validKind(kind); err != nil {
		return err
	}
	if err := cardproto.ValidatePIN(kind, pin); err != nil {
		return err
	}
	return c.do(func() error {
		if err := c.selectEF(kind.PINEF()); err != nil {
			return err
		}
		cmd, err := cardproto.SetPIN(pin)
		if err != nil {
			return err
		}
		resp, err := c.transmit("SET PIN", cmd)
		if err != nil {
			return err
		}
		switch resp.SW {
		case cardproto.SWOK:
			return nil
		case cardproto.SWWrongData:
			return statusErr("SET PIN", resp.SW, ErrInvalidPIN)
		case cardproto.SWSecurityNotSatisfied:
			return statusErr("SET PIN", resp.SW, ErrTerminalNotAuthenticated)
		}
		return statusErr("SET PIN", resp.SW, nil)
	})
}

// AuthenticateTerminal proves to the card that this is an authorised
// terminal: it reads the card's serial, asks for a challenge (GET
// CHALLENGE), has signer sign both and sends the signature (EXTERNAL
// AUTHENTICATE), all in one card transaction so nothing comes between the
// challenge and its answer. The card then accepts ResetPIN until the
// application is selected again (SelectJPKI), which the caller should do as
// soon as the reset is done. ErrTerminalNotTrusted when the card refuses.
func (c *Client) AuthenticateTerminal(signer TerminalSigner) error {
	if signer == nil {
		return fmt.Errorf("%w: no terminal key", ErrTerminalNotTrusted)
	}
	return c.do(func() error {
		b, err := c.readEF(cardproto.EFCardInfo, ErrUnexpectedResponse)
		if err != nil {
			return err
		}
		ci, err := cardproto.ParseCardInfo(b)
		if err != nil {
			return fmt.Errorf("cardclient: card information: %w: %w", ErrUnexpectedResponse, err)
		}
		resp, err := c.transmit("GET CHALLENGE", cardproto.GetChallenge())
		if err != nil {
			return err
		}
		if resp.SW != cardproto.SWOK {
			return statusErr("GET CHALLENGE", resp.SW, nil)
		}
		if len(resp.Data) != cardproto.ChallengeLen {
			return fmt.Errorf("cardclient: GET CHALLENGE: %w: %d bytes", ErrUnexpectedResponse, len(resp.Data))
		}
		sig, err := signer.SignChallenge(ci.Serial, resp.Data)
		if err != nil {
			return fmt.Errorf("cardclient: sign the card's challenge: %w", err)
		}
		cmd, err := cardproto.ExternalAuthenticate(sig)
		if err != nil {
			return err
		}
		resp, err = c.transmit("EXTERNAL AUTHENTICATE", cmd)
		if err != nil {
			return err
		}
		switch resp.SW {
		case cardproto.SWOK:
			return nil
		case cardproto.SWAuthFailed, cardproto.SWReferencedDataNotFound:
			return statusErr("EXTERNAL AUTHENTICATE", resp.SW, ErrTerminalNotTrusted)
		}
		return statusErr("EXTERNAL AUTHENTICATE", resp.SW, nil)
	})
}

// ResetPIN is the PIN reset (初期化) at a counter: the kind's PIN is replaced
// without the old one and its retry counter returns to the maximum, also
// when it was blocked (RESET RETRY COUNTER). It needs AuthenticateTerminal
// first (ErrTerminalNotAuthenticated); ErrPINNotSet on a card never given
// that PIN (issuance sets it, with SetPIN). A PIN breaking the kind's rules
// is refused before it reaches the card.
func (c *Client) ResetPIN(kind Kind, pin []byte) error {
	if err := validKind(kind); err != nil {
		return err
	}
	if err := cardproto.ValidatePIN(kind, pin); err != nil {
		return err
	}
	const op = "RESET RETRY COUNTER"
	return c.do(func() error {
		if err := c.selectEF(kind.PINEF()); err != nil {
			return err
		}
		cmd, err := cardproto.ResetRetryCounter(pin)
		if err != nil {
			return err
		}
		resp, err := c.transmit(op, cmd)
		if err != nil {
			return err
		}
		switch resp.SW {
		case cardproto.SWOK:
			return nil
		case cardproto.SWWrongData:
			return statusErr(op, resp.SW, ErrInvalidPIN)
		case cardproto.SWSecurityNotSatisfied:
			return statusErr(op, resp.SW, ErrTerminalNotAuthenticated)
		case cardproto.SWReferenceDataNotUsable:
			return statusErr(op, resp.SW, ErrPINNotSet)
		}
		return statusErr(op, resp.SW, nil)
	})
}

// ChangePIN is the holder's PIN change: it verifies the old PIN, then sets the
// new one (CHANGE REFERENCE DATA), in one card transaction. Errors are those
// of Verify: a wrong old PIN counts against the retry counter. The PIN stays
// verified afterwards; SelectJPKI drops it.
func (c *Client) ChangePIN(kind Kind, oldPIN, newPIN []byte) error {
	if err := validKind(kind); err != nil {
		return err
	}
	if err := cardproto.ValidatePIN(kind, oldPIN); err != nil {
		return err
	}
	if err := cardproto.ValidatePIN(kind, newPIN); err != nil {
		return err
	}
	return c.do(func() error {
		if err := c.verify(kind, oldPIN); err != nil {
			return err
		}
		cmd, err := cardproto.ChangePIN(newPIN)
		if err != nil {
			return err
		}
		resp, err := c.transmit("CHANGE REFERENCE DATA", cmd)
		if err != nil {
			return err
		}
		switch resp.SW {
		case cardproto.SWOK:
			return nil
		case cardproto.SWWrongData:
			return statusErr("CHANGE REFERENCE DATA", resp.SW, ErrInvalidPIN)
		case cardproto.SWSecurityNotSatisfied:
			return statusErr("CHANGE REFERENCE DATA", resp.SW, ErrPINNotVerified)
		}
		return statusErr("CHANGE REFERENCE DATA", resp.SW, nil)
	})
}
