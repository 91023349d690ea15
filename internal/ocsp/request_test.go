package ocsp

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	xocsp "golang.org/x/crypto/ocsp"
)

// testIssuer is a software CA for parser tests (no HSM needed).
func testIssuer(t testing.TB) (*x509.Certificate, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "parser test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(der)
	leaf := &x509.Certificate{SerialNumber: new(big.Int).SetBytes([]byte{0x8f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}),
		Subject: pkix.Name{CommonName: "leaf"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err = x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leafCert, _ := x509.ParseCertificate(der)
	return caCert, leafCert
}

// buildRequest encodes an OCSPRequest by hand so tests can bend every part.
type reqSpec struct {
	version     int64 // -1: omit
	requestor   bool
	certIDs     int
	hashOID     []int
	nameHash    []byte
	keyHash     []byte
	serial      []byte
	nonce       bool
	critical    bool // add an unknown critical request extension
	signature   bool
	trailing    bool
	singleExtOK bool
}

func buildRequest(t testing.TB, s reqSpec) []byte {
	t.Helper()
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			if s.version >= 0 {
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddASN1Int64(s.version) })
			}
			if s.requestor {
				b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.Tag(2).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte("verifier.example")) })
				})
			}
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for i := 0; i < s.certIDs; i++ {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
								b.AddASN1ObjectIdentifier(s.hashOID)
								b.AddASN1NULL()
							})
							b.AddASN1OctetString(s.nameHash)
							b.AddASN1OctetString(s.keyHash)
							b.AddASN1(cbasn1.INTEGER, func(b *cryptobyte.Builder) { b.AddBytes(s.serial) })
						})
						if s.singleExtOK {
							b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
								b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
									b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
										b.AddASN1ObjectIdentifier([]int{1, 3, 6, 1, 5, 5, 7, 48, 1, 7}) // service locator
										b.AddASN1OctetString([]byte{0x30, 0x00})
									})
								})
							})
						}
					})
				}
			})
			if s.nonce || s.critical {
				b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						if s.nonce {
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
								b.AddASN1ObjectIdentifier(oidNonce)
								b.AddASN1OctetString([]byte{0x04, 0x04, 1, 2, 3, 4})
							})
						}
						if s.critical {
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
								b.AddASN1ObjectIdentifier([]int{1, 2, 3, 4})
								b.AddASN1Boolean(true)
								b.AddASN1OctetString([]byte{0x05, 0x00})
							})
						}
					})
				})
			}
		})
		if s.signature {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidSHA256WithRSA) })
					b.AddASN1BitString([]byte{1, 2, 3})
				})
			})
		}
	})
	der, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if s.trailing {
		der = append(der, 0)
	}
	return der
}

func TestParseRequest(t *testing.T) {
	caCert, leaf := testIssuer(t)
	// A request made by x/crypto, as Go clients send it.
	xreq, err := xocsp.CreateRequest(leaf, caCert, &xocsp.RequestOptions{Hash: crypto.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseRequest(xreq)
	if err != nil {
		t.Fatalf("x/crypto request: %v", err)
	}
	want, _ := xocsp.ParseRequest(xreq)
	if got.HashAlgorithm != crypto.SHA256 || !bytes.Equal(got.IssuerNameHash, want.IssuerNameHash) ||
		!bytes.Equal(got.IssuerKeyHash, want.IssuerKeyHash) || new(big.Int).SetBytes(got.Serial).Cmp(leaf.SerialNumber) != 0 {
		t.Fatalf("parsed %+v, x/crypto %+v", got, want)
	}
	if got.Serial[0] != 0 || got.Serial[1] != 0x8f {
		t.Fatalf("serial content %x: want a leading zero before 0x8f", got.Serial)
	}

	h20 := bytes.Repeat([]byte{1}, 20)
	h32 := bytes.Repeat([]byte{2}, 32)
	base := reqSpec{version: -1, certIDs: 1, hashOID: oidSHA1, nameHash: h20, keyHash: h20, serial: []byte{0x01, 0x02}}
	with := func(f func(*reqSpec)) reqSpec { s := base; f(&s); return s }
	tests := []struct {
		name      string
		spec      reqSpec
		ok        bool
		nonce     bool
		hash      crypto.Hash
		serialLen int
	}{
		{name: "minimal SHA-1", spec: base, ok: true, hash: crypto.SHA1, serialLen: 2},
		{name: "SHA-256", spec: with(func(s *reqSpec) { s.hashOID, s.nameHash, s.keyHash = oidSHA256, h32, h32 }), ok: true, hash: crypto.SHA256, serialLen: 2},
		{name: "explicit v1", spec: with(func(s *reqSpec) { s.version = 0 }), ok: true, hash: crypto.SHA1, serialLen: 2},
		{name: "nonce", spec: with(func(s *reqSpec) { s.nonce = true }), ok: true, nonce: true, hash: crypto.SHA1, serialLen: 2},
		{name: "requestor name", spec: with(func(s *reqSpec) { s.requestor = true }), ok: true, hash: crypto.SHA1, serialLen: 2},
		{name: "signed request (signature ignored)", spec: with(func(s *reqSpec) { s.signature = true }), ok: true, hash: crypto.SHA1, serialLen: 2},
		{name: "non-critical single extension", spec: with(func(s *reqSpec) { s.singleExtOK = true }), ok: true, hash: crypto.SHA1, serialLen: 2},
		{name: "20-octet serial with sign octet", spec: with(func(s *reqSpec) { s.serial = append([]byte{0}, bytes.Repeat([]byte{0xff}, 20)...) }), ok: true, hash: crypto.SHA1, serialLen: 21},
		{name: "version 2", spec: with(func(s *reqSpec) { s.version = 1 })},
		{name: "two certificates", spec: with(func(s *reqSpec) { s.certIDs = 2 })},
		{name: "no certificate", spec: with(func(s *reqSpec) { s.certIDs = 0 })},
		{name: "unknown hash", spec: with(func(s *reqSpec) { s.hashOID = []int{1, 2, 840, 113549, 2, 5} })},
		{name: "hash length mismatch", spec: with(func(s *reqSpec) { s.hashOID = oidSHA256 })},
		{name: "non-minimal serial", spec: with(func(s *reqSpec) { s.serial = []byte{0x00, 0x01} })},
		{name: "serial over 20 octets", spec: with(func(s *reqSpec) { s.serial = bytes.Repeat([]byte{0x11}, 21) })},
		{name: "empty serial", spec: with(func(s *reqSpec) { s.serial = nil })},
		{name: "unknown critical extension", spec: with(func(s *reqSpec) { s.critical = true })},
		{name: "trailing byte", spec: with(func(s *reqSpec) { s.trailing = true })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseRequest(buildRequest(t, tc.spec))
			if !tc.ok {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("err = %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Nonce != tc.nonce || r.HashAlgorithm != tc.hash || len(r.Serial) != tc.serialLen {
				t.Fatalf("got nonce=%v hash=%v serial=%x", r.Nonce, r.HashAlgorithm, r.Serial)
			}
		})
	}

	for name, in := range map[string][]byte{
		"empty":       nil,
		"garbage":     []byte("GET / HTTP/1.1"),
		"truncated":   xreq[:len(xreq)-3],
		"huge":        make([]byte, maxRequestBytes+1),
		"bare NULL":   {0x05, 0x00},
		"indef len":   {0x30, 0x80, 0x00, 0x00},
		"error resp":  ErrorResponse(StatusUnauthorized),
		"len overrun": {0x30, 0x84, 0xff, 0xff, 0xff, 0xff},
	} {
		if _, err := ParseRequest(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
}

// FuzzParseRequest: the parser must never panic and must be consistent with
// itself (a parsed request re-encodes to something that parses the same).
func FuzzParseRequest(f *testing.F) {
	caCert, leaf := testIssuer(f)
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256} {
		r, err := xocsp.CreateRequest(leaf, caCert, &xocsp.RequestOptions{Hash: h})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(r)
	}
	h20 := bytes.Repeat([]byte{1}, 20)
	f.Add(buildRequest(f, reqSpec{version: 0, requestor: true, certIDs: 1, hashOID: oidSHA1, nameHash: h20, keyHash: h20,
		serial: []byte{0x7f}, nonce: true, signature: true, singleExtOK: true}))
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := ParseRequest(in)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		var oid []int
		for _, h := range hashes {
			if h.hash == r.HashAlgorithm {
				oid = h.oid
			}
		}
		again, err := ParseRequest(buildRequest(t, reqSpec{version: -1, certIDs: 1, hashOID: oid, nameHash: r.IssuerNameHash,
			keyHash: r.IssuerKeyHash, serial: r.Serial}))
		if err != nil || again.HashAlgorithm != r.HashAlgorithm || !bytes.Equal(again.Serial, r.Serial) ||
			!bytes.Equal(again.IssuerNameHash, r.IssuerNameHash) {
			t.Fatalf("re-encoded request parses differently: %v", err)
		}
	})
}

func TestErrorResponses(t *testing.T) {
	for _, st := range []ResponseStatus{StatusMalformedRequest, StatusInternalError, StatusTryLater, StatusSigRequired, StatusUnauthorized} {
		_, err := xocsp.ParseResponse(ErrorResponse(st), nil)
		var re xocsp.ResponseError
		if !errors.As(err, &re) || int(re.Status) != int(st) {
			t.Errorf("%v: x/crypto parses %v", st, err)
		}
	}
	if !bytes.Equal(ErrorResponse(ResponseStatus(42)), ErrorResponse(StatusInternalError)) {
		t.Error("an unknown status must fall back to internalError")
	}
}
