package notice

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/reasons"
)

func correctionSample() Correction {
	jst := time.FixedZone("JST", 9*3600)
	return Correction{CaseNumber: "131016-20261215-000061", Requester: "林 和夫", Address: "東京都千代田区六番町5番地", ByMail: true,
		Received:       time.Date(2026, 12, 15, 10, 0, 0, 0, jst),
		DisclosureCase: "131016-20261201-000050",
		Outcome:        contract.DecisionPart,
		Reason:         "発行した市区町村及び対応証明書の記録は発行時の記録と異なっていたため訂正等をし、失効の事由及び記録の削除は失効申請書の記載のとおりであるため訂正等をしません。",
		Items: []CorrectedItem{
			{Serial: "5a3f01", Action: contract.ActionCorrect, Field: contract.FieldMunicipality, Value: "東京都港区", Accepted: true},
			{Serial: "5a3f01", Action: contract.ActionCorrect, Field: contract.FieldRevocationReason, Value: string(reasons.AffiliationChanged)},
			{Serial: "7b2201", Action: contract.ActionAdd, Field: contract.FieldCounterpart, Value: "5a3f01", Accepted: true},
			{Serial: "9c4402", Action: contract.ActionDelete, Field: contract.FieldRecord},
		},
		IssuedOn: time.Date(2027, 1, 8, 9, 0, 0, 0, jst)}
}

// TestCorrectionNoticeSays: the decision in Japanese, its reason, and each
// item with its serial, action, field, value asked for and decision; and
// that certificates and revocation information stay as they are.
func TestCorrectionNoticeSays(t *testing.T) {
	for _, tc := range []struct {
		name     string
		outcome  string
		accepted func(i int) bool
		want     []string
		not      []string
	}{
		{"part", contract.DecisionPart, func(i int) bool { return i%2 == 0 },
			[]string{"次のとおり一部について訂正等をすることとしました。", "決定　訂正等をする", "決定　訂正等をしない"}, nil},
		{"full", contract.DecisionFull, func(int) bool { return true },
			[]string{"次のとおり訂正等をすることとしました。", "決定　訂正等をする"}, []string{"訂正等をしない", "一部"}},
		{"refused", contract.DecisionRefused, func(int) bool { return false },
			[]string{"次のとおり訂正等をしないこととしました。", "決定　訂正等をしない"}, []string{"訂正等をする", "一部"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := correctionSample()
			n.Outcome = tc.outcome
			for i := range n.Items {
				n.Items[i].Accepted = tc.accepted(i)
			}
			readBack(t, func() ([]byte, error) { return RenderCorrection(n) }, append(tc.want, CorrectionTitle, "林 和夫　様",
				"東京都千代田区六番町5番地", DefaultOrganization, "受付番号　131016-20261215-000061", "令和9年1月8日（金）（2027年1月8日）",
				"令和8年12月15日（火）（2026年12月15日）に受け付けたあなたの訂正等請求（法第61条）について",
				"請求に係る開示の受付番号　131016-20261201-000050", "決定の理由", n.Reason,
				"1　シリアル番号　5a3f01", "請求の内容　訂正", "項目　発行した市区町村", "求める内容　東京都港区",
				"2　シリアル番号　5a3f01", "項目　失効の事由", "求める内容　証明書記録事項の変更",
				"3　シリアル番号　7b2201", "請求の内容　追加", "項目　対応証明書のシリアル番号", "求める内容　5a3f01",
				"4　シリアル番号　9c4402", "請求の内容　削除項目　記録全体決定", // a deletion asks for no value
				"電子証明書及び既に作成された失効情報は書き換えられません"), append(tc.not, "affiliationChanged"))
		})
	}
	pickup := correctionSample()
	pickup.ByMail, pickup.DisclosureCase = false, ""
	readBack(t, func() ([]byte, error) { return RenderCorrection(pickup) }, []string{CorrectionTitle},
		[]string{pickup.Address, "請求に係る開示"})
}

// TestCorrectionNoticePages: a request of many items runs over pages,
// each numbered under the case, no line overlapping another.
func TestCorrectionNoticePages(t *testing.T) {
	n := correctionSample()
	n.Outcome, n.Items = contract.DecisionFull, nil
	for i := range 14 {
		n.Items = append(n.Items, CorrectedItem{Serial: fmt.Sprintf("5a3f%02x", i), Action: contract.ActionCorrect,
			Field: contract.FieldMunicipality, Value: "東京都港区", Accepted: true})
	}
	readBack(t, func() ([]byte, error) { return RenderCorrection(n) }, []string{"1　シリアル番号　5a3f00", "14　シリアル番号　5a3f0d",
		"受付番号 131016-20261215-000061　　1 / 2", "受付番号 131016-20261215-000061　　2 / 2",
		"電子証明書及び既に作成された失効情報は書き換えられません"}, []string{"3 / 3"})
}

// TestCorrectionNoticeIncomplete: a notice missing what it must say, with
// an unknown action or field, or whose outcome contradicts its items, is
// refused, naming the field.
func TestCorrectionNoticeIncomplete(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*Correction)
		field string
	}{
		{"no case", func(n *Correction) { n.CaseNumber = "" }, "CaseNumber"},
		{"no requester", func(n *Correction) { n.Requester = " " }, "Requester"},
		{"by mail without address", func(n *Correction) { n.Address = "" }, "Address"},
		{"not received", func(n *Correction) { n.Received = time.Time{} }, "Received"},
		{"no date", func(n *Correction) { n.IssuedOn = time.Time{} }, "IssuedOn"},
		{"no outcome", func(n *Correction) { n.Outcome = "" }, "Outcome"},
		{"unknown outcome", func(n *Correction) { n.Outcome = "withdrawn" }, "Outcome"},
		{"no reason", func(n *Correction) { n.Reason = "　" }, "Reason"},
		{"no item", func(n *Correction) { n.Items = nil }, "Items"},
		{"item without serial", func(n *Correction) { n.Items[1].Serial = "" }, "Items[1].Serial"},
		{"unknown action", func(n *Correction) { n.Items[0].Action = "replace" }, "Items[0].Action"},
		{"no action", func(n *Correction) { n.Items[0].Action = "" }, "Items[0].Action"},
		{"unknown field", func(n *Correction) { n.Items[2].Field = "name" }, "Items[2].Field"},
		{"the whole record corrected", func(n *Correction) { n.Items[0].Field = contract.FieldRecord }, "Items[0].Field"},
		{"a correction to nothing", func(n *Correction) { n.Items[0].Value = "" }, "Items[0].Value"},
		{"all accepted but part", func(n *Correction) { n.Items[1].Accepted, n.Items[3].Accepted = true, true }, "Outcome"},
		{"accepted but refused", func(n *Correction) { n.Outcome = contract.DecisionRefused }, "Outcome"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := correctionSample()
			tc.edit(&n)
			_, err := RenderCorrection(n)
			if !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("err %v, want ErrIncomplete naming %s", err, tc.field)
			}
		})
	}
	pickup := correctionSample()
	pickup.ByMail, pickup.Address, pickup.DisclosureCase = false, "", ""
	if _, err := RenderCorrection(pickup); err != nil {
		t.Errorf("a notice for pick-up needs no address, nor the disclosure case: %v", err)
	}
}
