package crl

import (
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"
)

// The DER of a CertificateList (RFC 5280 §5.1) is written front to back
// without ever holding the revoked-certificate list in memory: the lengths of
// the enclosing SEQUENCEs are computed first from a summary of the entries
// (count and total size, see sizes), the entries are then encoded one by one
// as the database cursor yields them, the TBSCertList bytes are hashed as
// they pass, and the digest is signed once at the end.

// ASN.1 tags used here.
const (
	tagInteger     = 0x02
	tagBitString   = 0x03
	tagOctetString = 0x04
	tagOID         = 0x06
	tagEnumerated  = 0x0a
	tagUTCTime     = 0x17
	tagGenTime     = 0x18
	tagSequence    = 0x30
	tagBoolean     = 0x01
	tagContext0    = 0xa0 // [0] constructed
	tagContext0P   = 0xa0 // [0] IMPLICIT GeneralNames is constructed as well
	tagContext1P   = 0x81 // [1] IMPLICIT BOOLEAN, primitive
	tagURI         = 0x86 // GeneralName uniformResourceIdentifier [6] IMPLICIT IA5String
)

// OIDs of the extensions we write.
var (
	oidAuthorityKeyID = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidCRLNumber      = asn1.ObjectIdentifier{2, 5, 29, 20}
	oidIssuingDP      = asn1.ObjectIdentifier{2, 5, 29, 28}
)

// sha256WithRSAEncryption AlgorithmIdentifier with its NULL parameters
// (RFC 4055 §5: the parameters MUST be present and NULL).
var algSHA256WithRSA = []byte{0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00}

// version v2 (INTEGER 1): required because the list has extensions.
var versionV2 = []byte{tagInteger, 0x01, 0x01}

// reasonExt is the whole crlEntryExtensions field for a reason code, with
// the last byte left for the code: Extensions { Extension { reasonCode
// (2.5.29.21), OCTET STRING { ENUMERATED code } } }.
var reasonExt = [14]byte{0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x15, 0x04, 0x03, tagEnumerated, 0x01, 0x00}

// Sizes of the parts of one entry that do not depend on the serial.
const (
	utcTimeTLV = 2 + 13 // YYMMDDHHMMSSZ
	genTimeTLV = 2 + 15 // YYYYMMDDHHMMSSZ
	reasonTLV  = 14     // len(reasonExt)
	// maxEntryContent is far below 128, so every entry's SEQUENCE header is
	// two bytes: serial ≤ 2+21, time ≤ 17, reason 14.
	maxEntryContent = 2 + 21 + genTimeTLV + reasonTLV
)

// errSerial reports a stored serial that is not positive hexadecimal.
var errSerial = errors.New("crl: stored serial is not a positive hexadecimal number of at most 20 octets")

// sizes summarizes the entries of one CRL: enough to know every length
// before the first entry is written.
type sizes struct {
	Count       int64 // entries
	SerialBytes int64 // sum of the DER INTEGER contents of the serials
	GenTimes    int64 // entries whose revocationDate needs GeneralizedTime
	WithReason  int64 // entries with a reasonCode extension
}

// entriesLen is the total length of all entry TLVs.
func (s sizes) entriesLen() int64 {
	return s.Count*(2+2+utcTimeTLV) + s.SerialBytes + s.GenTimes*(genTimeTLV-utcTimeTLV) + s.WithReason*reasonTLV
}

// add counts one entry as appendEntry will encode it; the database sums the
// same in SQL (Publisher.issue), the tests with this.
func (s *sizes) add(serialHex []byte, revoked time.Time, reason int) error {
	n, err := serialContentLen(serialHex)
	if err != nil {
		return err
	}
	s.Count++
	s.SerialBytes += int64(n)
	if needsGenTime(revoked.UTC().Truncate(time.Second)) {
		s.GenTimes++
	}
	if reason != 0 {
		s.WithReason++
	}
	return nil
}

// needsGenTime: RFC 5280 §5.1.2.4 — UTCTime through 2049, GeneralizedTime
// from 2050 (and before 1950).
func needsGenTime(t time.Time) bool { y := t.Year(); return y < 1950 || y >= 2050 }

// serialContentLen is the length of the DER INTEGER content of a positive
// serial in hexadecimal (leading zeros allowed): minimal two's complement.
func serialContentLen(h []byte) (int, error) {
	for len(h) > 0 && h[0] == '0' {
		h = h[1:]
	}
	if len(h) == 0 || len(h) > 40 {
		return 0, errSerial
	}
	n := (len(h) + 1) / 2
	if len(h)%2 == 0 && hexVal(h[0]) >= 8 {
		n++ // a leading 0x00 keeps the INTEGER positive
	}
	return n, nil
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0xff
}

// appendEntry appends one revokedCertificates entry:
// SEQUENCE { userCertificate INTEGER, revocationDate Time,
// crlEntryExtensions { reasonCode } OPTIONAL }. Reason 0 (unspecified) has no
// extension (RFC 5280 §5.3.1: SHOULD be absent rather than unspecified).
func appendEntry(b []byte, serialHex []byte, revoked time.Time, reason int) ([]byte, error) {
	for len(serialHex) > 0 && serialHex[0] == '0' {
		serialHex = serialHex[1:]
	}
	n, err := serialContentLen(serialHex)
	if err != nil {
		return b, err
	}
	if reason < 0 || reason > 10 || reason == 7 {
		return b, fmt.Errorf("crl: reason code %d is not an RFC 5280 CRLReason", reason)
	}
	revoked = revoked.UTC().Truncate(time.Second)
	content := 2 + n + utcTimeTLV
	if needsGenTime(revoked) {
		content += genTimeTLV - utcTimeTLV
	}
	if reason != 0 {
		content += reasonTLV
	}
	b = append(b, tagSequence, byte(content), tagInteger, byte(n))
	// Hex digits → bytes; an odd count starts with a half byte, an even
	// count with a high first digit needs the 0x00 sign byte.
	i := 0
	if len(serialHex)%2 == 1 {
		v := hexVal(serialHex[0])
		if v > 15 {
			return b, errSerial
		}
		b = append(b, v)
		i = 1
	} else if hexVal(serialHex[0]) >= 8 && hexVal(serialHex[0]) <= 15 {
		b = append(b, 0)
	}
	for ; i < len(serialHex); i += 2 {
		hi, lo := hexVal(serialHex[i]), hexVal(serialHex[i+1])
		if hi > 15 || lo > 15 {
			return b, errSerial
		}
		b = append(b, hi<<4|lo)
	}
	b = appendTime(b, revoked)
	if reason != 0 {
		b = append(b, reasonExt[:]...)
		b[len(b)-1] = byte(reason)
	}
	return b, nil
}

// appendTime appends a UTCTime or GeneralizedTime (RFC 5280 §4.1.2.5) of t
// in UTC, whole seconds, without allocating.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	if needsGenTime(t) {
		b = append(b, tagGenTime, 15)
		b = append2(b, y/100)
	} else {
		b = append(b, tagUTCTime, 13)
	}
	b = append2(b, y%100)
	b = append2(b, int(mo))
	b = append2(b, d)
	b = append2(b, h)
	b = append2(b, mi)
	b = append2(b, s)
	return append(b, 'Z')
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

// lenLen is the size of a DER length field for n.
func lenLen(n int64) int64 {
	switch {
	case n < 0x80:
		return 1
	case n <= 0xff:
		return 2
	case n <= 0xffff:
		return 3
	case n <= 0xffffff:
		return 4
	default:
		return 5
	}
}

// tlvLen is the size of a TLV with n content bytes (one-byte tag).
func tlvLen(n int64) int64 { return 1 + lenLen(n) + n }

// appendHeader appends a tag and a DER length.
func appendHeader(b []byte, tag byte, n int64) []byte {
	b = append(b, tag)
	switch l := lenLen(n); l {
	case 1:
		return append(b, byte(n))
	default:
		b = append(b, 0x80|byte(l-1))
		for i := l - 2; i >= 0; i-- {
			b = append(b, byte(n>>(8*i)))
		}
		return b
	}
}

func appendTLV(b []byte, tag byte, content []byte) []byte {
	return append(appendHeader(b, tag, int64(len(content))), content...)
}

// listParams is everything in a CRL except its entries and signature.
type listParams struct {
	IssuerName []byte // the issuer certificate's RawSubject
	KeyID      []byte // the issuer's subjectKeyIdentifier, for the AKI
	ThisUpdate time.Time
	NextUpdate time.Time
	Number     int64
	// DPURIs, when set, make this a partition CRL: an
	// issuingDistributionPoint naming these URIs (the CRL DP of every
	// certificate in the partition), onlyContainsUserCerts.
	DPURIs []string
	// SigLen is the RSA signature length (the modulus size in bytes): a
	// PKCS#1 v1.5 signature is always exactly that long.
	SigLen int
}

// extensions returns the crlExtensions field, [0] EXPLICIT Extensions.
func (p listParams) extensions() []byte {
	var exts []byte
	// authorityKeyIdentifier (not critical; RFC 5280 §5.2.1 MUST).
	aki := appendTLV(nil, tagSequence, appendTLV(nil, 0x80, p.KeyID))
	exts = appendExt(exts, oidAuthorityKeyID, false, aki)
	// cRLNumber (not critical; §5.2.3 MUST), a non-negative INTEGER.
	num, _ := asn1.Marshal(p.Number)
	exts = appendExt(exts, oidCRLNumber, false, num)
	if len(p.DPURIs) > 0 {
		// issuingDistributionPoint (critical; §5.2.5): a partition CRL
		// covers only the certificates that name one of these URIs.
		var names []byte
		for _, u := range p.DPURIs {
			names = appendTLV(names, tagURI, []byte(u))
		}
		// distributionPoint [0] { fullName [0] IMPLICIT GeneralNames }:
		// a CHOICE is always explicitly tagged, so two [0] headers.
		dp := appendTLV(nil, tagContext0, appendTLV(nil, tagContext0, names))
		idp := appendTLV(nil, tagSequence, append(dp, tagContext1P, 0x01, 0xff))
		exts = appendExt(exts, oidIssuingDP, true, idp)
	}
	return appendTLV(nil, tagContext0, appendTLV(nil, tagSequence, exts))
}

func appendExt(b []byte, oid asn1.ObjectIdentifier, critical bool, value []byte) []byte {
	o, _ := asn1.Marshal(oid)
	var ext []byte
	ext = append(ext, o...)
	if critical {
		ext = append(ext, tagBoolean, 0x01, 0xff)
	}
	ext = appendTLV(ext, tagOctetString, value)
	return appendTLV(b, tagSequence, ext)
}

// layout holds the fixed parts of one CRL and its total length.
type layout struct {
	outerHeader []byte // CertificateList SEQUENCE header (not signed)
	tbsPrefix   []byte // TBSCertList header .. nextUpdate, + revokedCertificates header
	entriesLen  int64
	count       int64
	tbsSuffix   []byte // crlExtensions
	sigHeader   []byte // signatureAlgorithm + BIT STRING header + unused-bits byte
	sigLen      int
	total       int64 // bytes of the whole DER
}

func newLayout(p listParams, s sizes) (layout, error) {
	if p.SigLen <= 0 || len(p.KeyID) == 0 || len(p.IssuerName) == 0 || p.Number < 0 {
		return layout{}, errors.New("crl: incomplete CRL parameters")
	}
	if !p.NextUpdate.After(p.ThisUpdate) {
		return layout{}, errors.New("crl: nextUpdate must be after thisUpdate")
	}
	var fixed []byte
	fixed = append(fixed, versionV2...)
	fixed = append(fixed, algSHA256WithRSA...)
	fixed = append(fixed, p.IssuerName...)
	fixed = appendTime(fixed, p.ThisUpdate.Truncate(time.Second))
	fixed = appendTime(fixed, p.NextUpdate.Truncate(time.Second))
	el := s.entriesLen()
	if s.Count > 0 {
		// RFC 5280 §5.1.2.6: with no revoked certificates the list is
		// absent, not an empty SEQUENCE.
		fixed = appendHeader(fixed, tagSequence, el)
	} else if el != 0 {
		return layout{}, errors.New("crl: entry sizes without entries")
	}
	suffix := p.extensions()
	tbsContent := int64(len(fixed)) + el + int64(len(suffix))
	tbsLen := tlvLen(tbsContent)
	sigHeader := append([]byte(nil), algSHA256WithRSA...)
	sigHeader = appendHeader(sigHeader, tagBitString, int64(p.SigLen)+1)
	sigHeader = append(sigHeader, 0x00)
	outerContent := tbsLen + int64(len(sigHeader)) + int64(p.SigLen)
	l := layout{
		outerHeader: appendHeader(nil, tagSequence, outerContent),
		tbsPrefix:   append(appendHeader(nil, tagSequence, tbsContent), fixed...),
		entriesLen:  el,
		count:       s.Count,
		tbsSuffix:   suffix,
		sigHeader:   sigHeader,
		sigLen:      p.SigLen,
	}
	l.total = tlvLen(outerContent)
	return l, nil
}

// entrySource yields the entries of a CRL; the database cursor implements it.
type entrySource interface {
	// Next encodes the next entry onto b and returns the grown slice; ok is
	// false at the end.
	Next(b []byte) (out []byte, ok bool, err error)
}

// signFunc signs a SHA-256 digest of the TBSCertList.
type signFunc func(digest []byte) ([]byte, error)

// chunkSize is how much encoded DER is buffered before it is hashed and
// handed on: large enough that neither SHA-256 nor the pipe see tiny writes.
const chunkSize = 64 << 10

// writer hashes (while hashing is on) and forwards bytes in chunks.
type writer struct {
	w       io.Writer
	h       hash.Hash
	hashing bool
	buf     []byte
	n       int64
}

func (w *writer) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	if w.hashing {
		w.h.Write(w.buf)
	}
	_, err := w.w.Write(w.buf)
	w.n += int64(len(w.buf))
	w.buf = w.buf[:0]
	return err
}

func (w *writer) write(p []byte) error {
	w.buf = append(w.buf, p...)
	if len(w.buf) >= chunkSize {
		return w.flush()
	}
	return nil
}

// writeList writes the whole DER CertificateList to out. It fails, having
// written a truncated list, if src yields other entries than s announced;
// callers must then discard what was written (the COPY is aborted).
func writeList(out io.Writer, l layout, src entrySource, sign signFunc) (written int64, err error) {
	w := &writer{w: out, h: sha256.New(), buf: make([]byte, 0, chunkSize+maxEntryContent+2)}
	if err := w.write(l.outerHeader); err != nil {
		return w.n, err
	}
	if err := w.flush(); err != nil {
		return w.n, err
	}
	w.hashing = true
	if err := w.write(l.tbsPrefix); err != nil {
		return w.n, err
	}
	var count, bytes int64
	for {
		before := len(w.buf)
		var ok bool
		w.buf, ok, err = src.Next(w.buf)
		if err != nil {
			return w.n, err
		}
		if !ok {
			break
		}
		count++
		bytes += int64(len(w.buf) - before)
		if count > l.count || bytes > l.entriesLen {
			return w.n, fmt.Errorf("crl: more entries than counted (%d announced): the data changed under the snapshot", l.count)
		}
		if len(w.buf) >= chunkSize {
			if err := w.flush(); err != nil {
				return w.n, err
			}
		}
	}
	if count != l.count || bytes != l.entriesLen {
		return w.n, fmt.Errorf("crl: %d entries of %d bytes written, %d of %d announced", count, bytes, l.count, l.entriesLen)
	}
	if err := w.write(l.tbsSuffix); err != nil {
		return w.n, err
	}
	if err := w.flush(); err != nil {
		return w.n, err
	}
	w.hashing = false
	sig, err := sign(w.h.Sum(nil))
	if err != nil {
		return w.n, err
	}
	if len(sig) != l.sigLen {
		return w.n, fmt.Errorf("crl: signature of %d bytes, want %d", len(sig), l.sigLen)
	}
	if err := w.write(l.sigHeader); err != nil {
		return w.n, err
	}
	if err := w.write(sig); err != nil {
		return w.n, err
	}
	if err := w.flush(); err != nil {
		return w.n, err
	}
	if w.n != l.total {
		return w.n, fmt.Errorf("crl: wrote %d bytes, layout said %d", w.n, l.total)
	}
	return w.n, nil
}
