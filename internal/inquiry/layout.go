package inquiry

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A4 portrait in points, and the letter's margins.
const (
	pageW        = 595.28
	pageH        = 841.89
	marginL      = 56.0
	marginR      = 56.0
	contentW     = pageW - marginL - marginR
	topY         = 800.0
	bottomY      = 52.0
	footerY      = 28.0
	placeholderR = '〓' // the conventional mark for a character that cannot be printed
)

// style is a face at a size.
type style struct {
	face face
	size float64
}

// layout lays the letter out top-down on pages, breaking to a new page
// when a block does not fit.
type layout struct {
	pages [][]byte
	cur   *bytes.Buffer
	y     float64
	used  map[fontKey]map[rune]bool
}

func newLayout() *layout {
	l := &layout{used: map[fontKey]map[rune]bool{}}
	l.newPage()
	return l
}

func (l *layout) newPage() {
	if l.cur != nil {
		l.pages = append(l.pages, l.cur.Bytes())
	}
	l.cur = &bytes.Buffer{}
	l.y = topY
}

// finish closes the last page and returns every page's content stream.
func (l *layout) finish() [][]byte {
	l.pages = append(l.pages, l.cur.Bytes())
	l.cur = nil
	return l.pages
}

// need starts a new page unless h points still fit above the bottom margin.
func (l *layout) need(h float64) {
	if l.y-h < bottomY {
		l.newPage()
	}
}

// num formats a coordinate compactly.
func num(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// cleanText makes text printable: control characters become spaces,
// variation selectors and byte-order marks are dropped (the fonts do not
// select glyph variants through these CMaps) and invalid UTF-8 becomes 〓.
func cleanText(s string) string {
	var b strings.Builder
	for i, w := 0, 0; i < len(s); i += w {
		r, size := utf8.DecodeRuneInString(s[i:])
		w = size
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune(placeholderR)
		case r == '\uFEFF', r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0100 && r <= 0xE01EF, r == 0x200B, r == 0x200D:
		case unicode.IsControl(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// runeWidth is a character's advance in thousandths of the font size:
// ASCII and half-width katakana are half-width, everything else full.
func runeWidth(r rune) float64 {
	if (r >= 0x20 && r <= 0x7E) || (r >= 0xFF61 && r <= 0xFF9F) {
		return 500
	}
	return 1000
}

// textWidth is the advance of s at size, with extra spacing tc between
// characters.
func textWidth(s string, size, tc float64) float64 {
	w, n := 0.0, 0
	for _, r := range s {
		w += runeWidth(r)
		n++
	}
	return w*size/1000 + tc*float64(n)
}

// show writes s at (x, y) in st, switching to the UTF-16 font resource for
// characters beyond the BMP. tc is extra character spacing. ASCII spaces
// are not drawn as glyphs but as a half-width move inside TJ: the
// half-width space's glyph is missing from some substitute fonts, which
// then draw a box.
func (l *layout) show(x, y float64, st style, tc float64, s string) {
	s = cleanText(s)
	if strings.TrimSpace(s) == "" {
		return
	}
	fmt.Fprintf(l.cur, "BT %s %s Td", num(x), num(y))
	if tc != 0 {
		fmt.Fprintf(l.cur, " %s Tc", num(tc))
	}
	var run []rune
	cur := fontKey{face: st.face, wide: false}
	open := false // inside a TJ array
	flushRun := func() {
		if len(run) == 0 {
			return
		}
		l.cur.WriteString(hexUTF16(string(run)))
		run = run[:0]
	}
	start := func(k fontKey) {
		if open {
			flushRun()
			l.cur.WriteString("] TJ")
		}
		cur = k
		if l.used[k] == nil {
			l.used[k] = map[rune]bool{}
		}
		fmt.Fprintf(l.cur, " /%s %s Tf [", k.resource(), num(st.size))
		open = true
	}
	for _, r := range s {
		if r == ' ' {
			if !open {
				start(cur)
			}
			flushRun()
			l.cur.WriteString(" -500 ")
			continue
		}
		if k := (fontKey{face: st.face, wide: r > 0xFFFF}); !open || k != cur {
			start(k)
		}
		l.used[cur][r] = true
		run = append(run, r)
	}
	flushRun()
	l.cur.WriteString("] TJ")
	if tc != 0 {
		l.cur.WriteString(" 0 Tc") // Tc outlives ET: reset it
	}
	l.cur.WriteString(" ET\n")
}

// text writes one line at x on the current line position y.
func (l *layout) text(x, y float64, st style, s string) { l.show(x, y, st, 0, s) }

// textRight writes s ending at the right margin.
func (l *layout) textRight(y float64, st style, s string) {
	l.show(pageW-marginR-textWidth(cleanText(s), st.size, 0), y, st, 0, s)
}

// textCenter writes s centred on the page.
func (l *layout) textCenter(y float64, st style, s string) {
	l.show((pageW-textWidth(cleanText(s), st.size, 0))/2, y, st, 0, s)
}

// rect strokes a rectangle.
func (l *layout) rect(x, y, w, h, lw float64) {
	fmt.Fprintf(l.cur, "%s w %s %s %s %s re S\n", num(lw), num(x), num(y), num(w), num(h))
}

// fill fills a rectangle in the gray level g (0 black, 1 white).
func (l *layout) fill(x, y, w, h, g float64) {
	fmt.Fprintf(l.cur, "%s g %s %s %s %s re f 0 g\n", num(g), num(x), num(y), num(w), num(h))
}

// line strokes a line, dashed when dash is set.
func (l *layout) line(x1, y1, x2, y2, lw float64, dash bool) {
	if dash {
		l.cur.WriteString("[4 3] 0 d ")
	}
	fmt.Fprintf(l.cur, "%s w %s %s m %s %s l S", num(lw), num(x1), num(y1), num(x2), num(y2))
	if dash {
		l.cur.WriteString(" [] 0 d")
	}
	l.cur.WriteByte('\n')
}

// paragraph writes s wrapped to width from x, starting one line below the
// cursor, and moves the cursor past it; lines break across pages.
func (l *layout) paragraph(x, width float64, st style, leading float64, s string) {
	for _, ln := range wrap(cleanText(s), st.size, width) {
		l.need(leading)
		l.y -= leading
		l.text(x, l.y, st, ln)
	}
}

// item writes a list item: the marker, then the text wrapped with a
// hanging indent under the text.
func (l *layout) item(x, width float64, st style, leading float64, marker, s string) {
	indent := textWidth(marker, st.size, 0)
	for i, ln := range wrap(cleanText(s), st.size, width-indent) {
		l.need(leading)
		l.y -= leading
		if i == 0 {
			l.text(x, l.y, st, marker)
		}
		l.text(x+indent, l.y, st, ln)
	}
}

// noLineStart are characters that must not begin a line (行頭禁則).
const noLineStart = "、。，．,.)）」』】〕〉》］｝〙〗ー・：；？！ゝゞぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ％"

// noLineEnd are characters that must not end a line (行末禁則).
const noLineEnd = "(（「『【〔〈《［｛〘〖"

// wrap breaks s into lines no wider than width at size: between any two
// Japanese characters, between ASCII words (a word longer than a line is
// cut), hanging closing punctuation and carrying opening brackets over.
func wrap(s string, size, width float64) []string {
	var tokens []string
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r > ' ' && r <= '~' { // an ASCII word
			j := i
			for j < len(s) && s[j] > ' ' && s[j] <= '~' {
				j++
			}
			word := s[i:j]
			for textWidth(word, size, 0) > width && len(word) > 1 {
				cut := int(width * 1000 / size / 500)
				cut = max(1, min(cut, len(word)-1))
				tokens = append(tokens, word[:cut])
				word = word[cut:]
			}
			tokens = append(tokens, word)
			i = j
			continue
		}
		tokens = append(tokens, s[i:i+n])
		i += n
	}
	var lines []string
	var cur []string
	curW := 0.0
	emit := func() {
		ln := strings.TrimRight(strings.Join(cur, ""), " 　")
		lines = append(lines, ln)
		cur, curW = nil, 0
	}
	for _, t := range tokens {
		w := textWidth(t, size, 0)
		if len(cur) == 0 && len(lines) > 0 && (t == " " || t == "　") {
			continue // no space at the start of a continued line
		}
		if curW+w > width && len(cur) > 0 && !oneOf(noLineStart, t) {
			var carry []string
			if last := cur[len(cur)-1]; oneOf(noLineEnd, last) && len(cur) > 1 {
				carry = []string{last}
				cur = cur[:len(cur)-1]
			}
			emit()
			for _, c := range carry {
				cur = append(cur, c)
				curW += textWidth(c, size, 0)
			}
			if t == " " || t == "　" {
				continue
			}
		}
		cur = append(cur, t)
		curW += w
	}
	if len(cur) > 0 {
		emit()
	}
	if len(lines) == 0 {
		lines = []string{""}
	}
	return lines
}

// oneOf reports whether token t is a single character of set.
func oneOf(set, t string) bool {
	r, n := utf8.DecodeRuneInString(t)
	return n == len(t) && n > 0 && strings.ContainsRune(set, r)
}
