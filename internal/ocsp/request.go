package ocsp

import (
	"crypto"
	"encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ErrMalformed is wrapped by every ParseRequest error; the responder answers
// it with the malformedRequest status (RFC 6960 §2.3).
var ErrMalformed = errors.New("ocsp: malformed request")

// maxRequestBytes bounds what the parser looks at. A one-certificate request
// with a nonce is about 120 bytes; 4 KiB leaves room for a requestor name.
const maxRequestBytes = 4096

// maxSerialBytes is RFC 5280's limit of 20 octets for a serial number.
const maxSerialBytes = 20

// Request is the one certificate identifier (CertID) of an OCSP request.
type Request struct {
	// HashAlgorithm hashed IssuerNameHash and IssuerKeyHash: SHA-1 (what
	// openssl and most clients send), SHA-256, SHA-384 or SHA-512.
	HashAlgorithm crypto.Hash
	// IssuerNameHash is the hash of the issuer's DER subject.
	IssuerNameHash []byte
	// IssuerKeyHash is the hash of the issuer's subjectPublicKey bits.
	IssuerKeyHash []byte
	// Serial is the content octets of the serialNumber INTEGER, minimal
	// two's complement as DER requires (a leading 0x00 when the top bit of
	// a positive number is set).
	Serial []byte
	// Nonce reports whether the request carried an id-pkix-ocsp-nonce
	// extension. Answers are pre-signed, so it is not echoed (RFC 5019
	// §2.2.1; RFC 8954 lets a responder ignore it).
	Nonce bool
}

var (
	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidNonce  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}
)

// hashes lists the CertID hash algorithms the responder accepts, in the
// order of their index in cache keys.
var hashes = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
}{
	{oidSHA1, crypto.SHA1},
	{oidSHA256, crypto.SHA256},
	{oidSHA384, crypto.SHA384},
	{oidSHA512, crypto.SHA512},
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// ParseRequest parses a DER OCSPRequest (RFC 6960 §4.1.1) holding exactly one
// Request, as the lightweight profile (RFC 5019 §2.1.1) has clients send:
// answers are signed per certificate and served from a cache, so a request
// for several certificates at once is refused as malformed. A signature on
// the request (optionalSignature) is ignored: verifiers authenticate at the
// HTTP layer. Every error wraps ErrMalformed. It never panics, whatever the
// input (it is fuzzed).
func ParseRequest(der []byte) (Request, error) {
	if len(der) == 0 {
		return Request{}, malformed("empty")
	}
	if len(der) > maxRequestBytes {
		return Request{}, malformed("longer than %d bytes", maxRequestBytes)
	}
	input := cryptobyte.String(der)
	var ocspReq, tbs cryptobyte.String
	if !input.ReadASN1(&ocspReq, cbasn1.SEQUENCE) || !input.Empty() {
		return Request{}, malformed("not one DER SEQUENCE")
	}
	if !ocspReq.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return Request{}, malformed("no tbsRequest")
	}
	// optionalSignature [0] EXPLICIT Signature OPTIONAL
	if !ocspReq.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) || !ocspReq.Empty() {
		return Request{}, malformed("trailing data after tbsRequest")
	}

	// version [0] EXPLICIT Version DEFAULT v1 — DER omits the default.
	var version cryptobyte.String
	var hasVersion bool
	if !tbs.ReadOptionalASN1(&version, &hasVersion, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return Request{}, malformed("bad version")
	}
	if hasVersion {
		var v int64
		if !version.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) || !version.Empty() || v != 0 {
			return Request{}, malformed("unsupported version")
		}
	}
	// requestorName [1] EXPLICIT GeneralName OPTIONAL
	if !tbs.SkipOptionalASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) {
		return Request{}, malformed("bad requestorName")
	}
	var list cryptobyte.String
	if !tbs.ReadASN1(&list, cbasn1.SEQUENCE) {
		return Request{}, malformed("no requestList")
	}
	var out Request
	// requestExtensions [2] EXPLICIT Extensions OPTIONAL
	var exts cryptobyte.String
	var hasExts bool
	if !tbs.ReadOptionalASN1(&exts, &hasExts, cbasn1.Tag(2).Constructed().ContextSpecific()) || !tbs.Empty() {
		return Request{}, malformed("bad requestExtensions")
	}
	if hasExts {
		nonce, err := parseExtensions(exts)
		if err != nil {
			return Request{}, err
		}
		out.Nonce = nonce
	}

	var one cryptobyte.String
	if !list.ReadASN1(&one, cbasn1.SEQUENCE) {
		return Request{}, malformed("empty requestList")
	}
	if !list.Empty() {
		return Request{}, malformed("more than one certificate in the request (one per request, RFC 5019)")
	}
	var certID cryptobyte.String
	if !one.ReadASN1(&certID, cbasn1.SEQUENCE) {
		return Request{}, malformed("no reqCert")
	}
	// singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL
	var single cryptobyte.String
	var hasSingle bool
	if !one.ReadOptionalASN1(&single, &hasSingle, cbasn1.Tag(0).Constructed().ContextSpecific()) || !one.Empty() {
		return Request{}, malformed("bad singleRequestExtensions")
	}
	if hasSingle {
		if _, err := parseExtensions(single); err != nil {
			return Request{}, err
		}
	}

	var algID cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !certID.ReadASN1(&algID, cbasn1.SEQUENCE) || !algID.ReadASN1ObjectIdentifier(&oid) {
		return Request{}, malformed("bad hashAlgorithm")
	}
	// parameters: absent or NULL
	if !algID.Empty() {
		var params cryptobyte.String
		if !algID.ReadASN1(&params, cbasn1.NULL) || !params.Empty() || !algID.Empty() {
			return Request{}, malformed("bad hashAlgorithm parameters")
		}
	}
	for _, h := range hashes {
		if oid.Equal(h.oid) {
			out.HashAlgorithm = h.hash
			break
		}
	}
	if out.HashAlgorithm == 0 {
		return Request{}, malformed("unsupported hash algorithm %s", oid)
	}
	var nameHash, keyHash cryptobyte.String
	if !certID.ReadASN1(&nameHash, cbasn1.OCTET_STRING) || !certID.ReadASN1(&keyHash, cbasn1.OCTET_STRING) {
		return Request{}, malformed("bad issuer hashes")
	}
	if len(nameHash) != out.HashAlgorithm.Size() || len(keyHash) != out.HashAlgorithm.Size() {
		return Request{}, malformed("issuer hashes do not match the hash algorithm")
	}
	var serial cryptobyte.String
	if !certID.ReadASN1(&serial, cbasn1.INTEGER) || !certID.Empty() {
		return Request{}, malformed("bad serialNumber")
	}
	if err := checkInteger(serial); err != nil {
		return Request{}, err
	}
	out.IssuerNameHash = []byte(nameHash)
	out.IssuerKeyHash = []byte(keyHash)
	out.Serial = []byte(serial)
	return out, nil
}

// checkInteger requires minimal DER INTEGER content of at most 20 octets
// (plus a leading zero octet for a positive number with the top bit set).
func checkInteger(b []byte) error {
	switch {
	case len(b) == 0:
		return malformed("empty serialNumber")
	case len(b) > 1 && (b[0] == 0 && b[1]&0x80 == 0 || b[0] == 0xff && b[1]&0x80 != 0):
		return malformed("serialNumber not minimally encoded")
	case len(b) > maxSerialBytes+1 || len(b) == maxSerialBytes+1 && b[0] != 0:
		return malformed("serialNumber longer than 20 octets")
	}
	return nil
}

// parseExtensions checks an Extensions SEQUENCE and reports whether it holds
// a nonce. Unknown critical extensions are refused (RFC 5280 §4.2 applies the
// same rule to certificates; RFC 6960 §4.4 defines no critical request
// extension we support).
func parseExtensions(s cryptobyte.String) (nonce bool, err error) {
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return false, malformed("bad extensions")
	}
	for !seq.Empty() {
		var ext cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !seq.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&oid) {
			return false, malformed("bad extension")
		}
		critical := false
		if ext.PeekASN1Tag(cbasn1.BOOLEAN) {
			if !ext.ReadASN1Boolean(&critical) {
				return false, malformed("bad extension criticality")
			}
		}
		var value cryptobyte.String
		if !ext.ReadASN1(&value, cbasn1.OCTET_STRING) || !ext.Empty() {
			return false, malformed("bad extension value")
		}
		if oid.Equal(oidNonce) {
			nonce = true
			continue
		}
		if critical {
			return false, malformed("unsupported critical extension %s", oid)
		}
	}
	return nonce, nil
}
