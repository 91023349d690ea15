package terminal

import (
	"github.com/madoguchi/madoguchi/contract"

	"context"
	"crypto/x509"
	"errors"
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
	// AuthCertificate returns the DER of the user-authentication
	// certificate (EF 000A), which needs no PIN; empty when none is written.
	AuthCertificate() ([]byte, error)
	// PINRetries returns how many wrong entries the kind's PIN still
	// tolerates (0: blocked) without spending one; ErrPINNotSet when the
	// card has no such PIN.
	PINRetries(kind string) (int, error)
	// VerifyPIN presents the kind's PIN. nil: verified, retriesLeft is the
	// full count again. Otherwise an error wrapping ErrWrongPIN (with the
	// tries left), ErrPINBlocked or ErrPINNotSet. The card forgets the
	// verification before VerifyPIN returns: it proves possession only and
	// must not leave the key usable for whoever uses the reader next.
	VerifyPIN(kind string, pin []byte) (retriesLeft int, err error)
	Close() error
}

// Errors a CardSession reports for a PIN; the card agent maps the card
// client's status words to them, so this package needs no PC/SC code.
var (
	// ErrWrongPIN: the card refused the PIN and counted a try.
	ErrWrongPIN = errors.New("terminal: wrong PIN")
	// ErrPINBlocked: no tries are left; only a reset at a counter helps.
	ErrPINBlocked = errors.New("terminal: PIN blocked")
	// ErrPINNotSet: the card was never given a PIN of this kind.
	ErrPINNotSet = errors.New("terminal: no PIN of this kind on the card")
)

// errWrongCard is what openCard reports for a card whose serial is not the
// expected one; each activity turns it into its own application error.
var errWrongCard = errors.New("terminal: a different card is inserted")

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
	// Verify asks the holder for an existing PIN, typed once, to be verified
	// on the card; otherwise new PINs are chosen and typed twice.
	Verify bool
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

// ReadCard reads the inserted card's identity and the serial of its
// user-authentication certificate, if one is written.
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
	der, err := s.AuthCertificate()
	if err != nil {
		return contract.ReadCardResult{}, fmt.Errorf("read user-authentication certificate: %w", err)
	}
	res := contract.ReadCardResult{CardSerial: serial, Expiry: expiry}
	if len(der) > 0 {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			// The card accepts only X.509 certificates, so no retry reads better.
			return contract.ReadCardResult{}, temporal.NewNonRetryableApplicationError(
				"カードの利用者証明用電子証明書を読み取れません / The user-authentication certificate on the card cannot be read.", contract.ErrTypeInvalid, err)
		}
		res.AuthSerial = CertificateSerial(cert)
	}
	return res, nil
}

// CertificateSerial renders a certificate's serial as the CA stores and
// returns it (internal/ca FormatSerial: lower-case hexadecimal without
// leading zeros), so a serial read off a card compares equal to the one the
// register holds. Not imported from internal/ca: the terminal links no CA code.
func CertificateSerial(cert *x509.Certificate) string { return cert.SerialNumber.Text(16) }

// kindLabel names a PIN's certificate for the clerk, in Japanese and English.
func kindLabel(kind string) (ja, en string) {
	if kind == contract.KindSigning {
		return "署名用電子証明書", "signing"
	}
	return "利用者証明用電子証明書", "user-authentication"
}

// VerifyPIN has the holder type the kind's PIN once on the touch panel and
// verifies it on the card (第3 2): possession of the card, proven without the
// PIN leaving the terminal. A wrong or blocked PIN is an answer, not an
// error; a card without that PIN, or another card than the holder's, is
// ErrTypeInvalid, since no retry mends it.
func (c *Card) VerifyPIN(ctx context.Context, in contract.VerifyPINInput) (contract.VerifyPINResult, error) {
	stop := heartbeatEvery(ctx, 5*time.Second)
	defer stop()
	if in.Kind != contract.KindSigning && in.Kind != contract.KindUserAuth {
		return contract.VerifyPINResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("電子証明書の種類 %q は不明です / Unknown certificate kind %q.", in.Kind, in.Kind), contract.ErrTypeInvalid, nil)
	}
	// Ask the card first, so the holder types nothing for the wrong card, a
	// card without that PIN, or a PIN that is blocked already.
	left, err := c.pinRetries(ctx, in.CardSerial, in.Kind)
	if err != nil {
		return contract.VerifyPINResult{}, err
	}
	if left == 0 {
		return contract.VerifyPINResult{Blocked: true}, nil
	}
	pins, err := c.Panel.Collect(ctx, PINRequest{CaseNumber: in.CaseNumber, Kinds: []string{in.Kind}, Verify: true})
	defer func() {
		for _, p := range pins {
			clear(p)
		}
	}()
	if err != nil {
		return contract.VerifyPINResult{}, fmt.Errorf("touch panel: %w", err)
	}
	pin := pins[in.Kind]
	if len(pin) == 0 {
		return contract.VerifyPINResult{}, fmt.Errorf("touch panel: no %s PIN entered", in.Kind)
	}
	// The card may have been swapped while the holder typed: check again.
	s, err := c.openHolders(ctx, in.CardSerial)
	if err != nil {
		return contract.VerifyPINResult{}, err
	}
	defer s.Close()
	left, err = s.VerifyPIN(in.Kind, pin)
	switch {
	case err == nil:
		return contract.VerifyPINResult{Verified: true, RetriesLeft: left}, nil
	case errors.Is(err, ErrWrongPIN):
		return contract.VerifyPINResult{RetriesLeft: left}, nil
	case errors.Is(err, ErrPINBlocked):
		return contract.VerifyPINResult{Blocked: true}, nil
	case errors.Is(err, ErrPINNotSet):
		return contract.VerifyPINResult{}, pinNotSet(in.Kind, err)
	}
	return contract.VerifyPINResult{}, fmt.Errorf("verify %s PIN: %w", in.Kind, err)
}

// pinRetries reads the kind's retry counter off the holder's card.
func (c *Card) pinRetries(ctx context.Context, wantSerial, kind string) (int, error) {
	s, err := c.openHolders(ctx, wantSerial)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	left, err := s.PINRetries(kind)
	if errors.Is(err, ErrPINNotSet) {
		return 0, pinNotSet(kind, err)
	}
	if err != nil {
		return 0, fmt.Errorf("read %s PIN retry counter: %w", kind, err)
	}
	return left, nil
}

func pinNotSet(kind string, err error) error {
	ja, en := kindLabel(kind)
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("このカードには%sの暗証番号が設定されていません / This card has no %s PIN.", ja, en), contract.ErrTypeInvalid, err)
}

// openHolders opens the card for a holder's PIN: another card than the one
// the case names is refused for good, since the holder must bring their
// own card, not have the step retried against someone else's.
func (c *Card) openHolders(ctx context.Context, wantSerial string) (CardSession, error) {
	s, err := c.openCard(ctx, wantSerial)
	if errors.Is(err, errWrongCard) {
		return nil, temporal.NewNonRetryableApplicationError(
			"挿入されたカードは本人のカードではありません / The inserted card is not the holder's card.", contract.ErrTypeInvalid, err)
	}
	return s, err
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
	s, err := c.openCard(ctx, wantSerial)
	if errors.Is(err, errWrongCard) {
		return nil, temporal.NewApplicationError("a different card is inserted; insert the applicant's card", "CardSwapped")
	}
	return s, err
}

// openCard opens the card and checks its serial (errWrongCard).
func (c *Card) openCard(ctx context.Context, wantSerial string) (CardSession, error) {
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
		return nil, errWrongCard
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
