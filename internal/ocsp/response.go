package ocsp

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ResponseStatus is the OCSPResponseStatus of RFC 6960 §4.2.1.
type ResponseStatus int

// The response statuses a responder sends (4 is unused by the RFC).
const (
	StatusSuccessful       ResponseStatus = 0
	StatusMalformedRequest ResponseStatus = 1
	StatusInternalError    ResponseStatus = 2
	StatusTryLater         ResponseStatus = 3
	StatusSigRequired      ResponseStatus = 5
	StatusUnauthorized     ResponseStatus = 6
)

// String is the RFC's name of the status.
func (s ResponseStatus) String() string {
	switch s {
	case StatusSuccessful:
		return "successful"
	case StatusMalformedRequest:
		return "malformedRequest"
	case StatusInternalError:
		return "internalError"
	case StatusTryLater:
		return "tryLater"
	case StatusSigRequired:
		return "sigRequired"
	case StatusUnauthorized:
		return "unauthorized"
	}
	return fmt.Sprintf("ResponseStatus(%d)", int(s))
}

// ErrorResponse returns the unsigned OCSPResponse carrying only an error
// status: SEQUENCE { ENUMERATED status }. RFC 6960 §2.3 has these unsigned.
// The returned slice is shared; do not modify it.
func ErrorResponse(s ResponseStatus) []byte {
	if s > 0 && int(s) < len(errorResponses) && errorResponses[s] != nil {
		return errorResponses[s]
	}
	return errorResponses[StatusInternalError]
}

var errorResponses = [...][]byte{
	StatusMalformedRequest: {0x30, 0x03, 0x0a, 0x01, 0x01},
	StatusInternalError:    {0x30, 0x03, 0x0a, 0x01, 0x02},
	StatusTryLater:         {0x30, 0x03, 0x0a, 0x01, 0x03},
	StatusSigRequired:      {0x30, 0x03, 0x0a, 0x01, 0x05},
	StatusUnauthorized:     {0x30, 0x03, 0x0a, 0x01, 0x06},
}

// CertState is the certStatus of a SingleResponse.
type CertState int

// The three certificate states of RFC 6960 §2.2.
const (
	Good CertState = iota
	Revoked
	Unknown
)

// String is good, revoked or unknown.
func (s CertState) String() string {
	switch s {
	case Good:
		return "good"
	case Revoked:
		return "revoked"
	case Unknown:
		return "unknown"
	}
	return fmt.Sprintf("CertState(%d)", int(s))
}

var (
	oidOCSPBasic     = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
	oidSHA256WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
)

// single is what one signed answer says.
type single struct {
	hashOID    asn1.ObjectIdentifier
	nameHash   []byte
	keyHash    []byte
	serial     []byte // INTEGER content octets
	state      CertState
	revokedAt  time.Time
	reason     int // RFC 5280 CRLReason; 0 = absent
	thisUpdate time.Time
	nextUpdate time.Time
}

// signedResponse builds and signs a successful OCSPResponse with one
// SingleResponse: responderID byKey (SHA-1 of the responder's public key,
// RFC 6960 §4.2.2.3), producedAt = thisUpdate, SHA-256 with RSA, and the
// delegated responder certificate in certs so clients can check the
// delegation against the issuing CA (§4.2.2.2).
func signedResponse(s single, responderKeyHash []byte, responderCertDER []byte, signer crypto.Signer) ([]byte, error) {
	var tbs cryptobyte.Builder
	tbs.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		// version v1 is the DEFAULT and so omitted.
		b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1OctetString(responderKeyHash)
		})
		b.AddASN1GeneralizedTime(s.thisUpdate.UTC())
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				addCertID(b, s)
				switch s.state {
				case Good:
					b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(*cryptobyte.Builder) {})
				case Revoked:
					b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						b.AddASN1GeneralizedTime(s.revokedAt.UTC())
						if s.reason > 0 {
							b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
								b.AddASN1Enum(int64(s.reason))
							})
						}
					})
				default:
					b.AddASN1(cbasn1.Tag(2).ContextSpecific(), func(*cryptobyte.Builder) {})
				}
				b.AddASN1GeneralizedTime(s.thisUpdate.UTC())
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1GeneralizedTime(s.nextUpdate.UTC())
				})
			})
		})
	})
	tbsDER, err := tbs.Bytes()
	if err != nil {
		return nil, fmt.Errorf("ocsp: encode response data: %w", err)
	}
	digest := sha256.Sum256(tbsDER)
	sig, err := signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("ocsp: sign response: %w", err)
	}
	var basic cryptobyte.Builder
	basic.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbsDER)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oidSHA256WithRSA)
			b.AddASN1NULL()
		})
		b.AddASN1BitString(sig)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(responderCertDER) })
		})
	})
	basicDER, err := basic.Bytes()
	if err != nil {
		return nil, fmt.Errorf("ocsp: encode basic response: %w", err)
	}
	var resp cryptobyte.Builder
	resp.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Enum(int64(StatusSuccessful))
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidOCSPBasic)
				b.AddASN1OctetString(basicDER)
			})
		})
	})
	return resp.Bytes()
}

// addCertID writes the CertID of the answer exactly as the request named it.
func addCertID(b *cryptobyte.Builder, s single) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(s.hashOID)
			b.AddASN1NULL()
		})
		b.AddASN1OctetString(s.nameHash)
		b.AddASN1OctetString(s.keyHash)
		b.AddASN1(cbasn1.INTEGER, func(b *cryptobyte.Builder) { b.AddBytes(s.serial) })
	})
}
