package notice

import (
	"fmt"
	"strings"
	"time"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/letter"
	"github.com/madoguchi/madoguchi/internal/reasons"
)

// CorrectionTitle is the correction decision notice's title (訂正等決定通知書).
const CorrectionTitle = "認証業務情報訂正等決定通知書"

// CorrectedItem is one item of a correction request with the decision on
// it.
type CorrectedItem struct {
	Serial   string // the certificate the record is about
	Action   string // contract.ActionCorrect / ActionAdd / ActionDelete ("correct", "add", "delete")
	Field    string // contract.FieldMunicipality / FieldCounterpart / FieldRevocationReason / FieldRecord
	Value    string // the value asked for ("" for delete)
	Accepted bool
}

// Correction is what the correction decision notice says: the
// Organization's decision on a request to correct, add to or delete the
// requester's certification records (法第61条). It is sent to the requester
// only.
type Correction struct {
	CaseNumber     string
	Requester      string
	Address        string
	ByMail         bool
	Received       time.Time
	DisclosureCase string // the disclosure whose records the request is about
	Outcome        string // contract.DecisionFull / DecisionPart / DecisionRefused
	Reason         string // the decision's reason
	Items          []CorrectedItem
	IssuedOn       time.Time
	Organization   string
}

// outcomes are the decisions as the notice states them.
var outcomes = map[string]string{
	contract.DecisionFull:    "訂正等をすることとしました",
	contract.DecisionPart:    "一部について訂正等をすることとしました",
	contract.DecisionRefused: "訂正等をしないこととしました",
}

// actions and fields are an item's action and field as the notice names
// them.
var (
	actions = map[string]string{
		contract.ActionCorrect: "訂正",
		contract.ActionAdd:     "追加",
		contract.ActionDelete:  "削除",
	}
	fields = map[string]string{
		contract.FieldMunicipality:     "発行した市区町村",
		contract.FieldCounterpart:      "対応証明書のシリアル番号",
		contract.FieldRevocationReason: "失効の事由",
		contract.FieldRecord:           "記録全体",
	}
)

func (n Correction) to() toRequester {
	return toRequester{caseNumber: n.CaseNumber, name: n.Requester, address: n.Address, byMail: n.ByMail,
		received: n.Received, issued: n.IssuedOn, org: n.Organization}
}

func (n Correction) check() error {
	if err := n.to().check(); err != nil {
		return err
	}
	switch {
	case outcomes[n.Outcome] == "":
		return fmt.Errorf("%w: Outcome is not DecisionFull, DecisionPart or DecisionRefused", ErrIncomplete)
	case strings.TrimSpace(n.Reason) == "":
		return fmt.Errorf("%w: Reason is empty", ErrIncomplete)
	case len(n.Items) == 0:
		return fmt.Errorf("%w: Items is empty: no item was decided", ErrIncomplete)
	}
	decided := contract.CorrectionDecision{Items: make([]contract.DecidedItem, len(n.Items))}
	for i, it := range n.Items {
		switch {
		case strings.TrimSpace(it.Serial) == "":
			return fmt.Errorf("%w: Items[%d].Serial is empty", ErrIncomplete, i)
		case actions[it.Action] == "":
			return fmt.Errorf("%w: Items[%d].Action is not correct, add or delete", ErrIncomplete, i)
		case fields[it.Field] == "":
			return fmt.Errorf("%w: Items[%d].Field is not a record field", ErrIncomplete, i)
		case it.Field == contract.FieldRecord && it.Action != contract.ActionDelete:
			return fmt.Errorf("%w: Items[%d].Field: the whole record can only be deleted", ErrIncomplete, i)
		case it.Action != contract.ActionDelete && strings.TrimSpace(it.Value) == "":
			return fmt.Errorf("%w: Items[%d].Value is empty", ErrIncomplete, i)
		}
		decided.Items[i].Accepted = it.Accepted
	}
	if decided.Outcome() != n.Outcome {
		// The letter would contradict itself.
		return fmt.Errorf("%w: Outcome does not agree with the items' decisions", ErrIncomplete)
	}
	return nil
}

// RenderCorrection renders the correction decision notice as an A4
// PDF/A-2b file: the request and the day it was received, the decision and
// its reason, and each item with the certificate's serial, the action, the
// field, the value asked for and the decision on it. The same notice
// renders to the same bytes.
func RenderCorrection(n Correction) ([]byte, error) {
	if err := n.check(); err != nil {
		return nil, err
	}
	doc, err := n.to().start(CorrectionTitle)
	if err != nil {
		return nil, err
	}
	doc.Paragraph(letter.MarginL, letter.ContentW, stBody, 15,
		"　"+day(n.Received)+"に受け付けたあなたの訂正等請求（法第61条）について、次のとおり"+outcomes[n.Outcome]+"。")
	if n.DisclosureCase != "" {
		doc.Y -= 14
		doc.Text(letter.MarginL+12, doc.Y, stBody, "請求に係る開示の受付番号　"+n.DisclosureCase)
	}
	doc.Y -= 10
	doc.Need(45)
	doc.Y -= 15
	doc.Text(letter.MarginL, doc.Y, stHeading, "決定の理由")
	doc.Paragraph(letter.MarginL+12, letter.ContentW-12, stBody, 14, n.Reason)
	doc.Y -= 4
	for i, it := range n.Items {
		doc.Need(15 + 4*14 + 6)
		doc.Y -= 21
		doc.Text(letter.MarginL, doc.Y, stHeading, fmt.Sprintf("%d　シリアル番号　%s", i+1, it.Serial))
		lines := []string{"請求の内容　" + actions[it.Action], "項目　" + fields[it.Field]}
		for _, l := range lines {
			doc.Y -= 14
			doc.Text(letter.MarginL+12, doc.Y, stBody, l)
		}
		if it.Action != contract.ActionDelete {
			doc.Item(letter.MarginL+12, letter.ContentW-12, stBody, 14, "求める内容　", value(it))
		}
		decision := "訂正等をしない"
		if it.Accepted {
			decision = "訂正等をする"
		}
		doc.Y -= 14
		doc.Text(letter.MarginL+12, doc.Y, stBodyG, "決定　"+decision)
	}
	doc.Y -= 10
	doc.Paragraph(letter.MarginL, letter.ContentW, stSmall, 12,
		"訂正等は機構が保有するあなたの認証業務情報の記録について行います。電子証明書及び既に作成された失効情報は書き換えられません。")
	return finish(doc, CorrectionTitle, n.CaseNumber, n.IssuedOn)
}

// value is the value an item asks for, a revocation reason in the
// manual's words.
func value(it CorrectedItem) string {
	if it.Field == contract.FieldRevocationReason {
		if r, err := reasons.Parse(it.Value); err == nil {
			return r.Japanese()
		}
	}
	return it.Value
}
