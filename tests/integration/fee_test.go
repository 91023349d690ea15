package integration

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/fee"
	"github.com/madoguchi/madoguchi/internal/letter/lettertest"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/internal/temporalclient"
	"github.com/madoguchi/madoguchi/workflows"
)

// Residents of the fee test: one whose card was re-issued (the old one was
// reported lost), one with a first card.
var (
	feeReissued = exResident{"00000000303", "西村 亮", "東京都千代田区富士見2番3号", "1984-03-14", "male", "C131016000303"}
	feeFirst    = exResident{"00000000311", "原田 恵美", "東京都千代田区三番町6番", "1990-10-02", "female", "C131016000311"}
)

// getRaw fetches a report as bytes.
func getRaw(t *testing.T, a *api, path string) (int, string, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, gatewayURL+path, nil)
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// TestFeeOfReissueAfterCardReissue (第3 5): on the real parts, a resident
// whose card was re-issued after the old one was lost gets certificates
// issued again on the new card and the case's fee is 200 yen, computed
// from the facts; a first issuance is 0 yen; the procedure's result shows
// the item and amount; a fee typed into a start is refused and recorded as
// an attempt; the day's report, as CSV and as PDF text, shows both cases.
func TestFeeOfReissueAfterCardReissue(t *testing.T) {
	beginTest(t)
	mdb := municipalDB(t)
	ctx := context.Background()
	seedExResident(t, mdb, feeReissued)
	seedExResident(t, mdb, feeFirst)
	// The card before this one was reported lost (紛失): the new card is a
	// re-issue (再交付).
	if _, err := mdb.Exec(ctx, `INSERT INTO cards (card_serial, resident_code, expires_on, status) VALUES ($1, $2, '2031-04-01', 'lost')
		ON CONFLICT DO NOTHING`, feeReissued.card+"L", feeReissued.code); err != nil {
		t.Fatal(err)
	}
	clerk, manager, auditor := login(t, "clerk1"), login(t, "manager1"), login(t, "auditor1")

	// A fee typed by hand starts nothing and is recorded as an attempt.
	var refused apiErr
	if code := clerk.do("POST", "/api/procedures/inperson-issuance", map[string]any{"terminalId": "T0001",
		"application": feeReissued.application(), "feeYen": 0}, &refused); code != http.StatusBadRequest || refused.Error.Code != "fee_not_typed" {
		t.Fatalf("a typed fee: HTTP %d %+v", code, refused)
	}
	var refusals struct {
		Refusals []struct{ Actor, Subject, Reason string }
	}
	if code := manager.do("GET", "/api/refusals?kind=fee_typed_by_hand", nil, &refusals); code != http.StatusOK || len(refusals.Refusals) == 0 ||
		refusals.Refusals[0].Actor != "clerk1" || refusals.Refusals[0].Subject != workflows.ProcedureInPersonIssuance {
		t.Fatalf("the attempt is not in the register: HTTP %d %+v", code, refusals)
	}

	type outcome struct {
		Status string
		Detail struct {
			Fee struct {
				Item      string
				AmountYen int
			}
		}
	}
	issueAndFee := func(r exResident) (string, outcome) {
		t.Helper()
		startTerminal(t, r.card, exCardExpiry, false)
		number, st := issue(t, clerk, r.application())
		if st["status"] != workflows.StatusCompleted {
			t.Fatalf("issuance to %s did not complete: %v", r.code, st)
		}
		// The case's state shows the fee as the outcome does.
		iss, _ := st["issuance"].(map[string]any)
		stateFee, _ := iss["fee"].(map[string]any)
		if stateFee == nil {
			t.Errorf("the state of %s shows no fee: %v", number, st)
		}
		// The outcome is encrypted in Temporal: read it as the gateway does.
		tc, err := temporalclient.Dial(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer tc.Close()
		var out outcome
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := tc.GetWorkflow(cctx, workflows.WorkflowID(workflows.ProcedureInPersonIssuance, number), "").Get(cctx, &out); err != nil {
			t.Fatal(err)
		}
		if stateFee != nil && (stateFee["item"] != out.Detail.Fee.Item || stateFee["amountYen"] != float64(out.Detail.Fee.AmountYen)) {
			t.Errorf("the state's fee %v is not the outcome's %+v", stateFee, out.Detail.Fee)
		}
		return number, out
	}
	reissue, out := issueAndFee(feeReissued)
	if out.Detail.Fee.Item != fee.ItemReissueAfterCardReissue || out.Detail.Fee.AmountYen != 200 {
		t.Errorf("the re-issued card's fee: %+v, want 200 yen as %s", out.Detail.Fee, fee.ItemReissueAfterCardReissue)
	}
	first, out := issueAndFee(feeFirst)
	if out.Detail.Fee.Item != fee.ItemIssuance || out.Detail.Fee.AmountYen != 0 {
		t.Errorf("a first issuance's fee: %+v, want 0 yen as %s", out.Detail.Fee, fee.ItemIssuance)
	}
	for number, want := range map[string]int{reissue: 200, first: 0} {
		var amount int
		if err := mdb.QueryRow(ctx, `SELECT amount_yen FROM fees WHERE case_number = $1`, number).Scan(&amount); err != nil || amount != want {
			t.Errorf("fees row of %s: %d, %v; want %d", number, amount, err, want)
		}
	}

	today := time.Now().In(storage.Tokyo).Format(time.DateOnly)
	code, ctype, body := getRaw(t, manager, "/api/fees/report?day="+today)
	if code != http.StatusOK || !strings.HasPrefix(ctype, "text/csv") || !bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) {
		t.Fatalf("CSV report: HTTP %d %s %q", code, ctype, body)
	}
	rows, err := csv.NewReader(bytes.NewReader(body[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, r := range rows {
		if len(r) > 4 && r[0] == "fee" {
			lines[r[1]+"/"+r[2]+"/"+r[4]] = true
		}
	}
	for _, want := range []string{fee.ItemReissueAfterCardReissue + "/" + reissue + "/200", fee.ItemIssuance + "/" + first + "/0"} {
		if !lines[want] {
			t.Errorf("the CSV report has no fee line %s:\n%s", want, body)
		}
	}
	for _, personal := range []string{feeReissued.name, feeReissued.code, feeFirst.name, feeFirst.code} {
		if bytes.Contains(body, []byte(personal)) {
			t.Errorf("the CSV report holds personal data %q", personal)
		}
	}

	code, ctype, pdf := getRaw(t, auditor, "/api/fees/report?day="+today+"&format=pdf")
	if code != http.StatusOK || ctype != "application/pdf" {
		t.Fatalf("PDF report: HTTP %d %s", code, ctype)
	}
	text := strings.Join(strings.Fields(lettertest.Text(t, pdf)), "")
	for _, want := range []string{"電子証明書発行手数料日報", "受付番号" + reissue, "受付番号" + first, "カード再交付後の電子証明書の発行", "200円"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF report does not say %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, feeReissued.name) || strings.Contains(text, feeFirst.name) {
		t.Error("the PDF report names a resident")
	}
}
