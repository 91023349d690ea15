package profile

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/ca/certlint"
)

func TestDateOfBirthEncoding(t *testing.T) {
	tests := []struct {
		date, want string
	}{
		{"1990-01-02", "419900102"},
		{"1989-01-07", "319890107"}, // last day of 昭和
		{"1989-01-08", "419890108"}, // first day of 平成
		{"2019-04-30", "420190430"}, // last day of 平成
		{"2019-05-01", "520190501"}, // first day of 令和
		{"1926-12-24", "219261224"},
		{"1926-12-25", "319261225"},
		{"1912-07-29", "119120729"},
		{"1912-07-30", "219120730"},
		{"2000-02-29", "420000229"},
	}
	for _, tc := range tests {
		got, err := EncodeDateOfBirth(tc.date)
		if err != nil || got != tc.want {
			t.Errorf("EncodeDateOfBirth(%s) = %q, %v; want %q", tc.date, got, err, tc.want)
			continue
		}
		back, err := DecodeDateOfBirth(got)
		if err != nil || back != tc.date {
			t.Errorf("DecodeDateOfBirth(%s) = %q, %v", got, back, err)
		}
	}
	for _, bad := range []string{"", "1990-1-2", "1990-02-30", "19900102", "1872-12-31", "2001-02-29"} {
		if _, err := EncodeDateOfBirth(bad); err == nil {
			t.Errorf("EncodeDateOfBirth(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"319900102", "41990010", "4199001022", "4abcdefgh", "420010229"} {
		if _, err := DecodeDateOfBirth(bad); err == nil {
			t.Errorf("DecodeDateOfBirth(%q) accepted", bad)
		}
	}
}

func TestAgeReached(t *testing.T) {
	d := func(s string) time.Time { v, _ := time.Parse(time.DateOnly, s); return v }
	tests := []struct {
		dob, day string
		want     bool
	}{
		{"2011-04-02", "2026-04-01", false},
		{"2011-04-02", "2026-04-02", true},
		{"2011-04-01", "2026-04-01", true},
		// Born 29 Feb: 15 on 1 Mar in a common year, on 29 Feb in a leap one.
		{"2012-02-29", "2027-02-28", false},
		{"2012-02-29", "2027-03-01", true},
		{"2016-02-29", "2031-02-28", false},
		{"2016-02-29", "2031-03-01", true},
		{"2008-02-29", "2023-02-28", false},
		{"2008-02-29", "2023-03-01", true},
		{"1996-02-29", "2011-02-28", false},
	}
	for _, tc := range tests {
		if got := AgeReached(d(tc.dob), d(tc.day), 15); got != tc.want {
			t.Errorf("AgeReached(%s, %s, 15) = %v, want %v", tc.dob, tc.day, got, tc.want)
		}
	}
	// In a leap year the anniversary exists.
	if !AgeReached(d("2004-02-29"), d("2020-02-29"), 16) || AgeReached(d("2004-02-29"), d("2020-02-28"), 16) {
		t.Error("leap-year anniversary wrong")
	}
}

func TestParsePublicKey(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	pub, err := ParsePublicKey(good)
	if err != nil || !pub.Equal(&k.PublicKey) {
		t.Fatalf("good key: %v", err)
	}
	e3, _ := x509.MarshalPKIXPublicKey(&rsa.PublicKey{N: k.N, E: 3})
	even, _ := x509.MarshalPKIXPublicKey(&rsa.PublicKey{N: new(big.Int).Add(k.N, big.NewInt(1)), E: 65537})
	pkcs1 := x509.MarshalPKCS1PublicKey(&k.PublicKey)
	for name, der := range map[string][]byte{
		"empty": nil, "exponent 3": e3, "even modulus": even, "PKCS#1 not SPKI": pkcs1,
		"trailing": append(append([]byte{}, good...), 0), "truncated": good[:len(good)-1],
	} {
		_, err := ParsePublicKey(der)
		var ve *ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, ErrInvalidPublicKey) || !errors.Is(err, ErrInvalidRequest) || ve.Field != FieldPublicKey {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// softwareCA signs with a Go key: the profile does not care where the
// issuer key lives.
func softwareCA(t *testing.T, kind Kind) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	tmpl, err := CATemplate(CAParams{Kind: kind, Serial: big.NewInt(0x1234567890), NotBefore: now, NotAfter: now.AddDate(20, 0, 0), PublicKey: &k.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, k
}

func leafParams(t *testing.T, kind Kind) LeafParams {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	p := LeafParams{
		Kind: kind, Serial: new(big.Int).Lsh(big.NewInt(0x5a5a5a5a), 70), SubjectID: "ABCDEFGHJKLMNPQRSTUVWXYZ",
		MunicipalityCode: "271004", NotBefore: now, NotAfter: now.AddDate(5, 0, 0), PublicKey: &k.PublicKey,
		RepositoryURL: "http://repo.example/",
	}
	if kind == KindSign {
		p.Personal = &PersonalInfo{
			Name: "大阪　太郎", NameSubstitute: "大阪　太〓", DateOfBirth: "1975-07-20", Sex: SexMale,
			Address: "大阪府大阪市北区中之島一丁目3番20号", AddressSubstitute: "大阪府大阪市北区中之島1-3-20",
			FormerSurname: "京都", FormerSurnameSubstitute: "京〓", Alias: "Taro Osaka", AliasSubstitute: "タロウ",
		}
	}
	return p
}

func TestLeafRoundTrip(t *testing.T) {
	for _, kind := range []Kind{KindSign, KindAuth} {
		t.Run(string(kind), func(t *testing.T) {
			ca, caKey := softwareCA(t, kind)
			p := leafParams(t, kind)
			tmpl, err := LeafTemplate(p)
			if err != nil {
				t.Fatal(err)
			}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, p.PublicKey, caKey)
			if err != nil {
				t.Fatal(err)
			}
			// Deterministic: the same inputs give the same bytes.
			tmpl2, _ := LeafTemplate(p)
			der2, err := x509.CreateCertificate(rand.Reader, tmpl2, ca, p.PublicKey, caKey)
			if err != nil || !bytes.Equal(der, der2) {
				t.Fatalf("two builds from equal inputs differ (%v)", err)
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			if err := cert.CheckSignatureFrom(ca); err != nil {
				t.Fatal(err)
			}
			for name, d := range map[string][]byte{"CA": ca.Raw, "leaf": der} {
				findings, applied, err := certlint.Lint(d)
				if err != nil {
					t.Fatal(err)
				}
				if applied < 40 {
					t.Errorf("%s: only %d lints applied", name, applied)
				}
				for _, f := range findings {
					t.Errorf("%s %s: %s", kind, name, f)
				}
			}
			// The signing certificate's partition is its municipality; the
			// user-authentication one's a shard of the serial (whose low
			// 70 bits are zero here), never the municipality.
			wantDP := map[Kind]string{KindSign: "http://repo.example/crl/sign/271004.crl", KindAuth: "http://repo.example/crl/auth/s00.crl"}[kind]
			if len(cert.CRLDistributionPoints) != 1 || cert.CRLDistributionPoints[0] != wantDP || cert.OCSPServer[0] != "http://repo.example/ocsp" {
				t.Errorf("addresses %v %v, want CRL DP %s", cert.CRLDistributionPoints, cert.OCSPServer, wantDP)
			}
			if kind == KindAuth && bytes.Contains(der, []byte(p.MunicipalityCode)) {
				t.Error("the user-authentication certificate names the holder's municipality")
			}
			info, err := ParsePersonalInfo(cert)
			switch kind {
			case KindSign:
				if err != nil || info != *p.Personal {
					t.Fatalf("personal info does not round-trip: %v", err)
				}
				m, _ := OtherNames(cert)
				if len(m) != 10 {
					t.Errorf("%d otherNames, want 10", len(m))
				}
				for oid := range m {
					if !strings.HasPrefix(oid, "1.2.392.200149.8.5.5.") {
						t.Errorf("otherName %s outside the arc", oid)
					}
				}
				if cert.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment || len(cert.ExtKeyUsage) != 0 {
					t.Errorf("usages %v %v", cert.KeyUsage, cert.ExtKeyUsage)
				}
			case KindAuth:
				if !errors.Is(err, ErrNoPersonalInfo) {
					t.Fatalf("auth personal info: %v", err)
				}
				if cert.Subject.String() != "CN=ABCDEFGHJKLMNPQRSTUVWXYZ,C=JP" {
					t.Errorf("auth subject %q", cert.Subject.String())
				}
			}
		})
	}
}

func TestOptionalOtherNamesOmitted(t *testing.T) {
	ca, caKey := softwareCA(t, KindSign)
	p := leafParams(t, KindSign)
	p.Personal = &PersonalInfo{Name: "東京　一郎", DateOfBirth: "2000-02-29", Sex: SexMale, Address: "東京都新宿区"}
	tmpl, err := LeafTemplate(p)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, p.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	m, err := OtherNames(cert)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"1.2.392.200149.8.5.5.1": "東京　一郎", "1.2.392.200149.8.5.5.3": "1",
		"1.2.392.200149.8.5.5.4": "420000229", "1.2.392.200149.8.5.5.5": "東京都新宿区",
	}
	if len(m) != len(want) {
		t.Fatalf("otherNames %v", m)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %q, want %q", k, m[k], v)
		}
	}
	// Each value is a UTF8String (tag 12) inside [0] EXPLICIT.
	if !bytes.Contains(der, append([]byte{0xa0, byte(2 + len("東京都新宿区")), 0x0c, byte(len("東京都新宿区"))}, "東京都新宿区"...)) {
		t.Error("address is not encoded as [0] EXPLICIT UTF8String")
	}
}

func TestLeafTemplateRefuses(t *testing.T) {
	tests := map[string]func(p *LeafParams){
		"personal data in auth": func(p *LeafParams) { p.Kind = KindAuth },
		"no personal data":      func(p *LeafParams) { p.Personal = nil },
		"bad kind":              func(p *LeafParams) { p.Kind = "x" },
		"zero serial":           func(p *LeafParams) { p.Serial = big.NewInt(0) },
		"bad subject id":        func(p *LeafParams) { p.SubjectID = "山田" },
		"bad municipality":      func(p *LeafParams) { p.MunicipalityCode = "13101X" },
		"small key":             func(p *LeafParams) { p.PublicKey = &rsa.PublicKey{N: big.NewInt(35), E: 65537} },
		"inverted validity":     func(p *LeafParams) { p.NotAfter = p.NotBefore },
		"relative repository":   func(p *LeafParams) { p.RepositoryURL = "/repo" },
		"https repository":      func(p *LeafParams) { p.RepositoryURL = "https://repo.example" },
	}
	for name, f := range tests {
		p := leafParams(t, KindSign)
		f(&p)
		if _, err := LeafTemplate(p); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestPersonalValidateAndRedaction(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ok := PersonalInfo{Name: "佐藤　次郎", DateOfBirth: "1980-05-05", Sex: SexMale, Address: "北海道札幌市中央区"}
	if err := ok.Validate(now); err != nil {
		t.Fatal(err)
	}
	tests := map[string]func(p *PersonalInfo){
		"future birth":       func(p *PersonalInfo) { p.DateOfBirth = "2026-01-02" },
		"long name":          func(p *PersonalInfo) { p.Name = strings.Repeat("あ", 101) },
		"space padded":       func(p *PersonalInfo) { p.Address = " 北海道" },
		"invalid UTF-8":      func(p *PersonalInfo) { p.Name = "\xff\xfe" },
		"orphan substitute":  func(p *PersonalInfo) { p.AliasSubstitute = "x" },
		"orphan former subs": func(p *PersonalInfo) { p.FormerSurnameSubstitute = "x" },
		"no sex":             func(p *PersonalInfo) { p.Sex = "" },
	}
	for name, f := range tests {
		p := ok
		f(&p)
		if err := p.Validate(now); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, s := range []string{ok.String(), ok.GoString()} {
		if strings.Contains(s, "佐藤") || strings.Contains(s, "札幌") {
			t.Errorf("String leaks: %s", s)
		}
	}
	if s, err := ParseSex("女"); err != nil || s != SexFemale {
		t.Error("ParseSex(女)")
	}
	if _, err := ParseSex("x"); err == nil {
		t.Error("ParseSex(x) accepted")
	}
}

func TestIssuerNameOrder(t *testing.T) {
	name, err := IssuerName(KindAuth)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := asn1.Marshal(name)
	var back pkix.RDNSequence
	if _, err := asn1.Unmarshal(der, &back); err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, rdn := range back {
		if len(rdn) != 1 {
			t.Fatalf("multi-valued RDN %v", rdn)
		}
		got = append(got, rdn[0].Value.(string))
	}
	want := "JP|JPKI|JPKI for user authentication|Japan Agency for Local Authority Information Systems"
	if strings.Join(got, "|") != want {
		t.Errorf("issuer RDNs %v", got)
	}
	if _, err := IssuerName("x"); err == nil {
		t.Error("IssuerName(x) accepted")
	}
}

func TestCRLPartition(t *testing.T) {
	big1 := func(hex string) *big.Int {
		n, ok := new(big.Int).SetString(hex, 16)
		if !ok {
			t.Fatalf("bad hex %q", hex)
		}
		return n
	}
	for _, c := range []struct {
		kind   Kind
		serial string
		muni   string
		want   string
	}{
		{KindSign, "1234", "131016", "131016"},
		{KindSign, "3f", "271004", "271004"},
		{KindAuth, "1", "131016", "s01"},
		{KindAuth, "3f", "131016", "s63"},
		{KindAuth, "40", "131016", "s00"},
		{KindAuth, "ff", "131016", "s63"},
		{KindAuth, "100", "131016", "s00"},
		{KindAuth, "1234", "271004", "s52"},
		{KindAuth, "7fffffffffffffffffffffffffffffc5", "131016", "s05"},
	} {
		if got := CRLPartition(c.kind, big1(c.serial), c.muni); got != c.want {
			t.Errorf("CRLPartition(%s, %s, %s) = %s, want %s", c.kind, c.serial, c.muni, got, c.want)
		}
		if !ValidCRLPartition(c.kind, c.want) {
			t.Errorf("ValidCRLPartition(%s, %s) = false", c.kind, c.want)
		}
	}
	for _, c := range []struct {
		kind Kind
		p    string
		want bool
	}{
		{KindSign, "131016", true},
		{KindSign, "s07", false}, // signing partitions are municipalities
		{KindAuth, "s00", true},
		{KindAuth, "s63", true},
		{KindAuth, "s64", false},
		{KindAuth, "s7", false},
		{KindAuth, "S07", false},
		{KindAuth, "131016", true}, // certificates issued before the shards
		{KindAuth, "13101", false},
		{KindAuth, "full", false},
		{KindAuth, "", false},
		{Kind("other"), "131016", false},
	} {
		if got := ValidCRLPartition(c.kind, c.p); got != c.want {
			t.Errorf("ValidCRLPartition(%s, %q) = %v, want %v", c.kind, c.p, got, c.want)
		}
	}
}
