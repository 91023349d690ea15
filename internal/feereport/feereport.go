// Package feereport makes the daily and monthly fee reports (第3 5
// 電子証明書発行手数料管理): per fee item the count and total of the fees
// recorded, the refunds and the net, with each case's line, as CSV and as
// a PDF/A-2b letter (internal/letter). A report holds case numbers and
// amounts only, never personal data.
package feereport

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/madoguchi/madoguchi/internal/fee"
	"github.com/madoguchi/madoguchi/internal/letter"
)

// Title is the report's title.
const Title = "電子証明書発行手数料"

// Line is one fee recorded or one refund: a case number, an item, an
// amount and when.
type Line struct {
	CaseNumber string
	Item       string
	AmountYen  int
	At         time.Time
}

// Report is an office's fees and refunds of a period.
type Report struct {
	Office     string
	OfficeName string
	// Period is "YYYY-MM-DD" (a daily report) or "YYYY-MM" (monthly).
	Period  string
	Fees    []Line
	Refunds []Line
	// Made is when the report was made (its date on the PDF).
	Made time.Time
}

// Summary is one item's figures.
type Summary struct {
	Item        string `json:"item"`
	Name        string `json:"name"`
	Count       int    `json:"count"`
	TotalYen    int    `json:"totalYen"`
	Refunds     int    `json:"refunds"`
	RefundedYen int    `json:"refundedYen"`
	NetYen      int    `json:"netYen"`
}

// ErrIncomplete is returned for a report missing its office or period.
var ErrIncomplete = errors.New("feereport: the report is incomplete")

// ItemName is a fee item as the report names it.
func ItemName(item string) string {
	switch item {
	case fee.ItemIssuance:
		return "電子証明書の発行"
	case fee.ItemReissueAfterCardReissue:
		return "カード再交付後の電子証明書の発行"
	}
	return item
}

// Monthly reports whether the report is a month's.
func (r Report) Monthly() bool { return len(r.Period) == len("2006-01") }

// Summaries are the figures per item, every schedule item listed (zero
// when nothing was recorded), then any other item recorded.
func (r Report) Summaries() []Summary {
	items := slices.Clone(fee.Items)
	for _, l := range append(slices.Clone(r.Fees), r.Refunds...) {
		if !slices.Contains(items, l.Item) {
			items = append(items, l.Item)
		}
	}
	out := make([]Summary, 0, len(items))
	for _, it := range items {
		s := Summary{Item: it, Name: ItemName(it)}
		for _, l := range r.Fees {
			if l.Item == it {
				s.Count++
				s.TotalYen += l.AmountYen
			}
		}
		for _, l := range r.Refunds {
			if l.Item == it {
				s.Refunds++
				s.RefundedYen += l.AmountYen
			}
		}
		s.NetYen = s.TotalYen - s.RefundedYen
		out = append(out, s)
	}
	return out
}

// Net is the period's net total over every item.
func (r Report) Net() int {
	n := 0
	for _, s := range r.Summaries() {
		n += s.NetYen
	}
	return n
}

// CSVHeader is the CSV's header row.
var CSVHeader = []string{"row", "item", "case_number", "count", "amount_yen", "at"}

// CSV writes the report as UTF-8 CSV with a byte-order mark (so Excel
// reads it as UTF-8): a header row, one row per fee ("fee") and refund
// ("refund", negative), then per item its "total", "refunds" and "net",
// and the period's "net" of "all".
func (r Report) CSV() []byte {
	var b bytes.Buffer
	b.WriteString("\uFEFF")
	w := csv.NewWriter(&b)
	_ = w.Write(CSVHeader)
	at := func(t time.Time) string { return t.In(tokyo).Format(time.RFC3339) }
	for _, l := range r.Fees {
		_ = w.Write([]string{"fee", l.Item, l.CaseNumber, "1", strconv.Itoa(l.AmountYen), at(l.At)})
	}
	for _, l := range r.Refunds {
		_ = w.Write([]string{"refund", l.Item, l.CaseNumber, "1", strconv.Itoa(-l.AmountYen), at(l.At)})
	}
	for _, s := range r.Summaries() {
		_ = w.Write([]string{"total", s.Item, "", strconv.Itoa(s.Count), strconv.Itoa(s.TotalYen), ""})
		_ = w.Write([]string{"refunds", s.Item, "", strconv.Itoa(s.Refunds), strconv.Itoa(-s.RefundedYen), ""})
		_ = w.Write([]string{"net", s.Item, "", "", strconv.Itoa(s.NetYen), ""})
	}
	_ = w.Write([]string{"net", "all", "", "", strconv.Itoa(r.Net()), ""})
	w.Flush()
	return b.Bytes()
}

var tokyo = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		return time.FixedZone("JST", 9*60*60)
	}
	return loc
}()

var (
	stSmall   = letter.Style{Face: letter.Mincho, Size: 8.5}
	stBody    = letter.Style{Face: letter.Mincho, Size: 10}
	stBodyG   = letter.Style{Face: letter.Gothic, Size: 10}
	stHeading = letter.Style{Face: letter.Gothic, Size: 11}
	stTitle   = letter.Style{Face: letter.Gothic, Size: 18}
)

// yen writes an amount as the report prints it, e.g. "1,200円".
func yen(n int) string {
	s := strconv.Itoa(max(n, -n))
	var b strings.Builder
	if n < 0 {
		b.WriteString("-")
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String() + "円"
}

// kind is 日報 or 月報.
func (r Report) kind() string {
	if r.Monthly() {
		return "月報"
	}
	return "日報"
}

// PDF renders the report as an A4 PDF/A-2b file: the office and period,
// per item the count, total, refunds and net, then each case's line. The
// same report always renders to the same bytes.
func (r Report) PDF() ([]byte, error) {
	if strings.TrimSpace(r.Office) == "" || strings.TrimSpace(r.Period) == "" || r.Made.IsZero() {
		return nil, fmt.Errorf("%w: office, period and date are required", ErrIncomplete)
	}
	doc, err := letter.New()
	if err != nil {
		return nil, fmt.Errorf("feereport: %w", err)
	}
	name := r.OfficeName
	if name == "" {
		name = r.Office
	}
	doc.TextRight(doc.Y+5, stBody, "作成日　"+letter.JapaneseDateTime(r.Made))
	doc.Y -= 24
	doc.TextCenter(doc.Y, stTitle, Title+" "+r.kind())
	doc.Y -= 24
	doc.Text(letter.MarginL, doc.Y, stBodyG, "団体　"+name+"（"+r.Office+"）")
	doc.Y -= 15
	doc.Text(letter.MarginL, doc.Y, stBodyG, "期間　"+r.Period)
	doc.Y -= 24

	cols := []float64{letter.MarginL, letter.MarginL + 190, letter.MarginL + 235, letter.MarginL + 300, letter.MarginL + 345, letter.MarginL + 410}
	row := func(st letter.Style, cells ...string) {
		doc.Need(16)
		for i, c := range cells {
			doc.Text(cols[i], doc.Y, st, c)
		}
		doc.Y -= 16
	}
	doc.Text(letter.MarginL, doc.Y, stHeading, "項目別集計")
	doc.Y -= 18
	row(stBodyG, "項目", "件数", "手数料計", "還付件数", "還付額", "差引")
	for _, s := range r.Summaries() {
		row(stBody, s.Name, strconv.Itoa(s.Count), yen(s.TotalYen), strconv.Itoa(s.Refunds), yen(s.RefundedYen), yen(s.NetYen))
	}
	row(stBodyG, "合計", "", "", "", "", yen(r.Net()))
	doc.Y -= 10

	lines := func(heading string, ls []Line, sign int) {
		doc.Need(40)
		doc.Text(letter.MarginL, doc.Y, stHeading, heading)
		doc.Y -= 18
		if len(ls) == 0 {
			row(stBody, "なし")
			return
		}
		for _, l := range ls {
			doc.Need(16)
			doc.Text(cols[0], doc.Y, stBody, "受付番号 "+l.CaseNumber)
			doc.Text(cols[2], doc.Y, stBody, ItemName(l.Item))
			doc.Text(cols[5], doc.Y, stBody, yen(sign*l.AmountYen))
			doc.Y -= 16
		}
		doc.Y -= 10
	}
	lines("手数料の記録", r.Fees, 1)
	lines("還付", r.Refunds, -1)
	doc.Paragraph(letter.MarginL, letter.ContentW, stSmall, 12,
		"この帳票は受付番号と金額のみを記載し、個人情報を含みません。手数料は手続の内容から自動で計算されたものです。")
	doc.EachPage(func(page, total int) {
		doc.TextCenter(letter.FooterY, stSmall, fmt.Sprintf("%s %s %s　　%d / %d", Title, r.kind(), r.Period, page, total))
	})
	pdf, err := doc.Bytes(letter.Meta{Title: Title + " " + r.kind() + " " + r.Office + " " + r.Period, Creator: "madoguchi internal/feereport", Created: r.Made})
	if err != nil {
		return nil, fmt.Errorf("feereport: %w", err)
	}
	return pdf, nil
}
