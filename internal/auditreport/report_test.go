package auditreport

import (
	"bytes"
	"encoding/csv"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/letter"
	"github.com/madoguchi/madoguchi/internal/letter/lettertest"
)

var (
	from = time.Date(2026, 12, 1, 0, 0, 0, 0, time.FixedZone("JST", 9*3600))
	at   = from.Add(10 * time.Hour)
)

// TestBuild: the report's content from its inputs, rule by rule.
func TestBuild(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    Input
		check func(t *testing.T, r Report)
	}{
		{"counts by procedure and outcome", Input{Cases: []Case{
			{"A-1", "inperson-revocation", Completed, ""}, {"A-2", "inperson-revocation", Completed, ""},
			{"A-3", "inperson-revocation", Rejected, "not_holder"}, {"A-4", "loss-report", Open, ""},
			{"A-5", "inperson-pin-change", Cancelled, "cancelled"}, {"A-6", "inperson-pin-change", Lapsed, "identity_not_checked"},
			{"A-7", "inperson-pin-change", Failed, "failed"},
		}}, func(t *testing.T, r Report) {
			if len(r.Procedures) != 3 || r.Procedures[0].Procedure != "inperson-pin-change" || r.Procedures[2].Procedure != "loss-report" {
				t.Fatalf("procedures %+v", r.Procedures)
			}
			rev := r.Procedures[1]
			if rev.Counts[Completed] != 2 || rev.Counts[Rejected] != 1 || rev.Total != 3 {
				t.Errorf("revocation %+v", rev)
			}
			want := map[string]int{Completed: 2, Rejected: 1, Open: 1, Cancelled: 1, Lapsed: 1, Failed: 1}
			if !reflect.DeepEqual(r.Totals.Counts, want) || r.Totals.Total != 7 {
				t.Errorf("totals %+v", r.Totals)
			}
		}},
		{"the lapsed, failed and cancelled are listed with their reason, not the rejected or open", Input{Cases: []Case{
			{"A-9", "x", Failed, "failed"}, {"A-3", "x", Rejected, "not_holder"}, {"A-2", "x", Lapsed, "reply_not_received"},
			{"A-1", "x", Cancelled, "cancelled"}, {"A-4", "x", Open, ""}, {"A-5", "x", Completed, ""},
		}}, func(t *testing.T, r Report) {
			want := []Case{{"A-1", "x", Cancelled, "cancelled"}, {"A-2", "x", Lapsed, "reply_not_received"}, {"A-9", "x", Failed, "failed"}}
			if !reflect.DeepEqual(r.NotCompleted, want) {
				t.Errorf("not completed %+v", r.NotCompleted)
			}
		}},
		{"PIN confirmations and their exceptions", Input{
			Cases: []Case{{"A-1", "inperson-pin-change", Completed, ""}, {"A-2", "inperson-pin-change", Completed, ""},
				{"A-3", "inperson-issuance", Lapsed, LapseNoConfirmation}, {"A-4", "inperson-issuance", Completed, ""},
				{"A-5", "inperson-issuance", Lapsed, "identity_not_checked"}},
			PINs: []PINConfirmation{{"A-2", "clerk1", "clerk1"}, {"A-1", "clerk1", "clerk2"}, {"A-4", "", "clerk2"},
				// Another period's case is that period's.
				{"B-1", "clerk1", "clerk1"}},
		}, func(t *testing.T, r Report) {
			want := []PINRow{{"A-1", "inperson-pin-change", "clerk1", "clerk2", PINConfirmed}, {"A-2", "inperson-pin-change", "clerk1", "clerk1", PINSameClerk},
				{"A-3", "inperson-issuance", "", "", PINConfirmationMissing}, {"A-4", "inperson-issuance", "", "clerk2", PINEntererMissing}}
			if !reflect.DeepEqual(r.PINs, want) || r.PINExceptions != 3 {
				t.Errorf("PINs %+v (%d exceptions)", r.PINs, r.PINExceptions)
			}
		}},
		{"refusals by time, access by staff and kind with a total", Input{
			Refusals: []Refusal{{Kind: "fee_typed_by_hand", At: at.Add(time.Hour)}, {Kind: "approval_of_own_list", At: at}},
			Access:   []AccessCount{{"manager1", "history", 2}, {"clerk1", "register_record", 3}, {"clerk1", "disclosure", 1}},
		}, func(t *testing.T, r Report) {
			if r.Refusals[0].Kind != "approval_of_own_list" || len(r.Refusals) != 2 {
				t.Errorf("refusals %+v", r.Refusals)
			}
			want := []AccessCount{{"clerk1", "disclosure", 1}, {"clerk1", "register_record", 3}, {"manager1", "history", 2}}
			if !reflect.DeepEqual(r.Access, want) || r.AccessTotal != 6 {
				t.Errorf("access %+v (%d)", r.Access, r.AccessTotal)
			}
		}},
		{"disposals not recorded yet", Input{}, func(t *testing.T, r Report) {
			if r.DisposalsRecorded || r.Disposals != nil || r.Totals.Total != 0 {
				t.Errorf("%+v", r)
			}
		}},
		{"disposals recorded, none in the period", Input{Disposals: &[]Disposal{}}, func(t *testing.T, r Report) {
			if !r.DisposalsRecorded {
				t.Errorf("%+v", r)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, Build(tc.in)) })
	}
}

func sample() Report {
	return Build(Input{Office: "131016", OfficeName: "東京都千代田区", From: from, To: from, Generated: at, GeneratedBy: "auditor1",
		Cases: []Case{{"131016-20261201-000001", "inperson-pin-change", Completed, ""}, {"131016-20261201-000002", "inperson-pin-change", Lapsed, LapseNoConfirmation},
			{"131016-20261201-000003", "inperson-revocation", Cancelled, "cancelled"}},
		PINs:     []PINConfirmation{{"131016-20261201-000001", "clerk1", "clerk2"}},
		Refusals: []Refusal{{Kind: "fee_typed_by_hand", Actor: "clerk1", Subject: "131016-20261201-000001", Reason: "fee_computed", At: at}},
		Access:   []AccessCount{{"clerk1", "register_record", 2}}})
}

// TestCSV: the CSV has one header, the same columns in every row, and the
// sections' rows.
func TestCSV(t *testing.T) {
	rows, err := csv.NewReader(bytes.NewReader(sample().CSV())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rows[0], CSVHeader) {
		t.Fatalf("header %v", rows[0])
	}
	got := map[string]bool{}
	for _, r := range rows[1:] {
		got[strings.Join(r, ",")] = true
	}
	for _, want := range []string{
		"procedures,,inperson-pin-change,completed,1,,,", "procedures,,inperson-pin-change,lapsed,1,,,", "procedures,,inperson-pin-change,total,2,,,",
		"totals,,,total,3,,,", "totals,,,cancelled,1,,,",
		"not_completed,131016-20261201-000002,inperson-pin-change,lapsed,,,,intent_not_confirmed",
		"pins,131016-20261201-000001,inperson-pin-change,confirmed,,clerk1,clerk2,", "pins,131016-20261201-000002,inperson-pin-change,confirmation_missing,,,,",
		"pin_exceptions,,,,1,,,", "access,,,register_record,2,clerk1,,", "access_total,,,,2,,,",
		"disposals,,,not_recorded,,,,disposals are not recorded yet",
	} {
		if !got[want] {
			t.Errorf("no row %q in\n%s", want, sample().CSV())
		}
	}
}

// TestPDF: the PDF says the same as the CSV, its totals line included,
// and names no one but staff.
func TestPDF(t *testing.T) {
	lettertest.RequireFonts(t)
	r := sample()
	pdf, err := r.PDF()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := r.PDF()
	if !bytes.Equal(pdf, again) {
		t.Error("the same report rendered to different bytes")
	}
	pages, err := letter.ReadBack(pdf)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, p := range pages {
		text.WriteString(p.Text() + "\n")
	}
	for _, want := range []string{Title, "東京都千代田区（131016）", "2026-12-01 から 2026-12-01 まで", r.TotalsLine(), "合計　完了 1　却下 0　期限切れ 1　障害 0　取消 1　処理中 0　計 3",
		"131016-20261201-000001　inperson-pin-change　入力 clerk1　確認 clerk2　確認済", "例外: 確認なし（期限切れ）",
		"131016-20261201-000003　inperson-revocation　取消　理由 cancelled", "fee_typed_by_hand　clerk1", "clerk1　register_record　2",
		"廃棄の記録はまだありません"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the PDF does not say %q:\n%s", want, text.String())
		}
	}
	// pdftotext reads the same totals (the integration test's check).
	if got := lettertest.Text(t, pdf); !strings.Contains(got, "totals: completed=1 rejected=0 lapsed=1 failed=0 cancelled=1 open=0 total=3") {
		t.Errorf("pdftotext: %s", got)
	}
}
