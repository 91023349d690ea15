package notice

import (
	"fmt"
	"strings"
	"time"

	"github.com/madoguchi/madoguchi/internal/letter"
	"github.com/madoguchi/madoguchi/internal/validity"
)

// ExtensionTitle is the extension notice's title.
const ExtensionTitle = "開示等決定期限延長通知書"

// Subjects of an extension notice: which request's deadline moved.
const (
	SubjectDisclosure = "開示請求"
	SubjectCorrection = "訂正等請求"
)

// Extension is what the extension notice says (法第59条第2項): before the
// deadline, the Organization tells the requester why it needs longer and
// the new deadline. It is sent to the requester only. The dates are read
// in Asia/Tokyo, and OriginalDue and NewDue print the day they fall on: pass
// a time on the last day (deadline.Deadline.LastDay.Start()), never
// Deadline.Fires, which is 00:00 of the day after.
type Extension struct {
	CaseNumber   string
	Requester    string // the person's name, from the register
	Address      string // where it is mailed; "" for pick-up
	ByMail       bool
	Subject      string    // SubjectDisclosure or SubjectCorrection
	Received     time.Time // the day the Organization received the request
	OriginalDue  time.Time // the deadline in force (its last day)
	NewDue       time.Time // the extended deadline (its last day)
	Reason       string    // why the Organization needs longer
	IssuedOn     time.Time
	Organization string // DefaultOrganization when empty
}

func (n Extension) to() toRequester {
	return toRequester{caseNumber: n.CaseNumber, name: n.Requester, address: n.Address, byMail: n.ByMail,
		received: n.Received, issued: n.IssuedOn, org: n.Organization}
}

func (n Extension) check() error {
	if err := n.to().check(); err != nil {
		return err
	}
	switch {
	case n.Subject != SubjectDisclosure && n.Subject != SubjectCorrection:
		return fmt.Errorf("%w: Subject is not SubjectDisclosure or SubjectCorrection", ErrIncomplete)
	case n.OriginalDue.IsZero():
		return fmt.Errorf("%w: OriginalDue is required", ErrIncomplete)
	case n.NewDue.IsZero():
		return fmt.Errorf("%w: NewDue is required", ErrIncomplete)
	case !validity.DateOf(n.NewDue).After(validity.DateOf(n.OriginalDue)):
		// Compared as the dates printed: a later instant of the same day
		// extends nothing.
		return fmt.Errorf("%w: NewDue is not after OriginalDue", ErrIncomplete)
	case strings.TrimSpace(n.Reason) == "":
		return fmt.Errorf("%w: Reason is empty", ErrIncomplete)
	}
	return nil
}

// RenderExtension renders the extension notice as an A4 PDF/A-2b file: the
// request and the day it was received, that it cannot be decided within
// the period and that the period is extended under 法第59条第2項, the
// reason, and the deadline in force and the new one. The same notice
// renders to the same bytes.
func RenderExtension(n Extension) ([]byte, error) {
	if err := n.check(); err != nil {
		return nil, err
	}
	doc, err := n.to().start(ExtensionTitle)
	if err != nil {
		return nil, err
	}
	period := "公的個人認証法第59条第1項に規定する期間内に開示をすることができないため、同条第2項"
	if n.Subject == SubjectCorrection {
		period = "その期間内に訂正等をするかどうかを決定することができないため、公的個人認証法第59条第2項"
	}
	doc.Paragraph(letter.MarginL, letter.ContentW, stBody, 15,
		"　"+day(n.Received)+"に受け付けたあなたの"+n.Subject+"については、"+period+"の規定により、次のとおりその期間を延長します。")
	doc.Y -= 6
	doc.Need(4 * 14)
	for _, l := range []string{
		"請求の種類　" + n.Subject,
		"請求を受け付けた日　" + day(n.Received),
		"延長前の期限　" + day(n.OriginalDue),
		"延長後の期限　" + day(n.NewDue),
	} {
		doc.Y -= 14
		doc.Text(letter.MarginL+12, doc.Y, stBody, l)
	}
	doc.Y -= 10
	doc.Need(45)
	doc.Y -= 15
	doc.Text(letter.MarginL, doc.Y, stHeading, "延長の理由")
	doc.Paragraph(letter.MarginL+12, letter.ContentW-12, stBody, 14, n.Reason)
	doc.Y -= 10
	doc.Paragraph(letter.MarginL, letter.ContentW, stSmall, 12,
		"延長後の期限までに、あなたの"+n.Subject+"について決定し、通知します。")
	return finish(doc, ExtensionTitle, n.CaseNumber, n.IssuedOn)
}
