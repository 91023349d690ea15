package notice

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/letter"
	"github.com/madoguchi/madoguchi/internal/letter/lettertest"
	"github.com/madoguchi/madoguchi/internal/reasons"
)

func disclosureSample() Disclosure {
	at := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	return Disclosure{CaseNumber: "131016-20261201-000050", Requester: "林 和夫", Address: "東京都千代田区六番町5番地", ByMail: true,
		Received: at, IssuedOn: at.Add(10 * 24 * time.Hour),
		Certificates: []DisclosedCertificate{
			{Kind: "sign", Serial: "5a3f01", Municipality: "東京都千代田区", IssuedAt: at, NotAfter: at.AddDate(5, 0, 0), CounterpartSerial: "7b2201",
				Revoked: true, Reason: reasons.KeyCompromise, RevokedAt: at.Add(time.Hour)},
			{Kind: "auth", Serial: "7b2201", Municipality: "東京都千代田区", IssuedAt: at, NotAfter: at.AddDate(5, 0, 0), CounterpartSerial: "5a3f01"},
		}}
}

func disclosureText(t *testing.T, n Disclosure) string {
	t.Helper()
	lettertest.RequireFonts(t)
	pdf, err := RenderDisclosure(n)
	if err != nil {
		t.Fatal(err)
	}
	pages, err := letter.ReadBack(pdf)
	if err != nil {
		t.Fatal(err)
	}
	fits(t, pages)
	var b strings.Builder
	for _, p := range pages {
		b.WriteString(p.Text() + "\n")
	}
	return b.String()
}

// TestDisclosureNoticeSays: every certificate with its serial, dates,
// municipality, counterpart and status, in Japanese; or that there are none.
func TestDisclosureNoticeSays(t *testing.T) {
	text := disclosureText(t, disclosureSample())
	for _, want := range []string{DisclosureTitle, "林 和夫　様", "東京都千代田区六番町5番地", "署名用電子証明書", "利用者証明用電子証明書",
		"シリアル番号　5a3f01", "シリアル番号　7b2201", "対応証明書のシリアル番号　7b2201", "失効（令和8年12月1日（火）（2026年12月1日）、事由: 利用者の秘密鍵の危殆化）",
		"状態　有効", "発行した市区町村　東京都千代田区", "令和8年12月11日"} {
		if !strings.Contains(text, want) {
			t.Errorf("the notice does not say %q:\n%s", want, text)
		}
	}
	none := disclosureSample()
	none.Certificates, none.ByMail, none.Address = nil, false, ""
	text = disclosureText(t, none)
	if !strings.Contains(text, "開示請求に係る認証業務情報はありません") || strings.Contains(text, "シリアル番号") {
		t.Errorf("a person with no records:\n%s", text)
	}
}

// TestDisclosureNoticeIncomplete: a notice by mail needs the address.
func TestDisclosureNoticeIncomplete(t *testing.T) {
	n := disclosureSample()
	n.Address = ""
	if _, err := RenderDisclosure(n); !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "Address") {
		t.Errorf("err %v", err)
	}
}
