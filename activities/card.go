package activities

import (
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
	// EnteredBy is the clerk typing for the applicant, after a second
	// clerk confirmed the applicant's intent; empty when the applicant types.
	EnteredBy string `json:"enteredBy,omitempty"`
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
	pins, err := c.Panel.Collect(ctx, PINRequest{CaseNumber: in.CaseNumber, Kinds: in.Kinds, EnteredBy: in.EnteredBy})
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

// SetPINsFromNoticeInput sets the PINs of a relay application's sealed
// notice (暗証番号届出) on the card at the address municipality's terminal.
type SetPINsFromNoticeInput struct {
	CaseNumber string         `json:"caseNumber"`
	CardSerial string         `json:"cardSerial"`
	Notice     sealing.Notice `json:"notice"`
}

// SetPINsFromNoticeResult reports which PINs were set; never a PIN.
type SetPINsFromNoticeResult struct {
	Kinds []string `json:"kinds"`
}

// SetPINsFromNotice opens the notice with this terminal's keys, sets the
// PINs on the card and wipes them (令和4年改正: 住所地市区町村の職員が届出の暗証番号
// を設定する). The PINs exist in clear only inside this call.
func (c *Card) SetPINsFromNotice(ctx context.Context, in SetPINsFromNoticeInput) (SetPINsFromNoticeResult, error) {
	if c.Notices == nil {
		return SetPINsFromNoticeResult{}, temporal.NewNonRetryableApplicationError("this terminal holds no sealing keys", ErrTypeInvalid, nil)
	}
	pins, err := c.Notices.Open(in.Notice, in.CaseNumber)
	defer func() {
		for _, p := range pins {
			clear(p)
		}
	}()
	if err != nil {
		return SetPINsFromNoticeResult{}, temporal.NewNonRetryableApplicationError("the PIN notice cannot be opened here", ErrTypeInvalid, err)
	}
	s, err := c.open(ctx, in.CardSerial)
	if err != nil {
		return SetPINsFromNoticeResult{}, err
	}
	defer s.Close()
	var kinds []string
	for _, k := range []string{KindSigning, KindUserAuth} {
		pin, ok := pins[k]
		if !ok {
			continue
		}
		if err := s.SetPIN(k, pin); err != nil {
			return SetPINsFromNoticeResult{}, fmt.Errorf("set %s PIN: %w", k, err)
		}
		kinds = append(kinds, k)
	}
	return SetPINsFromNoticeResult{Kinds: kinds}, nil
}

// SealPINNoticeInput asks the applicant at a relay municipality's terminal
// for the PINs and seals them to the address municipality's key.
type SealPINNoticeInput struct {
	CaseNumber string            `json:"caseNumber"`
	Kinds      []string          `json:"kinds"`
	Recipient  sealing.PublicKey `json:"recipient"`
	// NoticeCase is the case the notice is bound to (the address
	// municipality's), so it cannot be replayed into another procedure.
	NoticeCase string `json:"noticeCase"`
}

// SealPINNoticeResult is the sealed notice; it carries no PIN in clear.
type SealPINNoticeResult struct {
	Notice sealing.Notice `json:"notice"`
}

// SealPINNotice collects the PINs on the touch panel and seals them at once
// (crypto/hpke) to the address municipality's public key.
func (c *Card) SealPINNotice(ctx context.Context, in SealPINNoticeInput) (SealPINNoticeResult, error) {
	stop := heartbeatEvery(ctx, 5*time.Second)
	defer stop()
	pins, err := c.Panel.Collect(ctx, PINRequest{CaseNumber: in.CaseNumber, Kinds: in.Kinds})
	defer func() {
		for _, p := range pins {
			clear(p)
		}
	}()
	if err != nil {
		return SealPINNoticeResult{}, fmt.Errorf("touch panel: %w", err)
	}
	n, err := sealing.Seal(in.Recipient, in.NoticeCase, pins)
	if err != nil {
		return SealPINNoticeResult{}, temporal.NewNonRetryableApplicationError("the PIN notice cannot be sealed", ErrTypeInvalid, err)
	}
	return SealPINNoticeResult{Notice: n}, nil
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
