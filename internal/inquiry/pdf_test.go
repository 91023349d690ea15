package inquiry

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func sampleLetter() Letter {
	issued := time.Date(2026, 6, 1, 10, 30, 0, 0, tokyo)
	return Letter{
		CaseNumber:       "131016-20260601-000042",
		MunicipalityName: "東京都千代田区",
		ApplicantName:    "山田 太郎",
		ApplicantAddress: "東京都千代田区千代田1番1号",
		ProxyName:        "山田 花子",
		ReplyCode:        "ABCD-EFGH-JK",
		IssuedOn:         issued,
		Deadline:         issued.AddDate(0, 0, 30),
	}
}

// pdfObject is one indirect object of a parsed file.
type pdfObject struct {
	num    int
	offset int
	dict   string
	stream []byte // inflated, when the object is a stream
}

var (
	startxrefRE = regexp.MustCompile(`startxref\n(\d+)\n%%EOF\n$`)
	trailerRE   = regexp.MustCompile(`trailer\n<< /Size (\d+) /Root (\d+) 0 R /Info (\d+) 0 R >>`)
	objHeadRE   = regexp.MustCompile(`^(\d+) 0 obj\n`)
	lengthRE    = regexp.MustCompile(`/Length (\d+)`)
)

// parsePDF checks the file's structure the way a strict reader would:
// header, startxref pointing at the xref table, 20-byte entries whose
// offsets each land on "n 0 obj", trailer /Size, and each stream's /Length
// ending exactly at "endstream". It returns the objects with their streams
// inflated.
func parsePDF(t *testing.T, pdf []byte) (version string, objs map[int]pdfObject, root, info int) {
	t.Helper()
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.")) {
		t.Fatalf("no PDF header: %q", pdf[:min(len(pdf), 16)])
	}
	version = string(pdf[5:8])
	if pdf[8] != '\n' || pdf[9] != '%' || pdf[10] < 0x80 {
		t.Fatalf("the header is not followed by a binary comment line")
	}
	m := startxrefRE.FindSubmatch(pdf)
	if m == nil {
		t.Fatal("no startxref and EOF marker at the end")
	}
	xref, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(pdf[xref:], []byte("xref\n0 ")) {
		t.Fatalf("startxref %d does not point at the xref table", xref)
	}
	rest := pdf[xref+len("xref\n0 "):]
	nl := bytes.IndexByte(rest, '\n')
	size, err := strconv.Atoi(string(rest[:nl]))
	if err != nil {
		t.Fatalf("xref subsection count: %v", err)
	}
	entries := rest[nl+1:]
	if string(entries[:20]) != "0000000000 65535 f \n" {
		t.Fatalf("xref entry 0 = %q", entries[:20])
	}
	objs = map[int]pdfObject{}
	for i := 1; i < size; i++ {
		e := string(entries[i*20 : i*20+20])
		if len(e) != 20 || e[10] != ' ' || e[16:] != " n \n" {
			t.Fatalf("xref entry %d is malformed: %q", i, e)
		}
		off, err := strconv.Atoi(e[:10])
		if err != nil {
			t.Fatalf("xref entry %d offset: %v", i, err)
		}
		head := objHeadRE.FindSubmatch(pdf[off:])
		if head == nil || string(head[1]) != strconv.Itoa(i) {
			t.Fatalf("xref entry %d points at offset %d, which does not start object %d: %q", i, off, i, pdf[off:min(off+20, len(pdf))])
		}
		body := pdf[off+len(head[0]):]
		end := bytes.Index(body, []byte("\nendobj\n"))
		if end < 0 {
			t.Fatalf("object %d has no endobj", i)
		}
		body = body[:end]
		o := pdfObject{num: i, offset: off}
		if s := bytes.Index(body, []byte("\nstream\n")); s >= 0 {
			o.dict = string(body[:s])
			lm := lengthRE.FindStringSubmatch(o.dict)
			if lm == nil {
				t.Fatalf("stream object %d has no /Length", i)
			}
			n, _ := strconv.Atoi(lm[1])
			data := body[s+len("\nstream\n"):]
			if len(data) != n+len("\nendstream") || !bytes.HasSuffix(data, []byte("\nendstream")) {
				t.Fatalf("stream %d: /Length %d does not end at endstream (%d bytes before it)", i, n, len(data)-len("\nendstream"))
			}
			zr, err := zlib.NewReader(bytes.NewReader(data[:n]))
			if err != nil {
				t.Fatalf("stream %d: %v", i, err)
			}
			if o.stream, err = io.ReadAll(zr); err != nil {
				t.Fatalf("stream %d: %v", i, err)
			}
		} else {
			o.dict = string(body)
		}
		objs[i] = o
	}
	tm := trailerRE.FindSubmatch(pdf[xref:])
	if tm == nil {
		t.Fatal("no trailer after the xref table")
	}
	if s, _ := strconv.Atoi(string(tm[1])); s != size {
		t.Fatalf("trailer /Size %d, xref has %d entries", s, size)
	}
	if size-1 != bytes.Count(pdf, []byte(" 0 obj\n")) {
		t.Fatalf("xref lists %d objects, the file has %d", size-1, bytes.Count(pdf, []byte(" 0 obj\n")))
	}
	root, _ = strconv.Atoi(string(tm[2]))
	info, _ = strconv.Atoi(string(tm[3]))
	if !strings.Contains(objs[root].dict, "/Type /Catalog") {
		t.Fatalf("root object %d is not the catalog: %s", root, objs[root].dict)
	}
	return version, objs, root, info
}

// pageContents returns the inflated content stream of each page, in order.
func pageContents(t *testing.T, objs map[int]pdfObject, root int) [][]byte {
	t.Helper()
	pagesRef := regexp.MustCompile(`/Pages (\d+) 0 R`).FindStringSubmatch(objs[root].dict)
	pagesNum, _ := strconv.Atoi(pagesRef[1])
	kids := regexp.MustCompile(`/Kids \[([^\]]*)\] /Count (\d+)`).FindStringSubmatch(objs[pagesNum].dict)
	if kids == nil {
		t.Fatalf("page tree %d has no /Kids and /Count: %s", pagesNum, objs[pagesNum].dict)
	}
	refs := regexp.MustCompile(`(\d+) 0 R`).FindAllStringSubmatch(kids[1], -1)
	if n, _ := strconv.Atoi(kids[2]); n != len(refs) {
		t.Fatalf("/Count %d but %d kids", n, len(refs))
	}
	var out [][]byte
	for _, r := range refs {
		n, _ := strconv.Atoi(r[1])
		page := objs[n].dict
		if !strings.Contains(page, "/Type /Page ") || !strings.Contains(page, fmt.Sprintf("/Parent %d 0 R", pagesNum)) {
			t.Fatalf("kid %d is not a page of the tree: %s", n, page)
		}
		c := regexp.MustCompile(`/Contents (\d+) 0 R`).FindStringSubmatch(page)
		cn, _ := strconv.Atoi(c[1])
		out = append(out, objs[cn].stream)
		// Every font a page uses is in its resources.
		for _, f := range regexp.MustCompile(`/(\w+) [\d.]+ Tf`).FindAllSubmatch(objs[cn].stream, -1) {
			if !strings.Contains(page, "/"+string(f[1])+" ") {
				t.Fatalf("page %d uses font %s, not in its resources", n, f[1])
			}
		}
	}
	return out
}

// hexIn reports whether the content stream shows s: its UTF-16BE hex,
// with each ASCII space drawn as a half-width move inside TJ.
func hexIn(content []byte, s string) bool {
	parts := strings.Split(s, " ")
	for i, p := range parts {
		parts[i] = HexUTF16(p)
	}
	return bytes.Contains(content, []byte(strings.Join(parts, "> -500 <")))
}

func TestRenderPDFStructure(t *testing.T) {
	l := sampleLetter()
	pdf, err := RenderPDF(l)
	if err != nil {
		t.Fatal(err)
	}
	writeSample(t, "letter.pdf", pdf)
	version, objs, root, info := parsePDF(t, pdf)
	if version != "1.4" {
		t.Errorf("version %s, want 1.4 for a letter of BMP text", version)
	}
	pages := pageContents(t, objs, root)
	if len(pages) != 1 {
		t.Fatalf("the sample letter has %d pages, want 1", len(pages))
	}
	if n, err := PageCount(pdf); err != nil || n != 1 {
		t.Fatalf("PageCount = %d, %v; want 1", n, err)
	}
	content := pages[0]
	for _, s := range []string{
		"照会書兼回答書", "（公的個人認証サービス　電子証明書の発行／更新）", "回　答　書",
		l.CaseNumber, "ABCD-EFGH-JK", l.ApplicantName + "　様", l.ApplicantAddress, "東京都千代田区長",
		"令和8年7月1日（水）10時30分（2026年7月1日）まで", // the deadline
		"令和8年6月1日（月）（2026年6月1日）",         // issued on
		DefaultWhatToBring[0], DefaultWhatToBring[1], DefaultWhatToBring[2],
		"署名用電子証明書の暗証番号", "利用者証明用電子証明書の暗証番号", "申請者の氏名（自署）",
	} {
		if !hexIn(content, s) {
			t.Errorf("the page does not show %q", s)
		}
	}
	if c := bytes.Count(content, []byte(HexUTF16("ABCD-EFGH-JK"))); c != 2 {
		t.Errorf("the code appears %d times, want 2 (letter and reply part)", c)
	}
	if !hexIn(content, l.ProxyName) {
		t.Error("the proxy's name is not shown")
	}
	// 16 + 4 PIN boxes of 17 pt, and no PIN text: the boxes stay empty.
	if boxes := regexp.MustCompile(` 17 17 re S`).FindAll(content, -1); len(boxes) != 20 {
		t.Errorf("%d PIN boxes, want 20", len(boxes))
	}
	// The code is set large.
	if !bytes.Contains(content, []byte("/G 24 Tf [<"+HexUTF16("ABCD-EFGH-JK")+">] TJ")) {
		t.Error("the reply code is not set in the 24 pt gothic")
	}

	var fonts []string
	for _, o := range objs {
		if strings.Contains(o.dict, "/FontFile") {
			t.Errorf("object %d embeds a font", o.num)
		}
		if strings.Contains(o.dict, "/Subtype /Type0") {
			fonts = append(fonts, o.dict)
			if !strings.Contains(o.dict, "/Encoding /UniJIS-UCS2-HW-H") {
				t.Errorf("Type0 font without the UniJIS-UCS2 encoding: %s", o.dict)
			}
		}
		if strings.Contains(o.dict, "/Subtype /CIDFontType0") {
			if !strings.Contains(o.dict, "/CIDSystemInfo << /Registry (Adobe) /Ordering (Japan1)") {
				t.Errorf("CID font is not Adobe-Japan1: %s", o.dict)
			}
			if !strings.Contains(o.dict, "/BaseFont /HeiseiKakuGo-W5 ") && !strings.Contains(o.dict, "/BaseFont /KozMinPro-Regular ") {
				t.Errorf("unexpected CID font: %s", o.dict)
			}
		}
	}
	if len(fonts) != 2 {
		t.Errorf("%d Type0 fonts, want gothic and mincho", len(fonts))
	}
	// The document information names the case, and nobody.
	if !strings.Contains(objs[info].dict, infoText("照会書兼回答書 "+l.CaseNumber)) {
		t.Errorf("info title: %s", objs[info].dict)
	}
	for _, s := range []string{l.ApplicantName, l.ApplicantAddress, l.ProxyName, "ABCD-EFGH-JK", "ABCDEFGHJK"} {
		if bytes.Contains(pdf, []byte(HexUTF16(s))) || bytes.Contains(pdf, []byte(s)) {
			t.Errorf("%q is readable outside the compressed page", s)
		}
	}

	again, err := RenderPDF(l)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pdf, again) {
		t.Error("the same letter rendered to different bytes")
	}
}

func TestRenderPDFVariants(t *testing.T) {
	t.Run("masked code", func(t *testing.T) {
		l := sampleLetter()
		l.ReplyCode = MaskedReplyCode
		pdf, err := RenderPDF(l)
		if err != nil {
			t.Fatal(err)
		}
		_, objs, root, _ := parsePDF(t, pdf)
		content := pageContents(t, objs, root)[0]
		if !hexIn(content, MaskedReplyCode) || hexIn(content, "ABCD-EFGH-JK") {
			t.Error("the archived copy must show the mask and not the code")
		}
	})
	t.Run("code typed loosely is printed grouped", func(t *testing.T) {
		l := sampleLetter()
		l.ReplyCode = "abcdefghjk"
		pdf, err := RenderPDF(l)
		if err != nil {
			t.Fatal(err)
		}
		_, objs, root, _ := parsePDF(t, pdf)
		if !hexIn(pageContents(t, objs, root)[0], "ABCD-EFGH-JK") {
			t.Error("the code is not printed as ABCD-EFGH-JK")
		}
	})
	t.Run("name beyond the BMP", func(t *testing.T) {
		l := sampleLetter()
		l.ApplicantName = "𠮷野 家子" // 𠮷 is U+20BB7
		pdf, err := RenderPDF(l)
		if err != nil {
			t.Fatal(err)
		}
		writeSample(t, "letter-nonbmp.pdf", pdf)
		version, objs, root, _ := parsePDF(t, pdf)
		if version != "1.5" {
			t.Errorf("version %s, want 1.5 for the UTF-16 CMap", version)
		}
		content := pageContents(t, objs, root)[0]
		if !bytes.Contains(content, []byte("/MX 14 Tf [<D842DFB7>")) {
			t.Error("𠮷 is not drawn as a surrogate pair with the UTF-16 font")
		}
		if !hexIn(content, "野 家子　様") {
			t.Error("the rest of the name is not drawn")
		}
		found := false
		for _, o := range objs {
			found = found || strings.Contains(o.dict, "/Encoding /UniJIS-UTF16-H")
		}
		if !found {
			t.Error("no UniJIS-UTF16-H font")
		}
	})
	t.Run("variation selector and control characters", func(t *testing.T) {
		l := sampleLetter()
		l.ApplicantName = "葛\U000E0100城 太郎"
		l.ApplicantAddress = "東京都千代田区\n千代田1番1号"
		pdf, err := RenderPDF(l)
		if err != nil {
			t.Fatal(err)
		}
		_, objs, root, _ := parsePDF(t, pdf)
		content := pageContents(t, objs, root)[0]
		if !hexIn(content, "葛城 太郎　様") || bytes.Contains(content, []byte("DB40DD00")) {
			t.Error("the variation selector was not dropped")
		}
		if !hexIn(content, "東京都千代田区 千代田1番1号") {
			t.Error("the newline was not turned into a space")
		}
	})
	t.Run("a long list breaks onto a second page, the reply part whole", func(t *testing.T) {
		l := sampleLetter()
		for i := 0; i < 25; i++ {
			l.WhatToBring = append(l.WhatToBring, fmt.Sprintf("持参するもの その%d", i+1))
		}
		pdf, err := RenderPDF(l)
		if err != nil {
			t.Fatal(err)
		}
		writeSample(t, "letter-long.pdf", pdf)
		_, objs, root, _ := parsePDF(t, pdf)
		pages := pageContents(t, objs, root)
		if len(pages) != 2 {
			t.Fatalf("%d pages, want 2", len(pages))
		}
		if n, err := PageCount(pdf); err != nil || n != 2 {
			t.Fatalf("PageCount = %d, %v; want 2", n, err)
		}
		for _, s := range []string{"回　答　書", "署名用電子証明書の暗証番号", "利用者証明用電子証明書の暗証番号", "申請者の氏名（自署）"} {
			if hexIn(pages[0], s) || !hexIn(pages[1], s) {
				t.Errorf("%q should be on page 2 only", s)
			}
		}
		if !hexIn(pages[0], "持参するもの その1") || !hexIn(pages[1], "受付番号 "+l.CaseNumber+"　　2 / 2") {
			t.Error("list or footer missing")
		}
	})
}

func TestRenderPDFIncomplete(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Letter)
	}{
		{"no case number", func(l *Letter) { l.CaseNumber = "" }},
		{"no applicant name", func(l *Letter) { l.ApplicantName = " " }},
		{"no address", func(l *Letter) { l.ApplicantAddress = "" }},
		{"no proxy", func(l *Letter) { l.ProxyName = "" }},
		{"no municipality", func(l *Letter) { l.MunicipalityName = "" }},
		{"no code", func(l *Letter) { l.ReplyCode = "" }},
		{"no deadline", func(l *Letter) { l.Deadline = time.Time{} }},
		{"deadline before issue", func(l *Letter) { l.Deadline = l.IssuedOn.Add(-time.Hour) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := sampleLetter()
			tt.change(&l)
			_, err := RenderPDF(l)
			if !errors.Is(err, ErrIncompleteLetter) {
				t.Fatalf("err = %v, want ErrIncompleteLetter", err)
			}
			for _, s := range []string{"山田", "千代田1番1号", "ABCD"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("the error %q shows the letter's content", err)
				}
			}
		})
	}
}

func TestPageCountRejectsOtherBytes(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("hello"), []byte("%PDF-1.4\n%%EOF\n")} {
		if _, err := PageCount(b); !errors.Is(err, ErrNotALetter) {
			t.Errorf("PageCount(%q) err = %v, want ErrNotALetter", b, err)
		}
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		width float64 // in characters of a 10 pt full-width font
		want  []string
	}{
		{"fits", "あいう", 5, []string{"あいう"}},
		{"breaks between kanji", "あいうえおかきく", 5, []string{"あいうえお", "かきく"}},
		{"closing punctuation hangs", "あいうえお。かき", 5, []string{"あいうえお。", "かき"}},
		{"opening bracket carried over", "あいうえ（かき）", 5, []string{"あいうえ", "（かき）"}},
		{"ascii words are kept whole", "ab cd efgh", 2.5, []string{"ab cd", "efgh"}},
		{"a word too long for a line is cut", "abcdefghijkl", 3, []string{"abcdef", "ghijkl"}},
		{"no space at the start of a continued line", "あいうえお　かき", 5, []string{"あいうえお", "かき"}},
		{"a paragraph's indent is kept", "　あいうえおかき", 5, []string{"　あいうえ", "おかき"}},
		{"empty", "", 5, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wrap(tt.in, 10, tt.width*10)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("wrap(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestRenderPDFWithPoppler checks with poppler, when it is installed, that
// the letter renders and its text reads back. The structure tests above
// do not need it.
func TestRenderPDFWithPoppler(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) is not installed; the structure tests cover the file itself")
	}
	l := sampleLetter()
	l.ApplicantName = "𠮷野 家子"
	pdf, err := RenderPDF(l)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "letter.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v: %s", err, out)
	}
	text := string(out)
	for _, s := range []string{"照会書兼回答書", "ABCD-EFGH-JK", l.CaseNumber, "𠮷野", "東京都千代田区千代田1番1号",
		"令和8年7月1日", "申請者本人の個人番号カード", "申請者の氏名（自署）", "山田 花子"} {
		if !strings.Contains(strings.ReplaceAll(text, "　", " "), strings.ReplaceAll(s, "　", " ")) {
			t.Errorf("pdftotext does not give back %q", s)
		}
	}
	if bytes.Contains(out, []byte("Syntax Error")) {
		t.Errorf("poppler reports errors: %s", out)
	}
}

// writeSample keeps a rendered letter for a person to look at when
// MADOGUCHI_INQUIRY_SAMPLES names a directory.
func writeSample(t *testing.T, name string, pdf []byte) {
	dir := os.Getenv("MADOGUCHI_INQUIRY_SAMPLES")
	if dir == "" {
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name), pdf, 0o600); err != nil {
		t.Fatal(err)
	}
}
