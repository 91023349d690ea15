package notice

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func expirySample() Expiry {
	jst := time.FixedZone("JST", 9*3600)
	return Expiry{NoticeNumber: "EN-0A1B2C3D4E5F", Holder: "林 和夫", Address: "東京都千代田区六番町5番地",
		Kind: "sign", NotAfter: time.Date(2027, 2, 1, 23, 59, 59, 0, jst), RenewalCode: "ABCD-EFGH-JKLM-NPQR",
		IssuedOn: time.Date(2026, 12, 2, 9, 0, 0, 0, jst)}
}

// TestExpiryNoticeSays: the notice holds what the holder needs — name and
// postal address, the certificate's kind and expiry, how to renew, the
// proxy-renewal form with the code — and, read back with pdftotext, none of
// the personal data it does not need: birth date, sex, resident code, the
// serial (the sample's holder has them; the notice never takes them).
func TestExpiryNoticeSays(t *testing.T) {
	for _, tc := range []struct {
		kind, name, other string
	}{
		{"sign", "署名用電子証明書", "利用者証明用電子証明書"},
		{"auth", "利用者証明用電子証明書", "署名用電子証明書"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			n := expirySample()
			n.Kind = tc.kind
			readBack(t, func() ([]byte, error) { return RenderExpiry(n) }, []string{
				ExpiryTitle, ExpiryFormTitle, "林 和夫　様", "東京都千代田区六番町5番地", DefaultOrganization,
				"通知番号　EN-0A1B2C3D4E5F", "令和8年12月2日（水）（2026年12月2日）",
				"電子証明書の種類　" + tc.name, "有効期限　令和9年2月1日（月）（2027年2月1日）",
				"更新は有効期限の3か月前から", "代理人の氏名", "委任者（本人）の氏名（自署）",
				"更新コード　ABCD-EFGH-JKLM-NPQR", "1回限り",
			}, []string{
				tc.other, "生年月日", "1960", "昭和", "男", "女", "住民票コード", "00000000150", "シリアル", "3f2a9c",
			})
		})
	}
}

// TestExpiryNoticeIncomplete: a notice missing what it must say is refused,
// naming the field.
func TestExpiryNoticeIncomplete(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*Expiry)
		field string
	}{
		{"no number", func(n *Expiry) { n.NoticeNumber = "" }, "NoticeNumber"},
		{"no holder", func(n *Expiry) { n.Holder = " " }, "Holder"},
		{"no address", func(n *Expiry) { n.Address = "" }, "Address"},
		{"no code", func(n *Expiry) { n.RenewalCode = "" }, "RenewalCode"},
		{"unknown kind", func(n *Expiry) { n.Kind = "card" }, "Kind"},
		{"no expiry", func(n *Expiry) { n.NotAfter = time.Time{} }, "NotAfter"},
		{"no date", func(n *Expiry) { n.IssuedOn = time.Time{} }, "IssuedOn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := expirySample()
			tc.edit(&n)
			_, err := RenderExpiry(n)
			if !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("err %v, want ErrIncomplete naming %s", err, tc.field)
			}
		})
	}
}
