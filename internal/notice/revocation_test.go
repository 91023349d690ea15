package notice

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/letter"
	"github.com/madoguchi/madoguchi/internal/letter/lettertest"
	"github.com/madoguchi/madoguchi/internal/reasons"
)

func sample() Revocation {
	at := time.Date(2026, 12, 1, 2, 30, 0, 0, time.UTC) // 11:30 JST
	return Revocation{CaseNumber: "131016-20261201-000042", MunicipalityName: "東京都千代田区", HolderName: "林 和夫",
		HolderAddress: "東京都千代田区六番町5番地", Reason: reasons.KeyCompromise, IssuedOn: at,
		Certificates: []Revoked{{Kind: "sign", Serial: "5a3f01", RevokedAt: at}}}
}

// TestRevocationNoticeSays: the notice names the holder, the revoked
// certificate with its serial, the reason in the manual's words, the case.
func TestRevocationNoticeSays(t *testing.T) {
	lettertest.RequireFonts(t)
	pdf, err := RenderRevocation(sample())
	if err != nil {
		t.Fatal(err)
	}
	again, _ := RenderRevocation(sample())
	if !bytes.Equal(pdf, again) {
		t.Error("the same notice rendered to different bytes")
	}
	pages, err := letter.ReadBack(pdf)
	if err != nil {
		t.Fatal(err)
	}
	fits(t, pages)
	var text strings.Builder
	for _, p := range pages {
		text.WriteString(p.Text())
	}
	for _, want := range []string{RevocationTitle, "林 和夫　様", "東京都千代田区六番町5番地", "東京都千代田区長", "署名用電子証明書",
		"シリアル番号　5a3f01", "失効事由　利用者の秘密鍵の危殆化", "受付番号　131016-20261201-000042", "令和8年12月1日"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the notice does not say %q:\n%s", want, text.String())
		}
	}
	if strings.Contains(text.String(), "利用者証明用電子証明書\n") {
		t.Error("the notice names a certificate that was not revoked")
	}
}

// TestRevocationNoticeIncomplete: a notice missing what it must say is
// refused, naming the field.
func TestRevocationNoticeIncomplete(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*Revocation)
		field string
	}{
		{"no holder", func(n *Revocation) { n.HolderName = " " }, "HolderName"},
		{"no certificate", func(n *Revocation) { n.Certificates = nil }, "no certificate"},
		{"hold is no revocation", func(n *Revocation) { n.Reason = reasons.CertificateHold }, "Reason"},
		{"no date", func(n *Revocation) { n.IssuedOn = time.Time{} }, "IssuedOn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := sample()
			tc.edit(&n)
			_, err := RenderRevocation(n)
			if !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("err %v, want ErrIncomplete naming %s", err, tc.field)
			}
		})
	}
}
