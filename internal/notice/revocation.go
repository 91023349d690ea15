// Package notice writes the notices the counter hands or mails to a holder
// after a status change of their certificates, as PDF/A-2b letters
// (internal/letter). They are rendered when asked for, from the register
// and the case's outcome, and never stored: a notice names the holder.
package notice

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/madoguchi/madoguchi/internal/letter"
	"github.com/madoguchi/madoguchi/internal/reasons"
)

// RevocationTitle is the revocation notice's title (失効通知書).
const RevocationTitle = "電子証明書失効通知書"

// Revoked is one revoked certificate on the notice.
type Revoked struct {
	Kind      string // "sign" or "auth"
	Serial    string
	RevokedAt time.Time
}

// Revocation is what the revocation notice says.
type Revocation struct {
	CaseNumber       string
	MunicipalityName string // the notice is issued in the name of its head (…長)
	HolderName       string // from the register
	HolderAddress    string
	Reason           reasons.Reason
	Certificates     []Revoked
	IssuedOn         time.Time
}

// ErrIncomplete is returned when a required field is missing; the message
// names the field, never its value.
var ErrIncomplete = errors.New("notice: the notice is incomplete")

func (n Revocation) check() error {
	for _, f := range []struct{ name, v string }{
		{"CaseNumber", n.CaseNumber}, {"MunicipalityName", n.MunicipalityName},
		{"HolderName", n.HolderName}, {"HolderAddress", n.HolderAddress},
	} {
		if strings.TrimSpace(f.v) == "" {
			return fmt.Errorf("%w: %s is empty", ErrIncomplete, f.name)
		}
	}
	switch {
	case !n.Reason.IsRevocation():
		return fmt.Errorf("%w: Reason is not a revocation reason", ErrIncomplete)
	case len(n.Certificates) == 0:
		return fmt.Errorf("%w: no certificate was revoked", ErrIncomplete)
	case n.IssuedOn.IsZero():
		return fmt.Errorf("%w: IssuedOn is required", ErrIncomplete)
	}
	return nil
}

var (
	stSmall   = letter.Style{Face: letter.Mincho, Size: 8.5}
	stBody    = letter.Style{Face: letter.Mincho, Size: 10}
	stBodyG   = letter.Style{Face: letter.Gothic, Size: 10}
	stAddress = letter.Style{Face: letter.Mincho, Size: 11}
	stName    = letter.Style{Face: letter.Mincho, Size: 14}
	stHeading = letter.Style{Face: letter.Gothic, Size: 10.5}
	stTitle   = letter.Style{Face: letter.Gothic, Size: 20}
)

// KindName is a certificate kind as the notice names it.
func KindName(kind string) string {
	switch kind {
	case "sign":
		return "署名用電子証明書"
	case "auth":
		return "利用者証明用電子証明書"
	}
	return kind
}

// RenderRevocation renders the notice as a one-page A4 PDF/A-2b file: the
// holder, the certificates revoked with their serials and times, and the
// reason. The same notice always renders to the same bytes.
func RenderRevocation(n Revocation) ([]byte, error) {
	if err := n.check(); err != nil {
		return nil, err
	}
	doc, err := letter.New()
	if err != nil {
		return nil, fmt.Errorf("notice: %w", err)
	}
	heading(doc, n.IssuedOn, n.CaseNumber, n.HolderAddress, n.HolderName, n.MunicipalityName+"長", RevocationTitle)
	doc.Paragraph(letter.MarginL, letter.ContentW, stBody, 15,
		"　あなたの申請（届出）に基づき、次の電子証明書は失効しました。失効した電子証明書は、署名及び利用者証明に使うことはできません。")
	doc.Y -= 21 // the paragraph's last line, and a gap
	doc.Text(letter.MarginL, doc.Y, stHeading, "失効事由　"+n.Reason.Japanese())
	doc.Y -= 20
	for _, c := range n.Certificates {
		doc.Need(40)
		doc.Text(letter.MarginL+10, doc.Y, stBodyG, KindName(c.Kind))
		doc.Y -= 15
		doc.Text(letter.MarginL+20, doc.Y, stBody, "シリアル番号　"+c.Serial)
		doc.Y -= 15
		doc.Text(letter.MarginL+20, doc.Y, stBody, "失効日時　"+letter.JapaneseDateTime(c.RevokedAt))
		doc.Y -= 20
	}
	doc.Paragraph(letter.MarginL, letter.ContentW, stSmall, 12,
		"新たに電子証明書の発行を受けるときは、個人番号カードと本人確認書類をお持ちのうえ、窓口で申請してください。この通知書に心当たりがないときは、"+n.MunicipalityName+"の窓口にご連絡ください。")
	return finish(doc, RevocationTitle, n.CaseNumber, n.IssuedOn)
}

// heading lays out what every notice starts with: the date and case
// number, the addressee (the address only when mailed), the sender and the
// title.
func heading(doc *letter.Doc, issued time.Time, caseNumber, address, name, sender, title string) {
	doc.TextRight(doc.Y+5, stBody, day(issued))
	doc.TextRight(doc.Y-9, stBody, "受付番号　"+caseNumber)
	doc.Y -= 18
	if address != "" {
		doc.Paragraph(letter.MarginL, 300, stAddress, 15, address)
		doc.Y -= 22
	}
	doc.Text(letter.MarginL+10, doc.Y, stName, name+"　様")
	doc.Y -= 18
	doc.TextRight(doc.Y, stAddress, sender)
	doc.Y -= 30
	doc.TextCenter(doc.Y, stTitle, title)
	doc.Y -= 16
}

// finish numbers the pages under the case number and writes the file.
func finish(doc *letter.Doc, title, caseNumber string, issued time.Time) ([]byte, error) {
	doc.EachPage(func(page, total int) {
		doc.TextCenter(letter.FooterY, stSmall, fmt.Sprintf("受付番号 %s　　%d / %d", caseNumber, page, total))
	})
	pdf, err := doc.Bytes(letter.Meta{Title: title + " " + caseNumber, Creator: "madoguchi internal/notice", Created: issued})
	if err != nil {
		return nil, fmt.Errorf("notice: %w", err)
	}
	return pdf, nil
}
