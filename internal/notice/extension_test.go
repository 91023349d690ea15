package notice

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func extensionSample() Extension {
	jst := time.FixedZone("JST", 9*3600)
	return Extension{CaseNumber: "131016-20261201-000050", Requester: "林 和夫", Address: "東京都千代田区六番町5番地", ByMail: true,
		Subject:     SubjectDisclosure,
		Received:    time.Date(2026, 12, 1, 11, 0, 0, 0, jst),
		OriginalDue: time.Date(2026, 12, 30, 0, 0, 0, 0, jst),
		NewDue:      time.Date(2027, 1, 29, 0, 0, 0, 0, jst),
		Reason:      "請求に係る電子証明書の発行記録が複数の市区町村にわたり、その確認に時間を要するため。",
		IssuedOn:    time.Date(2026, 12, 18, 9, 0, 0, 0, jst)}
}

// TestExtensionNoticeSays: the request and its day, that the period of
// 法第59条第1項 is extended under 第2項, the reason, the deadline in force
// and the new one, in Japanese; a correction request's notice names it.
func TestExtensionNoticeSays(t *testing.T) {
	for _, tc := range []struct {
		name    string
		subject string
		want    []string
		not     string
	}{
		{"disclosure", SubjectDisclosure, []string{"あなたの開示請求については、公的個人認証法第59条第1項に規定する期間内に開示をすることができないため、同条第2項の規定により",
			"請求の種類　開示請求"}, "訂正等"},
		{"correction", SubjectCorrection, []string{"あなたの訂正等請求については、その期間内に訂正等をするかどうかを決定することができないため、公的個人認証法第59条第2項の規定により",
			"請求の種類　訂正等請求"}, "第59条第1項"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := extensionSample()
			n.Subject = tc.subject
			readBack(t, func() ([]byte, error) { return RenderExtension(n) }, append(tc.want, ExtensionTitle, "林 和夫　様", "東京都千代田区六番町5番地",
				DefaultOrganization, "受付番号　131016-20261201-000050", "令和8年12月18日（金）（2026年12月18日）",
				"令和8年12月1日（火）（2026年12月1日）に受け付けた", "次のとおりその期間を延長します",
				"延長前の期限　令和8年12月30日（水）（2026年12月30日）", "延長後の期限　令和9年1月29日（金）（2027年1月29日）",
				"延長の理由", n.Reason), []string{tc.not})
		})
	}
	pickup := extensionSample()
	pickup.ByMail, pickup.Organization = false, "地方公共団体情報システム機構 理事長"
	readBack(t, func() ([]byte, error) { return RenderExtension(pickup) }, []string{"地方公共団体情報システム機構 理事長"}, []string{pickup.Address})
}

// TestExtensionNoticeIncomplete: a notice missing what it must say, or
// whose new deadline extends nothing, is refused, naming the field.
func TestExtensionNoticeIncomplete(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*Extension)
		field string
	}{
		{"no case", func(n *Extension) { n.CaseNumber = "" }, "CaseNumber"},
		{"no requester", func(n *Extension) { n.Requester = " " }, "Requester"},
		{"by mail without address", func(n *Extension) { n.Address = "" }, "Address"},
		{"no subject", func(n *Extension) { n.Subject = "" }, "Subject"},
		{"unknown subject", func(n *Extension) { n.Subject = "利用停止請求" }, "Subject"},
		{"not received", func(n *Extension) { n.Received = time.Time{} }, "Received"},
		{"no original deadline", func(n *Extension) { n.OriginalDue = time.Time{} }, "OriginalDue"},
		{"no new deadline", func(n *Extension) { n.NewDue = time.Time{} }, "NewDue"},
		{"new deadline the same day", func(n *Extension) { n.NewDue = n.OriginalDue.Add(20 * time.Hour) }, "NewDue"},
		{"new deadline before", func(n *Extension) { n.NewDue = n.OriginalDue.AddDate(0, 0, -1) }, "NewDue"},
		{"no reason", func(n *Extension) { n.Reason = "　" }, "Reason"},
		{"no date", func(n *Extension) { n.IssuedOn = time.Time{} }, "IssuedOn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := extensionSample()
			tc.edit(&n)
			_, err := RenderExtension(n)
			if !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("err %v, want ErrIncomplete naming %s", err, tc.field)
			}
		})
	}
	pickup := extensionSample()
	pickup.ByMail, pickup.Address = false, ""
	if _, err := RenderExtension(pickup); err != nil {
		t.Errorf("a notice for pick-up needs no address: %v", err)
	}
}
