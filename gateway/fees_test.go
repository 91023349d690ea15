package gateway

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/fee"
	"github.com/madoguchi/madoguchi/internal/letter"
	"github.com/madoguchi/madoguchi/internal/letter/lettertest"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
)

func (s *apiStore) FeeReport(_ context.Context, office string, from, to time.Time) (storage.FeeReport, error) {
	if s.err != nil {
		return storage.FeeReport{}, s.err
	}
	s.feeAsks = append(s.feeAsks, [2]time.Time{from, to})
	return s.fees[office], nil
}

func (f *apiFixture) addFees() {
	f.store.fees = map[string]storage.FeeReport{
		apiMunicipality: {
			Fees: []storage.FeeReportLine{
				{CaseNumber: "131016-20261201-000001", Item: fee.ItemIssuance, AmountYen: 0, At: apiNow},
				{CaseNumber: "131016-20261201-000002", Item: fee.ItemReissueAfterCardReissue, AmountYen: 200, At: apiNow},
				{CaseNumber: "131016-20261201-000003", Item: fee.ItemReissueAfterCardReissue, AmountYen: 200, At: apiNow},
			},
			Refunds: []storage.FeeReportLine{{CaseNumber: "131016-20261201-000003", Item: fee.ItemReissueAfterCardReissue, AmountYen: 200, At: apiNow}},
		},
		"141003": {Fees: []storage.FeeReportLine{{CaseNumber: "141003-20261201-000001", Item: fee.ItemReissueAfterCardReissue, AmountYen: 200, At: apiNow}}},
	}
}

// TestFeeReportCSV: a manager's daily report is the office's own, a CSV
// with a BOM and a header row, the day's bounds in Tokyo; a month's runs
// to the next month's first day.
func TestFeeReportCSV(t *testing.T) {
	f := newAPIFixture(t, &apiTemporal{})
	f.addFees()
	rec := matrixGet("/api/fees/report?day=2026-12-01")(f, "manager1", "")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("%d %s %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	body := rec.Body.Bytes()
	if !bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) {
		t.Fatal("no BOM")
	}
	rows, err := csv.NewReader(bytes.NewReader(body[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	text := rec.Body.String()
	for _, want := range []string{"row,item,case_number,count,amount_yen,at", "total,certificate_reissue_after_card_reissue,,2,400,",
		"refunds,certificate_reissue_after_card_reissue,,1,-200,", "net,all,,,200,"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in\n%s", want, text)
		}
	}
	if strings.Contains(text, "141003") || len(rows) != 12 {
		t.Errorf("%d rows, or another office's fee:\n%s", len(rows), text)
	}
	if a := f.store.feeAsks[0]; !a[0].Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, storage.Tokyo)) || !a[1].Equal(time.Date(2026, 12, 2, 0, 0, 0, 0, storage.Tokyo)) {
		t.Errorf("day asked %v", a)
	}
	if rec := matrixGet("/api/fees/report?month=2026-12&format=csv")(f, "auditor1", ""); rec.Code != http.StatusOK {
		t.Fatalf("month: %d %s", rec.Code, rec.Body)
	}
	if a := f.store.feeAsks[1]; !a[0].Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, storage.Tokyo)) || !a[1].Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, storage.Tokyo)) {
		t.Errorf("month asked %v", a)
	}
}

// TestFeeReportPDF: the PDF's text names the office, the day, the items'
// figures and the case numbers.
func TestFeeReportPDF(t *testing.T) {
	lettertest.RequireFonts(t)
	f := newAPIFixture(t, &apiTemporal{})
	f.addFees()
	rec := matrixGet("/api/fees/report?day=2026-12-01&format=pdf")(f, "auditor1", "")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/pdf" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	pages, err := letter.ReadBack(rec.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	text := pages[0].Text()
	for _, want := range []string{"電子証明書発行手数料 日報", "期間　2026-12-01", "受付番号 131016-20261201-000002", "400円", "-200円"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF does not say %q:\n%s", want, text)
		}
	}
}

// TestFeeReportRefusesBadInput: a missing, double or malformed period and
// an unknown format are 400s that ask nothing of the store; a clerk may
// not read the report.
func TestFeeReportRefusesBadInput(t *testing.T) {
	f := newAPIFixture(t, &apiTemporal{})
	for _, q := range []string{"", "?day=2026-02-30", "?month=2026-13", "?month=2026-1", "?day=2026-12-01&month=2026-12", "?day=2026-12-01&format=xlsx"} {
		rec := matrixGet("/api/fees/report"+q)(f, "manager1", "")
		e := errorBody(t, rec)
		if rec.Code != http.StatusBadRequest || (e.Code != "bad_period" && e.Code != "bad_format") {
			t.Errorf("%q: %d %+v", q, rec.Code, e)
		}
	}
	if len(f.store.feeAsks) != 0 {
		t.Errorf("the store was asked %v", f.store.feeAsks)
	}
	if rec := matrixGet("/api/fees/report?day=2026-12-01")(f, "clerk1", ""); rec.Code != http.StatusForbidden {
		t.Errorf("a clerk: %d", rec.Code)
	}
}

// TestFeeTypedByHandRefused: a start or a step whose body carries a fee,
// at any depth and in any spelling, is a 400 fee_not_typed; nothing starts
// or is sent, and the attempt is recorded with the clerk, the office and
// the procedure or case.
func TestFeeTypedByHandRefused(t *testing.T) {
	tc := &apiTemporal{}
	f := newAPIFixture(t, tc)
	f.addCase(workflows.ProcedureInPersonIssuance, "131016-20261201-000001", apiMunicipality)
	app := `"application":{"residentCode":"12345678901","name":"試験 花子","birthDate":"1985-06-15","sex":"female","address":"試験町1番地","signing":true,"userAuth":true}`
	for _, tc := range []struct{ path, body, subject string }{
		{"/api/procedures/inperson-issuance", `{"terminalId":"` + apiTerminal + `",` + app + `,"fee":200}`, workflows.ProcedureInPersonIssuance},
		{"/api/procedures/inperson-issuance", `{"terminalId":"` + apiTerminal + `",` + app + `,"feeYen":0}`, workflows.ProcedureInPersonIssuance},
		{"/api/procedures/inperson-issuance", `{"terminalId":"` + apiTerminal + `","application":{"residentCode":"12345678901","fee_yen":200}}`, workflows.ProcedureInPersonIssuance},
		{"/api/cases/131016-20261201-000001/identity-check", `{"documentType":"individual_number_card","verified":true,"amountYen":200}`, "131016-20261201-000001"},
		{"/api/cases/131016-20261201-000001/identity-check", `{"documentType":"individual_number_card","verified":true,"Amount_Yen":"200"}`, "131016-20261201-000001"},
	} {
		before := len(f.store.refusals)
		rec := f.post("clerk1", tc.path, []byte(tc.body))
		e := errorBody(t, rec)
		if rec.Code != http.StatusBadRequest || e.Code != "fee_not_typed" || !strings.Contains(e.Message, "手数料は入力できません") {
			t.Errorf("%s %s: %d %+v", tc.path, tc.body, rec.Code, e)
			continue
		}
		if len(f.store.refusals) != before+1 {
			t.Fatalf("%s: the attempt was not recorded", tc.body)
		}
		r := f.store.refusals[before]
		if r.Kind != storage.RefusalFeeTypedByHand || r.Actor != "clerk1" || r.Office != apiMunicipality || r.Subject != tc.subject || r.Reason != "fee_not_typed" {
			t.Errorf("recorded %+v", r)
		}
	}
	if len(tc.starts) != 0 || len(tc.updates) != 0 || len(f.store.inserted) != 0 {
		t.Errorf("started %v, sent %v, inserted %v", tc.starts, tc.updates, f.store.inserted)
	}
	// Without a fee the same step goes through.
	if rec := f.post("clerk1", "/api/cases/131016-20261201-000001/identity-check", []byte(`{"documentType":"individual_number_card","verified":true}`)); rec.Code != http.StatusOK || len(tc.updates) != 1 {
		t.Errorf("a step without a fee: %d %s", rec.Code, rec.Body)
	}
}

// TestCarriesFee: the keys that carry a fee, and those that do not.
func TestCarriesFee(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want bool
	}{
		{map[string]any{"fee": 1}, true},
		{map[string]any{"FEE-YEN": "200"}, true},
		{map[string]any{"a": []any{map[string]any{"amount_yen": 0}}}, true},
		{map[string]any{"手数料": 200}, true},
		{map[string]any{"feedback": "ok", "coffee": 1, "application": map[string]any{"name": "x"}}, false},
		{[]any{"fee"}, false},
		{"fee", false},
	} {
		if got := carriesFee(tc.v); got != tc.want {
			t.Errorf("carriesFee(%v) = %v, want %v", tc.v, got, tc.want)
		}
	}
}
