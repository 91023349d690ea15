package inquiry

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/madoguchi/madoguchi/internal/deadline"
	"github.com/madoguchi/madoguchi/internal/letter"
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
	// Deadline is the instant the reply period runs out, the workflow's
	// timer (deadline.Deadline.Fires: 24:00 JST of the last day). The
	// letter prints the last day, as a date (deadline.LastDayOf).
	Deadline time.Time
	IssuedOn time.Time
	// WhatToBring is what the proxy must bring back; DefaultWhatToBring
	// when empty.
	WhatToBring []string
	// Subject is what the proxy applied for, as the letter names it;
	// SubjectIssuance when empty.
	Subject string
}

// Subjects of an inquiry: what a proxy may apply for.
const (
	SubjectIssuance = "電子証明書の発行／更新"
	SubjectPINReset = "暗証番号の初期化"
)

func (l Letter) subject() string {
	if l.Subject == "" {
		return SubjectIssuance
	}
	return l.Subject
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
	stSmall    = letter.Style{Face: letter.Mincho, Size: 8.5}
	stBody     = letter.Style{Face: letter.Mincho, Size: 9.5}
	stBodyG    = letter.Style{Face: letter.Gothic, Size: 9.5}
	stAddress  = letter.Style{Face: letter.Mincho, Size: 11}
	stName     = letter.Style{Face: letter.Mincho, Size: 14}
	stHeading  = letter.Style{Face: letter.Gothic, Size: 10.5}
	stTitle    = letter.Style{Face: letter.Gothic, Size: 20}
	stSubtitle = letter.Style{Face: letter.Gothic, Size: 11}
	stCode     = letter.Style{Face: letter.Gothic, Size: 24}
	stCodeS    = letter.Style{Face: letter.Gothic, Size: 12}
	stReplyT   = letter.Style{Face: letter.Gothic, Size: 15}
)

// The page geometry is the letters' common one.
const (
	pageW    = letter.PageW
	marginL  = letter.MarginL
	marginR  = letter.MarginR
	contentW = letter.ContentW
	topY     = letter.TopY
)

// Title is the letter's title, which with the case number is its document
// title (the only text readable outside the compressed pages).
const Title = "照会書兼回答書"

// RenderPDF renders the letter as a one- or two-page A4 PDF/A-2b file with
// its fonts embedded: the inquiry to the applicant, and below a cut line the
// reply part (回答書) with the case number, the reply code, a line for the
// applicant's signature and empty boxes for the PINs the applicant chooses
// (written only on paper). The same letter always renders to the same bytes.
// Without the fonts it fails with letter.ErrFontMissing.
func RenderPDF(l Letter) ([]byte, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	doc, err := letter.New()
	if err != nil {
		return nil, fmt.Errorf("inquiry: %w", err)
	}
	writeLetter(doc, l)
	doc.EachPage(func(page, total int) {
		doc.TextCenter(letter.FooterY, stSmall, fmt.Sprintf("受付番号 %s　　%d / %d", l.CaseNumber, page, total))
	})
	pdf, err := doc.Bytes(letter.Meta{Title: Title + " " + l.CaseNumber, Creator: "madoguchi internal/inquiry", Created: l.IssuedOn})
	if err != nil {
		return nil, fmt.Errorf("inquiry: %w", err)
	}
	return pdf, nil
}

// DeadlineText is how the letter prints a reply deadline that runs out at
// fires: its last day, in 和暦 and 西暦 with the weekday, and no time:
// 「令和9年1月4日（月）（2027年1月4日）まで」.
func DeadlineText(fires time.Time) string {
	return letter.JapaneseDate(deadline.LastDayOf(fires)) + "まで"
}

// writeLetter lays out the letter's content.
func writeLetter(doc *letter.Doc, l Letter) {
	muni := strings.TrimSpace(l.MunicipalityName)
	head := muni + "長"
	code := l.ReplyCode
	if code != MaskedReplyCode {
		code = FormatReplyCode(code)
	}

	// Date, case number and the addressee (the registered address).
	doc.TextRight(doc.Y+5, stBody, JapaneseDate(l.IssuedOn))
	doc.TextRight(doc.Y-9, stBody, "受付番号　"+l.CaseNumber)
	doc.Y -= 18
	doc.Paragraph(marginL, 300, stAddress, 15, l.ApplicantAddress)
	doc.Y -= 22
	doc.Text(marginL+10, doc.Y, stName, l.ApplicantName+"　様")
	doc.Y -= 18
	doc.TextRight(doc.Y, stAddress, head)

	// Title.
	doc.Y -= 30
	doc.TextCenter(doc.Y, stTitle, Title)
	doc.Y -= 18
	doc.TextCenter(doc.Y, stSubtitle, "（公的個人認証サービス　"+l.subject()+"）")
	doc.Y -= 8

	doc.Paragraph(marginL, contentW, stBody, 14,
		"　あなたの代理人として "+l.ProxyName+" 様から、あなたの電子証明書（署名用電子証明書・利用者証明用電子証明書）の"+l.subject()+"の申請がありました。"+
			"この申請があなたご本人の意思によるものであることを確かめるため、住民票のある住所にこの照会書をお送りしています。")
	doc.Paragraph(marginL, contentW, stBody, 14,
		"　申請があなたの意思によるものであるときは、下の回答書に記入して、この書面を代理人に託してください。"+
			"回答期限までに回答がないときは、申請はなかったものとして取り扱います。"+
			"申請に心当たりがないときは、回答せずに"+muni+"の窓口にご連絡ください。")

	// Case number, reply code (large), deadline (a date: the period runs to
	// the end of that day).
	rows := []struct {
		label, value string
		h            float64
		st           letter.Style
		tc           float64
	}{
		{"受付番号", l.CaseNumber, 22, stBodyG, 0},
		{"回答コード", code, 42, stCode, 1.5},
		{"回答期限", DeadlineText(l.Deadline), 22, stBodyG, 0},
	}
	var tableH float64
	for _, r := range rows {
		tableH += r.h
	}
	doc.Y -= 8
	doc.Need(tableH)
	const labelW = 96.0
	top := doc.Y
	doc.Fill(marginL, top-tableH, labelW, tableH, 0.92)
	y := top
	for _, r := range rows {
		y -= r.h
		mid := y + r.h/2
		doc.Show(marginL+10, mid-stHeading.Size*0.35, stHeading, 0, r.label)
		doc.Show(marginL+labelW+12, mid-r.st.Size*0.35, r.st, r.tc, r.value)
		doc.Line(marginL, y, marginL+contentW, y, 0.5, false)
	}
	doc.Rect(marginL, top-tableH, contentW, tableH, 1)
	doc.Line(marginL+labelW, top, marginL+labelW, top-tableH, 0.5, false)
	doc.Y = top - tableH
	doc.Paragraph(marginL, contentW, stSmall, 12,
		"回答コードは、代理人が回答書を持参したときに窓口の職員が入力します。使えるのは一度だけで、誤った入力が続くと使えなくなります。")

	// What the proxy brings back.
	doc.Y -= 6
	doc.Need(30)
	doc.Y -= 14
	doc.Text(marginL, doc.Y, stHeading, "代理人が窓口に持参するもの")
	bring := l.WhatToBring
	if len(bring) == 0 {
		bring = DefaultWhatToBring
	}
	for i, b := range bring {
		doc.Item(marginL+8, contentW-8, stBody, 13.5, fmt.Sprintf("%d. ", i+1), b)
	}
	doc.Y -= 6
	doc.Need(30)
	doc.Y -= 14
	doc.Text(marginL, doc.Y, stHeading, "ご注意")
	for _, n := range []string{
		"暗証番号は、申請者ご本人が決めてください。代理人などに決めさせたり、教えたりしないでください。",
		"暗証番号を記入した回答書は、封筒に入れて封をしてから代理人に託してください。窓口では職員が開封して端末で暗証番号を設定し、申請者ご本人が暗証番号を決めたことを別の職員が確かめます。",
	} {
		doc.Item(marginL+8, contentW-8, stBody, 13.5, "・", n)
	}

	writeReply(doc, l, head, code)
}

// writeReply lays out the tear-off reply part (回答書), on the next page
// when it does not fit whole on this one: it is measured by laying it out
// once on a scratch page.
func writeReply(doc *letter.Doc, l Letter, head, code string) {
	scratch := doc.Scratch()
	replyPart(scratch, l, head, code)
	doc.Y -= 10
	doc.Need(topY - scratch.Y)
	replyPart(doc, l, head, code)
}

// replyPart draws the reply part from the cursor down.
func replyPart(doc *letter.Doc, l Letter, head, code string) {
	// The cut line, labelled on a white ground.
	cut := doc.Y - 6
	doc.Line(marginL-20, cut, pageW-marginR+20, cut, 0.6, true)
	label := "きりとり線"
	w := doc.Width(label, stSmall, 0)
	doc.Fill((pageW-w)/2-6, cut-6, w+12, 12, 1)
	doc.TextCenter(cut-3, stSmall, label)

	doc.Y = cut - 30
	doc.TextCenter(doc.Y, stReplyT, "回　答　書")
	doc.Text(marginL, doc.Y, stBody, head+"　あて")
	doc.Y -= 22
	doc.Text(marginL, doc.Y, stHeading, "受付番号")
	doc.Text(marginL+56, doc.Y, stCodeS, l.CaseNumber)
	doc.Text(marginL+270, doc.Y, stHeading, "回答コード")
	doc.Show(marginL+330, doc.Y, stCodeS, 0.8, code)
	doc.Y -= 4
	doc.Paragraph(marginL, contentW, stBody, 14,
		"　私は、"+l.ProxyName+" を代理人として、公的個人認証サービスの"+l.subject()+"を申請しました。この申請は私の意思によるものです。")
	doc.Y -= 8

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
	top := doc.Y
	doc.Fill(marginL, top-tableH, labelW, tableH, 0.92)
	y := top
	for _, f := range fields {
		y -= f.h
		mid := y + f.h/2
		if f.sub == "" {
			doc.Text(marginL+8, mid-stBodyG.Size*0.35, stBodyG, f.label)
		} else {
			doc.Text(marginL+8, mid+2, stBodyG, f.label)
			doc.Text(marginL+8, mid-10, stSmall, "（"+f.sub+"）")
		}
		if f.value != "" {
			doc.Text(marginL+labelW+14, mid-stBody.Size*0.35, stBody, f.value)
		}
		// Empty boxes, one per character: the PIN exists only on paper.
		const box = 17.0
		for i := 0; i < f.boxes; i++ {
			doc.Rect(marginL+labelW+14+float64(i)*box, mid-box/2, box, box, 0.6)
		}
		doc.Line(marginL, y, marginL+contentW, y, 0.5, false)
	}
	doc.Rect(marginL, top-tableH, contentW, tableH, 1)
	doc.Line(marginL+labelW, top, marginL+labelW, top-tableH, 0.5, false)
	doc.Y = top - tableH
	doc.Paragraph(marginL, contentW, stSmall, 11.5,
		"申請した電子証明書の暗証番号の欄だけ記入してください。数字の0と英字のO、数字の1と英字のIなど、まぎらわしい字は区別して丁寧に書いてください。")
}
