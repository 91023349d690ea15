package profile

import "encoding/asn1"

// The JPKI arc is 1.2.392.200149.8.5 (地方公共団体情報システム機構, JPKI). The
// personal-data sub-arc 1.2.392.200149.8.5.5 carries the basic 4 information
// in subjectAltName otherName entries whose value is a UTF8String.
//
// .1 to .6 follow the published JPKI profile as public readers of real cards
// decode it. .7 to .10 are assigned by madoguchi for the former surname (旧氏)
// and the alias (通称), which the real profile may encode differently; they
// are documented in docs/CA.md and must not be reused for anything else.
var (
	// OIDJPKI is the JPKI PKI arc 1.2.392.200149.8.5.
	OIDJPKI = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5}
	// OIDPersonalData is the personal-data arc 1.2.392.200149.8.5.5.
	OIDPersonalData = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5}

	// OIDName is 氏名 (1.2.392.200149.8.5.5.1).
	OIDName = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 1}
	// OIDNameSubstitute is 氏名の代替文字 variant (…5.5.2).
	OIDNameSubstitute = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 2}
	// OIDSex is 性別 (…5.5.3), "1" male, "2" female.
	OIDSex = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 3}
	// OIDDateOfBirth is 生年月日 (…5.5.4), era digit + YYYYMMDD.
	OIDDateOfBirth = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 4}
	// OIDAddress is 住所 (…5.5.5).
	OIDAddress = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 5}
	// OIDAddressSubstitute is 住所の代替文字 variant (…5.5.6).
	OIDAddressSubstitute = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 6}
	// OIDFormerSurname is 旧氏 (…5.5.7, madoguchi assignment).
	OIDFormerSurname = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 7}
	// OIDFormerSurnameSubstitute is 旧氏の代替文字 variant (…5.5.8, madoguchi).
	OIDFormerSurnameSubstitute = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 8}
	// OIDAlias is 通称 (…5.5.9, madoguchi assignment).
	OIDAlias = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 9}
	// OIDAliasSubstitute is 通称の代替文字 variant (…5.5.10, madoguchi).
	OIDAliasSubstitute = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 10}

	// OIDPolicySign is the signing-certificate policy 1.2.392.200149.8.5.1.1.20.
	OIDPolicySign = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 1, 1, 20}
	// OIDPolicyAuth is the user-authentication policy 1.2.392.200149.8.5.1.3.30.
	OIDPolicyAuth = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 1, 3, 30}

	oidExtSubjectAltName    = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidExtCertificatePolicy = asn1.ObjectIdentifier{2, 5, 29, 32}
	oidAttrCountry          = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidAttrLocality         = asn1.ObjectIdentifier{2, 5, 4, 7}
	oidAttrOrganization     = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidAttrOrganizationUnit = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidAttrCommonName       = asn1.ObjectIdentifier{2, 5, 4, 3}
)
