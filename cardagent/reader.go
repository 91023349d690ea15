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
)

// Reader is the terminal's PC/SC card reader.
type Reader struct {
	Name string
}

// Open waits for a card in the reader and selects the JPKI application.
func (r Reader) Open(ctx context.Context) (terminal.CardSession, error) {
	pr, err := cardclient.OpenReader(ctx, r.Name)
	if err != nil {
		return nil, err
	}
	return Attach(pr, pr.Close)
}

// Attach starts a session over any transmitter (PC/SC, or an in-process
// card for benchmarks); closeFn releases it.
func Attach(t cardclient.Transmitter, closeFn func() error) (terminal.CardSession, error) {
	c := cardclient.New(t)
	if err := c.SelectJPKI(); err != nil {
		_ = closeFn()
		return nil, fmt.Errorf("select JPKI application: %w", err)
	}
	return &session{c: c, close: closeFn}, nil
}

// session adapts cardclient.Client to terminal.CardSession.
type session struct {
	c     *cardclient.Client
	close func() error
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

func (s *session) SetPIN(kind string, pin []byte) error {
	k, err := kindOf(kind)
	if err != nil {
		return err
	}
	return s.c.SetPIN(k, pin)
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
	err = s.c.Verify(k, pin)
	var wrong *cardclient.WrongPINError
	switch {
	case err == nil:
		// Reselecting the application drops the verified state, so the key
		// is not left open for the next program on the reader (PC/SC leaves
		// the card powered on disconnect).
		if err := s.c.SelectJPKI(); err != nil {
			return 0, fmt.Errorf("drop the verified PIN: %w", err)
		}
		return k.MaxRetries(), nil // a right PIN resets the counter
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
