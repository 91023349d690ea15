package inquiry

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
)

// The letter's fonts are Adobe's standard Japanese fonts, not embedded:
// every Japanese PDF viewer has them or a substitute (poppler maps them to
// an installed Japanese font through poppler-data), and a letter with
// embedded subsets would need font files this project does not ship.
//
// Text is encoded with UniJIS-UCS2-HW-H: the UniJIS-UCS2-H encoding whose
// ASCII maps to the half-width glyphs (CIDs 231-632 of Adobe-Japan1), which
// are 500 units wide in every Japan1 font. Their widths are therefore known
// without the font, so centring and the boxes around the reply code are
// exact, and the code is set in evenly spaced letters. Characters outside
// the BMP (some registered names) cannot be written in UCS-2; they are
// drawn with a second font resource using UniJIS-UTF16-H (PDF 1.5), added
// only when a letter needs it.

// face is a typeface of the letter.
type face int

const (
	gothic face = iota // headings, the code: HeiseiKakuGo-W5
	mincho             // body text: KozMinPro-Regular
)

// fontDef is one non-embedded CIDFontType0 with its descriptor.
type fontDef struct {
	base       string
	supplement int
	descriptor string
}

var fontDefs = map[face]fontDef{
	gothic: {"HeiseiKakuGo-W5", 2,
		"/Flags 4 /FontBBox [-92 -250 1010 922] /ItalicAngle 0 /Ascent 752 /Descent -221 /CapHeight 737 /XHeight 553 /StemV 114"},
	mincho: {"KozMinPro-Regular", 4,
		"/Flags 6 /FontBBox [-195 -272 1110 1075] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 740 /XHeight 502 /StemV 86"},
}

// The CMaps: one for BMP text, one for characters beyond it.
const (
	cmapBMP  = "UniJIS-UCS2-HW-H"
	cmapWide = "UniJIS-UTF16-H"
)

// fontKey names a font resource: a face with one of the two CMaps.
type fontKey struct {
	face face
	wide bool // UTF-16 (non-BMP) variant
}

func (k fontKey) resource() string {
	name := [...]string{gothic: "G", mincho: "M"}[k.face]
	if k.wide {
		name += "X"
	}
	return name
}

// widths: half-width ASCII (231-325), the rest of the half-width range,
// and the half-width backslash pair; everything else is DW 1000.
const cidWidths = "[231 632 500 8718 [500 500]]"

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

// addStream adds a Flate-compressed stream object.
func (w *pdfWriter) addStream(data []byte) (int, error) {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	if _, err := zw.Write(data); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "<< /Length %d /Filter /FlateDecode >>\nstream\n", z.Len())
	b.Write(z.Bytes())
	b.WriteString("\nendstream")
	n := w.reserve()
	w.objs[n-1] = b.Bytes()
	return n, nil
}

// bytes writes the whole file: header, objects, xref, trailer.
func (w *pdfWriter) bytes(version string, root, info int) ([]byte, error) {
	var b bytes.Buffer
	// The comment of high bytes tells transfer tools the file is binary.
	b.WriteString("%PDF-" + version + "\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(w.objs))
	for i, o := range w.objs {
		if o == nil {
			return nil, fmt.Errorf("inquiry: pdf object %d never written", i+1)
		}
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n", i+1)
		b.Write(o)
		b.WriteString("\nendobj\n")
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n", len(w.objs)+1)
	// Each entry is exactly 20 bytes, the end of line being " \n".
	b.WriteString("0000000000 65535 f \n")
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n",
		len(w.objs)+1, root, info, xref)
	return b.Bytes(), nil
}

// hexUTF16 encodes s as a PDF hex string of UTF-16BE code units, which is
// how text shows under the UniJIS-UCS2/UTF16 CMaps.
func hexUTF16(s string) string {
	var b strings.Builder
	b.WriteByte('<')
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteByte('>')
	return b.String()
}

// HexUTF16 returns s as it appears in the letter's content streams: an
// upper-case hex string of UTF-16BE code units, without the angle brackets.
// Tests use it to find a text in a rendered letter.
func HexUTF16(s string) string {
	h := hexUTF16(s)
	return h[1 : len(h)-1]
}

// infoText encodes a document-information string as UTF-16BE with a BOM.
func infoText(s string) string {
	return "<FEFF" + HexUTF16(s) + ">"
}

// toUnicodeCMap maps the codes a font resource used back to Unicode. The
// codes are UTF-16 code units, so the map is the identity, but without it
// extractors go through the CID and turn an ASCII hyphen into U+2011 and a
// space into U+00A0: a case number copied from the letter would not match.
func toUnicodeCMap(runes map[rune]bool) []byte {
	keys := make([]rune, 0, len(runes))
	for r := range runes {
		keys = append(keys, r)
	}
	slices.Sort(keys)
	var b bytes.Buffer
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n" +
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n" +
		"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	for len(keys) > 0 {
		n := min(len(keys), 100) // at most 100 entries per block
		fmt.Fprintf(&b, "%d beginbfchar\n", n)
		for _, r := range keys[:n] {
			h := hexUTF16(string(r))
			fmt.Fprintf(&b, "%s %s\n", h, h)
		}
		b.WriteString("endbfchar\n")
		keys = keys[n:]
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	return b.Bytes()
}

var countRE = regexp.MustCompile(`/Type /Pages /Kids \[[^\]]*\] /Count (\d+)`)

// ErrNotALetter is returned by PageCount for bytes RenderPDF did not make.
var ErrNotALetter = errors.New("inquiry: not a letter rendered by RenderPDF")

// PageCount returns the number of pages of a letter made by RenderPDF.
func PageCount(pdf []byte) (int, error) {
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return 0, ErrNotALetter
	}
	m := countRE.FindSubmatch(pdf)
	if m == nil {
		return 0, ErrNotALetter
	}
	n, err := strconv.Atoi(string(m[1]))
	if err != nil || n < 1 {
		return 0, ErrNotALetter
	}
	return n, nil
}
