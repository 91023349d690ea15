// Package profile builds the X.509 profiles of the Organization's (J-LIS)
// certificates, close to the published JPKI ones: the two self-signed issuing
// CAs, the signing certificate (署名用電子証明書) carrying the basic 4
// information in subjectAltName otherName entries, and the
// user-authentication certificate (利用者証明用電子証明書) carrying no personal
// information at all.
//
// Everything here is a pure function of its inputs, so a certificate can be
// rebuilt byte for byte from a stored issuance row (RSA PKCS#1 v1.5 signatures
// are deterministic too). Extensions whose encoding depends on a GODEBUG
// setting in crypto/x509 (certificate policies) are encoded here instead.
package profile

import (
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"time"
)

// Kind says which of the two certificates (and so which issuing CA).
type Kind string

// The two kinds of certificate.
const (
	// KindSign is the signing certificate, 署名用電子証明書.
	KindSign Kind = "sign"
	// KindAuth is the user-authentication certificate, 利用者証明用電子証明書.
	KindAuth Kind = "auth"
)

// Valid reports whether k is KindSign or KindAuth.
func (k Kind) Valid() bool { return k == KindSign || k == KindAuth }

// Japanese returns 署名用 or 利用者証明用.
func (k Kind) Japanese() string {
	switch k {
	case KindSign:
		return "署名用"
	case KindAuth:
		return "利用者証明用"
	}
	return ""
}

// Key and algorithm requirements for subject and issuer keys.
const (
	RSABits     = 2048
	RSAExponent = 65537
)

// Issuer distinguished names, as the real JPKI CAs spell them.
const (
	OrganizationJPKI = "JPKI"
	UnitJLIS         = "Japan Agency for Local Authority Information Systems"
	UnitSign         = "JPKI for digital signature"
	UnitAuth         = "JPKI for user authentication"
)

// IssuerName returns the issuing CA's DN for kind:
// C=JP, O=JPKI, OU=JPKI for digital signature|user authentication,
// OU=Japan Agency for Local Authority Information Systems — one attribute per
// RDN, in that order, which pkix.Name cannot express (it would merge the two
// OUs into one multi-valued RDN).
func IssuerName(kind Kind) (pkix.RDNSequence, error) {
	unit := ""
	switch kind {
	case KindSign:
		unit = UnitSign
	case KindAuth:
		unit = UnitAuth
	default:
		return nil, invalid("Kind", "must be %q or %q", KindSign, KindAuth)
	}
	return pkix.RDNSequence{
		{{Type: oidAttrCountry, Value: "JP"}},
		{{Type: oidAttrOrganization, Value: OrganizationJPKI}},
		{{Type: oidAttrOrganizationUnit, Value: unit}},
		{{Type: oidAttrOrganizationUnit, Value: UnitJLIS}},
	}, nil
}

// CAParams are the inputs of a self-signed issuing CA certificate.
type CAParams struct {
	Kind      Kind
	Serial    *big.Int
	NotBefore time.Time
	NotAfter  time.Time
	PublicKey *rsa.PublicKey
}

// CATemplate returns the template of a self-signed issuing CA: basic
// constraints CA with path length 0 (it issues end-entity certificates only),
// key usage keyCertSign + cRLSign (critical), subject key identifier.
func CATemplate(p CAParams) (*x509.Certificate, error) {
	name, err := IssuerName(p.Kind)
	if err != nil {
		return nil, err
	}
	raw, err := asn1.Marshal(name)
	if err != nil {
		return nil, fmt.Errorf("profile: issuer name: %w", err)
	}
	if err := CheckRSAKey(p.PublicKey); err != nil {
		return nil, err
	}
	if err := checkSerial(p.Serial); err != nil {
		return nil, err
	}
	return &x509.Certificate{
		SerialNumber:          p.Serial,
		RawSubject:            raw,
		NotBefore:             p.NotBefore.UTC(),
		NotAfter:              p.NotAfter.UTC(),
		SignatureAlgorithm:    x509.SHA256WithRSA,
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		SubjectKeyId:          KeyID(p.PublicKey),
	}, nil
}

// LeafParams are the inputs of a subject certificate. Everything the
// certificate says comes from here, so equal LeafParams give equal TBS bytes.
type LeafParams struct {
	Kind             Kind
	Serial           *big.Int
	SubjectID        string // random identifier, the subject CN
	MunicipalityCode string // issuing municipality; names the signing certificate's CRL partition
	NotBefore        time.Time
	NotAfter         time.Time
	PublicKey        *rsa.PublicKey
	Personal         *PersonalInfo // signing certificate only
	RepositoryURL    string        // base of the CRL and OCSP addresses
}

// AuthShards is the number of CRL partitions of the user-authentication CA.
// Fixed: a certificate's partition is in its distribution point for life.
// 64 keeps a shard near 2 MB even with a few million entries revoked and
// unexpired, and one publication signs at most 64 of them.
const AuthShards = 64

// CRLPartition is the CRL partition a certificate's distribution point
// names. A signing certificate's is its issuing municipality: it carries the
// holder's address anyway. A user-authentication certificate carries no
// personal information, so its partition is a shard of its serial,
// "s00"–"s63" (serial mod AuthShards), which tells nothing the serial does
// not. migrations/0004_verifiers.sql computes the same (crl_partition_of);
// the CA checks that both agree before it signs.
func CRLPartition(kind Kind, serial *big.Int, municipality string) string {
	if kind == KindSign {
		return municipality
	}
	shard := new(big.Int).Mod(serial, big.NewInt(AuthShards)).Int64()
	return fmt.Sprintf("s%02d", shard)
}

// ValidCRLPartition reports whether p can name a CRL partition of kind: a
// 6-digit municipality code (signing; user authentication only for
// certificates issued before its shards), or for user authentication a shard
// "s00"–"s63".
func ValidCRLPartition(kind Kind, p string) bool {
	switch kind {
	case KindSign:
		return ValidMunicipalityCode(p)
	case KindAuth:
		return ValidMunicipalityCode(p) || validShard(p)
	}
	return false
}

func validShard(p string) bool {
	if len(p) != 3 || p[0] != 's' || p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9' {
		return false
	}
	return int(p[1]-'0')*10+int(p[2]-'0') < AuthShards
}

// CRLURL is the CRL distribution point of a partition:
// <base>/crl/<sign|auth>/<partition>.crl.
func CRLURL(base string, kind Kind, partition string) string {
	return strings.TrimRight(base, "/") + "/crl/" + string(kind) + "/" + partition + ".crl"
}

// OCSPURL is the OCSP responder address, <base>/ocsp.
func OCSPURL(base string) string {
	return strings.TrimRight(base, "/") + "/ocsp"
}

// CheckRepositoryURL requires an absolute http:// URL without query or
// fragment. CRLs and OCSP responses are signed objects fetched over plain
// HTTP (RFC 5280 §4.2.1.13, RFC 6960 App. A); https would make checking a
// certificate depend on checking the repository's TLS certificate.
func CheckRepositoryURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return invalid("RepositoryURL", "must be an absolute http:// URL without query or fragment")
	}
	return nil
}

// ValidMunicipalityCode reports whether s is a 6-digit local government code
// (全国地方公共団体コード, including its check digit).
func ValidMunicipalityCode(s string) bool {
	if len(s) != 6 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ValidSubjectID reports whether s can be a subject CN identifier: 8 to 64
// characters from A–Z and 0–9.
func ValidSubjectID(s string) bool {
	if len(s) < 8 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// LeafTemplate returns the template of a signing or user-authentication
// certificate.
//
// Both: subject C=JP[, L=<municipality code> for signing], CN=<random id>;
// SHA-256 with RSA; subject and authority key identifiers; a CRL distribution
// point naming its partition (CRLPartition); the OCSP address in AIA;
// a certificate policy of the JPKI arc.
//
// Signing: key usage digitalSignature + nonRepudiation (critical), the
// personal information in subjectAltName otherName entries.
//
// User authentication: key usage digitalSignature (critical), extended key
// usage clientAuth, nothing personal anywhere.
func LeafTemplate(p LeafParams) (*x509.Certificate, error) {
	if !p.Kind.Valid() {
		return nil, invalid("Kind", "must be %q or %q", KindSign, KindAuth)
	}
	if err := checkSerial(p.Serial); err != nil {
		return nil, err
	}
	if !ValidSubjectID(p.SubjectID) {
		return nil, invalid("SubjectID", "must be 8 to 64 characters A-Z 0-9")
	}
	if !ValidMunicipalityCode(p.MunicipalityCode) {
		return nil, invalid("MunicipalityCode", "must be 6 digits")
	}
	if err := CheckRSAKey(p.PublicKey); err != nil {
		return nil, err
	}
	if !p.NotAfter.After(p.NotBefore) {
		return nil, invalid("NotAfter", "must be after NotBefore")
	}
	if err := CheckRepositoryURL(p.RepositoryURL); err != nil {
		return nil, err
	}

	subject := pkix.Name{Country: []string{"JP"}, CommonName: p.SubjectID}
	t := &x509.Certificate{
		SerialNumber:          p.Serial,
		NotBefore:             p.NotBefore.UTC(),
		NotAfter:              p.NotAfter.UTC(),
		SignatureAlgorithm:    x509.SHA256WithRSA,
		BasicConstraintsValid: false,
		SubjectKeyId:          KeyID(p.PublicKey),
		CRLDistributionPoints: []string{CRLURL(p.RepositoryURL, p.Kind, CRLPartition(p.Kind, p.Serial, p.MunicipalityCode))},
		OCSPServer:            []string{OCSPURL(p.RepositoryURL)},
	}
	var policy asn1.ObjectIdentifier
	switch p.Kind {
	case KindSign:
		if p.Personal == nil {
			return nil, invalid("Personal", "is required for a signing certificate")
		}
		san, err := PersonalSAN(*p.Personal)
		if err != nil {
			return nil, err
		}
		subject.Locality = []string{p.MunicipalityCode}
		t.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
		t.ExtraExtensions = append(t.ExtraExtensions, san)
		policy = OIDPolicySign
	case KindAuth:
		if p.Personal != nil && !p.Personal.IsZero() {
			return nil, invalid("Personal", "must be empty: a user-authentication certificate carries no personal information")
		}
		t.KeyUsage = x509.KeyUsageDigitalSignature
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		policy = OIDPolicyAuth
	}
	pol, err := policiesExtension(policy)
	if err != nil {
		return nil, err
	}
	t.ExtraExtensions = append(t.ExtraExtensions, pol)
	t.Subject = subject
	return t, nil
}

// policiesExtension encodes certificatePolicies with one policy OID and no
// qualifiers.
func policiesExtension(oid asn1.ObjectIdentifier) (pkix.Extension, error) {
	type policyInformation struct {
		Policy asn1.ObjectIdentifier
	}
	v, err := asn1.Marshal([]policyInformation{{Policy: oid}})
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("profile: certificate policies: %w", err)
	}
	return pkix.Extension{Id: oidExtCertificatePolicy, Value: v}, nil
}

// KeyID is the RFC 5280 §4.2.1.2 method (1) key identifier: SHA-1 of the
// subjectPublicKey BIT STRING contents.
func KeyID(pub *rsa.PublicKey) []byte {
	sum := sha1.Sum(x509.MarshalPKCS1PublicKey(pub))
	return sum[:]
}

// CheckRSAKey requires an RSA-2048 key with exponent 65537.
func CheckRSAKey(pub *rsa.PublicKey) error {
	if pub == nil || pub.N == nil {
		return invalid(FieldPublicKey, "is missing")
	}
	if pub.N.BitLen() != RSABits {
		return invalid(FieldPublicKey, "is RSA-%d, want RSA-%d", pub.N.BitLen(), RSABits)
	}
	if pub.E != RSAExponent {
		return invalid(FieldPublicKey, "has public exponent %d, want %d", pub.E, RSAExponent)
	}
	if pub.N.Bit(0) == 0 {
		return invalid(FieldPublicKey, "has an even modulus")
	}
	return nil
}

// ParsePublicKey parses a DER SubjectPublicKeyInfo and requires an RSA-2048
// key with exponent 65537. Errors are *ValidationError matching
// ErrInvalidPublicKey.
func ParsePublicKey(der []byte) (*rsa.PublicKey, error) {
	if len(der) == 0 {
		return nil, invalid(FieldPublicKey, "is empty")
	}
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, invalid(FieldPublicKey, "is not a DER SubjectPublicKeyInfo: %v", err)
	}
	pub, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, invalid(FieldPublicKey, "is %T, want RSA", key)
	}
	if err := CheckRSAKey(pub); err != nil {
		return nil, err
	}
	// Trailing bytes or a non-canonical encoding would make two different
	// byte strings name one key; insist on the canonical form.
	canon, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil || string(canon) != string(der) {
		return nil, invalid(FieldPublicKey, "is not in canonical DER")
	}
	return pub, nil
}

func checkSerial(s *big.Int) error {
	if s == nil || s.Sign() <= 0 {
		return invalid("Serial", "must be positive")
	}
	if s.BitLen() > 159 {
		return invalid("Serial", "must fit in 20 octets")
	}
	return nil
}

// otherName entries in the order the certificate lists them.
func personalFields(p PersonalInfo) ([]struct {
	oid asn1.ObjectIdentifier
	val string
}, error) {
	dob, err := EncodeDateOfBirth(p.DateOfBirth)
	if err != nil {
		return nil, invalid("Personal.DateOfBirth", "%v", err)
	}
	type e = struct {
		oid asn1.ObjectIdentifier
		val string
	}
	out := []e{{OIDName, p.Name}}
	if p.NameSubstitute != "" {
		out = append(out, e{OIDNameSubstitute, p.NameSubstitute})
	}
	out = append(out, e{OIDSex, string(p.Sex)}, e{OIDDateOfBirth, dob}, e{OIDAddress, p.Address})
	for _, x := range []e{
		{OIDAddressSubstitute, p.AddressSubstitute},
		{OIDFormerSurname, p.FormerSurname},
		{OIDFormerSurnameSubstitute, p.FormerSurnameSubstitute},
		{OIDAlias, p.Alias},
		{OIDAliasSubstitute, p.AliasSubstitute},
	} {
		if x.val != "" {
			out = append(out, x)
		}
	}
	return out, nil
}

// PersonalSAN encodes the subjectAltName extension of a signing certificate:
// one otherName per recorded item, type-id under 1.2.392.200149.8.5.5, value
// [0] EXPLICIT UTF8String. It is not critical, because the subject is not
// empty.
func PersonalSAN(p PersonalInfo) (pkix.Extension, error) {
	fields, err := personalFields(p)
	if err != nil {
		return pkix.Extension{}, err
	}
	names := make([]asn1.RawValue, 0, len(fields))
	for _, f := range fields {
		utf8, err := asn1.MarshalWithParams(f.val, "utf8")
		if err != nil {
			return pkix.Extension{}, fmt.Errorf("profile: otherName %v: %w", f.oid, err)
		}
		value, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: utf8})
		if err != nil {
			return pkix.Extension{}, err
		}
		oid, err := asn1.Marshal(f.oid)
		if err != nil {
			return pkix.Extension{}, err
		}
		// GeneralName otherName is [0] IMPLICIT OtherName: the SEQUENCE tag
		// of OtherName is replaced by [0] constructed.
		names = append(names, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: append(oid, value...)})
	}
	v, err := asn1.Marshal(names)
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("profile: subjectAltName: %w", err)
	}
	return pkix.Extension{Id: oidExtSubjectAltName, Value: v}, nil
}

// ErrNoPersonalInfo is returned by ParsePersonalInfo for a certificate
// without JPKI personal-data otherNames (e.g. a user-authentication one).
var ErrNoPersonalInfo = errors.New("profile: certificate carries no JPKI personal information")

// OtherNames returns every subjectAltName otherName of cert whose type-id is
// under 1.2.392.200149.8.5.5 and whose value is a UTF8String, keyed by the
// dotted OID. Other SAN entries are ignored.
func OtherNames(cert *x509.Certificate) (map[string]string, error) {
	out := map[string]string{}
	for _, ext := range cert.Extensions {
		if !ext.Id.Equal(oidExtSubjectAltName) {
			continue
		}
		var seq asn1.RawValue
		rest, err := asn1.Unmarshal(ext.Value, &seq)
		if err != nil || len(rest) > 0 || seq.Tag != asn1.TagSequence {
			return nil, fmt.Errorf("profile: malformed subjectAltName")
		}
		in := seq.Bytes
		for len(in) > 0 {
			var gn asn1.RawValue
			in, err = asn1.Unmarshal(in, &gn)
			if err != nil {
				return nil, fmt.Errorf("profile: malformed GeneralName: %w", err)
			}
			if gn.Class != asn1.ClassContextSpecific || gn.Tag != 0 {
				continue
			}
			var oid asn1.ObjectIdentifier
			r, err := asn1.Unmarshal(gn.Bytes, &oid)
			if err != nil {
				return nil, fmt.Errorf("profile: malformed otherName type-id: %w", err)
			}
			var explicit asn1.RawValue
			if _, err := asn1.Unmarshal(r, &explicit); err != nil || explicit.Class != asn1.ClassContextSpecific || explicit.Tag != 0 {
				return nil, fmt.Errorf("profile: malformed otherName value")
			}
			var s string
			if _, err := asn1.UnmarshalWithParams(explicit.Bytes, &s, "utf8"); err != nil {
				continue
			}
			if len(oid) == len(OIDPersonalData)+1 && oid[:len(OIDPersonalData)].Equal(OIDPersonalData) {
				if _, dup := out[oid.String()]; dup {
					return nil, fmt.Errorf("profile: otherName %s appears twice", oid)
				}
				out[oid.String()] = s
			}
		}
	}
	return out, nil
}

// ParsePersonalInfo decodes the personal information of a signing
// certificate made by LeafTemplate.
func ParsePersonalInfo(cert *x509.Certificate) (PersonalInfo, error) {
	m, err := OtherNames(cert)
	if err != nil {
		return PersonalInfo{}, err
	}
	if len(m) == 0 {
		return PersonalInfo{}, ErrNoPersonalInfo
	}
	p := PersonalInfo{
		Name:                    m[OIDName.String()],
		NameSubstitute:          m[OIDNameSubstitute.String()],
		Sex:                     Sex(m[OIDSex.String()]),
		Address:                 m[OIDAddress.String()],
		AddressSubstitute:       m[OIDAddressSubstitute.String()],
		FormerSurname:           m[OIDFormerSurname.String()],
		FormerSurnameSubstitute: m[OIDFormerSurnameSubstitute.String()],
		Alias:                   m[OIDAlias.String()],
		AliasSubstitute:         m[OIDAliasSubstitute.String()],
	}
	if v, ok := m[OIDDateOfBirth.String()]; ok {
		if p.DateOfBirth, err = DecodeDateOfBirth(v); err != nil {
			return PersonalInfo{}, fmt.Errorf("profile: %w", err)
		}
	}
	return p, nil
}
