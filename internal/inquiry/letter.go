package inquiry

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Letter is what the inquiry letter (照会書兼回答書) says. Everything in it
// but the case number is personal data or a secret: the rendered PDF is
// handled like the register itself.
type Letter struct {
	CaseNumber       string
	MunicipalityName string // e.g. 東京都千代田区; the letter is sent in the name of its head (…長)
	ApplicantName    string // from the register, not from the application
	ApplicantAddress string // the registered address the letter is mailed to
	ProxyName        string
	ReplyCode        string // as NewReplyCode made it, or MaskedReplyCode for the archived copy
	Deadline         time.Time
	IssuedOn         time.Time
	// WhatToBring is what the proxy must bring back; DefaultWhatToBring
	// when empty.
	WhatToBring []string
}

// DefaultWhatToBring is what a proxy brings back to the counter (第2 1(2)).
var DefaultWhatToBring = []string{
	"この照会書兼回答書（下の回答書に申請者本人が記入したもの）",
	"申請者本人の個人番号カード",
	"代理人の本人確認書類（個人番号カード、運転免許証など）",
}

// ErrIncompleteLetter is returned by RenderPDF when a required field of the
// letter is missing; the message names the field, never its value.
var ErrIncompleteLetter = errors.New("inquiry: the letter is incomplete")

func (l Letter) check() error {
	for _, f := range []struct{ name, v string }{
		{"CaseNumber", l.CaseNumber}, {"MunicipalityName", l.MunicipalityName}, {"ApplicantName", l.ApplicantName},
		{"ApplicantAddress", l.ApplicantAddress}, {"ProxyName", l.ProxyName}, {"ReplyCode", l.ReplyCode},
	} {
		if strings.TrimSpace(f.v) == "" {
			return fmt.Errorf("%w: %s is empty", ErrIncompleteLetter, f.name)
		}
	}
	if l.IssuedOn.IsZero() || l.Deadline.IsZero() {
		return fmt.Errorf("%w: IssuedOn and Deadline are required", ErrIncompleteLetter)
	}
	if !l.Deadline.After(l.IssuedOn) {
		return fmt.Errorf("%w: the deadline is not after the issue date", ErrIncompleteLetter)
	}
	return nil
}

// Styles of the letter.
var (
	stSmall    = style{mincho, 8.5}
	stBody     = style{mincho, 9.5}
	stBodyG    = style{gothic, 9.5}
	stAddress  = style{mincho, 11}
	stName     = style{mincho, 14}
	stHeading  = style{gothic, 10.5}
	stTitle    = style{gothic, 20}
	stSubtitle = style{gothic, 11}
	stCode     = style{gothic, 24}
	stCodeS    = style{gothic, 12}
	stReplyT   = style{gothic, 15}
)

// RenderPDF renders the letter as a one- or two-page A4 PDF: the inquiry
// to the applicant, and below a cut line the reply part (回答書) with the
// case number, the reply code, a line for the applicant's signature and
// empty boxes for the PINs the applicant chooses (written only on paper).
// The same letter always renders to the same bytes.
func RenderPDF(l Letter) ([]byte, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	lay := newLayout()
	writeLetter(lay, l)
	pages := lay.finish()
	for i := range pages {
		f := newLayout()
		f.textCenter(footerY, stSmall, fmt.Sprintf("受付番号 %s　　%d / %d", l.CaseNumber, i+1, len(pages)))
		for k, runes := range f.used {
			if lay.used[k] == nil {
				lay.used[k] = map[rune]bool{}
			}
			for r := range runes {
				lay.used[k][r] = true
			}
		}
		pages[i] = append(pages[i], f.finish()[0]...)
	}
	return assemble(l, pages, lay.used)
}

// writeLetter lays out the letter's content.
func writeLetter(lay *layout, l Letter) {
	muni := strings.TrimSpace(l.MunicipalityName)
	head := muni + "長"
	code := l.ReplyCode
	if code != MaskedReplyCode {
		code = FormatReplyCode(code)
	}

	// Date, case number and the addressee (the registered address).
	lay.textRight(lay.y+5, stBody, JapaneseDate(l.IssuedOn))
	lay.textRight(lay.y-9, stBody, "受付番号　"+l.CaseNumber)
	lay.y -= 18
	lay.paragraph(marginL, 300, stAddress, 15, l.ApplicantAddress)
	lay.y -= 22
	lay.text(marginL+10, lay.y, stName, l.ApplicantName+"　様")
	lay.y -= 18
	lay.textRight(lay.y, stAddress, head)

	// Title.
	lay.y -= 30
	lay.textCenter(lay.y, stTitle, "照会書兼回答書")
	lay.y -= 18
	lay.textCenter(lay.y, stSubtitle, "（公的個人認証サービス　電子証明書の発行／更新）")
	lay.y -= 8

	lay.paragraph(marginL, contentW, stBody, 14,
		"　あなたの代理人として "+l.ProxyName+" 様から、あなたの電子証明書（署名用電子証明書・利用者証明用電子証明書）の発行／更新の申請がありました。"+
			"この申請があなたご本人の意思によるものであることを確かめるため、住民票のある住所にこの照会書をお送りしています。")
	lay.paragraph(marginL, contentW, stBody, 14,
		"　申請があなたの意思によるものであるときは、下の回答書に記入して、この書面を代理人に託してください。"+
			"回答期限までに回答がないときは、申請はなかったものとして取り扱います。"+
			"申請に心当たりがないときは、回答せずに"+muni+"の窓口にご連絡ください。")

	// Case number, reply code (large), deadline.
	deadline := JapaneseDateTime(l.Deadline) + "まで"
	rows := []struct {
		label, value string
		h            float64
		st           style
		tc           float64
	}{
		{"受付番号", l.CaseNumber, 22, stBodyG, 0},
		{"回答コード", code, 42, stCode, 2},
		{"回答期限", deadline, 22, stBodyG, 0},
	}
	var tableH float64
	for _, r := range rows {
		tableH += r.h
	}
	lay.y -= 8
	lay.need(tableH)
	const labelW = 96.0
	top := lay.y
	lay.fill(marginL, top-tableH, labelW, tableH, 0.92)
	y := top
	for _, r := range rows {
		y -= r.h
		mid := y + r.h/2
		lay.show(marginL+10, mid-stHeading.size*0.35, stHeading, 0, r.label)
		lay.show(marginL+labelW+12, mid-r.st.size*0.35, r.st, r.tc, r.value)
		lay.line(marginL, y, marginL+contentW, y, 0.5, false)
	}
	lay.rect(marginL, top-tableH, contentW, tableH, 1)
	lay.line(marginL+labelW, top, marginL+labelW, top-tableH, 0.5, false)
	lay.y = top - tableH
	lay.paragraph(marginL, contentW, stSmall, 12,
		"回答コードは、代理人が回答書を持参したときに窓口の職員が入力します。使えるのは一度だけで、誤った入力が続くと使えなくなります。")

	// What the proxy brings back.
	lay.y -= 6
	lay.need(30)
	lay.y -= 14
	lay.text(marginL, lay.y, stHeading, "代理人が窓口に持参するもの")
	bring := l.WhatToBring
	if len(bring) == 0 {
		bring = DefaultWhatToBring
	}
	for i, b := range bring {
		lay.item(marginL+8, contentW-8, stBody, 13.5, fmt.Sprintf("%d. ", i+1), b)
	}
	lay.y -= 6
	lay.need(30)
	lay.y -= 14
	lay.text(marginL, lay.y, stHeading, "ご注意")
	for _, n := range []string{
		"暗証番号は、申請者ご本人が決めてください。代理人などに決めさせたり、教えたりしないでください。",
		"暗証番号を記入した回答書は、封筒に入れて封をしてから代理人に託してください。窓口では職員が開封して端末で暗証番号を設定し、申請者ご本人が暗証番号を決めたことを別の職員が確かめます。",
	} {
		lay.item(marginL+8, contentW-8, stBody, 13.5, "・", n)
	}

	writeReply(lay, l, head, code)
}

// writeReply lays out the tear-off reply part (回答書), on the next page
// when it does not fit whole on this one: it is measured by laying it out
// once on a scratch page.
func writeReply(lay *layout, l Letter, head, code string) {
	scratch := newLayout()
	replyPart(scratch, l, head, code)
	lay.y -= 10
	lay.need(topY - scratch.y)
	replyPart(lay, l, head, code)
}

// replyPart draws the reply part from the cursor down.
func replyPart(lay *layout, l Letter, head, code string) {
	// The cut line, labelled on a white ground.
	cut := lay.y - 6
	lay.line(marginL-20, cut, pageW-marginR+20, cut, 0.6, true)
	label := "きりとり線"
	w := textWidth(label, stSmall.size, 0)
	lay.fill((pageW-w)/2-6, cut-6, w+12, 12, 1)
	lay.textCenter(cut-3, stSmall, label)

	lay.y = cut - 30
	lay.textCenter(lay.y, stReplyT, "回　答　書")
	lay.text(marginL, lay.y, stBody, head+"　あて")
	lay.y -= 22
	lay.text(marginL, lay.y, stHeading, "受付番号")
	lay.text(marginL+56, lay.y, stCodeS, l.CaseNumber)
	lay.text(marginL+270, lay.y, stHeading, "回答コード")
	lay.show(marginL+330, lay.y, stCodeS, 1, code)
	lay.y -= 4
	lay.paragraph(marginL, contentW, stBody, 14,
		"　私は、"+l.ProxyName+" を代理人として、公的個人認証サービスの電子証明書の発行／更新を申請しました。この申請は私の意思によるものです。")
	lay.y -= 8

	type field struct {
		label, sub string
		h          float64
		boxes      int
		value      string
	}
	fields := []field{
		{"回答日", "", 24, 0, "令和　　　年　　　月　　　日"},
		{"申請者の氏名（自署）", "", 34, 0, ""},
		{"署名用電子証明書の暗証番号", "英大文字と数字　6〜16文字", 36, 16, ""},
		{"利用者証明用電子証明書の暗証番号", "数字　4桁", 36, 4, ""},
	}
	const labelW = 172.0
	var tableH float64
	for _, f := range fields {
		tableH += f.h
	}
	top := lay.y
	lay.fill(marginL, top-tableH, labelW, tableH, 0.92)
	y := top
	for _, f := range fields {
		y -= f.h
		mid := y + f.h/2
		if f.sub == "" {
			lay.text(marginL+8, mid-stBodyG.size*0.35, stBodyG, f.label)
		} else {
			lay.text(marginL+8, mid+2, stBodyG, f.label)
			lay.text(marginL+8, mid-10, stSmall, "（"+f.sub+"）")
		}
		if f.value != "" {
			lay.text(marginL+labelW+14, mid-stBody.size*0.35, stBody, f.value)
		}
		// Empty boxes, one per character: the PIN exists only on paper.
		const box = 17.0
		for i := 0; i < f.boxes; i++ {
			lay.rect(marginL+labelW+14+float64(i)*box, mid-box/2, box, box, 0.6)
		}
		lay.line(marginL, y, marginL+contentW, y, 0.5, false)
	}
	lay.rect(marginL, top-tableH, contentW, tableH, 1)
	lay.line(marginL+labelW, top, marginL+labelW, top-tableH, 0.5, false)
	lay.y = top - tableH
	lay.paragraph(marginL, contentW, stSmall, 11.5,
		"申請した電子証明書の暗証番号の欄だけ記入してください。数字の0と英字のO、数字の1と英字のIなど、まぎらわしい字は区別して丁寧に書いてください。")
}

// assemble writes the PDF objects: catalog, page tree, fonts, pages,
// content streams and the document information (which carries the case
// number only, no personal data).
func assemble(l Letter, pages [][]byte, used map[fontKey]map[rune]bool) ([]byte, error) {
	var w pdfWriter
	catalog := w.reserve()
	pagesObj := w.reserve()
	info := w.add(fmt.Sprintf("<< /Title %s /Producer (madoguchi) /Creator (madoguchi internal/inquiry) /CreationDate (D:%s) >>",
		infoText("照会書兼回答書 "+l.CaseNumber), l.IssuedOn.In(tokyo).Format("20060102150405+09'00'")))

	keys := make([]fontKey, 0, len(used))
	for k := range used {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b fontKey) int { return strings.Compare(a.resource(), b.resource()) })
	descriptors := map[face]int{}
	version := "1.4"
	var fonts strings.Builder
	fonts.WriteString("<<")
	for _, k := range keys {
		def := fontDefs[k.face]
		d, ok := descriptors[k.face]
		if !ok {
			d = w.add(fmt.Sprintf("<< /Type /FontDescriptor /FontName /%s %s >>", def.base, def.descriptor))
			descriptors[k.face] = d
		}
		cmap, supplement := cmapBMP, def.supplement
		if k.wide {
			// UTF-16 CMaps and the CIDs of characters beyond the BMP
			// came with Adobe-Japan1-5/6 and PDF 1.5.
			cmap, supplement, version = cmapWide, max(supplement, 6), "1.5"
		}
		cid := w.add(fmt.Sprintf("<< /Type /Font /Subtype /CIDFontType0 /BaseFont /%s /CIDSystemInfo << /Registry (Adobe) /Ordering (Japan1) /Supplement %d >> /FontDescriptor %d 0 R /DW 1000 /W %s >>",
			def.base, supplement, d, cidWidths))
		// The BMP fonts get a ToUnicode map; the UTF-16 one does not need
		// it (its CIDs map back to the right characters) and poppler
		// rejects 4-byte codes in a ToUnicode map.
		toUnicode := ""
		if !k.wide {
			tu, err := w.addStream(toUnicodeCMap(used[k]))
			if err != nil {
				return nil, fmt.Errorf("inquiry: compress cmap: %w", err)
			}
			toUnicode = fmt.Sprintf(" /ToUnicode %d 0 R", tu)
		}
		f := w.add(fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /%s-%s /Encoding /%s /DescendantFonts [%d 0 R]%s >>",
			def.base, cmap, cmap, cid, toUnicode))
		fmt.Fprintf(&fonts, " /%s %d 0 R", k.resource(), f)
	}
	fonts.WriteString(" >>")

	kids := make([]string, 0, len(pages))
	for _, content := range pages {
		c, err := w.addStream(content)
		if err != nil {
			return nil, fmt.Errorf("inquiry: compress page: %w", err)
		}
		p := w.add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] /Resources << /Font %s /ProcSet [/PDF /Text] >> /Contents %d 0 R >>",
			pagesObj, num(pageW), num(pageH), fonts.String(), c))
		kids = append(kids, fmt.Sprintf("%d 0 R", p))
	}
	w.set(pagesObj, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(pages)))
	w.set(catalog, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pagesObj))
	return w.bytes(version, catalog, info)
}
