package letter_test

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/letter"
	"github.com/madoguchi/madoguchi/internal/letter/lettertest"
	"github.com/madoguchi/madoguchi/internal/validity"
)

var (
	body    = letter.Style{Face: letter.Mincho, Size: 10}
	heading = letter.Style{Face: letter.Gothic, Size: 14}
)

// sample is a small letter with both faces, ASCII, kana, kanji, an
// ideographic space and a character beyond the fonts (𠮷).
func sample(t *testing.T) []byte {
	t.Helper()
	lettertest.RequireFonts(t)
	doc, err := letter.New()
	if err != nil {
		t.Fatal(err)
	}
	doc.TextCenter(doc.Y, heading, "電子証明書の失効について")
	doc.Y -= 20
	doc.Text(letter.MarginL, doc.Y, body, "受付番号 131016-20260601-000042")
	doc.Paragraph(letter.MarginL, letter.ContentW, body, 14, "　𠮷野 家子様の署名用電子証明書（ABC-123）は、令和8年6月1日に失効しました。")
	doc.Rect(letter.MarginL, 500, 100, 50, 1)
	doc.EachPage(func(page, total int) {
		doc.TextCenter(letter.FooterY, body, strconv.Itoa(page)+" / "+strconv.Itoa(total))
	})
	pdf, err := doc.Bytes(letter.Meta{Title: "失効通知書 131016-20260601-000042", Creator: "madoguchi letter test",
		Created: time.Date(2026, 6, 1, 10, 30, 0, 0, validity.Tokyo)})
	if err != nil {
		t.Fatal(err)
	}
	lettertest.WriteSample(t, "sample.pdf", pdf)
	return pdf
}

func TestReadBack(t *testing.T) {
	pdf := sample(t)
	pages, err := letter.ReadBack(pdf)
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 1 {
		t.Fatalf("%d pages", len(pages))
	}
	want := []string{
		"電子証明書の失効について",
		"受付番号 131016-20260601-000042",
		"　𠮷野 家子様の署名用電子証明書（ABC-123）は、令和8年6月1日に失効しました。",
		"1 / 1",
	}
	if got := pages[0].Lines; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines %q, want %q", got, want)
	}
	again := sample(t)
	if !bytes.Equal(pdf, again) {
		t.Error("the same letter rendered to different bytes")
	}
}

// The file carries what PDF/A-2b asks for: the identification in XMP
// metadata matching the document information, an sRGB OutputIntent, a file
// identifier, fonts embedded with their CIDToGIDMap, and no unembedded font.
func TestPDFAParts(t *testing.T) {
	pdf := sample(t)
	s := string(pdf)
	for _, want := range []string{
		"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
		"<pdfaid:part>2</pdfaid:part>", "<pdfaid:conformance>B</pdfaid:conformance>",
		`<rdf:li xml:lang="x-default">失効通知書 131016-20260601-000042</rdf:li>`,
		"<xmp:CreateDate>2026-06-01T10:30:00+09:00</xmp:CreateDate>", "/CreationDate (D:20260601103000+09'00')",
		"<xmp:CreatorTool>madoguchi letter test</xmp:CreatorTool>", "<pdf:Producer>madoguchi</pdf:Producer>", "/Producer (madoguchi)",
		"/Type /Metadata /Subtype /XML", "/S /GTS_PDFA1", "/OutputConditionIdentifier (sRGB IEC61966-2.1)",
		"/Subtype /CIDFontType2", "/CIDToGIDMap ", "/Encoding /Identity-H", "/ToUnicode ",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the file lacks %q", want)
		}
	}
	if !regexp.MustCompile(`/ID \[<[0-9A-F]{32}> <[0-9A-F]{32}>\]`).MatchString(s) {
		t.Error("no file identifier in the trailer")
	}
	if n := strings.Count(s, "/FontFile2 "); n != 2 {
		t.Errorf("%d embedded font programs, want 2 (gothic, mincho)", n)
	}
	if strings.Contains(s, "/CIDFontType0") || strings.Contains(s, "/Type1") || strings.Contains(s, "/Encrypt") {
		t.Error("an unembedded font type or encryption")
	}
	// The metadata stream is not compressed (PDF/A) and holds no names.
	if strings.Contains(s, "𠮷野") {
		t.Error("text of the letter is readable outside the compressed pages")
	}
	if !regexp.MustCompile(`/BaseFont /[A-Z]{6}\+IPAexGothic `).MatchString(s) || !regexp.MustCompile(`/BaseFont /[A-Z]{6}\+IPAexMincho `).MatchString(s) {
		t.Error("the fonts are not named as subsets of IPAexGothic and IPAexMincho")
	}
}

func TestWithPoppler(t *testing.T) {
	pdf := sample(t)
	fonts := lettertest.Fonts(t, pdf)
	if len(fonts) != 2 {
		t.Fatalf("pdffonts lists %d fonts: %+v", len(fonts), fonts)
	}
	for _, f := range fonts {
		if !f.Embedded || !f.Subset || !f.Unicode || f.Type != "CID TrueType" {
			t.Errorf("font %+v: want an embedded CID TrueType subset with a ToUnicode map", f)
		}
	}
	text := lettertest.Text(t, pdf)
	for _, s := range []string{"電子証明書の失効について", "受付番号 131016-20260601-000042", "𠮷野 家子様", "（ABC-123）", "令和8年6月1日に失効しました。"} {
		if !strings.Contains(text, s) {
			t.Errorf("pdftotext does not give back %q:\n%s", s, text)
		}
	}
}

func TestWidthsFollowTheFont(t *testing.T) {
	lettertest.RequireFonts(t)
	doc, err := letter.New()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		s    string
		want float64 // at 10 pt
	}{
		{"漢字かな", 40},  // full width
		{"　", 10},     // ideographic space
		{"", 0},       //
		{"\u200B", 0}, // dropped
	}
	for _, tt := range tests {
		if got := doc.Width(tt.s, body, 0); got != tt.want {
			t.Errorf("Width(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
	// IPAex sets Latin letters proportionally: i is narrower than W.
	if i, w := doc.Width("i", body, 0), doc.Width("W", body, 0); !(i > 0 && i < w && w < 10) {
		t.Errorf("Width(i) = %v, Width(W) = %v", i, w)
	}
	if got := doc.Width("ab", body, 1) - doc.Width("ab", body, 0); got != 2 {
		t.Errorf("character spacing adds %v, want 2", got)
	}
}

func TestJapaneseDate(t *testing.T) {
	tests := []struct {
		d    validity.Date
		want string
	}{
		{validity.NewDate(2027, 1, 4), "令和9年1月4日（月）（2027年1月4日）"},
		{validity.NewDate(2019, 5, 1), "令和元年5月1日（水）（2019年5月1日）"},
		{validity.NewDate(2019, 4, 30), "平成31年4月30日（火）（2019年4月30日）"},
		{validity.NewDate(1989, 1, 7), "昭和64年1月7日（土）（1989年1月7日）"},
		{validity.NewDate(1926, 12, 24), "1926年12月24日（金）（1926年12月24日）"},
	}
	for _, tt := range tests {
		if got := letter.JapaneseDate(tt.d); got != tt.want {
			t.Errorf("JapaneseDate(%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
