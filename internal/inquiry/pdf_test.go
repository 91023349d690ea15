package inquiry

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/deadline"
	"github.com/madoguchi/madoguchi/internal/letter"
	"github.com/madoguchi/madoguchi/internal/letter/lettertest"
)

// The example: a proxy applied at 04:39 JST on 2 December 2026
// (19:39 UTC the day before). Thirty days from the next day end on New
// Year's Day, when the offices are closed from 12/29 to 1/3, so the reply
// is due by the end of Monday 4 January 2027.
var applied = time.Date(2026, 12, 1, 19, 39, 0, 0, time.UTC)

const wantDeadline = "令和9年1月4日（月）（2027年1月4日）まで"

func sampleLetter() Letter {
	return Letter{
		CaseNumber:       "131016-20261202-000042",
		MunicipalityName: "東京都千代田区",
		ApplicantName:    "山田 太郎",
		ApplicantAddress: "東京都千代田区千代田1番1号",
		ProxyName:        "山田 花子",
		ReplyCode:        "ABCD-EFGH-JK",
		IssuedOn:         applied,
		Deadline:         deadline.ReplyDeadline(applied, deadline.DefaultReplyDays).Fires,
	}
}

// render renders l, needing the fonts (failing without them in CI).
func render(t *testing.T, l Letter) []byte {
	t.Helper()
	lettertest.RequireFonts(t)
	pdf, err := RenderPDF(l)
	if err != nil {
		t.Fatal(err)
	}
	return pdf
}

// readBack returns each page's text, decoded through the fonts' ToUnicode
// maps, after checking the file's structure.
func readBack(t *testing.T, pdf []byte) []letter.Page {
	t.Helper()
	_, objs, root, _ := parsePDF(t, pdf)
	contents := pageContents(t, objs, root)
	pages, err := letter.ReadBack(pdf)
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != len(contents) {
		t.Fatalf("%d pages read back, the page tree has %d", len(pages), len(contents))
	}
	return pages
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
	trailerRE   = regexp.MustCompile(`trailer\n<< /Size (\d+) /Root (\d+) 0 R /Info (\d+) 0 R /ID \[<([0-9A-F]{32})> <[0-9A-F]{32}>\] >>`)
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
			o.stream = data[:n]
			if strings.Contains(o.dict, "/FlateDecode") {
				zr, err := zlib.NewReader(bytes.NewReader(data[:n]))
				if err != nil {
					t.Fatalf("stream %d: %v", i, err)
				}
				if o.stream, err = io.ReadAll(zr); err != nil {
					t.Fatalf("stream %d: %v", i, err)
				}
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

func TestRenderPDFStructure(t *testing.T) {
	l := sampleLetter()
	pdf := render(t, l)
	lettertest.WriteSample(t, "inquiry.pdf", pdf)
	version, objs, _, info := parsePDF(t, pdf)
	if version != "1.7" {
		t.Errorf("version %s, want 1.7 (PDF/A-2)", version)
	}
	pages := readBack(t, pdf)
	if len(pages) != 1 {
		t.Fatalf("the sample letter has %d pages, want 1", len(pages))
	}
	if n, err := PageCount(pdf); err != nil || n != 1 {
		t.Fatalf("PageCount = %d, %v; want 1", n, err)
	}
	text := pages[0].Text()
	for _, s := range []string{
		"照会書兼回答書", "（公的個人認証サービス　電子証明書の発行／更新）", "回　答　書",
		"受付番号　" + l.CaseNumber, l.ApplicantName + "　様", l.ApplicantAddress, "東京都千代田区長",
		wantDeadline,
		"令和8年12月2日（水）（2026年12月2日）", // issued on, in Tokyo
		DefaultWhatToBring[0], DefaultWhatToBring[1], DefaultWhatToBring[2],
		"署名用電子証明書の暗証番号", "利用者証明用電子証明書の暗証番号", "申請者の氏名（自署）",
		"受付番号 " + l.CaseNumber + "　　1 / 1",
	} {
		if !strings.Contains(text, s) {
			t.Errorf("the page does not show %q", s)
		}
	}
	if strings.Contains(text, "時") || strings.Contains(text, "4時39分") {
		t.Error("the deadline is printed with a time of day")
	}
	if c := strings.Count(text, "ABCD-EFGH-JK"); c != 2 {
		t.Errorf("the code appears %d times, want 2 (letter and reply part)", c)
	}
	if !strings.Contains(text, l.ProxyName) {
		t.Error("the proxy's name is not shown")
	}
	content := pages[0].Content
	// 16 + 4 PIN boxes of 17 pt, and no PIN text: the boxes stay empty.
	if boxes := regexp.MustCompile(` 17 17 re S`).FindAll(content, -1); len(boxes) != 20 {
		t.Errorf("%d PIN boxes, want 20", len(boxes))
	}
	// The code is set large, in the gothic.
	if !regexp.MustCompile(`BT /G 24 Tf [\d. ]+ Td [\d.]+ Tc <[0-9A-F]{48}> Tj`).Match(content) {
		t.Error("the reply code is not set in the 24 pt gothic")
	}

	var type0 int
	for _, o := range objs {
		if strings.Contains(o.dict, "/Subtype /Type0") {
			type0++
			if !strings.Contains(o.dict, "/Encoding /Identity-H") || !strings.Contains(o.dict, "/ToUnicode ") {
				t.Errorf("Type0 font without Identity-H and ToUnicode: %s", o.dict)
			}
		}
		if strings.Contains(o.dict, "/Type /FontDescriptor") && !strings.Contains(o.dict, "/FontFile2 ") {
			t.Errorf("a font is not embedded: %s", o.dict)
		}
		if strings.Contains(o.dict, "/CIDFontType0") {
			t.Errorf("an unembedded CID font: %s", o.dict)
		}
	}
	if type0 != 2 {
		t.Errorf("%d Type0 fonts, want gothic and mincho", type0)
	}
	// The document information names the case, and nobody.
	if !strings.Contains(objs[info].dict, textString(Title+" "+l.CaseNumber)) {
		t.Errorf("info title: %s", objs[info].dict)
	}
	for _, s := range []string{l.ApplicantName, l.ApplicantAddress, l.ProxyName, "ABCD-EFGH-JK", "ABCDEFGHJK"} {
		if bytes.Contains(pdf, []byte(s)) || bytes.Contains(pdf, []byte(textString(s))) {
			t.Errorf("%q is readable outside the compressed page", s)
		}
	}
	if !bytes.Equal(pdf, render(t, l)) {
		t.Error("the same letter rendered to different bytes")
	}
}

// textString is how the document information writes a text string.
func textString(s string) string {
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, r := range s {
		if r > 0xFFFF {
			r -= 0x10000
			fmt.Fprintf(&b, "%04X%04X", 0xD800+(r>>10), 0xDC00+(r&0x3FF))
			continue
		}
		fmt.Fprintf(&b, "%04X", r)
	}
	return b.String() + ">"
}

func TestDeadlineText(t *testing.T) {
	tokyo := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, tokyo) }
	tests := []struct {
		name  string
		fires time.Time
		want  string
	}{
		{"the end of the last day (24:00) prints that day", tokyo(2027, 1, 5, 0, 0), wantDeadline},
		{"an instant inside a day prints that day", tokyo(2027, 1, 4, 17, 15), wantDeadline},
		{"the reply deadline of the issue's example", deadline.ReplyDeadline(applied, 30).Fires, wantDeadline},
		{"a UTC instant is printed in Tokyo", time.Date(2026, 6, 30, 15, 0, 0, 0, time.UTC), "令和8年6月30日（火）（2026年6月30日）まで"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DeadlineText(tt.fires); got != tt.want {
				t.Errorf("DeadlineText(%s) = %q, want %q", tt.fires, got, tt.want)
			}
		})
	}
}

func TestRenderPDFVariants(t *testing.T) {
	t.Run("masked code", func(t *testing.T) {
		l := sampleLetter()
		l.ReplyCode = MaskedReplyCode
		text := readBack(t, render(t, l))[0].Text()
		if !strings.Contains(text, MaskedReplyCode) || strings.Contains(text, "ABCD-EFGH-JK") {
			t.Error("the archived copy must show the mask and not the code")
		}
	})
	t.Run("a PIN reset's inquiry says so", func(t *testing.T) {
		l := sampleLetter()
		l.Subject = SubjectPINReset
		text := readBack(t, render(t, l))[0].Text()
		if !strings.Contains(text, "暗証番号の初期化の申請がありました") || strings.Contains(text, SubjectIssuance) {
			t.Errorf("the letter does not name the PIN reset:\n%s", text)
		}
	})
	t.Run("code typed loosely is printed grouped", func(t *testing.T) {
		l := sampleLetter()
		l.ReplyCode = "abcdefghjk"
		if !strings.Contains(readBack(t, render(t, l))[0].Text(), "ABCD-EFGH-JK") {
			t.Error("the code is not printed as ABCD-EFGH-JK")
		}
	})
	t.Run("name beyond the BMP", func(t *testing.T) {
		l := sampleLetter()
		l.ApplicantName = "𠮷野 家子" // 𠮷 is U+20BB7
		pdf := render(t, l)
		lettertest.WriteSample(t, "inquiry-nonbmp.pdf", pdf)
		if !strings.Contains(readBack(t, pdf)[0].Text(), "𠮷野 家子　様") {
			t.Error("𠮷 does not read back")
		}
	})
	t.Run("variation selector and control characters", func(t *testing.T) {
		l := sampleLetter()
		l.ApplicantName = "葛\U000E0100城 太郎"
		l.ApplicantAddress = "東京都千代田区\n千代田1番1号"
		text := readBack(t, render(t, l))[0].Text()
		if !strings.Contains(text, "葛城 太郎　様") {
			t.Error("the variation selector was not dropped")
		}
		if !strings.Contains(text, "東京都千代田区 千代田1番1号") {
			t.Error("the newline was not turned into a space")
		}
	})
	t.Run("a long list breaks onto a second page, the reply part whole", func(t *testing.T) {
		l := sampleLetter()
		for i := 0; i < 25; i++ {
			l.WhatToBring = append(l.WhatToBring, fmt.Sprintf("持参するもの その%d", i+1))
		}
		pdf := render(t, l)
		lettertest.WriteSample(t, "inquiry-long.pdf", pdf)
		pages := readBack(t, pdf)
		if len(pages) != 2 {
			t.Fatalf("%d pages, want 2", len(pages))
		}
		if n, err := PageCount(pdf); err != nil || n != 2 {
			t.Fatalf("PageCount = %d, %v; want 2", n, err)
		}
		p1, p2 := pages[0].Text(), pages[1].Text()
		for _, s := range []string{"回　答　書", "署名用電子証明書の暗証番号", "利用者証明用電子証明書の暗証番号", "申請者の氏名（自署）"} {
			if strings.Contains(p1, s) || !strings.Contains(p2, s) {
				t.Errorf("%q should be on page 2 only", s)
			}
		}
		if !strings.Contains(p1, "持参するもの その1") || !strings.Contains(p2, "受付番号 "+l.CaseNumber+"　　2 / 2") {
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

// TestLetterAsAReaderSeesIt reads the letter back with poppler, as any PDF
// reader would on a machine without Japanese fonts: every font is embedded,
// and the Japanese text, the case number and the deadline date come out
// exactly. In CI (CI=true) missing fonts or poppler fail the test.
func TestLetterAsAReaderSeesIt(t *testing.T) {
	l := sampleLetter()
	l.ApplicantName = "𠮷野 家子"
	pdf := render(t, l)

	fonts := lettertest.Fonts(t, pdf)
	if len(fonts) == 0 {
		t.Fatal("pdffonts lists no font")
	}
	for _, f := range fonts {
		if !f.Embedded {
			t.Errorf("font %s is not embedded", f.Name)
		}
		if !f.Subset || !f.Unicode || !strings.Contains(f.Name, "+IPAex") {
			t.Errorf("font %+v: want a subset of an IPAex font with a ToUnicode map", f)
		}
	}

	text := lettertest.Text(t, pdf)
	lines := map[string]bool{}
	for _, ln := range strings.Split(text, "\n") {
		lines[strings.TrimSpace(ln)] = true
	}
	// Whole lines, exactly as drawn.
	for _, s := range []string{
		"照会書兼回答書", l.CaseNumber, "受付番号 " + l.CaseNumber, "ABCD-EFGH-JK", wantDeadline,
		"東京都千代田区千代田1番1号", "𠮷野 家子", "東京都千代田区長", "代理人が窓口に持参するもの",
		"2. 申請者本人の個人番号カード", "申請者の氏名（自署）",
	} {
		if !lines[s] {
			t.Errorf("pdftotext does not give back the line %q:\n%s", s, text)
		}
	}
	// Within lines.
	for _, s := range []string{"あなたの代理人として 山田 花子 様から", "（公的個人認証サービス", "令和8年12月2日（水）（2026年12月2日）"} {
		if !strings.Contains(text, s) {
			t.Errorf("pdftotext does not give back %q", s)
		}
	}
	if strings.Contains(text, "4時39分") || strings.Contains(text, "令和9年1月1日") {
		t.Error("the letter still prints the deadline to the minute, or on New Year's Day")
	}
}
