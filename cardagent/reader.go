package cardagent

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/madoguchi/madoguchi/activities/terminal"
	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/cardclient"
	"github.com/madoguchi/madoguchi/internal/cardproto"
	"github.com/madoguchi/madoguchi/internal/terminalauth"
)

// Reader is the terminal's PC/SC card reader.
type Reader struct {
	Name string
	// Key is the terminal's key for the PIN reset (docs/CARD.md §5a); nil on
	// a terminal not authorised to reset PINs.
	Key *terminalauth.Key
}

// Open waits for a card in the reader and selects the JPKI application.
func (r Reader) Open(ctx context.Context) (terminal.CardSession, error) {
	pr, err := cardclient.OpenReader(ctx, r.Name)
	if err != nil {
		return nil, err
	}
	return AttachWithKey(pr, pr.Close, r.Key)
}

// Attach starts a session over any transmitter (PC/SC, or an in-process
// card for benchmarks); closeFn releases it. The session holds no terminal
// key, so it cannot reset PINs.
func Attach(t cardclient.Transmitter, closeFn func() error) (terminal.CardSession, error) {
	return AttachWithKey(t, closeFn, nil)
}

// AttachWithKey is Attach for a terminal holding key for the PIN reset.
func AttachWithKey(t cardclient.Transmitter, closeFn func() error, key *terminalauth.Key) (terminal.CardSession, error) {
	c := cardclient.New(t)
	if err := c.SelectJPKI(); err != nil {
		_ = closeFn()
		return nil, fmt.Errorf("select JPKI application: %w", err)
	}
	s := &session{c: c, close: closeFn}
	if key != nil {
		s.key = key // a typed nil would pass for a key in cardclient
	}
	return s, nil
}

// session adapts cardclient.Client to terminal.CardSession.
type session struct {
	c     *cardclient.Client
	close func() error
	key   cardclient.TerminalSigner
}

func kindOf(k string) (cardproto.Kind, error) {
	switch k {
	case contract.KindSigning:
		return cardproto.Signing, nil
	case contract.KindUserAuth:
		return cardproto.UserAuth, nil
	}
	return 0, fmt.Errorf("unknown certificate kind %q", k)
}

func (s *session) CardInfo() (string, string, error) {
	ci, err := s.c.ReadCardInfo()
	if err != nil {
		return "", "", err
	}
	return ci.Serial, ci.Expiry, nil
}

func (s *session) GenerateKeyPair(kind string) ([]byte, error) {
	k, err := kindOf(kind)
	if err != nil {
		return nil, err
	}
	pub, err := s.c.GenerateKeyPair(k)
	if err != nil {
		return nil, err
	}
	return x509.MarshalPKIXPublicKey(pub)
}

func (s *session) WriteCertificate(kind string, certDER, caDER []byte) error {
	k, err := kindOf(kind)
	if err != nil {
		return err
	}
	return s.c.WriteCertificate(k, certDER, caDER)
}

// SetPIN sets a PIN at issuance. Over a PIN already set (a retried step, a
// card issued again) the card asks for the terminal's authentication
// first, which a terminal with the key gives; the authentication is dropped
// again at once.
func (s *session) SetPIN(kind string, pin []byte) error {
	k, err := kindOf(kind)
	if err != nil {
		return err
	}
	err = s.c.SetPIN(k, pin)
	if !errors.Is(err, cardclient.ErrTerminalNotAuthenticated) {
		return err
	}
	if s.key == nil {
		return fmt.Errorf("%w: %w", terminal.ErrTerminalNotAuthorised, err)
	}
	if err := s.authenticate(); err != nil {
		return err
	}
	err = s.c.SetPIN(k, pin)
	return errors.Join(err, s.dropSecurityState())
}

// authenticate proves the terminal to the card; a refusal is
// terminal.ErrTerminalNotAuthorised.
func (s *session) authenticate() error {
	if s.key == nil {
		return fmt.Errorf("%w: this terminal holds no key", terminal.ErrTerminalNotAuthorised)
	}
	err := s.c.AuthenticateTerminal(s.key)
	if errors.Is(err, cardclient.ErrTerminalNotTrusted) {
		return fmt.Errorf("%w: %w", terminal.ErrTerminalNotAuthorised, err)
	}
	return err
}

// dropSecurityState reselects the application, which ends every verified
// PIN and the terminal's authentication: PC/SC leaves the card powered on
// disconnect, and nothing must stay open for the next program on the reader.
func (s *session) dropSecurityState() error {
	if err := s.c.SelectJPKI(); err != nil {
		return fmt.Errorf("drop the card's security state: %w", err)
	}
	return nil
}

func (s *session) AuthenticateTerminal() error {
	if err := s.authenticate(); err != nil {
		return err
	}
	return s.dropSecurityState()
}

func (s *session) ResetPINs(kinds []string, pins map[string][]byte) error {
	ks := make([]cardproto.Kind, 0, len(kinds))
	for _, kind := range kinds {
		k, err := kindOf(kind)
		if err != nil {
			return err
		}
		ks = append(ks, k)
	}
	if err := s.authenticate(); err != nil {
		return err
	}
	var err error
	for i, k := range ks {
		if err = s.c.ResetPIN(k, pins[kinds[i]]); err != nil {
			if errors.Is(err, cardclient.ErrPINNotSet) {
				err = fmt.Errorf("%w: %w", terminal.ErrPINNotSet, err)
			}
			err = fmt.Errorf("reset %s PIN: %w", kinds[i], err)
			break
		}
	}
	return errors.Join(err, s.dropSecurityState())
}

func (s *session) ChangePIN(kind string, current, newPIN []byte) (int, error) {
	k, err := kindOf(kind)
	if err != nil {
		return 0, err
	}
	err = s.c.ChangePIN(k, current, newPIN)
	// The change leaves the PIN verified (and a failed CHANGE REFERENCE DATA
	// after a right VERIFY would too): drop it, as VerifyPIN does.
	drop := s.dropSecurityState()
	if err == nil {
		return k.MaxRetries(), drop
	}
	n, err := pinAnswer(err)
	return n, errors.Join(err, drop)
}

func (s *session) AuthCertificate() ([]byte, error) {
	der, err := s.c.ReadCertificate(cardclient.UserAuth)
	if errors.Is(err, cardclient.ErrNoCertificate) {
		return nil, nil
	}
	return der, err
}

func (s *session) PINRetries(kind string) (int, error) {
	k, err := kindOf(kind)
	if err != nil {
		return 0, err
	}
	n, err := s.c.RetriesLeft(k)
	if errors.Is(err, cardclient.ErrPINNotSet) {
		return 0, fmt.Errorf("%w: %w", terminal.ErrPINNotSet, err)
	}
	return n, err
}

func (s *session) VerifyPIN(kind string, pin []byte) (int, error) {
	k, err := kindOf(kind)
	if err != nil {
		return 0, err
	}
	if err := s.c.Verify(k, pin); err != nil {
		return pinAnswer(err)
	}
	// Reselecting the application drops the verified state, so the key
	// is not left open for the next program on the reader.
	if err := s.dropSecurityState(); err != nil {
		return 0, err
	}
	return k.MaxRetries(), nil // a right PIN resets the counter
}

// pinAnswer maps the card client's answer to a wrong, blocked or missing PIN
// to the terminal package's errors.
func pinAnswer(err error) (int, error) {
	var wrong *cardclient.WrongPINError
	switch {
	case errors.As(err, &wrong):
		return wrong.Left, fmt.Errorf("%w: %w", terminal.ErrWrongPIN, err)
	case errors.Is(err, cardclient.ErrPINBlocked):
		return 0, fmt.Errorf("%w: %w", terminal.ErrPINBlocked, err)
	case errors.Is(err, cardclient.ErrPINNotSet):
		return 0, fmt.Errorf("%w: %w", terminal.ErrPINNotSet, err)
	}
	return 0, err
}

func (s *session) Close() error { return s.close() }
