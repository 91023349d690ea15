package terminal

import (
	"github.com/madoguchi/madoguchi/contract"

	"context"
	"crypto/x509"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/madoguchi/madoguchi/internal/sealing"
)

// CardSession is one session with the card inserted in the terminal's reader.
type CardSession interface {
	// CardInfo returns the card's serial number and expiry (YYYYMMDD).
	CardInfo() (serial, expiry string, err error)
	GenerateKeyPair(kind string) (spkiDER []byte, err error)
	WriteCertificate(kind string, certDER, caDER []byte) error
	SetPIN(kind string, pin []byte) error
	Close() error
}

// CardReader opens a session with the card in the terminal's reader,
// waiting for a card to be inserted.
type CardReader interface {
	Open(ctx context.Context) (CardSession, error)
}

// PINRequest asks, on the terminal's touch panel, for the PINs of the given
// certificate kinds.
type PINRequest struct {
	CaseNumber string
	Kinds      []string
	// EnteredBy is the clerk typing for the applicant; empty when the
	// applicant types.
	EnteredBy string
}

// PINPanel collects PINs on the terminal's touch panel. The PINs stay on
// the terminal: they are handed to the card and wiped, never returned from
// an activity.
type PINPanel interface {
	Collect(ctx context.Context, req PINRequest) (map[string][]byte, error)
}

// NoticeOpener opens sealed PIN notices with the municipality's private
// keys, which live on its terminals only.
type NoticeOpener interface {
	Open(n sealing.Notice, caseNumber string) (map[string][]byte, error)
}

// Card holds the counter terminal's activities; the card agent registers it
// on the terminal's own task queue.
type Card struct {
	Reader CardReader
	Panel  PINPanel
	// Notices opens sealed PIN notices addressed to this terminal's
	// municipality; nil on a terminal that has no sealing keys.
	Notices NoticeOpener
	// HoldBeforeWrite makes WriteCertificates wait until cancelled: a fault
	// hook the crash test uses to kill the workers at a known point.
	HoldBeforeWrite bool
	// WriteDelay makes WriteCertificates take that long first, as a slow
	// card would; FailWrite makes it fail for good. Fault hooks of the
	// tests' build only.
	WriteDelay time.Duration
	FailWrite  bool
}

// ReadCard reads the inserted card's identity.
func (c *Card) ReadCard(ctx context.Context, in contract.ReadCardInput) (contract.ReadCardResult, error) {
	s, err := c.Reader.Open(ctx)
	if err != nil {
		return contract.ReadCardResult{}, fmt.Errorf("open card: %w", err)
	}
	defer s.Close()
	serial, expiry, err := s.CardInfo()
	if err != nil {
		return contract.ReadCardResult{}, fmt.Errorf("read card: %w", err)
	}
	return contract.ReadCardResult{CardSerial: serial, Expiry: expiry}, nil
}

// SetPINs waits for the applicant's PINs on the touch panel and sets them on
// the card. Setting the same PIN again on a retry is harmless.
func (c *Card) SetPINs(ctx context.Context, in contract.SetPINsInput) (contract.SetPINsResult, error) {
	stop := heartbeatEvery(ctx, 5*time.Second)
	defer stop()
	pins, err := c.Panel.Collect(ctx, PINRequest{CaseNumber: in.CaseNumber, Kinds: in.Kinds, EnteredBy: in.EnteredBy})
	defer func() {
		for _, p := range pins {
			clear(p)
		}
	}()
	if err != nil {
		return contract.SetPINsResult{}, fmt.Errorf("touch panel: %w", err)
	}
	s, err := c.open(ctx, in.CardSerial)
	if err != nil {
		return contract.SetPINsResult{}, err
	}
	defer s.Close()
	for _, k := range in.Kinds {
		if err := s.SetPIN(k, pins[k]); err != nil {
			return contract.SetPINsResult{}, fmt.Errorf("set %s PIN: %w", k, err)
		}
	}
	return contract.SetPINsResult{Kinds: in.Kinds, SetAt: time.Now()}, nil
}

// SetPINsFromNotice opens the notice with this terminal's keys, sets the
// PINs on the card and wipes them (令和4年改正: 住所地市区町村の職員が届出の暗証番号
// を設定する). The PINs exist in clear only inside this call.
func (c *Card) SetPINsFromNotice(ctx context.Context, in contract.SetPINsFromNoticeInput) (contract.SetPINsFromNoticeResult, error) {
	if c.Notices == nil {
		return contract.SetPINsFromNoticeResult{}, temporal.NewNonRetryableApplicationError("this terminal holds no sealing keys", contract.ErrTypeInvalid, nil)
	}
	pins, err := c.Notices.Open(in.Notice, in.CaseNumber)
	defer func() {
		for _, p := range pins {
			clear(p)
		}
	}()
	if err != nil {
		return contract.SetPINsFromNoticeResult{}, temporal.NewNonRetryableApplicationError("the PIN notice cannot be opened here", contract.ErrTypeInvalid, err)
	}
	s, err := c.open(ctx, in.CardSerial)
	if err != nil {
		return contract.SetPINsFromNoticeResult{}, err
	}
	defer s.Close()
	var kinds []string
	for _, k := range []string{contract.KindSigning, contract.KindUserAuth} {
		pin, ok := pins[k]
		if !ok {
			continue
		}
		if err := s.SetPIN(k, pin); err != nil {
			return contract.SetPINsFromNoticeResult{}, fmt.Errorf("set %s PIN: %w", k, err)
		}
		kinds = append(kinds, k)
	}
	return contract.SetPINsFromNoticeResult{Kinds: kinds}, nil
}

// SealPINNotice collects the PINs on the touch panel and seals them at once
// (crypto/hpke) to the address municipality's public key.
func (c *Card) SealPINNotice(ctx context.Context, in contract.SealPINNoticeInput) (contract.SealPINNoticeResult, error) {
	stop := heartbeatEvery(ctx, 5*time.Second)
	defer stop()
	pins, err := c.Panel.Collect(ctx, PINRequest{CaseNumber: in.CaseNumber, Kinds: in.Kinds})
	defer func() {
		for _, p := range pins {
			clear(p)
		}
	}()
	if err != nil {
		return contract.SealPINNoticeResult{}, fmt.Errorf("touch panel: %w", err)
	}
	n, err := sealing.Seal(in.Recipient, in.NoticeCase, pins)
	if err != nil {
		return contract.SealPINNoticeResult{}, temporal.NewNonRetryableApplicationError("the PIN notice cannot be sealed", contract.ErrTypeInvalid, err)
	}
	return contract.SealPINNoticeResult{Notice: n}, nil
}

// GenerateKeys generates an RSA-2048 key pair on the card for each kind. A
// retry generates fresh keys, which is safe because nothing was issued for
// the previous ones yet.
func (c *Card) GenerateKeys(ctx context.Context, in contract.GenerateKeysInput) (contract.GenerateKeysResult, error) {
	s, err := c.open(ctx, in.CardSerial)
	if err != nil {
		return contract.GenerateKeysResult{}, err
	}
	defer s.Close()
	var res contract.GenerateKeysResult
	for _, k := range in.Kinds {
		spki, err := s.GenerateKeyPair(k)
		if err != nil {
			return contract.GenerateKeysResult{}, fmt.Errorf("generate %s key: %w", k, err)
		}
		res.Keys = append(res.Keys, contract.PublicKey{Kind: k, SPKIDER: spki})
		activity.RecordHeartbeat(ctx, k)
	}
	return res, nil
}

// WriteCertificates writes each certificate and its CA certificate into the
// card's certificate files (第2 1(1)ア(カ)).
func (c *Card) WriteCertificates(ctx context.Context, in contract.WriteCertificatesInput) (contract.WriteCertificatesResult, error) {
	if c.HoldBeforeWrite {
		stop := heartbeatEvery(ctx, time.Second)
		defer stop()
		<-ctx.Done()
		return contract.WriteCertificatesResult{}, ctx.Err()
	}
	if c.FailWrite {
		return contract.WriteCertificatesResult{}, temporal.NewNonRetryableApplicationError("the card refused the certificates (fault hook)", "CardWriteFailed", nil)
	}
	if c.WriteDelay > 0 {
		select {
		case <-time.After(c.WriteDelay):
		case <-ctx.Done():
			return contract.WriteCertificatesResult{}, ctx.Err()
		}
	}
	for _, cert := range in.Certificates {
		if _, err := x509.ParseCertificate(cert.DER); err != nil {
			return contract.WriteCertificatesResult{}, temporal.NewNonRetryableApplicationError("certificate does not parse", contract.ErrTypeInvalid, err)
		}
	}
	s, err := c.open(ctx, in.CardSerial)
	if err != nil {
		return contract.WriteCertificatesResult{}, err
	}
	defer s.Close()
	for _, cert := range in.Certificates {
		if err := s.WriteCertificate(cert.Kind, cert.DER, cert.CADER); err != nil {
			return contract.WriteCertificatesResult{}, fmt.Errorf("write %s certificate: %w", cert.Kind, err)
		}
	}
	return contract.WriteCertificatesResult{}, nil
}

// open opens the card and checks it is still the applicant's card: a card
// swapped mid-procedure must not receive another person's keys.
func (c *Card) open(ctx context.Context, wantSerial string) (CardSession, error) {
	s, err := c.Reader.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("open card: %w", err)
	}
	serial, _, err := s.CardInfo()
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("read card: %w", err)
	}
	if serial != wantSerial {
		s.Close()
		return nil, temporal.NewApplicationError("a different card is inserted; insert the applicant's card", "CardSwapped")
	}
	return s, nil
}

// heartbeatEvery heartbeats in the background so a long human wait is not
// mistaken for a dead terminal; the returned func stops it.
func heartbeatEvery(ctx context.Context, d time.Duration) func() {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() { close(done) }
}
