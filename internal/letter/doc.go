// Package letter writes the back office's letters as PDF/A-2b files: A4
// pages laid out top-down, Japanese text in subsets of the IPAex fonts
// embedded in the file (TrueType, CIDFontType2, Identity-H, with a
// ToUnicode map so the text extracts exactly), XMP metadata and an sRGB
// OutputIntent. The inquiry letter (internal/inquiry) is the first user;
// the revocation, disclosure, extension and expiry letters reuse it.
//
// The writer is hand-written, with no PDF library: the same letter always
// renders to the same bytes, and every object is under our control, which
// PDF/A needs. docs/INQUIRY.md describes it.
package letter

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A4 portrait in points, and the letters' margins.
const (
	PageW    = 595.28
	PageH    = 841.89
	MarginL  = 56.0
	MarginR  = 56.0
	ContentW = PageW - MarginL - MarginR
	TopY     = 800.0
	BottomY  = 52.0
	FooterY  = 28.0
)

// Style is a face at a size in points.
type Style struct {
	Face Face
	Size float64
}

// Doc is a letter being laid out: pages, the cursor Y (the baseline of the
// last line, moving down), and the fonts with the characters drawn so far.
type Doc struct {
	// Y is the cursor: paragraphs are written below it and move it down.
	Y     float64
	fonts [2]*fontUse
	pages []*bytes.Buffer
	cur   *bytes.Buffer
}

// New starts a letter on its first page. It fails with ErrFontMissing
// when the fonts are not installed.
func New() (*Doc, error) {
	d := &Doc{}
	for _, f := range []Face{Gothic, Mincho} {
		t, err := loadFace(f)
		if err != nil {
			return nil, err
		}
		d.fonts[f] = newFontUse(f, t)
	}
	d.NewPage()
	return d, nil
}

// Scratch returns an empty document with the same fonts, for measuring a
// block by laying it out once (nothing drawn there reaches this letter).
func (d *Doc) Scratch() *Doc {
	s := &Doc{}
	for i, u := range d.fonts {
		s.fonts[i] = newFontUse(u.face, u.font)
	}
	s.NewPage()
	return s
}

// NewPage starts a new page with the cursor at the top.
func (d *Doc) NewPage() {
	d.cur = &bytes.Buffer{}
	d.pages = append(d.pages, d.cur)
	d.Y = TopY
}

// Pages is the number of pages so far.
func (d *Doc) Pages() int { return len(d.pages) }

// EachPage calls fn on every page in turn, drawing on that page: for
// footers, once the page count is known.
func (d *Doc) EachPage(fn func(page, total int)) {
	cur, y := d.cur, d.Y
	for i, p := range d.pages {
		d.cur = p
		fn(i+1, len(d.pages))
	}
	d.cur, d.Y = cur, y
}

// Need starts a new page unless h points still fit above the bottom margin.
func (d *Doc) Need(h float64) {
	if d.Y-h < BottomY {
		d.NewPage()
	}
}

// Bytes writes the finished letter.
func (d *Doc) Bytes(m Meta) ([]byte, error) { return d.assemble(m) }

// CleanText makes text printable: control characters become spaces;
// variation selectors, zero-width characters and byte-order marks are
// dropped (the writer does not select glyph variants); invalid UTF-8
// becomes 〓.
func CleanText(s string) string {
	var b strings.Builder
	for i, w := 0, 0; i < len(s); i += w {
		r, size := utf8.DecodeRuneInString(s[i:])
		w = size
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune(placeholder)
		case r == '\uFEFF', r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0100 && r <= 0xE01EF, r == 0x200B, r == 0x200D:
		case unicode.IsControl(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Width is the advance of s in st, with extra spacing tc after each
// character, from the font's own widths.
func (d *Doc) Width(s string, st Style, tc float64) float64 {
	u := d.fonts[st.Face]
	w, n := 0.0, 0
	for _, r := range CleanText(s) {
		w += u.width(r)
		n++
	}
	return w*st.Size/1000 + tc*float64(n)
}

// Show writes s with its baseline starting at (x, y) in st; tc is extra
// spacing after each character.
func (d *Doc) Show(x, y float64, st Style, tc float64, s string) {
	s = CleanText(s)
	if strings.TrimSpace(s) == "" {
		return
	}
	u := d.fonts[st.Face]
	fmt.Fprintf(d.cur, "BT /%s %s Tf %s %s Td", resourceName(st.Face), num(st.Size), num(x), num(y))
	if tc != 0 {
		fmt.Fprintf(d.cur, " %s Tc", num(tc))
	}
	d.cur.WriteString(" <")
	for _, r := range s {
		fmt.Fprintf(d.cur, "%04X", u.cid(r))
	}
	d.cur.WriteString("> Tj")
	if tc != 0 {
		d.cur.WriteString(" 0 Tc") // Tc outlives ET: reset it
	}
	d.cur.WriteString(" ET\n")
}

// Text writes one line at x with its baseline at y.
func (d *Doc) Text(x, y float64, st Style, s string) { d.Show(x, y, st, 0, s) }

// TextRight writes s ending at the right margin.
func (d *Doc) TextRight(y float64, st Style, s string) {
	d.Show(PageW-MarginR-d.Width(s, st, 0), y, st, 0, s)
}

// TextCenter writes s centred on the page.
func (d *Doc) TextCenter(y float64, st Style, s string) {
	d.Show((PageW-d.Width(s, st, 0))/2, y, st, 0, s)
}

// Rect strokes a rectangle with line width lw.
func (d *Doc) Rect(x, y, w, h, lw float64) {
	fmt.Fprintf(d.cur, "%s w %s %s %s %s re S\n", num(lw), num(x), num(y), num(w), num(h))
}

// Fill fills a rectangle in the gray level g (0 black, 1 white).
func (d *Doc) Fill(x, y, w, h, g float64) {
	fmt.Fprintf(d.cur, "%s g %s %s %s %s re f 0 g\n", num(g), num(x), num(y), num(w), num(h))
}

// Line strokes a line, dashed when dash is set.
func (d *Doc) Line(x1, y1, x2, y2, lw float64, dash bool) {
	if dash {
		d.cur.WriteString("[4 3] 0 d ")
	}
	fmt.Fprintf(d.cur, "%s w %s %s m %s %s l S", num(lw), num(x1), num(y1), num(x2), num(y2))
	if dash {
		d.cur.WriteString(" [] 0 d")
	}
	d.cur.WriteByte('\n')
}

// Paragraph writes s wrapped to width from x, starting one line below the
// cursor, and moves the cursor past it; lines break across pages.
func (d *Doc) Paragraph(x, width float64, st Style, leading float64, s string) {
	for _, ln := range d.Wrap(s, st, width) {
		d.Need(leading)
		d.Y -= leading
		d.Text(x, d.Y, st, ln)
	}
}

// Item writes a list item: the marker, then the text wrapped with a
// hanging indent under the text.
func (d *Doc) Item(x, width float64, st Style, leading float64, marker, s string) {
	indent := d.Width(marker, st, 0)
	for i, ln := range d.Wrap(s, st, width-indent) {
		d.Need(leading)
		d.Y -= leading
		if i == 0 {
			d.Text(x, d.Y, st, marker)
		}
		d.Text(x+indent, d.Y, st, ln)
	}
}

// Wrap breaks s into lines no wider than width in st.
func (d *Doc) Wrap(s string, st Style, width float64) []string {
	return wrap(CleanText(s), width, func(t string) float64 { return d.Width(t, st, 0) })
}
