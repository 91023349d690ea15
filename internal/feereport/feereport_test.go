package feereport

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/fee"
	"github.com/madoguchi/madoguchi/internal/letter"
	"github.com/madoguchi/madoguchi/internal/letter/lettertest"
)

func sample() Report {
	at := time.Date(2026, 12, 2, 1, 30, 0, 0, time.UTC) // 10:30 JST
	return Report{Office: "131016", OfficeName: "東京都千代田区", Period: "2026-12-02", Made: at,
		Fees: []Line{
			{CaseNumber: "131016-20261202-000001", Item: fee.ItemIssuance, AmountYen: 0, At: at},
			{CaseNumber: "131016-20261202-000002", Item: fee.ItemReissueAfterCardReissue, AmountYen: 200, At: at},
			{CaseNumber: "131016-20261202-000003", Item: fee.ItemReissueAfterCardReissue, AmountYen: 200, At: at},
		},
		Refunds: []Line{{CaseNumber: "131016-20261202-000003", Item: fee.ItemReissueAfterCardReissue, AmountYen: 200, At: at.Add(time.Hour)}}}
}

// TestSummaries: per item the count and total, the refunds and the net;
// every schedule item is listed, an empty one at zero.
func TestSummaries(t *testing.T) {
	got := sample().Summaries()
	want := []Summary{
		{Item: fee.ItemIssuance, Name: "電子証明書の発行", Count: 1},
		{Item: fee.ItemReissueAfterCardReissue, Name: "カード再交付後の電子証明書の発行", Count: 2, TotalYen: 400, Refunds: 1, RefundedYen: 200, NetYen: 200},
	}
	if len(got) != len(want) {
		t.Fatalf("summaries %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("summary %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if n := sample().Net(); n != 200 {
		t.Errorf("net %d, want 200", n)
	}
	if s := (Report{Period: "2026-12"}).Summaries(); len(s) != 2 || s[1].Count != 0 || s[1].NetYen != 0 {
		t.Errorf("an empty month: %+v", s)
	}
}

// TestCSV: a BOM, the header row, a row per fee and refund (negative), the
// per-item totals and the net; case numbers and amounts only.
func TestCSV(t *testing.T) {
	out := sample().CSV()
	if !bytes.HasPrefix(out, []byte("\xEF\xBB\xBF")) {
		t.Fatal("no byte-order mark")
	}
	rows, err := csv.NewReader(bytes.NewReader(out[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "row,item,case_number,count,amount_yen,at" {
		t.Errorf("header %v", rows[0])
	}
	joined := map[string]bool{}
	for _, r := range rows[1:] {
		joined[strings.Join(r, ",")] = true
	}
	for _, want := range []string{
		"fee,certificate_issuance,131016-20261202-000001,1,0,2026-12-02T10:30:00+09:00",
		"fee,certificate_reissue_after_card_reissue,131016-20261202-000002,1,200,2026-12-02T10:30:00+09:00",
		"refund,certificate_reissue_after_card_reissue,131016-20261202-000003,1,-200,2026-12-02T11:30:00+09:00",
		"total,certificate_reissue_after_card_reissue,,2,400,",
		"refunds,certificate_reissue_after_card_reissue,,1,-200,",
		"net,certificate_reissue_after_card_reissue,,,200,",
		"total,certificate_issuance,,1,0,",
		"net,all,,,200,",
	} {
		if !joined[want] {
			t.Errorf("no row %q in\n%s", want, out)
		}
	}
	if len(rows) != 1+3+1+2*3+1 {
		t.Errorf("%d rows, want 12", len(rows))
	}
}

// TestPDFSays: the PDF names the office, the period, each item's figures
// and each case's line; the same report renders to the same bytes; it
// reads back through pdftotext.
func TestPDFSays(t *testing.T) {
	lettertest.RequireFonts(t)
	pdf, err := sample().PDF()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := sample().PDF(); !bytes.Equal(pdf, again) {
		t.Error("the same report rendered to different bytes")
	}
	pages, err := letter.ReadBack(pdf)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, p := range pages {
		b.WriteString(p.Text())
	}
	text := b.String()
	for _, want := range []string{Title + " 日報", "東京都千代田区（131016）", "期間　2026-12-02", "カード再交付後の電子証明書の発行",
		"受付番号 131016-20261202-000002", "400円", "-200円", "合計", "2026-12-02　　1 / 1"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report does not say %q:\n%s", want, text)
		}
	}
	plain := strings.Join(strings.Fields(lettertest.Text(t, pdf)), "")
	for _, want := range []string{"受付番号131016-20261202-000003", "差引", "200円"} {
		if !strings.Contains(plain, want) {
			t.Errorf("pdftotext does not read %q:\n%s", want, plain)
		}
	}
	monthly := sample()
	monthly.Period = "2026-12"
	pdf, err = monthly.PDF()
	if err != nil {
		t.Fatal(err)
	}
	if pages, err := letter.ReadBack(pdf); err != nil || !strings.Contains(pages[0].Text(), Title+" 月報") {
		t.Errorf("the monthly report is not titled 月報: %v", err)
	}
	if _, err := (Report{Period: "2026-12"}).PDF(); !errors.Is(err, ErrIncomplete) {
		t.Errorf("no office: %v, want ErrIncomplete", err)
	}
}
