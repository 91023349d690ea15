package auditreport

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/madoguchi/madoguchi/internal/letter"
	"github.com/madoguchi/madoguchi/internal/validity"
)

// Title is the report's title.
const Title = "監査報告書（準拠性監査）"

// CSVHeader is the CSV's header: every row has these columns, and section
// says what the row is (docs/AUDIT.md lists them).
var CSVHeader = []string{"section", "case_number", "procedure", "outcome", "count", "staff", "second_staff", "detail"}

// CSV renders the report as one CSV table (UTF-8, header first).
func (r Report) CSV() []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	row := func(section, caseNumber, procedure, outcome string, count int, staff, second, detail string) {
		n := ""
		if count >= 0 {
			n = strconv.Itoa(count)
		}
		_ = w.Write([]string{section, caseNumber, procedure, outcome, n, staff, second, detail})
	}
	_ = w.Write(CSVHeader)
	row("report", "", "", "", -1, r.GeneratedBy, "", fmt.Sprintf("office=%s from=%s to=%s generated=%s", r.Office, day(r.From), day(r.To), r.Generated.UTC().Format(time.RFC3339)))
	for _, p := range r.Procedures {
		for _, o := range Outcomes {
			row("procedures", "", p.Procedure, o, p.Counts[o], "", "", "")
		}
		row("procedures", "", p.Procedure, "total", p.Total, "", "", "")
	}
	for _, o := range Outcomes {
		row("totals", "", "", o, r.Totals.Counts[o], "", "", "")
	}
	row("totals", "", "", "total", r.Totals.Total, "", "", "")
	for _, c := range r.NotCompleted {
		row("not_completed", c.CaseNumber, c.Procedure, c.Status, -1, "", "", c.Reason)
	}
	for _, p := range r.PINs {
		row("pins", p.CaseNumber, p.Procedure, p.Outcome, -1, p.EnteredBy, p.ConfirmedBy, "")
	}
	row("pin_exceptions", "", "", "", r.PINExceptions, "", "", "")
	for _, f := range r.Refusals {
		row("refusals", "", "", f.Kind, -1, f.Actor, "", f.Subject+" "+f.Reason+" "+f.At.UTC().Format(time.RFC3339))
	}
	for _, a := range r.Access {
		row("access", "", "", a.Kind, a.Count, a.Staff, "", "")
	}
	row("access_total", "", "", "", r.AccessTotal, "", "", "")
	if !r.DisposalsRecorded {
		row("disposals", "", "", "not_recorded", -1, "", "", "disposals are not recorded yet")
	}
	for _, d := range r.Disposals {
		row("disposals", d.CaseNumber, "", d.Document, -1, d.By, "", d.At.UTC().Format(time.RFC3339))
	}
	w.Flush()
	return b.Bytes()
}

// outcomeNames are the outcomes as the PDF heads them.
var outcomeNames = map[string]string{Completed: "完了", Rejected: "却下", Lapsed: "期限切れ", Failed: "障害", Cancelled: "取消", Open: "処理中"}

// pinNames are the PIN outcomes as the PDF names them.
var pinNames = map[string]string{PINConfirmed: "確認済", PINSameClerk: "例外: 同一職員が確認", PINConfirmationMissing: "例外: 確認なし（期限切れ）",
	PINEntererMissing: "例外: 代行入力者の記録なし"}

var (
	stSmall   = letter.Style{Face: letter.Mincho, Size: 8}
	stBody    = letter.Style{Face: letter.Mincho, Size: 9}
	stCode    = letter.Style{Face: letter.Gothic, Size: 8.5}
	stHeading = letter.Style{Face: letter.Gothic, Size: 11}
	stTitle   = letter.Style{Face: letter.Gothic, Size: 18}
)

// TotalsLine is the PDF's line of every procedure's counts, which a reader
// (and the tests) compare with the CSV's totals.
func (r Report) TotalsLine() string {
	var parts []string
	for _, o := range Outcomes {
		parts = append(parts, fmt.Sprintf("%s %d", outcomeNames[o], r.Totals.Counts[o]))
	}
	return "合計　" + strings.Join(parts, "　") + fmt.Sprintf("　計 %d", r.Totals.Total)
}

// TotalsCodes is the totals line in the CSV's words, one token per
// outcome ("completed=3 … total=7"), which text extracted from the PDF
// keeps whole.
func (r Report) TotalsCodes() string {
	var parts []string
	for _, o := range Outcomes {
		parts = append(parts, fmt.Sprintf("%s=%d", o, r.Totals.Counts[o]))
	}
	return "totals: " + strings.Join(parts, " ") + fmt.Sprintf(" total=%d", r.Totals.Total)
}

// PDF renders the report as an A4 PDF/A-2b document (internal/letter).
func (r Report) PDF() ([]byte, error) {
	doc, err := letter.New()
	if err != nil {
		return nil, fmt.Errorf("auditreport: %w", err)
	}
	doc.TextCenter(doc.Y, stTitle, Title)
	doc.Y -= 24
	doc.Text(letter.MarginL, doc.Y, stBody, fmt.Sprintf("対象　%s（%s）", letter.CleanText(r.OfficeName), r.Office))
	doc.Y -= 14
	doc.Text(letter.MarginL, doc.Y, stBody, fmt.Sprintf("期間　%s から %s まで（受付日）", day(r.From), day(r.To)))
	doc.Y -= 14
	doc.Text(letter.MarginL, doc.Y, stBody, fmt.Sprintf("作成　%s　%s", letter.JapaneseDateTime(r.Generated), r.GeneratedBy))
	doc.Y -= 22

	heading := func(s string) {
		doc.Need(40)
		doc.Text(letter.MarginL, doc.Y, stHeading, s)
		doc.Y -= 16
	}
	line := func(x float64, st letter.Style, s string) {
		doc.Need(14)
		doc.Text(x, doc.Y, st, s)
		doc.Y -= 12
	}
	cols := func(cells ...string) {
		doc.Need(14)
		doc.Text(letter.MarginL+6, doc.Y, stCode, cells[0])
		for i, c := range cells[1:] {
			// Right-aligned in its column.
			doc.Text(letter.MarginL+236+float64(i)*38-doc.Width(c, stCode, 0), doc.Y, stCode, c)
		}
		doc.Y -= 12
	}

	heading("1　手続の種類別・結果別の件数")
	head := []string{"手続"}
	for _, o := range Outcomes {
		head = append(head, outcomeNames[o])
	}
	cols(append(head, "計")...)
	for _, p := range append(r.Procedures, r.Totals) {
		cells := []string{p.Procedure}
		for _, o := range Outcomes {
			cells = append(cells, strconv.Itoa(p.Counts[o]))
		}
		cols(append(cells, strconv.Itoa(p.Total))...)
	}
	doc.Y -= 4
	line(letter.MarginL+6, stBody, r.TotalsLine())
	line(letter.MarginL+6, stCode, r.TotalsCodes())
	doc.Y -= 8

	heading("2　職員が代行入力した暗証番号と本人意思の確認")
	line(letter.MarginL+6, stBody, fmt.Sprintf("件数 %d　例外 %d　拒否された操作 %d", len(r.PINs), r.PINExceptions, len(r.Refusals)))
	for _, p := range r.PINs {
		line(letter.MarginL+12, stCode, fmt.Sprintf("%s　%s　入力 %s　確認 %s　%s", p.CaseNumber, p.Procedure, orNone(p.EnteredBy), orNone(p.ConfirmedBy), pinNames[p.Outcome]))
	}
	doc.Y -= 8

	heading("3　期限切れ・障害・取消の手続")
	line(letter.MarginL+6, stBody, fmt.Sprintf("件数 %d", len(r.NotCompleted)))
	for _, c := range r.NotCompleted {
		line(letter.MarginL+12, stCode, fmt.Sprintf("%s　%s　%s　理由 %s", c.CaseNumber, c.Procedure, outcomeNames[c.Status], orNone(c.Reason)))
	}
	doc.Y -= 8

	heading("4　拒否された操作")
	line(letter.MarginL+6, stBody, fmt.Sprintf("件数 %d", len(r.Refusals)))
	for _, f := range r.Refusals {
		line(letter.MarginL+12, stCode, fmt.Sprintf("%s　%s　%s　%s　%s", letter.JapaneseDateTime(f.At), f.Kind, f.Actor, f.Subject, f.Reason))
	}
	doc.Y -= 8

	heading("5　個人情報の閲覧記録（職員別・種類別）")
	line(letter.MarginL+6, stBody, fmt.Sprintf("件数 %d", r.AccessTotal))
	for _, a := range r.Access {
		line(letter.MarginL+12, stCode, fmt.Sprintf("%s　%s　%d", a.Staff, a.Kind, a.Count))
	}
	doc.Y -= 8

	heading("6　申請書等の廃棄")
	if !r.DisposalsRecorded {
		line(letter.MarginL+6, stBody, "廃棄の記録はまだありません（未実装） / Disposals are not recorded yet.")
	} else {
		line(letter.MarginL+6, stBody, fmt.Sprintf("件数 %d", len(r.Disposals)))
		for _, d := range r.Disposals {
			line(letter.MarginL+12, stCode, fmt.Sprintf("%s　%s　%s　%s", letter.JapaneseDateTime(d.At), d.CaseNumber, d.Document, d.By))
		}
	}

	doc.EachPage(func(page, total int) {
		doc.TextCenter(letter.FooterY, stSmall, fmt.Sprintf("%s　%s　%d / %d", Title, r.Office, page, total))
	})
	pdf, err := doc.Bytes(letter.Meta{Title: Title + " " + r.Office + " " + day(r.From) + "–" + day(r.To), Creator: "madoguchi internal/auditreport", Created: r.Generated})
	if err != nil {
		return nil, fmt.Errorf("auditreport: %w", err)
	}
	return pdf, nil
}

func orNone(s string) string {
	if s == "" {
		return "（記録なし）"
	}
	return s
}

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return validity.DateOf(t.In(validity.Tokyo)).String()
}
