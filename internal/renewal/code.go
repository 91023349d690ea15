// Package renewal is the renewal code of the expiry notice (有効期限通知書,
// issue 12): the Organization prints it on the notice's proxy-renewal form
// (委任状), and a proxy who brings the form starts the renewal from it at
// the counter, as the proxy inquiry's reply proves a letter reached the
// registered address. This package is pure: generation, normalisation of
// what a clerk types, and the stored verifier.
package renewal

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/madoguchi/madoguchi/internal/inquiry"
)

// CodeLength is the number of symbols of a renewal code: 16 symbols of a
// 32-symbol alphabet, 80 bits.
const CodeLength = 16

// hashContext separates these hashes from any other use of SHA-256.
const hashContext = "madoguchi/expiry-renewal-code/v1\x00"

// NewCode returns a fresh renewal code from crypto/rand, grouped for
// reading as "ABCD-EFGH-JKLM-NPQR" in the inquiry codes' alphabet (no 0/O,
// 1/I).
func NewCode() (string, error) {
	var b [CodeLength]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("renewal: code: %w", err)
	}
	code := make([]byte, CodeLength)
	for i, v := range b {
		code[i] = inquiry.Alphabet[v&31]
	}
	return Format(string(code)), nil
}

// Normalize folds what a clerk typed (full-width forms, lower case,
// spaces and dashes) into the code's canonical form, as for reply codes.
func Normalize(s string) string { return inquiry.NormalizeReplyCode(s) }

// Valid reports whether s, once normalised, has the form of a renewal
// code. A malformed entry is a typing slip, answered as such.
func Valid(s string) bool {
	n := Normalize(s)
	if len(n) != CodeLength {
		return false
	}
	for i := 0; i < len(n); i++ {
		if strings.IndexByte(inquiry.Alphabet, n[i]) < 0 {
			return false
		}
	}
	return true
}

// Format groups a code for reading: 4-4-4-4.
func Format(s string) string {
	n := Normalize(s)
	if len(n) != CodeLength {
		return n
	}
	return n[:4] + "-" + n[4:8] + "-" + n[8:12] + "-" + n[12:]
}

// Hash is the stored verifier of a code, hex: SHA-256 of the normalised
// code. Unlike a reply code's, it is unsalted and fast, because the clerk
// types only the code and the Organization must find its notice by it; a
// code of 80 random bits cannot be recovered from the hash by search, so
// a copy of the table does not give the codes away. Only the hash ever
// travels in Temporal payloads.
func Hash(code string) string {
	h := sha256.Sum256([]byte(hashContext + Normalize(code)))
	return hex.EncodeToString(h[:])
}

// ValidHash reports whether h has the form of a Hash.
func ValidHash(h string) bool {
	if len(h) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil && strings.ToLower(h) == h
}
