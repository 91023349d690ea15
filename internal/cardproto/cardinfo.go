package cardproto

import (
	"crypto"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"
)

// CardInfo is the content of the proprietary EF 0010, readable without a PIN.
// On the card it is the DER of
//
//	CardInfo ::= SEQUENCE {
//	    serialNumber UTF8String,      -- 1–32 of A–Z a–z 0–9 '-'
//	    expiry       PrintableString  -- YYYYMMDD, the card is valid through this day
//	}
type CardInfo struct {
	// Serial is the card's serial number.
	Serial string
	// Expiry is the card's expiry date as YYYYMMDD; certificates on the card must not outlive it.
	Expiry string
}

type cardInfoASN1 struct {
	Serial string `asn1:"utf8"`
	Expiry string `asn1:"printable"`
}

// ErrInvalidCardInfo reports a serial number or expiry date that breaks the format rules.
var ErrInvalidCardInfo = errors.New("cardproto: invalid card information")

// ExpiryLayout is the time layout of CardInfo.Expiry.
const ExpiryLayout = "20060102"

// ExpiryDate parses the expiry as a date at midnight UTC.
func (ci CardInfo) ExpiryDate() (time.Time, error) {
	t, err := time.Parse(ExpiryLayout, ci.Expiry)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: expiry %q is not YYYYMMDD: %w", ErrInvalidCardInfo, ci.Expiry, err)
	}
	return t, nil
}

// Validate checks the serial number and the expiry date formats.
func (ci CardInfo) Validate() error {
	if len(ci.Serial) == 0 || len(ci.Serial) > 32 {
		return fmt.Errorf("%w: serial number must have 1 to 32 characters", ErrInvalidCardInfo)
	}
	for _, c := range ci.Serial {
		if !(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '-' {
			return fmt.Errorf("%w: serial number %q may only use A-Z a-z 0-9 and '-'", ErrInvalidCardInfo, ci.Serial)
		}
	}
	if len(ci.Expiry) != 8 {
		return fmt.Errorf("%w: expiry %q is not YYYYMMDD", ErrInvalidCardInfo, ci.Expiry)
	}
	_, err := ci.ExpiryDate()
	return err
}

// MarshalCardInfo encodes the content of EF 0010.
func MarshalCardInfo(ci CardInfo) ([]byte, error) {
	if err := ci.Validate(); err != nil {
		return nil, err
	}
	b, err := asn1.Marshal(cardInfoASN1(ci))
	if err != nil {
		return nil, fmt.Errorf("cardproto: encode card information: %w", err)
	}
	return b, nil
}

// ParseCardInfo decodes the content of EF 0010.
func ParseCardInfo(b []byte) (CardInfo, error) {
	var v cardInfoASN1
	rest, err := asn1.Unmarshal(b, &v)
	if err != nil {
		return CardInfo{}, fmt.Errorf("%w: %w", ErrInvalidCardInfo, err)
	}
	if len(rest) != 0 {
		return CardInfo{}, fmt.Errorf("%w: %d trailing bytes", ErrInvalidCardInfo, len(rest))
	}
	ci := CardInfo(v)
	if err := ci.Validate(); err != nil {
		return CardInfo{}, err
	}
	return ci, nil
}

// ErrNotDER reports bytes that do not start with a DER header this card can hold.
var ErrNotDER = errors.New("cardproto: not a DER element")

// DERLength returns the total length (header and contents) of the DER element
// whose header starts b. Like the real JPKI tools, a reader reads the first 4
// bytes of a file and learns from them how much to read; lengths of up to two
// length octets (64 KiB) are accepted, which covers anything an EF can hold.
func DERLength(b []byte) (int, error) {
	if len(b) < 2 {
		return 0, fmt.Errorf("%w: %d header bytes", ErrNotDER, len(b))
	}
	if b[0]&0x1F == 0x1F {
		return 0, fmt.Errorf("%w: multi-byte tags are not used on the card", ErrNotDER)
	}
	l := b[1]
	switch {
	case l < 0x80:
		return 2 + int(l), nil
	case l == 0x81:
		if len(b) < 3 {
			return 0, fmt.Errorf("%w: truncated length", ErrNotDER)
		}
		return 3 + int(b[2]), nil
	case l == 0x82:
		if len(b) < 4 {
			return 0, fmt.Errorf("%w: truncated length", ErrNotDER)
		}
		return 4 + (int(b[2])<<8 | int(b[3])), nil
	}
	return 0, fmt.Errorf("%w: length octet %02X", ErrNotDER, l)
}

// digestInfoPrefixes are the DER prefixes of DigestInfo (RFC 8017 §9.2 note 1).
var digestInfoPrefixes = map[crypto.Hash][]byte{
	crypto.SHA1:   {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14},
	crypto.SHA224: {0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04, 0x05, 0x00, 0x04, 0x1c},
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// ErrUnsupportedHash reports a hash function DigestInfo does not know.
var ErrUnsupportedHash = errors.New("cardproto: unsupported hash for DigestInfo")

// DigestInfo wraps a digest in the DER DigestInfo that SIGN expects, so the
// card's signature is an ordinary RSASSA-PKCS1-v1_5 signature with that hash.
func DigestInfo(h crypto.Hash, digest []byte) ([]byte, error) {
	prefix, ok := digestInfoPrefixes[h]
	if !ok {
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedHash, h)
	}
	if len(digest) != h.Size() {
		return nil, fmt.Errorf("cardproto: %v digest must have %d bytes, got %d", h, h.Size(), len(digest))
	}
	out := make([]byte, 0, len(prefix)+len(digest))
	out = append(out, prefix...)
	return append(out, digest...), nil
}
