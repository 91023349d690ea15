package vcard

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"log/slog"
	"sync"

	"github.com/madoguchi/madoguchi/internal/cardproto"
	"github.com/madoguchi/madoguchi/internal/terminalauth"
)

// Options configure an Applet. The zero value is an in-memory card that
// generates keys on demand and logs nothing.
type Options struct {
	// Keys supplies generated key pairs; nil means OnDemand.
	Keys KeySource
	// Store persists every change of the card state; nil keeps it in memory only.
	Store Store
	// Logger receives command names and status words, never command data.
	Logger *slog.Logger
	// ATR is the answer-to-reset; nil means cardproto.ATR.
	ATR []byte
	// PINIterations is the PBKDF2 iteration count of new PIN verifiers; 0 means DefaultPINIterations.
	PINIterations int
}

// Applet is the JPKI card application: it turns command APDUs into response
// APDUs. It is safe for concurrent use; commands are processed one at a time,
// as on a real card.
type Applet struct {
	mu   sync.Mutex
	st   *State
	priv map[cardproto.Kind]*rsa.PrivateKey // parsed from st, so SIGN need not parse PKCS#8
	// authority is st.TerminalAuthority parsed; nil when the card trusts no terminal.
	authority *ecdsa.PublicKey
	opts      Options
	sess      session
	atr       []byte
	info      []byte // EF 0010
	token     []byte // EF 0006
}

// session is the volatile state a power cycle, a reset or a reselection wipes.
type session struct {
	apSelected bool
	ef         cardproto.FID // 0: none
	verified   map[cardproto.Kind]bool
	pending    []byte // response bytes waiting for GET RESPONSE
	chain      []byte // WRITE CERTIFICATE chunks received so far
	chaining   bool
	// challenge is the last GET CHALLENGE's answer, good for the very next
	// command only, which must be EXTERNAL AUTHENTICATE.
	challenge []byte
	// terminalAuth: an authorised terminal proved itself in this session;
	// RESET RETRY COUNTER and SET PIN over an existing PIN need it.
	terminalAuth bool
}

// NewApplet returns a card application over a copy of st.
func NewApplet(st *State, opts Options) (*Applet, error) {
	if st == nil {
		return nil, fmt.Errorf("%w: nil", ErrInvalidState)
	}
	if err := st.Validate(); err != nil {
		return nil, err
	}
	if opts.Keys == nil {
		opts.Keys = OnDemand{}
	}
	if opts.PINIterations <= 0 {
		opts.PINIterations = DefaultPINIterations
	}
	a := &Applet{st: st.Clone(), opts: opts, priv: map[cardproto.Kind]*rsa.PrivateKey{}, token: cardproto.TokenInfo()}
	a.atr = bytes.Clone(opts.ATR)
	if a.atr == nil {
		a.atr = bytes.Clone(cardproto.ATR)
	}
	for _, k := range cardproto.Kinds {
		der := a.st.Slot(k).Key
		if len(der) == 0 {
			continue
		}
		key, err := parseKey(der)
		if err != nil {
			return nil, fmt.Errorf("%w: %v key: %w", ErrInvalidState, k, err)
		}
		a.priv[k] = key
	}
	if len(a.st.TerminalAuthority) > 0 {
		pub, err := terminalauth.ParseAuthority(a.st.TerminalAuthority)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidState, err)
		}
		a.authority = pub
	}
	info, err := cardproto.MarshalCardInfo(cardproto.CardInfo{Serial: a.st.Serial, Expiry: a.st.Expiry})
	if err != nil {
		return nil, err
	}
	a.info = info
	a.sess = newSession()
	return a, nil
}

func parseKey(der []byte) (*rsa.PrivateKey, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		// Accept PKCS#1 too, for state files written by hand.
		if k1, err1 := x509.ParsePKCS1PrivateKey(der); err1 == nil {
			return k1, nil
		}
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("not an RSA key: %T", k)
	}
	return rk, nil
}

func newSession() session { return session{verified: map[cardproto.Kind]bool{}} }

// ATR returns the card's answer-to-reset.
func (a *Applet) ATR() []byte { return bytes.Clone(a.atr) }

// PowerOn starts a new session: nothing selected, no PIN verified.
func (a *Applet) PowerOn() { a.resetSession("power on") }

// PowerOff ends the session; the security state is lost as on a real card.
func (a *Applet) PowerOff() { a.resetSession("power off") }

// Reset is a warm reset: like a power cycle, the security state is lost.
func (a *Applet) Reset() { a.resetSession("reset") }

func (a *Applet) resetSession(why string) {
	a.mu.Lock()
	a.sess = newSession()
	a.mu.Unlock()
	a.log(context.Background(), slog.LevelInfo, why)
}

// State returns a deep copy of the persistent state.
func (a *Applet) State() *State {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.st.Clone()
}

func (a *Applet) log(ctx context.Context, level slog.Level, msg string, attrs ...any) {
	if a.opts.Logger != nil {
		a.opts.Logger.Log(ctx, level, msg, attrs...)
	}
}

// Process executes one command APDU and returns the response APDU. The
// command bytes are not retained.
func (a *Applet) Process(apdu []byte) []byte {
	cmd, err := cardproto.ParseCommand(apdu)
	if err != nil {
		a.log(context.Background(), slog.LevelInfo, "command", "cmd", "MALFORMED", "sw", cardproto.SWWrongLength.String())
		return cardproto.Response{SW: cardproto.SWWrongLength}.Bytes()
	}
	a.mu.Lock()
	resp := a.dispatch(cmd)
	ef := a.sess.ef
	a.mu.Unlock()
	if a.opts.Logger != nil {
		// Only the command's name and outcome are logged: VERIFY and SET PIN data are PINs.
		a.log(context.Background(), slog.LevelInfo, "command", "cmd", CommandName(cmd), "ef", ef.String(), "sw", resp.SW.String())
	}
	return resp.Bytes()
}

// CommandName names a command for logs; it looks only at CLA, INS and P1.
func CommandName(c cardproto.Command) string {
	switch c.INS {
	case cardproto.INSSelect:
		return "SELECT"
	case cardproto.INSReadBinary:
		return "READ BINARY"
	case cardproto.INSVerify:
		return "VERIFY"
	case cardproto.INSChangeReferenceData:
		return "CHANGE REFERENCE DATA"
	case cardproto.INSSetPIN:
		if c.CLA&^cardproto.CLAChaining == cardproto.CLAISO {
			return "RESET RETRY COUNTER"
		}
		return "SET PIN"
	case cardproto.INSGetChallenge:
		return "GET CHALLENGE"
	case cardproto.INSExternalAuth:
		return "EXTERNAL AUTHENTICATE"
	case cardproto.INSSign:
		return "COMPUTE DIGITAL SIGNATURE"
	case cardproto.INSGenerateKeyPair:
		if c.P1 == cardproto.P1ReadPublicKey {
			return "READ PUBLIC KEY"
		}
		return "GENERATE KEY PAIR"
	case cardproto.INSWriteCertificate:
		return "WRITE CERTIFICATE"
	case cardproto.INSGetResponse:
		return "GET RESPONSE"
	}
	return fmt.Sprintf("INS %02X", c.INS)
}

func sw(s cardproto.StatusWord) cardproto.Response { return cardproto.Response{SW: s} }

func (a *Applet) dispatch(c cardproto.Command) cardproto.Response {
	// A pending response survives only until the next command that is not GET RESPONSE,
	// and a certificate chain only while WRITE CERTIFICATE chunks keep coming.
	if c.INS != cardproto.INSGetResponse {
		a.sess.pending = nil
	}
	if c.INS != cardproto.INSWriteCertificate && a.sess.chaining {
		a.sess.chain, a.sess.chaining = nil, false
	}
	// A challenge is answered by the next command or never: it cannot be
	// kept aside while other commands run, nor used twice.
	challenge := a.sess.challenge
	a.sess.challenge = nil
	if c.CLA&0x0C != 0 {
		return sw(cardproto.SWSecureMessaging)
	}
	if c.CLA&0x03 != 0 {
		return sw(cardproto.SWLogicalChannel)
	}
	chained := c.CLA&cardproto.CLAChaining != 0
	cla := c.CLA &^ cardproto.CLAChaining
	if chained && c.INS != cardproto.INSWriteCertificate {
		return sw(cardproto.SWChainingNotSupported)
	}
	want := cardproto.CLAISO
	switch c.INS {
	case cardproto.INSSign, cardproto.INSGenerateKeyPair, cardproto.INSWriteCertificate:
		want = cardproto.CLAProprietary
	case cardproto.INSSetPIN:
		// CLA 80: SET PIN (issuance); CLA 00: RESET RETRY COUNTER (ISO).
		if cla == cardproto.CLAISO {
			return a.resetRetryCounter(c)
		}
		want = cardproto.CLAProprietary
	case cardproto.INSSelect, cardproto.INSReadBinary, cardproto.INSVerify, cardproto.INSChangeReferenceData, cardproto.INSGetResponse,
		cardproto.INSGetChallenge, cardproto.INSExternalAuth:
	default:
		return sw(cardproto.SWINSNotSupported)
	}
	if cla != want {
		return sw(cardproto.SWCLANotSupported)
	}
	switch c.INS {
	case cardproto.INSSelect:
		return a.selectFile(c)
	case cardproto.INSReadBinary:
		return a.readBinary(c)
	case cardproto.INSVerify:
		return a.verify(c)
	case cardproto.INSChangeReferenceData:
		return a.changePIN(c)
	case cardproto.INSSetPIN:
		return a.setPIN(c)
	case cardproto.INSSign:
		return a.sign(c)
	case cardproto.INSGenerateKeyPair:
		return a.generateKeyPair(c)
	case cardproto.INSWriteCertificate:
		return a.writeCertificate(c, chained)
	case cardproto.INSGetChallenge:
		return a.getChallenge(c)
	case cardproto.INSExternalAuth:
		return a.externalAuthenticate(c, challenge)
	default: // GET RESPONSE
		return a.getResponse(c)
	}
}

// respond returns data, or its first ne bytes and 61 xx when more is waiting.
func (a *Applet) respond(c cardproto.Command, data []byte) cardproto.Response {
	ne := c.Ne
	if !c.HasLe {
		ne = cardproto.MaxShortNe // be lenient with a missing Le, as many cards are
	}
	if ne >= len(data) {
		a.sess.pending = nil
		return cardproto.Response{Data: data, SW: cardproto.SWOK}
	}
	a.sess.pending = data[ne:]
	rest := min(len(a.sess.pending), cardproto.MaxShortNe)
	return cardproto.Response{Data: data[:ne], SW: cardproto.SWBytesRemaining | cardproto.StatusWord(rest&0xFF)}
}

func (a *Applet) selectFile(c cardproto.Command) cardproto.Response {
	if c.P2 != cardproto.P2NoFCI && c.P2 != 0x00 && c.P2 != 0x04 {
		return sw(cardproto.SWIncorrectP1P2)
	}
	switch c.P1 {
	case cardproto.P1SelectDFName:
		if !bytes.Equal(c.Data, cardproto.AID) {
			return sw(cardproto.SWFileNotFound)
		}
		// Selecting the application (again) starts from a clean security state.
		a.sess = newSession()
		a.sess.apSelected = true
		return sw(cardproto.SWOK)
	case cardproto.P1SelectMF:
		if len(c.Data) == 0 || bytes.Equal(c.Data, []byte{0x3F, 0x00}) {
			a.sess = newSession()
			return sw(cardproto.SWOK)
		}
		return a.selectEF(c.Data)
	case cardproto.P1SelectEF:
		return a.selectEF(c.Data)
	}
	return sw(cardproto.SWIncorrectP1P2)
}

func (a *Applet) selectEF(fid []byte) cardproto.Response {
	if len(fid) != 2 {
		return sw(cardproto.SWWrongLength)
	}
	f := cardproto.FID(fid[0])<<8 | cardproto.FID(fid[1])
	if !a.sess.apSelected {
		return sw(cardproto.SWFileNotFound)
	}
	if role, _ := cardproto.Classify(f); role == cardproto.RoleNone {
		return sw(cardproto.SWFileNotFound)
	}
	a.sess.ef = f
	return sw(cardproto.SWOK)
}

func (a *Applet) readBinary(c cardproto.Command) cardproto.Response {
	if c.P1&0x80 != 0 {
		return sw(cardproto.SWFuncNotSupported) // short EF identifiers are not used by JPKI
	}
	if len(c.Data) != 0 {
		return sw(cardproto.SWWrongLength)
	}
	if a.sess.ef == 0 {
		return sw(cardproto.SWNoCurrentEF)
	}
	role, k := cardproto.Classify(a.sess.ef)
	var content []byte
	switch role {
	case cardproto.RoleTokenInfo:
		content = a.token
	case cardproto.RoleCardInfo:
		content = a.info
	case cardproto.RoleCert:
		if k == cardproto.Signing && !a.sess.verified[cardproto.Signing] {
			// The signing certificate carries the 4 information: only its holder may read it.
			return sw(cardproto.SWSecurityNotSatisfied)
		}
		content = a.st.Slot(k).Cert
	case cardproto.RoleCACert:
		content = a.st.Slot(k).CACert
	default: // keys and PINs are never readable
		return sw(cardproto.SWIncompatibleFile)
	}
	if len(content) == 0 {
		return sw(cardproto.SWReferencedDataNotFound)
	}
	off := int(c.P1)<<8 | int(c.P2)
	if off >= len(content) {
		return sw(cardproto.SWWrongP1P2)
	}
	ne := c.Ne
	if !c.HasLe {
		ne = cardproto.MaxShortNe
	}
	end := min(off+ne, len(content))
	return cardproto.Response{Data: bytes.Clone(content[off:end]), SW: cardproto.SWOK}
}

// currentPIN returns the kind of the selected PIN EF.
func (a *Applet) currentPIN() (cardproto.Kind, bool) {
	role, k := cardproto.Classify(a.sess.ef)
	return k, role == cardproto.RolePIN
}

// commit adopts next as the card state after the store has saved it.
func (a *Applet) commit(next *State) error {
	if a.opts.Store != nil {
		if err := a.opts.Store.Save(next); err != nil {
			a.log(context.Background(), slog.LevelError, "saving card state failed", "err", err)
			return err
		}
	}
	a.st = next
	return nil
}

func (a *Applet) verify(c cardproto.Command) cardproto.Response {
	if c.P1 != 0x00 || c.P2 != cardproto.P2SpecificRef {
		return sw(cardproto.SWIncorrectP1P2)
	}
	k, ok := a.currentPIN()
	if !ok {
		return sw(cardproto.SWNoCurrentEF)
	}
	slot := a.st.Slot(k)
	if slot.PIN == nil {
		return sw(cardproto.SWReferenceDataNotUsable)
	}
	if len(c.Data) == 0 {
		// The retry-counter query: always 63 Cx, as JPKI tools expect, even when blocked (63 C0).
		return sw(cardproto.RetriesSW(slot.Retries))
	}
	if len(c.Data) > cardproto.MaxPINLength {
		return sw(cardproto.SWWrongLength)
	}
	if slot.Retries == 0 {
		a.sess.verified[k] = false
		return sw(cardproto.SWAuthMethodBlocked)
	}
	next := a.st.Clone()
	ns := next.Slot(k)
	if slot.PIN.Match(c.Data) {
		if ns.Retries != k.MaxRetries() {
			ns.Retries = k.MaxRetries()
			if err := a.commit(next); err != nil {
				return sw(cardproto.SWMemoryFailure)
			}
		}
		a.sess.verified[k] = true
		return sw(cardproto.SWOK)
	}
	a.sess.verified[k] = false
	ns.Retries--
	if err := a.commit(next); err != nil {
		return sw(cardproto.SWMemoryFailure)
	}
	if ns.Retries == 0 {
		return sw(cardproto.SWAuthMethodBlocked)
	}
	return sw(cardproto.RetriesSW(ns.Retries))
}

func (a *Applet) changePIN(c cardproto.Command) cardproto.Response {
	if c.P1 != cardproto.P1ChangeNewOnly || c.P2 != cardproto.P2SpecificRef {
		return sw(cardproto.SWIncorrectP1P2)
	}
	k, ok := a.currentPIN()
	if !ok {
		return sw(cardproto.SWNoCurrentEF)
	}
	slot := a.st.Slot(k)
	switch {
	case slot.PIN == nil:
		return sw(cardproto.SWReferenceDataNotUsable)
	case slot.Retries == 0:
		return sw(cardproto.SWAuthMethodBlocked)
	case !a.sess.verified[k]:
		return sw(cardproto.SWSecurityNotSatisfied)
	}
	return a.storePIN(k, c.Data, true)
}

func (a *Applet) setPIN(c cardproto.Command) cardproto.Response {
	if c.P1 != 0x00 || c.P2 != cardproto.P2SpecificRef {
		return sw(cardproto.SWIncorrectP1P2)
	}
	k, ok := a.currentPIN()
	if !ok {
		return sw(cardproto.SWNoCurrentEF)
	}
	// A blank card's PIN is set freely (issuance); overwriting one is a
	// reset, which only an authenticated terminal may do, else anyone with a
	// reader could take over a lost card.
	if a.st.Slot(k).PIN != nil && !a.sess.terminalAuth {
		return sw(cardproto.SWSecurityNotSatisfied)
	}
	return a.storePIN(k, c.Data, false)
}

// resetRetryCounter is the PIN reset (初期化): a new PIN without the old one,
// the counter back to the maximum, also for a blocked PIN; only after
// EXTERNAL AUTHENTICATE of a terminal the card trusts.
func (a *Applet) resetRetryCounter(c cardproto.Command) cardproto.Response {
	if c.P1 != cardproto.P1ResetNewPIN || c.P2 != cardproto.P2SpecificRef {
		return sw(cardproto.SWIncorrectP1P2)
	}
	k, ok := a.currentPIN()
	if !ok {
		return sw(cardproto.SWNoCurrentEF)
	}
	switch {
	case a.st.Slot(k).PIN == nil:
		return sw(cardproto.SWReferenceDataNotUsable)
	case !a.sess.terminalAuth:
		return sw(cardproto.SWSecurityNotSatisfied)
	}
	return a.storePIN(k, c.Data, false)
}

func (a *Applet) getChallenge(c cardproto.Command) cardproto.Response {
	if c.P1 != 0 || c.P2 != 0 {
		return sw(cardproto.SWIncorrectP1P2)
	}
	if len(c.Data) != 0 || !c.HasLe || c.Ne != cardproto.ChallengeLen {
		return sw(cardproto.SWWrongLength)
	}
	ch := make([]byte, cardproto.ChallengeLen)
	if _, err := rand.Read(ch); err != nil {
		return sw(cardproto.SWNoPreciseDiagnosis)
	}
	a.sess.challenge = ch
	return cardproto.Response{Data: bytes.Clone(ch), SW: cardproto.SWOK}
}

// externalAuthenticate checks the terminal's signature over the challenge
// just issued and this card's serial against the trusted authority key.
func (a *Applet) externalAuthenticate(c cardproto.Command, challenge []byte) cardproto.Response {
	if c.P1 != 0 || c.P2 != 0 {
		return sw(cardproto.SWIncorrectP1P2)
	}
	// Whatever the outcome, an earlier authentication does not outlive a new attempt.
	a.sess.terminalAuth = false
	switch {
	case a.authority == nil:
		return sw(cardproto.SWReferencedDataNotFound)
	case len(c.Data) == 0 || len(c.Data) > cardproto.MaxTerminalSignature:
		return sw(cardproto.SWWrongLength)
	case challenge == nil:
		return sw(cardproto.SWConditionsNotSatisfied)
	}
	if !terminalauth.VerifyChallenge(a.authority, a.st.Serial, challenge, c.Data) {
		return sw(cardproto.SWAuthFailed)
	}
	a.sess.terminalAuth = true
	return sw(cardproto.SWOK)
}

// storePIN replaces the PIN of kind k and resets its retry counter.
func (a *Applet) storePIN(k cardproto.Kind, pin []byte, keepVerified bool) cardproto.Response {
	if err := cardproto.ValidatePIN(k, pin); err != nil {
		return sw(cardproto.SWWrongData)
	}
	v, err := NewPINVerifier(pin, a.opts.PINIterations)
	if err != nil {
		return sw(cardproto.SWNoPreciseDiagnosis)
	}
	next := a.st.Clone()
	ns := next.Slot(k)
	ns.PIN = v
	ns.Retries = k.MaxRetries()
	if err := a.commit(next); err != nil {
		return sw(cardproto.SWMemoryFailure)
	}
	a.sess.verified[k] = keepVerified && a.sess.verified[k]
	return sw(cardproto.SWOK)
}

func (a *Applet) currentKey() (cardproto.Kind, bool) {
	role, k := cardproto.Classify(a.sess.ef)
	return k, role == cardproto.RoleKey
}

func (a *Applet) sign(c cardproto.Command) cardproto.Response {
	if c.P1 != 0x00 || c.P2 != cardproto.P2SpecificRef {
		return sw(cardproto.SWIncorrectP1P2)
	}
	k, ok := a.currentKey()
	if !ok {
		return sw(cardproto.SWNoCurrentEF)
	}
	key := a.priv[k]
	if key == nil {
		return sw(cardproto.SWReferencedDataNotFound)
	}
	if !a.sess.verified[k] {
		return sw(cardproto.SWSecurityNotSatisfied)
	}
	if len(c.Data) == 0 || len(c.Data) > key.Size()-11 {
		return sw(cardproto.SWWrongLength)
	}
	// Hash 0: the card pads and signs the DigestInfo exactly as the terminal sent it.
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.Hash(0), c.Data)
	if err != nil {
		return sw(cardproto.SWNoPreciseDiagnosis)
	}
	return a.respond(c, sig)
}

func (a *Applet) generateKeyPair(c cardproto.Command) cardproto.Response {
	if c.P2 != 0x00 || (c.P1 != cardproto.P1GenerateKey && c.P1 != cardproto.P1ReadPublicKey) {
		return sw(cardproto.SWIncorrectP1P2)
	}
	if len(c.Data) != 0 {
		return sw(cardproto.SWWrongLength)
	}
	k, ok := a.currentKey()
	if !ok {
		return sw(cardproto.SWNoCurrentEF)
	}
	if c.P1 == cardproto.P1ReadPublicKey {
		key := a.priv[k]
		if key == nil {
			return sw(cardproto.SWReferencedDataNotFound)
		}
		spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
		if err != nil {
			return sw(cardproto.SWNoPreciseDiagnosis)
		}
		return a.respond(c, spki)
	}
	key, err := a.opts.Keys.GenerateKey()
	if err != nil || key == nil || key.N.BitLen() != KeyBits {
		a.log(context.Background(), slog.LevelError, "key generation failed", "err", err)
		return sw(cardproto.SWNoPreciseDiagnosis)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return sw(cardproto.SWNoPreciseDiagnosis)
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return sw(cardproto.SWNoPreciseDiagnosis)
	}
	next := a.st.Clone()
	ns := next.Slot(k)
	ns.Key = der
	// The old certificate certifies the old key: it goes with it (a renewal writes a new one).
	ns.Cert = nil
	if err := a.commit(next); err != nil {
		return sw(cardproto.SWMemoryFailure)
	}
	a.priv[k] = key
	return a.respond(c, spki)
}

func (a *Applet) writeCertificate(c cardproto.Command, more bool) cardproto.Response {
	fail := func(s cardproto.StatusWord) cardproto.Response {
		a.sess.chain, a.sess.chaining = nil, false
		return sw(s)
	}
	if c.P1 != 0x00 || c.P2 != 0x00 {
		return fail(cardproto.SWIncorrectP1P2)
	}
	role, k := cardproto.Classify(a.sess.ef)
	if role != cardproto.RoleCert && role != cardproto.RoleCACert {
		return fail(cardproto.SWNoCurrentEF)
	}
	if len(c.Data) == 0 {
		return fail(cardproto.SWWrongLength)
	}
	if len(a.sess.chain)+len(c.Data) > cardproto.MaxEFSize {
		return fail(cardproto.SWNotEnoughMemory)
	}
	a.sess.chain = append(a.sess.chain, c.Data...)
	if more {
		a.sess.chaining = true
		return sw(cardproto.SWOK)
	}
	der := a.sess.chain
	a.sess.chain, a.sess.chaining = nil, false
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return sw(cardproto.SWWrongData)
	}
	next := a.st.Clone()
	ns := next.Slot(k)
	if role == cardproto.RoleCert {
		key := a.priv[k]
		if key == nil {
			return sw(cardproto.SWConditionsNotSatisfied)
		}
		// A certificate that does not certify the on-card key would be useless: refuse it.
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok || !pub.Equal(&key.PublicKey) {
			return sw(cardproto.SWWrongData)
		}
		ns.Cert = der
	} else {
		ns.CACert = der
	}
	if err := a.commit(next); err != nil {
		return sw(cardproto.SWMemoryFailure)
	}
	return sw(cardproto.SWOK)
}

func (a *Applet) getResponse(c cardproto.Command) cardproto.Response {
	if c.P1 != 0 || c.P2 != 0 {
		return sw(cardproto.SWIncorrectP1P2)
	}
	if len(a.sess.pending) == 0 {
		return sw(cardproto.SWConditionsNotSatisfied)
	}
	return a.respond(c, a.sess.pending)
}
