package notice

import (
	"fmt"
	"strings"
	"time"

	"github.com/madoguchi/madoguchi/internal/letter"
	"github.com/madoguchi/madoguchi/internal/reasons"
	"github.com/madoguchi/madoguchi/internal/validity"
)

// DisclosureTitle is the disclosure notice's title (認証業務情報開示通知書).
const DisclosureTitle = "認証業務情報開示通知書"

// DisclosedCertificate is one certificate of the requester's certification
// records (認証業務情報), as the Organization's records hold it.
type DisclosedCertificate struct {
	Kind              string // "sign" or "auth"
	Serial            string
	Municipality      string // the issuing municipality's name or code
	IssuedAt          time.Time
	NotAfter          time.Time
	CounterpartSerial string
	// Revoked is set for a revoked (or held) certificate, with its reason.
	Revoked   bool
	Reason    reasons.Reason
	RevokedAt time.Time
}

// Disclosure is what the disclosure notice says (法第58条 onwards). It is
// sent by the Organization to the requester only.
type Disclosure struct {
	CaseNumber    string
	Requester     string // the person whose records these are, from the register
	Address       string // where the notice is mailed, or "" for pick-up
	Received      time.Time
	IssuedOn      time.Time
	Certificates  []DisclosedCertificate
	Organization  string // the sender; DefaultOrganization when empty
	ByMail        bool
	RequestedHere string // the counter that took the request (municipality or the Organization)
}

// DefaultOrganization is the notice's sender.
const DefaultOrganization = "地方公共団体情報システム機構"

// toRequester is what every letter of the Organization to a requester
// shares: the case, the addressee (the address only when mailed), the day
// the request was received, the date of the letter and the sender.
type toRequester struct {
	caseNumber, name, address string
	byMail                    bool
	received, issued          time.Time
	org                       string
}

func (r toRequester) check() error {
	for _, f := range []struct{ name, v string }{{"CaseNumber", r.caseNumber}, {"Requester", r.name}} {
		if strings.TrimSpace(f.v) == "" {
			return fmt.Errorf("%w: %s is empty", ErrIncomplete, f.name)
		}
	}
	switch {
	case r.byMail && strings.TrimSpace(r.address) == "":
		return fmt.Errorf("%w: a notice by mail needs the Address", ErrIncomplete)
	case r.received.IsZero():
		return fmt.Errorf("%w: Received is required", ErrIncomplete)
	case r.issued.IsZero():
		return fmt.Errorf("%w: IssuedOn is required", ErrIncomplete)
	}
	return nil
}

// start begins the letter with the heading, sent by DefaultOrganization
// unless another sender is named.
func (r toRequester) start(title string) (*letter.Doc, error) {
	doc, err := letter.New()
	if err != nil {
		return nil, fmt.Errorf("notice: %w", err)
	}
	org := r.org
	if org == "" {
		org = DefaultOrganization
	}
	address := ""
	if r.byMail {
		address = r.address
	}
	heading(doc, r.issued, r.caseNumber, address, r.name, org, title)
	return doc, nil
}

// day is a date as the letters print it, in Asia/Tokyo.
func day(t time.Time) string { return letter.JapaneseDate(validity.DateOf(t)) }

func (n Disclosure) to() toRequester {
	return toRequester{caseNumber: n.CaseNumber, name: n.Requester, address: n.Address, byMail: n.ByMail,
		received: n.Received, issued: n.IssuedOn, org: n.Organization}
}

// RenderDisclosure renders the disclosure notice as an A4 PDF/A-2b file:
// the requester, every certificate the Organization issued to them with
// its serial, dates, issuing municipality, status and counterpart, or the
// statement that there are none. The same notice renders to the same bytes.
func RenderDisclosure(n Disclosure) ([]byte, error) {
	if err := n.to().check(); err != nil {
		return nil, err
	}
	doc, err := n.to().start(DisclosureTitle)
	if err != nil {
		return nil, err
	}
	doc.Paragraph(letter.MarginL, letter.ContentW, stBody, 15,
		"　"+day(n.Received)+"に受け付けたあなたの開示請求について、機構が保有するあなたの認証業務情報を次のとおり開示します。")
	doc.Y -= 21 // the paragraph's last line, and a gap
	if len(n.Certificates) == 0 {
		doc.Text(letter.MarginL+10, doc.Y, stBodyG, "開示請求に係る認証業務情報はありません。")
		doc.Y -= 20
	}
	for i, c := range n.Certificates {
		doc.Need(110)
		doc.Text(letter.MarginL, doc.Y, stHeading, fmt.Sprintf("%d　%s", i+1, KindName(c.Kind)))
		doc.Y -= 15
		lines := []string{
			"シリアル番号　" + c.Serial,
			"発行日　" + day(c.IssuedAt),
			"有効期間満了日　" + day(c.NotAfter),
			"発行した市区町村　" + c.Municipality,
		}
		if c.CounterpartSerial != "" {
			lines = append(lines, "対応証明書のシリアル番号　"+c.CounterpartSerial)
		}
		switch {
		case c.Revoked && c.Reason == reasons.CertificateHold:
			lines = append(lines, "状態　一時保留（"+day(c.RevokedAt)+"）")
		case c.Revoked:
			lines = append(lines, "状態　失効（"+day(c.RevokedAt)+"、事由: "+c.Reason.Japanese()+"）")
		default:
			lines = append(lines, "状態　有効")
		}
		for _, l := range lines {
			doc.Text(letter.MarginL+12, doc.Y, stBody, l)
			doc.Y -= 14
		}
		doc.Y -= 6
	}
	doc.Paragraph(letter.MarginL, letter.ContentW, stSmall, 12,
		"開示された認証業務情報に誤りがあるときは、訂正、追加又は削除を請求することができます（法第61条）。")
	return finish(doc, DisclosureTitle, n.CaseNumber, n.IssuedOn)
}
