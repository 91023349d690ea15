package ca

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/madoguchi/madoguchi/internal/ca/profile"
)

// serialBytes random octets make a serial: 16 octets with the top bit
// cleared give 127 unpredictable bits, positive, within RFC 5280's 20 octets.
const serialBytes = 16

// newSerial draws an unpredictable positive serial number.
func newSerial() (*big.Int, error) {
	for {
		b := make([]byte, serialBytes)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("ca: random serial: %w", err)
		}
		b[0] &= 0x7f
		// Keep at least 64 significant random bits so no serial is short
		// enough to guess.
		if n := new(big.Int).SetBytes(b); n.BitLen() > 64 {
			return n, nil
		}
	}
}

// newSubjectID draws the random subject CN: 24 characters of A–Z and 2–7
// (120 random bits), which say nothing about the person.
func newSubjectID() (string, error) {
	b := make([]byte, 15)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("ca: random subject id: %w", err)
	}
	return base32.StdEncoding.EncodeToString(b), nil
}

// FormatSerial renders a serial number as the CA stores and returns it:
// lower-case hexadecimal without leading zeros.
func FormatSerial(n *big.Int) string { return n.Text(16) }

// ParseSerial parses a serial in hexadecimal, in either letter case, with an
// optional "0x" prefix and optional ':' separators (as openssl prints them).
func ParseSerial(s string) (*big.Int, error) {
	t := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	t = strings.ReplaceAll(t, ":", "")
	n, ok := new(big.Int).SetString(t, 16)
	if !ok || t == "" || strings.ContainsAny(t, "+-_") || n.Sign() <= 0 || n.BitLen() > 159 {
		return nil, &ValidationError{Field: "Serial", Problem: "must be a positive hexadecimal serial number of at most 20 octets"}
	}
	return n, nil
}

// CanonicalSerial is FormatSerial(ParseSerial(s)).
func CanonicalSerial(s string) (string, error) {
	n, err := ParseSerial(s)
	if err != nil {
		return "", err
	}
	return FormatSerial(n), nil
}

// RetentionDate returns the last day (a civil date, as midnight UTC) on which
// the issuance record (発行記録) of a certificate expiring at notAfter must
// still be kept: 令第2条 keeps it "until the day on which ten years have
// passed counting from the day after the expiry date". Counting follows civil
// code art. 143: the period starts on the day after the expiry date (Asia/
// Tokyo) and ends on the day before its anniversary ten years later; with no
// such day (a start on 29 February) it ends on the last day of February. The
// record may be disposed of from the next day on.
//
// Example: expiry 2030-06-01 → kept through 2040-06-01, disposable 2040-06-02.
func RetentionDate(notAfter time.Time) time.Time {
	start := profile.DateIn(notAfter, profile.JST).AddDate(0, 0, 1)
	return start.AddDate(10, 0, 0).AddDate(0, 0, -1)
}
