package activities

import (
	"context"
	"crypto/x509"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
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

// PINRequest asks the applicant, on the terminal's touch panel, for the PINs
// of the given certificate kinds.
type PINRequest struct {
	CaseNumber string
	Kinds      []string
}

// PINPanel collects PINs on the terminal's touch panel. The PINs stay on
// the terminal: they are handed to the card and wiped, never returned from
// an activity.
type PINPanel interface {
	Collect(ctx context.Context, req PINRequest) (map[string][]byte, error)
}

// Card holds the counter terminal's activities; the card agent registers it
// on the terminal's own task queue.
type Card struct {
	Reader CardReader
	Panel  PINPanel
	// HoldBeforeWrite makes WriteCertificates wait until cancelled: a fault
	// hook the crash test uses to kill the workers at a known point.
	HoldBeforeWrite bool
}

// ReadCardInput asks for the card inserted at the counter (第2 1(1)ア(エ)A).
type ReadCardInput struct {
	CaseNumber string `json:"caseNumber"`
}

// ReadCardResult identifies the inserted card.
type ReadCardResult struct {
	CardSerial string `json:"cardSerial"`
	Expiry     string `json:"expiry"` // YYYYMMDD as the card records it
}

// ReadCard reads the inserted card's identity.
func (c *Card) ReadCard(ctx context.Context, in ReadCardInput) (ReadCardResult, error) {
	s, err := c.Reader.Open(ctx)
	if err != nil {
		return ReadCardResult{}, fmt.Errorf("open card: %w", err)
	}
	defer s.Close()
	serial, expiry, err := s.CardInfo()
	if err != nil {
		return ReadCardResult{}, fmt.Errorf("read card: %w", err)
	}
	return ReadCardResult{CardSerial: serial, Expiry: expiry}, nil
}

// SetPINsInput asks the applicant to choose PINs on the touch panel
// (第2 1(1)ア(エ)C).
type SetPINsInput struct {
	CaseNumber string   `json:"caseNumber"`
	CardSerial string   `json:"cardSerial"`
	Kinds      []string `json:"kinds"`
}

// SetPINsResult reports which PINs were set; it never carries a PIN.
type SetPINsResult struct {
	Kinds []string  `json:"kinds"`
	SetAt time.Time `json:"setAt"`
}

// SetPINs waits for the applicant's PINs on the touch panel and sets them on
// the card. Setting the same PIN again on a retry is harmless.
func (c *Card) SetPINs(ctx context.Context, in SetPINsInput) (SetPINsResult, error) {
	stop := heartbeatEvery(ctx, 5*time.Second)
	defer stop()
	pins, err := c.Panel.Collect(ctx, PINRequest{CaseNumber: in.CaseNumber, Kinds: in.Kinds})
	defer func() {
		for _, p := range pins {
			clear(p)
		}
	}()
	if err != nil {
		return SetPINsResult{}, fmt.Errorf("touch panel: %w", err)
	}
	s, err := c.open(ctx, in.CardSerial)
	if err != nil {
		return SetPINsResult{}, err
	}
	defer s.Close()
	for _, k := range in.Kinds {
		if err := s.SetPIN(k, pins[k]); err != nil {
			return SetPINsResult{}, fmt.Errorf("set %s PIN: %w", k, err)
		}
	}
	return SetPINsResult{Kinds: in.Kinds, SetAt: time.Now()}, nil
}

// GenerateKeysInput asks the card to generate key pairs (鍵ペア生成).
type GenerateKeysInput struct {
	CaseNumber string   `json:"caseNumber"`
	CardSerial string   `json:"cardSerial"`
	Kinds      []string `json:"kinds"`
}

// PublicKey is a public key generated on the card.
type PublicKey struct {
	Kind    string `json:"kind"`
	SPKIDER []byte `json:"spki"`
}

// GenerateKeysResult carries the public keys; private keys stay on the card.
type GenerateKeysResult struct {
	Keys []PublicKey `json:"keys"`
}

// GenerateKeys generates an RSA-2048 key pair on the card for each kind. A
// retry generates fresh keys, which is safe because nothing was issued for
// the previous ones yet.
func (c *Card) GenerateKeys(ctx context.Context, in GenerateKeysInput) (GenerateKeysResult, error) {
	s, err := c.open(ctx, in.CardSerial)
	if err != nil {
		return GenerateKeysResult{}, err
	}
	defer s.Close()
	var res GenerateKeysResult
	for _, k := range in.Kinds {
		spki, err := s.GenerateKeyPair(k)
		if err != nil {
			return GenerateKeysResult{}, fmt.Errorf("generate %s key: %w", k, err)
		}
		res.Keys = append(res.Keys, PublicKey{Kind: k, SPKIDER: spki})
		activity.RecordHeartbeat(ctx, k)
	}
	return res, nil
}

// WriteCertificatesInput writes issued certificates onto the card.
type WriteCertificatesInput struct {
	CaseNumber   string              `json:"caseNumber"`
	CardSerial   string              `json:"cardSerial"`
	Certificates []IssuedCertificate `json:"certificates"`
}

// WriteCertificatesResult is empty; writing twice is harmless.
type WriteCertificatesResult struct{}

// WriteCertificates writes each certificate and its CA certificate into the
// card's certificate files (第2 1(1)ア(カ)).
func (c *Card) WriteCertificates(ctx context.Context, in WriteCertificatesInput) (WriteCertificatesResult, error) {
	if c.HoldBeforeWrite {
		stop := heartbeatEvery(ctx, time.Second)
		defer stop()
		<-ctx.Done()
		return WriteCertificatesResult{}, ctx.Err()
	}
	for _, cert := range in.Certificates {
		if _, err := x509.ParseCertificate(cert.DER); err != nil {
			return WriteCertificatesResult{}, temporal.NewNonRetryableApplicationError("certificate does not parse", ErrTypeInvalid, err)
		}
	}
	s, err := c.open(ctx, in.CardSerial)
	if err != nil {
		return WriteCertificatesResult{}, err
	}
	defer s.Close()
	for _, cert := range in.Certificates {
		if err := s.WriteCertificate(cert.Kind, cert.DER, cert.CADER); err != nil {
			return WriteCertificatesResult{}, fmt.Errorf("write %s certificate: %w", cert.Kind, err)
		}
	}
	return WriteCertificatesResult{}, nil
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
