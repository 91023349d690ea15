package terminal

import (
	"github.com/madoguchi/madoguchi/contract"

	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/madoguchi/madoguchi/internal/pinrule"
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
	// ChangePIN verifies the kind's current PIN and, if right, replaces it
	// with newPIN (CHANGE REFERENCE DATA); nil: changed, retriesLeft full.
	// Errors as VerifyPIN's: a wrong current PIN wraps ErrWrongPIN with the
	// tries left. The card forgets the verification before it returns.
	ChangePIN(kind string, current, newPIN []byte) (retriesLeft int, err error)
	// AuthenticateTerminal proves to the card that this terminal may reset
	// PINs and drops the proof again before returning: the check made before
	// anyone types. ErrTerminalNotAuthorised when the terminal holds no key
	// or the card does not trust it.
	AuthenticateTerminal() error
	// ResetPINs authenticates the terminal, gives each kind its new PIN
	// without the old one (the retry counter back to its maximum) and drops
	// the authentication before returning. ErrTerminalNotAuthorised as
	// above; ErrPINNotSet for a kind the card has no PIN of.
	ResetPINs(kinds []string, pins map[string][]byte) error
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
	// ErrTerminalNotAuthorised: the terminal holds no key for the PIN reset,
	// or the card does not trust the one it holds.
	ErrTerminalNotAuthorised = errors.New("terminal: not authorised to reset PINs")
)

// errWrongCard is what openCard reports for a card whose serial is not the
// expected one; each activity turns it into its own application error.
var errWrongCard = errors.New("terminal: a different card is inserted")

// CardReader opens a session with the card in the terminal's reader,
// waiting for a card to be inserted.
type CardReader interface {
	Open(ctx context.Context) (CardSession, error)
}

// What the touch panel asks for (PINRequest.Mode).
const (
	// ModeSet: new PINs are chosen, each typed twice (issuance). The zero
	// Mode means it too.
	ModeSet = "set"
	// ModeVerify: the existing PIN, typed once, for the card to verify.
	ModeVerify = "verify"
	// ModeChange: the current PIN once, then the new one twice (暗証番号の変更).
	ModeChange = "change"
	// ModeReset: new PINs typed twice, without the old ones (暗証番号の初期化).
	ModeReset = "reset"
)

// PINRequest asks, on the terminal's touch panel, for the PINs of the given
// certificate kinds.
type PINRequest struct {
	CaseNumber string
	Kinds      []string
	// EnteredBy is the clerk typing for the applicant; empty when the
	// applicant types.
	EnteredBy string
	// Mode is ModeSet (or empty), ModeVerify, ModeChange or ModeReset.
	Mode string
	// TriesLeft is how many wrong entries the current PIN still tolerates
	// (verify and change modes), shown so the holder knows what a mistake
	// costs; 0 in the other modes.
	TriesLeft int
}

// CurrentPINKey is the key under which Collect returns the current PIN of a
// kind in ModeChange; the new PIN is under the kind itself.
func CurrentPINKey(kind string) string { return kind + ".current" }

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
	if err := knownKind(in.Kind); err != nil {
		return contract.VerifyPINResult{}, err
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
	pins, err := c.Panel.Collect(ctx, PINRequest{CaseNumber: in.CaseNumber, Kinds: []string{in.Kind}, Mode: ModeVerify, TriesLeft: left})
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

// ChangePIN has the holder (or EnteredBy, for them) type the kind's current
// PIN and the new one twice on the touch panel; the card verifies the
// current one and changes it (第3 1 暗証番号の変更). As with VerifyPIN, a wrong
// current PIN or a blocked one is an answer: RetriesLeft counts down, and
// the workflow asks again; the panel shows the tries left. The new PIN
// obeys internal/pinrule.
func (c *Card) ChangePIN(ctx context.Context, in contract.ChangePINInput) (contract.ChangePINResult, error) {
	stop := heartbeatEvery(ctx, 5*time.Second)
	defer stop()
	if err := knownKind(in.Kind); err != nil {
		return contract.ChangePINResult{}, err
	}
	left, err := c.pinRetries(ctx, in.CardSerial, in.Kind)
	if err != nil {
		return contract.ChangePINResult{}, err
	}
	if left == 0 {
		return contract.ChangePINResult{Blocked: true}, nil
	}
	pins, err := c.Panel.Collect(ctx, PINRequest{CaseNumber: in.CaseNumber, Kinds: []string{in.Kind}, EnteredBy: in.EnteredBy, Mode: ModeChange, TriesLeft: left})
	defer wipe(pins)
	if err != nil {
		return contract.ChangePINResult{}, fmt.Errorf("touch panel: %w", err)
	}
	current, newPIN := pins[CurrentPINKey(in.Kind)], pins[in.Kind]
	if len(current) == 0 || len(newPIN) == 0 {
		return contract.ChangePINResult{}, fmt.Errorf("touch panel: the current or the new %s PIN is missing", in.Kind)
	}
	if err := newPINRule(in.Kind, newPIN); err != nil {
		return contract.ChangePINResult{}, err
	}
	s, err := c.openHolders(ctx, in.CardSerial)
	if err != nil {
		return contract.ChangePINResult{}, err
	}
	defer s.Close()
	left, err = s.ChangePIN(in.Kind, current, newPIN)
	switch {
	case err == nil:
		return contract.ChangePINResult{Changed: true, RetriesLeft: left}, nil
	case errors.Is(err, ErrWrongPIN):
		return contract.ChangePINResult{RetriesLeft: left}, nil
	case errors.Is(err, ErrPINBlocked):
		return contract.ChangePINResult{Blocked: true}, nil
	case errors.Is(err, ErrPINNotSet):
		return contract.ChangePINResult{}, pinNotSet(in.Kind, err)
	}
	return contract.ChangePINResult{}, fmt.Errorf("change %s PIN: %w", in.Kind, err)
}

// ResetPIN gives the holder's card new PINs of the kinds without the old
// ones (第3 1 暗証番号の初期化), for a blocked or forgotten PIN. Only a terminal
// the card trusts may: the card is asked first, so that nobody types PINs
// on a terminal that cannot set them, and again when they are set. The new
// PINs, typed twice on the panel, obey internal/pinrule.
func (c *Card) ResetPIN(ctx context.Context, in contract.ResetPINInput) (contract.ResetPINResult, error) {
	stop := heartbeatEvery(ctx, 5*time.Second)
	defer stop()
	kinds, err := resetKinds(in.Kinds)
	if err != nil {
		return contract.ResetPINResult{}, err
	}
	if err := c.canReset(ctx, in.CardSerial, kinds); err != nil {
		return contract.ResetPINResult{}, err
	}
	pins, err := c.Panel.Collect(ctx, PINRequest{CaseNumber: in.CaseNumber, Kinds: kinds, EnteredBy: in.EnteredBy, Mode: ModeReset})
	defer wipe(pins)
	if err != nil {
		return contract.ResetPINResult{}, fmt.Errorf("touch panel: %w", err)
	}
	for _, k := range kinds {
		if len(pins[k]) == 0 {
			return contract.ResetPINResult{}, fmt.Errorf("touch panel: no new %s PIN entered", k)
		}
		if err := newPINRule(k, pins[k]); err != nil {
			return contract.ResetPINResult{}, err
		}
	}
	s, err := c.openHolders(ctx, in.CardSerial)
	if err != nil {
		return contract.ResetPINResult{}, err
	}
	defer s.Close()
	if err := s.ResetPINs(kinds, pins); err != nil {
		return contract.ResetPINResult{}, resetErr(kinds, err)
	}
	return contract.ResetPINResult{Kinds: kinds}, nil
}

// canReset checks, before anyone types, that the card is the holder's, has
// a PIN of each kind, and trusts this terminal.
func (c *Card) canReset(ctx context.Context, wantSerial string, kinds []string) error {
	s, err := c.openHolders(ctx, wantSerial)
	if err != nil {
		return err
	}
	defer s.Close()
	for _, k := range kinds {
		if _, err := s.PINRetries(k); errors.Is(err, ErrPINNotSet) {
			return pinNotSet(k, err)
		} else if err != nil {
			return fmt.Errorf("read %s PIN retry counter: %w", k, err)
		}
	}
	if err := s.AuthenticateTerminal(); err != nil {
		return resetErr(kinds, err)
	}
	return nil
}

// notAuthorisedMessage is what the clerk reads when the card refuses this
// terminal for the PIN reset.
const notAuthorisedMessage = "この統合端末は暗証番号の初期化を認められていません / This terminal is not authorised to reset PINs."

// resetErr tells the clerk why a reset was refused for good; anything
// else (a card pulled out) is retried.
func resetErr(kinds []string, err error) error {
	switch {
	case errors.Is(err, ErrTerminalNotAuthorised):
		// Another try on this terminal is refused the same way: only another terminal helps.
		return temporal.NewNonRetryableApplicationError(notAuthorisedMessage, contract.ErrTypeInvalid, err)
	case errors.Is(err, ErrPINNotSet):
		// canReset found every PIN set; only a card changed since gets here.
		return temporal.NewNonRetryableApplicationError(
			"このカードには初期化する暗証番号が設定されていません / This card has no PIN of the kinds to reset.", contract.ErrTypeInvalid, err)
	}
	return fmt.Errorf("reset %v PINs: %w", kinds, err)
}

// resetKinds checks the kinds asked for: known, not repeated, at least one;
// signing first, as the panel shows them.
func resetKinds(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, temporal.NewNonRetryableApplicationError(
			"初期化する暗証番号が指定されていません / No PIN to reset was named.", contract.ErrTypeInvalid, nil)
	}
	var kinds []string
	for _, k := range []string{contract.KindSigning, contract.KindUserAuth} {
		if slices.Contains(in, k) {
			kinds = append(kinds, k)
		}
	}
	for _, k := range in {
		if err := knownKind(k); err != nil {
			return nil, err
		}
	}
	if len(kinds) != len(in) {
		return nil, temporal.NewNonRetryableApplicationError(
			"同じ暗証番号が重ねて指定されています / A PIN is named twice.", contract.ErrTypeInvalid, nil)
	}
	return kinds, nil
}

func knownKind(kind string) error {
	if kind != contract.KindSigning && kind != contract.KindUserAuth {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("電子証明書の種類 %q は不明です / Unknown certificate kind %q.", kind, kind), contract.ErrTypeInvalid, nil)
	}
	return nil
}

// newPINRule checks a new PIN against internal/pinrule. The panel checks it
// already; this guards the card against any other panel. The error names
// the rule, never the PIN.
func newPINRule(kind string, pin []byte) error {
	if err := pinrule.Validate(pinrule.Kind(kind), pin); err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrTypeInvalid, nil)
	}
	return nil
}

func wipe(pins map[string][]byte) {
	for _, p := range pins {
		clear(p)
	}
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
			return contract.SetPINsResult{}, setPINErr(k, err)
		}
	}
	return contract.SetPINsResult{Kinds: in.Kinds, SetAt: time.Now()}, nil
}

// setPINErr: a card that has a PIN already takes a new one only from a
// terminal it trusts (the PIN reset), so on another terminal no retry helps.
func setPINErr(kind string, err error) error {
	if errors.Is(err, ErrTerminalNotAuthorised) {
		return temporal.NewNonRetryableApplicationError(
			"このカードには暗証番号が設定済みで、この統合端末はその初期化を認められていません / The card has a PIN already, and this terminal is not authorised to reset PINs.",
			contract.ErrTypeInvalid, err)
	}
	return fmt.Errorf("set %s PIN: %w", kind, err)
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
			return contract.SetPINsFromNoticeResult{}, setPINErr(k, err)
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
