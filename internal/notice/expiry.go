package notice

import (
	"fmt"
	"strings"
	"time"

	"github.com/madoguchi/madoguchi/internal/letter"
)

// ExpiryTitle is the expiry notice's title (有効期限通知書).
const ExpiryTitle = "電子証明書の有効期限通知書"

// ExpiryFormTitle is the title of the notice's proxy-renewal form.
const ExpiryFormTitle = "委任状（代理人による電子証明書の更新）"

// Expiry is what the Organization's expiry notice says (issue 12): which
// certificate expires and when, how to renew, and the proxy-renewal form
// with the renewal code. It carries no more personal data than the letter
// needs: the holder's name and postal address to mail it, nothing else —
// no date of birth, sex, resident code or serial (the kind and the expiry
// date tell the holder which certificate it is; NoticeNumber stands for
// the serial).
type Expiry struct {
	NoticeNumber string
	Holder       string // the name, from the register
	Address      string // where it is mailed, from the register
	Kind         string // "sign" or "auth"
	NotAfter     time.Time
	// RenewalCode is printed on the form (internal/renewal), grouped.
	RenewalCode  string
	IssuedOn     time.Time
	Organization string // DefaultOrganization when empty
}

func (n Expiry) check() error {
	for _, f := range []struct{ name, v string }{
		{"NoticeNumber", n.NoticeNumber}, {"Holder", n.Holder}, {"Address", n.Address}, {"RenewalCode", n.RenewalCode},
	} {
		if strings.TrimSpace(f.v) == "" {
			return fmt.Errorf("%w: %s is empty", ErrIncomplete, f.name)
		}
	}
	switch {
	case n.Kind != "sign" && n.Kind != "auth":
		return fmt.Errorf("%w: Kind is not sign or auth", ErrIncomplete)
	case n.NotAfter.IsZero():
		return fmt.Errorf("%w: NotAfter is required", ErrIncomplete)
	case n.IssuedOn.IsZero():
		return fmt.Errorf("%w: IssuedOn is required", ErrIncomplete)
	}
	return nil
}

// RenderExpiry renders the expiry notice as an A4 PDF/A-2b file: the
// heading to the holder, the certificate's kind and expiry, how to renew
// in person or by proxy, and below a cut line the proxy-renewal form
// (委任状) with the renewal code. The same notice renders to the same
// bytes.
func RenderExpiry(n Expiry) ([]byte, error) {
	if err := n.check(); err != nil {
		return nil, err
	}
	doc, err := letter.New()
	if err != nil {
		return nil, fmt.Errorf("notice: %w", err)
	}
	org := n.Organization
	if org == "" {
		org = DefaultOrganization
	}
	doc.TextRight(doc.Y+5, stBody, day(n.IssuedOn))
	doc.TextRight(doc.Y-9, stBody, "通知番号　"+n.NoticeNumber)
	doc.Y -= 18
	doc.Paragraph(letter.MarginL, 300, stAddress, 15, n.Address)
	doc.Y -= 22
	doc.Text(letter.MarginL+10, doc.Y, stName, n.Holder+"　様")
	doc.Y -= 18
	doc.TextRight(doc.Y, stAddress, org)
	doc.Y -= 30
	doc.TextCenter(doc.Y, stTitle, ExpiryTitle)
	doc.Y -= 16
	doc.Paragraph(letter.MarginL, letter.ContentW, stBody, 15,
		"　あなたの個人番号カードに記録されている次の電子証明書は、有効期限が近づいています。有効期限を過ぎると電子証明書は使えなくなります。")
	doc.Y -= 6
	for _, l := range []string{
		"電子証明書の種類　" + KindName(n.Kind),
		"有効期限　" + day(n.NotAfter),
	} {
		doc.Y -= 14
		doc.Text(letter.MarginL+12, doc.Y, stBody, l)
	}
	doc.Y -= 10
	doc.Need(45)
	doc.Y -= 15
	doc.Text(letter.MarginL, doc.Y, stHeading, "更新の手続")
	for _, l := range []string{
		"更新は有効期限の3か月前から、お住まいの市区町村の窓口でできます。個人番号カードと本人確認書類をお持ちください。",
		"ご本人が来られないときは、下の委任状に記入して代理人に託してください。代理人は委任状、個人番号カード及び代理人の本人確認書類を窓口に持参します。窓口で更新コードを確認し、照会書の郵送を待たずに手続を始めます。",
		"有効期限を過ぎると更新はできず、新たに発行の手続が必要です。",
	} {
		doc.Item(letter.MarginL+12, letter.ContentW-12, stBody, 14, "・", l)
	}
	doc.Y -= 8
	doc.Need(260)
	doc.Y -= 10
	doc.Line(letter.MarginL-20, doc.Y, letter.MarginL+letter.ContentW+20, doc.Y, 0.6, true)
	doc.Y -= 12
	doc.TextCenter(doc.Y, stSmall, "きりとり")
	doc.Y -= 24
	doc.TextCenter(doc.Y, stHeading, ExpiryFormTitle)
	doc.Y -= 8
	doc.Paragraph(letter.MarginL, letter.ContentW, stBody, 15,
		"　私は、次の者を代理人と定め、"+KindName(n.Kind)+"（有効期限 "+day(n.NotAfter)+"）の更新の申請及びその受領に関する権限を委任します。")
	doc.Y -= 6
	for _, f := range []string{"代理人の氏名", "代理人の住所", "本人との関係", "委任者（本人）の氏名（自署）", "記入日"} {
		doc.Y -= 24
		doc.Text(letter.MarginL+12, doc.Y, stBody, f)
		doc.Line(letter.MarginL+170, doc.Y-2, letter.MarginL+letter.ContentW, doc.Y-2, 0.5, false)
	}
	doc.Y -= 28
	doc.Text(letter.MarginL+12, doc.Y, stBodyG, "更新コード　"+n.RenewalCode)
	doc.Y -= 6
	doc.Paragraph(letter.MarginL+12, letter.ContentW-12, stSmall, 12,
		"更新コードは有効期限まで1回限り使えます。窓口の職員のほかには見せないでください。更新しても暗証番号は変わりません。今お使いの暗証番号を代理人に伝えないでください。")
	doc.EachPage(func(page, total int) {
		doc.TextCenter(letter.FooterY, stSmall, fmt.Sprintf("通知番号 %s　　%d / %d", n.NoticeNumber, page, total))
	})
	pdf, err := doc.Bytes(letter.Meta{Title: ExpiryTitle + " " + n.NoticeNumber, Creator: "madoguchi internal/notice", Created: n.IssuedOn})
	if err != nil {
		return nil, fmt.Errorf("notice: %w", err)
	}
	return pdf, nil
}
