// Package inquiry is the proxy-issuance inquiry (照会書兼回答書, manual 第2
// 1(2)): when a proxy applies on the applicant's behalf, the municipality
// mails a letter to the applicant's registered address; the applicant fills
// in the reply part and the proxy brings it back. The letter carries a
// one-time reply code the clerk types at the counter, which proves the
// letter reached the registered address.
//
// This package is pure: reply codes (generation, normalisation of what a
// clerk types, a slow salted hash bound to the case number) and the letter
// as a hand-written PDF. Storage and activities build on it.
package inquiry

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/crypto/pbkdf2"
)

// Alphabet is the reply code's alphabet: upper-case letters and digits
// without 0/O and 1/I, which are misread on paper. It has exactly 32
// symbols, so a random byte maps to a symbol without bias.
const Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// CodeLength is the number of symbols of a reply code (50 bits).
const CodeLength = 10

// SaltSize is the size of the random salt stored with a code's hash.
const SaltSize = 16

// HashIterations is the PBKDF2-SHA256 iteration count of Hash. A stolen
// hash with its salt still costs an attacker 2^50 of these; at the counter
// the attempt limit is what stops guessing.
const HashIterations = 100_000

// HashSize is the length of Hash's output.
const HashSize = 32

// MaskedReplyCode stands for the code on the archived copy of a letter,
// which is kept after the printable one (with the code) is wiped.
const MaskedReplyCode = "****-****-**"

// hashContext separates these hashes from any other use of PBKDF2.
const hashContext = "madoguchi/inquiry-reply-code/v1"

// NewReplyCode returns a fresh reply code from crypto/rand, grouped for
// reading as "ABCD-EFGH-JK".
func NewReplyCode() (string, error) {
	var b [CodeLength]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("inquiry: reply code: %w", err)
	}
	code := make([]byte, CodeLength)
	for i, v := range b {
		code[i] = Alphabet[v&31]
	}
	return FormatReplyCode(string(code)), nil
}

// NewSalt returns a random salt for Hash.
func NewSalt() ([]byte, error) {
	salt := make([]byte, SaltSize)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("inquiry: salt: %w", err)
	}
	return salt, nil
}

// NormalizeReplyCode turns what a clerk typed into the code's canonical
// form: full-width forms folded to ASCII, lower case raised, and spaces
// and every kind of hyphen or dash (including the prolonged sound mark ー,
// which a Japanese input method produces for "-") removed. It does not
// check the result; see ValidReplyCode.
func NormalizeReplyCode(s string) string {
	var b strings.Builder
	b.Grow(CodeLength)
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII forms
			r -= 0xFEE0
		}
		if unicode.IsSpace(r) || isDash(r) {
			continue
		}
		if r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isDash reports whether r is a hyphen, dash or minus a clerk may type
// between the code's groups.
func isDash(r rune) bool {
	switch r {
	case '-', '_', 0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0x2500, 0x30FC, 0xFF70, 0xFE63:
		return true
	}
	return false
}

// ValidReplyCode reports whether s, once normalised, has the form of a
// reply code: CodeLength symbols of Alphabet. A malformed entry is a typing
// slip, not a guess, so callers do not count it as an attempt.
func ValidReplyCode(s string) bool {
	n := NormalizeReplyCode(s)
	if len(n) != CodeLength {
		return false
	}
	for i := 0; i < len(n); i++ {
		if strings.IndexByte(Alphabet, n[i]) < 0 {
			return false
		}
	}
	return true
}

// FormatReplyCode groups a code for reading: 4-4-2.
func FormatReplyCode(s string) string {
	n := NormalizeReplyCode(s)
	if len(n) != CodeLength {
		return n
	}
	return n[:4] + "-" + n[4:8] + "-" + n[8:]
}

// Hash derives the stored verifier of a reply code: PBKDF2-SHA256 over the
// normalised code bound to the case number, so a code only ever opens its
// own case and a hash copied onto another case's row does not verify.
func Hash(caseNumber, code string, salt []byte) []byte {
	pw := make([]byte, 0, len(hashContext)+len(caseNumber)+CodeLength+2)
	pw = append(pw, hashContext...)
	pw = append(pw, 0)
	pw = append(pw, caseNumber...)
	pw = append(pw, 0)
	pw = append(pw, NormalizeReplyCode(code)...)
	h := pbkdf2.Key(pw, salt, HashIterations, HashSize, sha256.New)
	clear(pw)
	return h
}

// Verify reports, in constant time, whether code is the one hashed into
// hash for this case.
func Verify(caseNumber, code string, salt, hash []byte) bool {
	return subtle.ConstantTimeCompare(Hash(caseNumber, code, salt), hash) == 1
}
