package cardproto

import (
	"bytes"
	"fmt"
)

// AID is the JPKI card application's identifier (公的個人認証AP).
var AID = []byte{0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01}

// ATR is the answer-to-reset of the JPKI card (T=1). OpenSC's jpki driver
// recognises a card by it, so the virtual card answers it too.
var ATR = []byte{0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14}

// FID is an elementary file identifier inside the JPKI application.
type FID uint16

// Elementary files of the JPKI application. EFCardInfo is this project's own
// (docs/CARD.md); the others follow the real card.
const (
	EFSigningCert    FID = 0x0001 // signing certificate (署名用電子証明書), readable after the signing PIN
	EFSigningCACert  FID = 0x0002 // the signing certificate's CA certificate
	EFTokenInfo      FID = 0x0006 // token information, "JPKIAPICCTOKEN2" padded with spaces
	EFUserAuthCert   FID = 0x000A // user-authentication certificate (利用者証明用電子証明書)
	EFUserAuthCACert FID = 0x000B // the user-authentication certificate's CA certificate
	EFCardInfo       FID = 0x0010 // card information: serial number and card expiry (proprietary)
	EFUserAuthKey    FID = 0x0017 // user-authentication private key
	EFUserAuthPIN    FID = 0x0018 // user-authentication PIN
	EFSigningKey     FID = 0x001A // signing private key
	EFSigningPIN     FID = 0x001B // signing PIN
)

// Bytes returns the two bytes of the identifier, big-endian.
func (f FID) Bytes() []byte { return []byte{byte(f >> 8), byte(f)} }

// String renders the identifier as four hex digits.
func (f FID) String() string { return fmt.Sprintf("%04X", uint16(f)) }

// TokenInfoName is the content of EF 0006 on an Individual Number Card.
const TokenInfoName = "JPKIAPICCTOKEN2"

// TokenInfoSize is the length of EF 0006; the name is padded with spaces to it.
const TokenInfoSize = 32

// TokenInfo returns the 32 bytes of EF 0006.
func TokenInfo() []byte {
	b := bytes.Repeat([]byte{' '}, TokenInfoSize)
	copy(b, TokenInfoName)
	return b
}

// MaxEFSize bounds a certificate EF; real certificates are 1.2–1.6 KB.
const MaxEFSize = 8192

// Class and instruction bytes.
const (
	CLAISO         byte = 0x00 // inter-industry commands (SELECT, READ BINARY, VERIFY, ...)
	CLAProprietary byte = 0x80 // JPKI SIGN and this project's issuance commands
	CLAChaining    byte = 0x10 // command-chaining bit: more chunks of the same command follow

	INSSelect              byte = 0xA4
	INSReadBinary          byte = 0xB0
	INSVerify              byte = 0x20
	INSChangeReferenceData byte = 0x24 // PIN change by its holder, after VERIFY of the old PIN
	INSSetPIN              byte = 0x2C // CLA 80: SET PIN (issuance); CLA 00: RESET RETRY COUNTER (the PIN reset, 初期化)
	INSGetChallenge        byte = 0x84 // GET CHALLENGE: a fresh random challenge for terminal authentication
	INSExternalAuth        byte = 0x82 // EXTERNAL AUTHENTICATE: the terminal's signature over the challenge
	INSSign                byte = 0x2A // COMPUTE DIGITAL SIGNATURE (CLA 80)
	INSGenerateKeyPair     byte = 0x47 // on-card RSA-2048 key generation / public key read-out (CLA 80)
	INSWriteCertificate    byte = 0xD0 // certificate write, chained (CLA 80 / 90)
	INSGetResponse         byte = 0xC0
)

// Parameter bytes.
const (
	P1SelectMF       byte = 0x00 // SELECT MF (data 3F00 or empty)
	P1SelectEF       byte = 0x02 // SELECT EF under the current DF
	P1SelectDFName   byte = 0x04 // SELECT by application identifier
	P2NoFCI          byte = 0x0C // SELECT: no response data
	P2SpecificRef    byte = 0x80 // VERIFY/SIGN/SET PIN: reference data of the selected EF
	P1GenerateKey    byte = 0x00 // GENERATE KEY PAIR: make a new key pair
	P1ReadPublicKey  byte = 0x01 // GENERATE KEY PAIR: return the current public key, generate nothing
	P1ChangeNewOnly  byte = 0x01 // CHANGE REFERENCE DATA: data holds only the new PIN
	P1ResetNewPIN    byte = 0x02 // RESET RETRY COUNTER: data holds the new PIN, no resetting code
	MaxReadOffset         = 0x7FFF
	maxShortChunkLen      = MaxShortNc
)

// Kind selects one of the card's two key pairs and everything that belongs to it.
type Kind int

// The two kinds of certificate on a JPKI card.
const (
	// Signing is the signing certificate's key pair (署名用), PIN of 6–16 A–Z/0–9, 5 tries.
	Signing Kind = 1
	// UserAuth is the user-authentication key pair (利用者証明用), 4-digit PIN, 3 tries.
	UserAuth Kind = 2
)

// Kinds lists both kinds, signing first.
var Kinds = []Kind{Signing, UserAuth}

// Valid reports whether k is Signing or UserAuth.
func (k Kind) Valid() bool { return k == Signing || k == UserAuth }

// String names the kind.
func (k Kind) String() string {
	switch k {
	case Signing:
		return "signing"
	case UserAuth:
		return "user-authentication"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// CertEF is the EF holding the kind's certificate.
func (k Kind) CertEF() FID { return k.pick(EFSigningCert, EFUserAuthCert) }

// CACertEF is the EF holding the certificate of the CA that issued the kind's certificate.
func (k Kind) CACertEF() FID { return k.pick(EFSigningCACert, EFUserAuthCACert) }

// KeyEF is the EF holding the kind's private key.
func (k Kind) KeyEF() FID { return k.pick(EFSigningKey, EFUserAuthKey) }

// PINEF is the EF holding the kind's PIN.
func (k Kind) PINEF() FID { return k.pick(EFSigningPIN, EFUserAuthPIN) }

// MaxRetries is the number of consecutive wrong PINs that block the kind's PIN.
func (k Kind) MaxRetries() int {
	switch k {
	case Signing:
		return 5
	case UserAuth:
		return 3
	}
	return 0
}

func (k Kind) pick(sign, auth FID) FID {
	switch k {
	case Signing:
		return sign
	case UserAuth:
		return auth
	}
	return 0
}

// FileRole says what an EF of the JPKI application is for.
type FileRole int

// Roles of the EFs.
const (
	RoleNone FileRole = iota
	RoleCert
	RoleCACert
	RoleKey
	RolePIN
	RoleTokenInfo
	RoleCardInfo
)

// Classify returns the role of an EF and, for per-kind EFs, its kind.
func Classify(f FID) (FileRole, Kind) {
	switch f {
	case EFSigningCert:
		return RoleCert, Signing
	case EFUserAuthCert:
		return RoleCert, UserAuth
	case EFSigningCACert:
		return RoleCACert, Signing
	case EFUserAuthCACert:
		return RoleCACert, UserAuth
	case EFSigningKey:
		return RoleKey, Signing
	case EFUserAuthKey:
		return RoleKey, UserAuth
	case EFSigningPIN:
		return RolePIN, Signing
	case EFUserAuthPIN:
		return RolePIN, UserAuth
	case EFTokenInfo:
		return RoleTokenInfo, 0
	case EFCardInfo:
		return RoleCardInfo, 0
	}
	return RoleNone, 0
}

func mustBytes(c Command) []byte {
	b, err := c.Bytes()
	if err != nil {
		panic(err) // only reached with constant, known-good commands
	}
	return b
}

// SelectAP encodes SELECT of the JPKI application: 00 A4 04 0C 0A <AID>.
func SelectAP() []byte {
	return mustBytes(Command{CLA: CLAISO, INS: INSSelect, P1: P1SelectDFName, P2: P2NoFCI, Data: AID})
}

// SelectEF encodes SELECT EF: 00 A4 02 0C 02 <fid>.
func SelectEF(f FID) []byte {
	return mustBytes(Command{CLA: CLAISO, INS: INSSelect, P1: P1SelectEF, P2: P2NoFCI, Data: f.Bytes()})
}

// ReadBinary encodes READ BINARY of ne bytes at offset: 00 B0 <off hi> <off lo> <Le>.
// ne above 256 needs the extended encoding.
func ReadBinary(offset, ne int) ([]byte, error) {
	if offset < 0 || offset > MaxReadOffset {
		return nil, fmt.Errorf("%w: READ BINARY offset %d out of range", ErrMalformedAPDU, offset)
	}
	return Command{CLA: CLAISO, INS: INSReadBinary, P1: byte(offset >> 8), P2: byte(offset), Ne: ne, HasLe: true}.Bytes()
}

// VerifyStatus encodes VERIFY without data, which asks for the retry counter: 00 20 00 80.
func VerifyStatus() []byte {
	return []byte{CLAISO, INSVerify, 0x00, P2SpecificRef}
}

// Verify encodes VERIFY of a PIN: 00 20 00 80 <Lc> <PIN>. The result holds the
// PIN: the caller must clear it after use.
func Verify(pin []byte) ([]byte, error) {
	if len(pin) == 0 || len(pin) > MaxPINLength {
		return nil, fmt.Errorf("%w: PIN length out of range", ErrInvalidPIN)
	}
	return Command{CLA: CLAISO, INS: INSVerify, P1: 0x00, P2: P2SpecificRef, Data: pin}.Bytes()
}

// ChangePIN encodes CHANGE REFERENCE DATA with only the new PIN: 00 24 01 80 <Lc> <PIN>.
// The PIN of the selected PIN EF must have been verified in the same session.
// The result holds the PIN: the caller must clear it after use.
func ChangePIN(newPIN []byte) ([]byte, error) {
	if len(newPIN) == 0 || len(newPIN) > MaxPINLength {
		return nil, fmt.Errorf("%w: PIN length out of range", ErrInvalidPIN)
	}
	return Command{CLA: CLAISO, INS: INSChangeReferenceData, P1: P1ChangeNewOnly, P2: P2SpecificRef, Data: newPIN}.Bytes()
}

// SetPIN encodes the issuance command SET PIN: 80 2C 00 80 <Lc> <PIN>. It sets
// the PIN of the selected PIN EF and resets its retry counter. The result holds
// the PIN: the caller must clear it after use.
func SetPIN(pin []byte) ([]byte, error) {
	if len(pin) == 0 || len(pin) > MaxPINLength {
		return nil, fmt.Errorf("%w: PIN length out of range", ErrInvalidPIN)
	}
	return Command{CLA: CLAProprietary, INS: INSSetPIN, P1: 0x00, P2: P2SpecificRef, Data: pin}.Bytes()
}

// Sign encodes COMPUTE DIGITAL SIGNATURE over a DigestInfo: 80 2A 00 80 <Lc> <DigestInfo> 00.
func Sign(digestInfo []byte) ([]byte, error) {
	if len(digestInfo) == 0 || len(digestInfo) > MaxShortNc {
		return nil, fmt.Errorf("%w: DigestInfo of %d bytes", ErrMalformedAPDU, len(digestInfo))
	}
	return Command{CLA: CLAProprietary, INS: INSSign, P1: 0x00, P2: P2SpecificRef, Data: digestInfo, Ne: MaxShortNe, HasLe: true}.Bytes()
}

// GenerateKeyPair encodes GENERATE KEY PAIR on the selected key EF: 80 47 00 00 00.
// The answer is the new public key as SubjectPublicKeyInfo DER, longer than 256
// bytes, so it arrives in 61 xx / GET RESPONSE pieces.
func GenerateKeyPair() []byte {
	return mustBytes(Command{CLA: CLAProprietary, INS: INSGenerateKeyPair, P1: P1GenerateKey, Ne: MaxShortNe, HasLe: true})
}

// ReadPublicKey encodes the read-out of the selected key EF's public key: 80 47 01 00 00.
func ReadPublicKey() []byte {
	return mustBytes(Command{CLA: CLAProprietary, INS: INSGenerateKeyPair, P1: P1ReadPublicKey, Ne: MaxShortNe, HasLe: true})
}

// GetResponse encodes GET RESPONSE for ne bytes: 00 C0 00 00 <Le>.
func GetResponse(ne int) []byte {
	ne = max(1, min(ne, MaxShortNe))
	return mustBytes(Command{CLA: CLAISO, INS: INSGetResponse, Ne: ne, HasLe: true})
}

// WriteCertificate encodes the chained WRITE CERTIFICATE commands that store
// der in the selected certificate EF: every chunk but the last is
// 90 D0 00 00 <Lc> <chunk>, the last 80 D0 00 00 <Lc> <chunk>.
func WriteCertificate(der []byte) ([][]byte, error) {
	if len(der) == 0 || len(der) > MaxEFSize {
		return nil, fmt.Errorf("%w: certificate of %d bytes", ErrMalformedAPDU, len(der))
	}
	var out [][]byte
	for off := 0; off < len(der); off += maxShortChunkLen {
		end := min(off+maxShortChunkLen, len(der))
		cla := CLAProprietary
		if end < len(der) {
			cla |= CLAChaining
		}
		b, err := Command{CLA: cla, INS: INSWriteCertificate, Data: der[off:end]}.Bytes()
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// ChallengeLen is the length of the card's GET CHALLENGE answer.
const ChallengeLen = 8

// GetChallenge encodes GET CHALLENGE of 8 bytes: 00 84 00 00 08. The
// challenge is valid for the EXTERNAL AUTHENTICATE that immediately follows.
func GetChallenge() []byte {
	return mustBytes(Command{CLA: CLAISO, INS: INSGetChallenge, Ne: ChallengeLen, HasLe: true})
}

// MaxTerminalSignature bounds the signature of EXTERNAL AUTHENTICATE (a DER
// ECDSA P-256 signature is at most 72 bytes).
const MaxTerminalSignature = 80

// ExternalAuthenticate encodes EXTERNAL AUTHENTICATE with the terminal's
// signature over TerminalAuthMessage: 00 82 00 00 <Lc> <signature>. P1 00:
// the algorithm the card knows (ECDSA P-256 with SHA-256); P2 00: the card's
// one trusted terminal-authority key.
func ExternalAuthenticate(sig []byte) ([]byte, error) {
	if len(sig) == 0 || len(sig) > MaxTerminalSignature {
		return nil, fmt.Errorf("%w: terminal signature of %d bytes", ErrMalformedAPDU, len(sig))
	}
	return Command{CLA: CLAISO, INS: INSExternalAuth, Data: sig}.Bytes()
}

// TerminalAuthContext separates the terminal's signature from any other use
// of its key.
const TerminalAuthContext = "madoguchi JPKI terminal authentication v1"

// TerminalAuthMessage is what the terminal signs to authenticate to a card:
// the context string, a zero byte, the card's serial (EF 0010), a zero byte
// and the card's challenge. Binding the serial means a signature made for
// one card is worth nothing on another, even with the same challenge.
func TerminalAuthMessage(serial string, challenge []byte) []byte {
	m := make([]byte, 0, len(TerminalAuthContext)+2+len(serial)+len(challenge))
	m = append(m, TerminalAuthContext...)
	m = append(m, 0)
	m = append(m, serial...)
	m = append(m, 0)
	return append(m, challenge...)
}

// ResetRetryCounter encodes RESET RETRY COUNTER with a new PIN and no
// resetting code: 00 2C 02 80 <Lc> <PIN>. The card accepts it only after the
// terminal authenticated in this session (EXTERNAL AUTHENTICATE). The result
// holds the PIN: the caller must clear it after use.
func ResetRetryCounter(newPIN []byte) ([]byte, error) {
	if len(newPIN) == 0 || len(newPIN) > MaxPINLength {
		return nil, fmt.Errorf("%w: PIN length out of range", ErrInvalidPIN)
	}
	return Command{CLA: CLAISO, INS: INSSetPIN, P1: P1ResetNewPIN, P2: P2SpecificRef, Data: newPIN}.Bytes()
}
