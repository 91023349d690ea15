package crl

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"io"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"
)

// testEntry is one entry as the database holds it.
type testEntry struct {
	serial string // hex as stored
	at     time.Time
	reason int
}

type sliceSource struct {
	entries []testEntry
	i       int
}

func (s *sliceSource) Next(b []byte) ([]byte, bool, error) {
	if s.i >= len(s.entries) {
		return b, false, nil
	}
	e := s.entries[s.i]
	s.i++
	return encodeEntry(b, []byte(e.serial), e.at, e.reason)
}

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
	testCA  *x509.Certificate
)

// testIssuer is a throw-away RSA-2048 CA in memory (the HSM is tested with
// the database tests).
func testIssuer(t testing.TB) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{Country: []string{"JP"}, Organization: []string{"JPKI"}, OrganizationalUnit: []string{"test"}},
			NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2046, 1, 1, 0, 0, 0, 0, time.UTC),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
			SubjectKeyId: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
		if err != nil {
			panic(err)
		}
		testKey = k
		testCA, _ = x509.ParseCertificate(der)
	})
	return testKey, testCA
}

func signWith(k *rsa.PrivateKey) signFunc {
	return func(d []byte) ([]byte, error) { return rsa.SignPKCS1v15(nil, k, crypto.SHA256, d) }
}

// build streams a CRL of entries into memory.
func build(t testing.TB, p listParams, entries []testEntry) []byte {
	t.Helper()
	k, _ := testIssuer(t)
	var s sizes
	for _, e := range entries {
		if err := s.add([]byte(e.serial), e.at, e.reason); err != nil {
			t.Fatalf("sizes.add(%q): %v", e.serial, err)
		}
	}
	l, err := newLayout(p, s)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := writeList(&buf, l, &sliceSource{entries: entries}, signWith(k))
	if err != nil {
		t.Fatalf("writeList: %v", err)
	}
	if n != int64(buf.Len()) || n != l.total {
		t.Fatalf("wrote %d bytes, buffer %d, layout %d", n, buf.Len(), l.total)
	}
	return buf.Bytes()
}

func params(t testing.TB) listParams {
	_, ca := testIssuer(t)
	return listParams{
		IssuerName: ca.RawSubject, KeyID: ca.SubjectKeyId, Number: 7, SigLen: 256,
		ThisUpdate: time.Date(2026, 4, 1, 15, 0, 0, 0, time.UTC), NextUpdate: time.Date(2026, 4, 2, 21, 0, 0, 0, time.UTC),
	}
}

// The streamed DER is byte for byte what Go's x509.CreateRevocationList
// makes of the same list (both sign deterministically with PKCS#1 v1.5), for
// the cases where the encoding varies: serials needing a sign byte, odd hex
// lengths, leading zeros in the stored text, 1-octet and 20-octet serials,
// GeneralizedTime from 2050, no reason (unspecified), every reason code.
func TestStreamMatchesCreateRevocationList(t *testing.T) {
	k, ca := testIssuer(t)
	at := time.Date(2026, 3, 31, 12, 34, 56, 0, time.UTC)
	cases := []struct {
		name    string
		entries []testEntry
	}{
		{"empty", nil},
		{"one", []testEntry{{"1", at, 1}}},
		{"sign byte", []testEntry{{"80", at, 4}, {"ff01", at, 3}, {"7f", at, 2}}},
		{"odd length", []testEntry{{"abc", at, 5}, {"1abcdef", at, 6}}},
		{"leading zeros", []testEntry{{"000abc", at, 5}, {"00ff", at, 1}}},
		{"20 octets", []testEntry{{strings.Repeat("7f", 20), at, 1}, {"8" + strings.Repeat("0", 38), at, 1}}},
		{"unspecified", []testEntry{{"1234", at, 0}}},
		{"generalized time", []testEntry{{"42", time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC), 1}, {"43", time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC), 1}}},
		{"sub-second", []testEntry{{"44", at.Add(999 * time.Millisecond), 1}}},
		{"all reasons", []testEntry{{"a1", at, 1}, {"a2", at, 2}, {"a3", at, 3}, {"a4", at, 4}, {"a5", at, 5}, {"a6", at, 6}, {"a9", at, 9}, {"aa", at, 10}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := params(t)
			got := build(t, p, c.entries)
			tmpl := &x509.RevocationList{Number: big.NewInt(p.Number), ThisUpdate: p.ThisUpdate, NextUpdate: p.NextUpdate}
			for _, e := range c.entries {
				n, ok := new(big.Int).SetString(e.serial, 16)
				if !ok {
					t.Fatal(e.serial)
				}
				tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{
					SerialNumber: n, RevocationTime: e.at.Truncate(time.Second), ReasonCode: e.reason})
			}
			want, err := x509.CreateRevocationList(rand.Reader, tmpl, ca, k)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("streamed DER differs from x509.CreateRevocationList\n got %x\nwant %x", got, want)
			}
			rl, err := x509.ParseRevocationList(got)
			if err != nil {
				t.Fatal(err)
			}
			if err := rl.CheckSignatureFrom(ca); err != nil {
				t.Fatalf("signature: %v", err)
			}
			if len(rl.RevokedCertificateEntries) != len(c.entries) {
				t.Fatalf("%d entries, want %d", len(rl.RevokedCertificateEntries), len(c.entries))
			}
		})
	}
}

// A partition CRL carries a critical issuingDistributionPoint naming the
// partition's URIs, onlyContainsUserCerts.
func TestPartitionIDP(t *testing.T) {
	_, ca := testIssuer(t)
	p := params(t)
	p.DPURIs = []string{"http://a.example/crl/sign/131016.crl", "http://b.example/crl/sign/131016.crl"}
	der := build(t, p, []testEntry{{"1234", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), 1}})
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := rl.CheckSignatureFrom(ca); err != nil {
		t.Fatal(err)
	}
	var idp *pkix.Extension
	for i, e := range rl.Extensions {
		if e.Id.Equal(oidIssuingDP) {
			idp = &rl.Extensions[i]
		}
	}
	if idp == nil || !idp.Critical {
		t.Fatalf("no critical IDP: %+v", rl.Extensions)
	}
	var v struct {
		DP struct {
			FullName []asn1.RawValue `asn1:"optional,tag:0"`
		} `asn1:"optional,tag:0"`
		OnlyUser bool `asn1:"optional,tag:1"`
	}
	if rest, err := asn1.Unmarshal(idp.Value, &v); err != nil || len(rest) != 0 {
		t.Fatalf("IDP: %v", err)
	}
	if !v.OnlyUser || len(v.DP.FullName) != 2 {
		t.Fatalf("IDP = %+v", v)
	}
	for i, n := range v.DP.FullName {
		if n.Tag != 6 || string(n.Bytes) != p.DPURIs[i] {
			t.Errorf("IDP name %d = tag %d %q", i, n.Tag, n.Bytes)
		}
	}
	if rl.Number.Int64() != p.Number || !bytes.Equal(rl.AuthorityKeyId, ca.SubjectKeyId) {
		t.Errorf("number %v AKI %x", rl.Number, rl.AuthorityKeyId)
	}
}

// A source that yields other entries than counted must fail the write (the
// COPY is then aborted), never produce a list whose lengths lie.
func TestCountMismatchFails(t *testing.T) {
	k, _ := testIssuer(t)
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	entries := []testEntry{{"1234", at, 1}, {"5678", at, 1}}
	var s sizes
	for _, e := range entries {
		_ = s.add([]byte(e.serial), e.at, e.reason)
	}
	l, err := newLayout(params(t), s)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		src  []testEntry
	}{
		{"fewer", entries[:1]},
		{"more", append(append([]testEntry{}, entries...), testEntry{"9abc", at, 1})},
		{"longer serial", []testEntry{{"1234", at, 1}, {"ff5678", at, 1}}},
		{"other reason", []testEntry{{"1234", at, 1}, {"5678", at, 0}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := writeList(io.Discard, l, &sliceSource{entries: c.src}, signWith(k)); err == nil {
				t.Fatal("writeList accepted entries that do not match the announced sizes")
			}
		})
	}
	bad := errors.New("HSM down")
	if _, err := writeList(io.Discard, l, &sliceSource{entries: entries}, func([]byte) ([]byte, error) { return nil, bad }); !errors.Is(err, bad) {
		t.Fatalf("signing error = %v", err)
	}
	if _, err := writeList(io.Discard, l, &sliceSource{entries: entries}, func([]byte) ([]byte, error) { return make([]byte, 255), nil }); err == nil {
		t.Fatal("short signature accepted")
	}
}

func TestBadSerials(t *testing.T) {
	for _, s := range []string{"", "0", "000", "xyz", "12g4", strings.Repeat("1", 41)} {
		if _, err := appendEntry(nil, []byte(s), time.Now(), 1); err == nil {
			t.Errorf("serial %q accepted", s)
		}
	}
	if _, err := appendEntry(nil, []byte("12"), time.Now(), 7); err == nil {
		t.Error("reason 7 accepted")
	}
}

// Lengths that need long-form DER headers (a 1M-entry list is ~49 MB):
// check the length arithmetic at the boundaries.
func TestHeaderLengths(t *testing.T) {
	for _, n := range []int64{0, 127, 128, 255, 256, 65535, 65536, 1<<24 - 1, 1 << 24, 49_000_000} {
		h := appendHeader(nil, tagSequence, n)
		if int64(len(h))+n != tlvLen(n) {
			t.Errorf("n=%d: header %d bytes, tlvLen says %d", n, len(h), tlvLen(n)-n)
		}
		var raw asn1.RawValue
		full := append(h, make([]byte, n)...)
		if _, err := asn1.Unmarshal(full, &raw); err != nil || int64(len(raw.Bytes)) != n {
			t.Errorf("n=%d: %v", n, err)
		}
	}
}
