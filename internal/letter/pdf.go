package letter

import (
	"bytes"
	"compress/zlib"
	"crypto/md5"
	"crypto/sha256"
	_ "embed"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf16"
)

// srgbICC is the sRGB profile of the letters' PDF/A OutputIntent: Debian's
// icc-profiles-free sRGB.icc (ICC v2, zlib licence, see NOTICE in this
// directory), kept here so a letter never depends on a profile installed at
// run time.
//
//go:embed sRGB.icc
var srgbICC []byte

// pdfVersion is the file's version: PDF/A-2 is based on PDF 1.7.
const pdfVersion = "1.7"

// pdfWriter assembles numbered objects and writes the file with a
// cross-reference table whose offsets are computed from the bytes written.
type pdfWriter struct {
	objs [][]byte // objs[i] is object i+1
}

// reserve allocates an object number to be filled later (for forward
// references such as a page's parent).
func (w *pdfWriter) reserve() int {
	w.objs = append(w.objs, nil)
	return len(w.objs)
}

func (w *pdfWriter) set(n int, body string) { w.objs[n-1] = []byte(body) }

func (w *pdfWriter) add(body string) int {
	n := w.reserve()
	w.set(n, body)
	return n
}

// addStream adds a Flate-compressed stream object; extra goes into its
// dictionary.
func (w *pdfWriter) addStream(data []byte, extra string) (int, error) {
	var z bytes.Buffer
	zw, err := zlib.NewWriterLevel(&z, zlib.BestCompression)
	if err != nil {
		return 0, err
	}
	if _, err := zw.Write(data); err != nil {
		return 0, fmt.Errorf("letter: compress: %w", err)
	}
	if err := zw.Close(); err != nil {
		return 0, fmt.Errorf("letter: compress: %w", err)
	}
	return w.addRawStream(z.Bytes(), "/Filter /FlateDecode"+extra), nil
}

// addRawStream adds a stream stored as it is.
func (w *pdfWriter) addRawStream(data []byte, extra string) int {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<< /Length %d %s >>\nstream\n", len(data), strings.TrimSpace(extra))
	b.Write(data)
	b.WriteString("\nendstream")
	n := w.reserve()
	w.objs[n-1] = b.Bytes()
	return n
}

// bytes writes the whole file: header, objects, xref, trailer. The file
// identifier is a digest of the objects, so the same letter gives the same
// bytes.
func (w *pdfWriter) bytes(root, info int) ([]byte, error) {
	var b bytes.Buffer
	// The comment of high bytes tells transfer tools the file is binary.
	b.WriteString("%PDF-" + pdfVersion + "\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(w.objs))
	for i, o := range w.objs {
		if o == nil {
			return nil, fmt.Errorf("letter: pdf object %d never written", i+1)
		}
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n", i+1)
		b.Write(o)
		b.WriteString("\nendobj\n")
	}
	id := md5.Sum(b.Bytes())
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n", len(w.objs)+1)
	// Each entry is exactly 20 bytes, the end of line being " \n".
	b.WriteString("0000000000 65535 f \n")
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%X> <%X>] >>\nstartxref\n%d\n%%%%EOF\n",
		len(w.objs)+1, root, info, id, id, xref)
	return b.Bytes(), nil
}

// textString encodes a document-information string as UTF-16BE with a BOM.
func textString(s string) string {
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteByte('>')
	return b.String()
}

// num formats a coordinate compactly.
func num(f float64) string {
	s := fmt.Sprintf("%.3f", f)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		return "0"
	}
	return s
}

// fontUse is one face as a document uses it. Each character drawn gets its
// own CID, even where two share a glyph, so that the ToUnicode map gives
// every character back exactly. A BMP character's CID is its UTF-16 code
// unit, so the content streams hold UTF-16BE text, as a reader without the
// ToUnicode map (or a test) can decode; a character beyond the BMP gets a
// free CID from the Private Use Area (U+E000 on), in the order drawn.
type fontUse struct {
	face  Face
	font  *ttf
	cids  map[rune]uint16
	chars map[uint16]rune // CID → character
}

func newFontUse(f Face, t *ttf) *fontUse {
	return &fontUse{face: f, font: t, cids: map[rune]uint16{}, chars: map[uint16]rune{}}
}

// placeholder is drawn for a character the font has no glyph for (PDF/A
// forbids drawing .notdef): 〓, the conventional mark for a character that
// cannot be printed. The ToUnicode map still gives the character back.
const placeholder = '〓'

func (u *fontUse) glyphOf(r rune) uint16 {
	if g, ok := u.font.cmap[r]; ok && g != 0 {
		return g
	}
	return u.font.cmap[placeholder]
}

// has reports whether the font draws r itself.
func (u *fontUse) has(r rune) bool {
	g, ok := u.font.cmap[r]
	return ok && g != 0
}

func (u *fontUse) cid(r rune) uint16 {
	if c, ok := u.cids[r]; ok {
		return c
	}
	c := uint16(r)
	if _, taken := u.chars[c]; taken || r > 0xFFFF || r == 0 {
		for c = 0xE000; ; c++ {
			if _, taken := u.chars[c]; !taken && c != 0 {
				break
			}
		}
	}
	u.cids[r], u.chars[c] = c, r
	return c
}

// sortedCIDs lists the CIDs used, in order.
func (u *fontUse) sortedCIDs() []uint16 {
	out := make([]uint16, 0, len(u.chars))
	for c := range u.chars {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// width is r's advance in thousandths of the font size, rounded as /W
// writes it, so that layout and viewer agree.
func (u *fontUse) width(r rune) float64 {
	return math.Round(float64(u.font.advances[u.glyphOf(r)]) * 1000 / float64(u.font.unitsPerEm))
}

func (u *fontUse) scale(v int16) int {
	return int(math.Round(float64(v) * 1000 / float64(u.font.unitsPerEm)))
}

// embed writes the font's objects (Type0 font, CIDFontType2, descriptor,
// subset font program, CIDToGIDMap, ToUnicode) and returns the Type0 font.
func (u *fontUse) embed(w *pdfWriter) (int, error) {
	cids := u.sortedCIDs()
	used := map[uint16]bool{}
	chars := map[rune]uint16{}
	var drawn []rune
	for _, c := range cids {
		r := u.chars[c]
		drawn = append(drawn, r)
		used[u.glyphOf(r)] = true
		if u.has(r) {
			chars[r] = u.glyphOf(r)
		}
	}
	program, err := u.font.subset(used, chars)
	if err != nil {
		return 0, fmt.Errorf("letter: subset %s: %w", u.face, err)
	}
	// The subset tag: six capitals from a digest of what the subset holds.
	sum := sha256.Sum256([]byte(u.face.String() + string(drawn)))
	tag := make([]byte, 6)
	for i := range tag {
		tag[i] = 'A' + sum[i]%26
	}
	name := string(tag) + "+" + u.font.psName

	file, err := u.addFontFile(w, program)
	if err != nil {
		return 0, err
	}
	flags := 4 // symbolic: the glyphs are reached through the CIDToGIDMap
	if u.face == Mincho {
		flags |= 2 // serif
	}
	if u.font.fixedPitch {
		flags |= 1
	}
	b := u.font.bbox
	desc := w.add(fmt.Sprintf("<< /Type /FontDescriptor /FontName /%s /Flags %d /FontBBox [%d %d %d %d] /ItalicAngle %s /Ascent %d /Descent %d /CapHeight %d /StemV 80 /FontFile2 %d 0 R >>",
		name, flags, u.scale(b[0]), u.scale(b[1]), u.scale(b[2]), u.scale(b[3]), num(float64(u.font.italic)/65536),
		u.scale(u.font.ascent), u.scale(u.font.descent), u.scale(u.font.capHeight), file))

	// CIDs not drawn map to glyph 0; the map compresses to little.
	gidMap := make([]byte, 2*(int(cids[len(cids)-1])+1))
	var widths strings.Builder
	for i, c := range cids {
		binary.BigEndian.PutUint16(gidMap[2*int(c):], u.glyphOf(u.chars[c]))
		// Runs of consecutive CIDs share one array: "c [w1 w2 …]".
		switch {
		case i == 0:
			fmt.Fprintf(&widths, "%d [", c)
		case c != cids[i-1]+1:
			fmt.Fprintf(&widths, "] %d [", c)
		default:
			widths.WriteByte(' ')
		}
		fmt.Fprintf(&widths, "%d", int(u.width(u.chars[c])))
	}
	widths.WriteByte(']')
	cidMap, err := w.addStream(gidMap, "")
	if err != nil {
		return 0, err
	}
	cidFont := w.add(fmt.Sprintf("<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor %d 0 R /DW 1000 /W [%s] /CIDToGIDMap %d 0 R >>",
		name, desc, widths.String(), cidMap))
	toUnicode, err := w.addStream(u.toUnicode(), "")
	if err != nil {
		return 0, err
	}
	return w.add(fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>",
		name, cidFont, toUnicode)), nil
}

func (u *fontUse) addFontFile(w *pdfWriter, program []byte) (int, error) {
	return w.addStream(program, fmt.Sprintf(" /Length1 %d", len(program)))
}

// toUnicode maps each CID back to its character, so text copied or
// extracted from a letter is the text that was drawn, characters beyond
// the BMP included (as surrogate pairs).
func (u *fontUse) toUnicode() []byte {
	var b bytes.Buffer
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n" +
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n" +
		"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	cids := u.sortedCIDs()
	for start := 0; start < len(cids); start += 100 { // at most 100 entries per block
		end := min(start+100, len(cids))
		fmt.Fprintf(&b, "%d beginbfchar\n", end-start)
		for _, cid := range cids[start:end] {
			fmt.Fprintf(&b, "<%04X> <", cid)
			for _, c := range utf16.Encode([]rune{u.chars[cid]}) {
				fmt.Fprintf(&b, "%04X", c)
			}
			b.WriteString(">\n")
		}
		b.WriteString("endbfchar\n")
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	return b.Bytes()
}

// Meta is a letter's document information, kept twice as PDF/A requires:
// in the Info dictionary and in the XMP metadata. Both are readable outside
// the compressed pages, so they carry no personal data.
type Meta struct {
	Title   string    // e.g. the letter's kind and case number
	Creator string    // the part of madoguchi that made it
	Created time.Time // the letter's date
}

const producer = "madoguchi"

// xmp is the metadata packet: the PDF/A-2b identification and the same
// title, tool, producer and date as the Info dictionary.
func xmp(m Meta) []byte {
	esc := func(s string) string {
		var b bytes.Buffer
		for _, r := range s {
			switch r {
			case '&':
				b.WriteString("&amp;")
			case '<':
				b.WriteString("&lt;")
			case '>':
				b.WriteString("&gt;")
			case '"':
				b.WriteString("&quot;")
			default:
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	created := m.Created.In(tokyo).Format("2006-01-02T15:04:05-07:00")
	return []byte(`<?xpacket begin="` + "\uFEFF" + `" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdfaid:part>2</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">` + esc(m.Title) + `</rdf:li></rdf:Alt></dc:title>
   <xmp:CreatorTool>` + esc(m.Creator) + `</xmp:CreatorTool>
   <xmp:CreateDate>` + created + `</xmp:CreateDate>
   <pdf:Producer>` + producer + `</pdf:Producer>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>`)
}

// assemble writes the file: catalog with the XMP metadata and the sRGB
// OutputIntent, page tree, fonts, pages and the document information.
func (d *Doc) assemble(m Meta) ([]byte, error) {
	var w pdfWriter
	catalog := w.reserve()
	pagesObj := w.reserve()
	info := w.add(fmt.Sprintf("<< /Title %s /Creator %s /Producer (%s) /CreationDate (D:%s) >>",
		textString(m.Title), textString(m.Creator), producer, pdfDate(m.Created)))
	meta := w.addRawStream(xmp(m), "/Type /Metadata /Subtype /XML") // PDF/A: metadata unfiltered
	icc, err := w.addStream(srgbICC, " /N 3")
	if err != nil {
		return nil, err
	}
	intent := w.add(fmt.Sprintf("<< /Type /OutputIntent /S /GTS_PDFA1 /OutputConditionIdentifier (sRGB IEC61966-2.1) /RegistryName (http://www.color.org) /Info (sRGB IEC61966-2.1) /DestOutputProfile %d 0 R >>", icc))

	var fonts strings.Builder
	fonts.WriteString("<<")
	for _, u := range d.fonts {
		if u == nil || len(u.chars) == 0 {
			continue
		}
		f, err := u.embed(&w)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&fonts, " /%s %d 0 R", resourceName(u.face), f)
	}
	fonts.WriteString(" >>")

	kids := make([]string, 0, len(d.pages))
	for _, content := range d.pages {
		c, err := w.addStream(content.Bytes(), "")
		if err != nil {
			return nil, err
		}
		p := w.add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] /Resources << /Font %s /ProcSet [/PDF /Text] >> /Contents %d 0 R >>",
			pagesObj, num(PageW), num(PageH), fonts.String(), c))
		kids = append(kids, fmt.Sprintf("%d 0 R", p))
	}
	w.set(pagesObj, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(d.pages)))
	w.set(catalog, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R /Metadata %d 0 R /OutputIntents [%d 0 R] /Lang (ja-JP) >>", pagesObj, meta, intent))
	return w.bytes(catalog, info)
}

func pdfDate(t time.Time) string { return t.In(tokyo).Format("20060102150405-07'00'") }

// resourceName is a face's font resource on the pages.
func resourceName(f Face) string {
	return [...]string{Gothic: "G", Mincho: "M"}[f]
}
