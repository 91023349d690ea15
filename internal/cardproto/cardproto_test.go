package cardproto

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseCommand(t *testing.T) {
	long := bytes.Repeat([]byte{0xAB}, 300)
	tests := []struct {
		name     string
		in       []byte
		wantData []byte
		wantNe   int
		wantLe   bool
		wantExt  bool
		wantErr  bool
	}{
		{name: "case 1", in: unhex(t, "00200080")},
		{name: "case 2S", in: unhex(t, "00B0000004"), wantNe: 4, wantLe: true},
		{name: "case 2S Le 00 is 256", in: unhex(t, "00B0000000"), wantNe: 256, wantLe: true},
		{name: "case 3S", in: unhex(t, "00A4020C020001"), wantData: unhex(t, "0001")},
		{name: "case 4S", in: unhex(t, "802A0080033031320A"), wantData: unhex(t, "303132"), wantNe: 10, wantLe: true},
		{name: "case 2E", in: unhex(t, "00B00000000800"), wantNe: 2048, wantLe: true, wantExt: true},
		{name: "case 2E Le 0000 is 65536", in: unhex(t, "00B00000000000"), wantNe: 65536, wantLe: true, wantExt: true},
		{name: "case 3E", in: append(unhex(t, "80D000000001 2C"), long...), wantData: long, wantExt: true},
		{name: "case 4E", in: append(append(unhex(t, "80D000000001 2C"), long...), 0x01, 0x00), wantData: long, wantNe: 256, wantLe: true, wantExt: true},
		{name: "too short", in: unhex(t, "00A4"), wantErr: true},
		{name: "Lc longer than body", in: unhex(t, "00A4020C0500"), wantErr: true},
		{name: "Lc shorter than body", in: unhex(t, "00A4020C01000102"), wantErr: true},
		{name: "extended truncated", in: unhex(t, "00B0000000"+"08"), wantErr: true},
		{name: "extended Lc zero with data", in: unhex(t, "80D0000000000001"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCommand(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrMalformedAPDU) {
					t.Fatalf("err = %v, want ErrMalformedAPDU", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(c.Data, tt.wantData) || c.Ne != tt.wantNe || c.HasLe != tt.wantLe || c.Extended != tt.wantExt {
				t.Fatalf("got data=%x ne=%d le=%v ext=%v", c.Data, c.Ne, c.HasLe, c.Extended)
			}
			// Re-encoding what was decoded must give back the same bytes.
			again, err := c.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, tt.in) {
				t.Fatalf("re-encoded %x, want %x", again, tt.in)
			}
		})
	}
}

func TestCommandBytesChoosesExtended(t *testing.T) {
	b, err := Command{CLA: 0, INS: INSReadBinary, Ne: 1000, HasLe: true}.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if want := unhex(t, "00B000000003E8"); !bytes.Equal(b, want) {
		t.Fatalf("got %x, want %x", b, want)
	}
	if _, err := (Command{Ne: 70000, HasLe: true}).Bytes(); !errors.Is(err, ErrMalformedAPDU) {
		t.Fatalf("Ne 70000: err = %v", err)
	}
}

func TestFixedCommands(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"select AP", SelectAP(), "00A4040C0AD392F000260100000001"},
		{"select EF 001B", SelectEF(EFSigningPIN), "00A4020C02001B"},
		{"verify status", VerifyStatus(), "00200080"},
		{"generate key pair", GenerateKeyPair(), "8047000000"},
		{"read public key", ReadPublicKey(), "8047010000"},
		{"get response 0x26", GetResponse(0x26), "00C0000026"},
	}
	for _, tt := range tests {
		if got := hex.EncodeToString(tt.got); !strings.EqualFold(got, tt.want) {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
	rb, err := ReadBinary(0x0123, 4)
	if err != nil || !bytes.Equal(rb, unhex(t, "00B0012304")) {
		t.Errorf("read binary: %x %v", rb, err)
	}
	if _, err := ReadBinary(0x8000, 4); err == nil {
		t.Error("offset 0x8000 accepted")
	}
	sg, err := Sign([]byte{1, 2, 3})
	if err != nil || !bytes.Equal(sg, unhex(t, "802A008003010203 00")) {
		t.Errorf("sign: %x %v", sg, err)
	}
	if tok := TokenInfo(); len(tok) != 32 || string(bytes.TrimRight(tok, " ")) != "JPKIAPICCTOKEN2" {
		t.Errorf("token info %q", tok)
	}
}

func TestWriteCertificateChunks(t *testing.T) {
	der := make([]byte, 1500)
	if _, err := rand.Read(der); err != nil {
		t.Fatal(err)
	}
	cmds, err := WriteCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) != 6 { // ceil(1500/255)
		t.Fatalf("%d chunks", len(cmds))
	}
	var joined []byte
	for i, b := range cmds {
		c, err := ParseCommand(b)
		if err != nil {
			t.Fatal(err)
		}
		last := i == len(cmds)-1
		if (c.CLA&CLAChaining != 0) == last || c.CLA&^CLAChaining != CLAProprietary || c.INS != INSWriteCertificate {
			t.Fatalf("chunk %d: CLA %02X INS %02X", i, c.CLA, c.INS)
		}
		joined = append(joined, c.Data...)
	}
	if !bytes.Equal(joined, der) {
		t.Fatal("chunks do not reassemble the certificate")
	}
	if _, err := WriteCertificate(make([]byte, MaxEFSize+1)); err == nil {
		t.Fatal("oversized certificate accepted")
	}
}

func TestParseResponseAndStatus(t *testing.T) {
	r, err := ParseResponse(unhex(t, "01026126"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.Data, []byte{1, 2}) || r.SW != 0x6126 {
		t.Fatalf("got %x %v", r.Data, r.SW)
	}
	if n, ok := r.SW.Remaining(); !ok || n != 0x26 {
		t.Fatalf("remaining %d %v", n, ok)
	}
	if n, ok := StatusWord(0x6100).Remaining(); !ok || n != 256 {
		t.Fatalf("61 00 remaining %d %v", n, ok)
	}
	if !bytes.Equal(r.Bytes(), unhex(t, "01026126")) {
		t.Fatal("response does not round-trip")
	}
	if _, err := ParseResponse([]byte{0x90}); err == nil {
		t.Fatal("1-byte response accepted")
	}
	for left := 0; left <= 5; left++ {
		n, ok := RetriesSW(left).RetryCounter()
		if !ok || n != left {
			t.Fatalf("RetriesSW(%d) -> %d %v", left, n, ok)
		}
	}
	if _, ok := SWOK.RetryCounter(); ok {
		t.Fatal("90 00 read as a retry counter")
	}
	e := &StatusError{Op: "VERIFY", SW: SWAuthMethodBlocked}
	if !errors.Is(e, &StatusError{SW: SWAuthMethodBlocked}) || errors.Is(e, &StatusError{SW: SWOK}) {
		t.Fatal("StatusError.Is does not match on SW")
	}
	if !strings.Contains(e.Error(), "6983") {
		t.Fatalf("message %q", e.Error())
	}
}

func TestValidatePIN(t *testing.T) {
	tests := []struct {
		kind Kind
		pin  string
		ok   bool
	}{
		{Signing, "ABC123", true},
		{Signing, "A1B2C3D4E5F6G7H8", true},
		{Signing, "123456", true},
		{Signing, "ABCDEF", true},
		{Signing, "ABC12", false},             // too short
		{Signing, "A1B2C3D4E5F6G7H8X", false}, // 17
		{Signing, "abc123", false},            // lower case
		{Signing, "ABC-123", false},           // symbol
		{Signing, "ＡＢＣ１２３", false},            // full-width
		{UserAuth, "1234", true},
		{UserAuth, "0000", true},
		{UserAuth, "123", false},
		{UserAuth, "12345", false},
		{UserAuth, "12A4", false},
		{Kind(9), "1234", false},
	}
	for _, tt := range tests {
		err := ValidatePIN(tt.kind, []byte(tt.pin))
		if (err == nil) != tt.ok {
			t.Errorf("ValidatePIN(%v, %q) = %v, want ok=%v", tt.kind, tt.pin, err, tt.ok)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidPIN) {
				t.Errorf("error %v is not ErrInvalidPIN", err)
			}
			if tt.pin != "" && strings.Contains(err.Error(), tt.pin) {
				t.Errorf("error %q reveals the PIN", err)
			}
		}
	}
}

func TestKindFiles(t *testing.T) {
	tests := []struct {
		kind               Kind
		cert, ca, key, pin FID
		retries            int
	}{
		{Signing, 0x0001, 0x0002, 0x001A, 0x001B, 5},
		{UserAuth, 0x000A, 0x000B, 0x0017, 0x0018, 3},
	}
	for _, tt := range tests {
		k := tt.kind
		if k.CertEF() != tt.cert || k.CACertEF() != tt.ca || k.KeyEF() != tt.key || k.PINEF() != tt.pin || k.MaxRetries() != tt.retries {
			t.Errorf("%v: files %v %v %v %v retries %d", k, k.CertEF(), k.CACertEF(), k.KeyEF(), k.PINEF(), k.MaxRetries())
		}
		for fid, role := range map[FID]FileRole{tt.cert: RoleCert, tt.ca: RoleCACert, tt.key: RoleKey, tt.pin: RolePIN} {
			if r, kk := Classify(fid); r != role || kk != k {
				t.Errorf("Classify(%v) = %v %v", fid, r, kk)
			}
		}
	}
	if r, _ := Classify(0x0099); r != RoleNone {
		t.Error("unknown EF classified")
	}
}

func TestCardInfo(t *testing.T) {
	ci := CardInfo{Serial: "VC-000123", Expiry: "20350228"}
	b, err := MarshalCardInfo(ci)
	if err != nil {
		t.Fatal(err)
	}
	n, err := DERLength(b[:4])
	if err != nil || n != len(b) {
		t.Fatalf("DERLength = %d %v, want %d", n, err, len(b))
	}
	got, err := ParseCardInfo(b)
	if err != nil || got != ci {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if _, err := ParseCardInfo(append(b, 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
	bad := []CardInfo{
		{Serial: "", Expiry: "20350228"},
		{Serial: "A B", Expiry: "20350228"},
		{Serial: strings.Repeat("A", 33), Expiry: "20350228"},
		{Serial: "X1", Expiry: "2035-02-28"},
		{Serial: "X1", Expiry: "20350230"},
	}
	for _, c := range bad {
		if _, err := MarshalCardInfo(c); !errors.Is(err, ErrInvalidCardInfo) {
			t.Errorf("%+v: err = %v", c, err)
		}
	}
}

func TestDERLength(t *testing.T) {
	tests := []struct {
		hdr  string
		want int
		ok   bool
	}{
		{"3003", 5, true},
		{"308180", 3 + 0x80, true},
		{"308205DC", 4 + 0x05DC, true},
		{"30", 0, false},
		{"3082", 0, false},
		{"308305DC00", 0, false},
		{"1F8101", 0, false},
	}
	for _, tt := range tests {
		n, err := DERLength(unhex(t, tt.hdr))
		if (err == nil) != tt.ok || n != tt.want {
			t.Errorf("DERLength(%s) = %d, %v", tt.hdr, n, err)
		}
	}
}

func TestDigestInfoMatchesStandardSignature(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("madoguchi")
	s1 := sha1.Sum(msg)
	s256 := sha256.Sum256(msg)
	s384 := sha512.Sum384(msg)
	s512 := sha512.Sum512(msg)
	s224 := sha256.Sum224(msg)
	for h, d := range map[crypto.Hash][]byte{crypto.SHA1: s1[:], crypto.SHA224: s224[:], crypto.SHA256: s256[:], crypto.SHA384: s384[:], crypto.SHA512: s512[:]} {
		di, err := DigestInfo(h, d)
		if err != nil {
			t.Fatal(err)
		}
		// The card signs the DigestInfo raw; the result must verify as a normal
		// PKCS#1 v1.5 signature over the digest, which only holds if the prefix is right.
		sig, err := rsa.SignPKCS1v15(nil, key, crypto.Hash(0), di)
		if err != nil {
			t.Fatal(err)
		}
		if err := rsa.VerifyPKCS1v15(&key.PublicKey, h, d, sig); err != nil {
			t.Errorf("%v: %v", h, err)
		}
	}
	if _, err := DigestInfo(crypto.SHA256, []byte{1}); err == nil {
		t.Error("short digest accepted")
	}
	if _, err := DigestInfo(crypto.MD5, make([]byte, 16)); !errors.Is(err, ErrUnsupportedHash) {
		t.Errorf("MD5: %v", err)
	}
}

// TestPINAdministrationCommands pins the bytes of the PIN change and the
// PIN reset's commands (docs/CARD.md §3, §5a), and their refusals of data
// out of range.
func TestPINAdministrationCommands(t *testing.T) {
	sig := bytes.Repeat([]byte{0xAB}, 72)
	for _, tt := range []struct {
		name string
		enc  func() ([]byte, error)
		want string // "" when the encoder must refuse
	}{
		{"change reference data", func() ([]byte, error) { return ChangePIN([]byte("5678")) }, "0024018004" + hex.EncodeToString([]byte("5678"))},
		{"change: empty", func() ([]byte, error) { return ChangePIN(nil) }, ""},
		{"change: 17 bytes", func() ([]byte, error) { return ChangePIN(bytes.Repeat([]byte("A"), 17)) }, ""},
		{"get challenge", func() ([]byte, error) { return GetChallenge(), nil }, "0084000008"},
		{"external authenticate", func() ([]byte, error) { return ExternalAuthenticate(sig) }, "0082000048" + hex.EncodeToString(sig)},
		{"external authenticate: empty", func() ([]byte, error) { return ExternalAuthenticate(nil) }, ""},
		{"external authenticate: too long", func() ([]byte, error) { return ExternalAuthenticate(make([]byte, 81)) }, ""},
		{"reset retry counter", func() ([]byte, error) { return ResetRetryCounter([]byte("NEWPIN7")) }, "002C028007" + hex.EncodeToString([]byte("NEWPIN7"))},
		{"reset: empty", func() ([]byte, error) { return ResetRetryCounter(nil) }, ""},
		{"reset: 17 bytes", func() ([]byte, error) { return ResetRetryCounter(bytes.Repeat([]byte("1"), 17)) }, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.enc()
			if tt.want == "" {
				if err == nil {
					t.Fatalf("encoded % X, want a refusal", got)
				}
				return
			}
			if err != nil || !strings.EqualFold(hex.EncodeToString(got), tt.want) {
				t.Fatalf("got %x, %v; want %s", got, err, tt.want)
			}
		})
	}
}

// TestTerminalAuthMessage: the signed message binds the context, the card's
// serial and the challenge, and no two of (serial, challenge) collide by
// moving bytes from one to the other.
func TestTerminalAuthMessage(t *testing.T) {
	ch := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	m := TerminalAuthMessage("C131016000001", ch)
	want := append([]byte(TerminalAuthContext+"\x00C131016000001\x00"), ch...)
	if !bytes.Equal(m, want) {
		t.Fatalf("message %q, want %q", m, want)
	}
	if bytes.Equal(TerminalAuthMessage("AB", []byte("C")), TerminalAuthMessage("A", []byte("BC"))) {
		t.Fatal("serial and challenge are not separated")
	}
	if bytes.Equal(m, TerminalAuthMessage("C131016000002", ch)) {
		t.Fatal("the serial is not in the message")
	}
	if sw := SWAuthFailed; sw.String() != "6300 (authentication failed)" {
		t.Fatalf("63 00 renders %q", sw.String())
	}
	if _, ok := SWAuthFailed.RetryCounter(); ok {
		t.Fatal("63 00 is not a PIN retry counter")
	}
}
