package integration

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/letter/lettertest"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/internal/temporalclient"
	"github.com/madoguchi/madoguchi/workflows"
)

// The expiry notices (有効期限通知書, issue 12) on the real stack: a holder
// whose card, and so whose certificates, expire within 3 months gets one
// notice per certificate from the Organization's run, however often it
// runs; the notice reads as a letter should; a proxy renewal starts from
// its code, which a second start may not use again.

// expiryHolder is a register record of this test only; its card expires
// in two months, so its certificates do (規則13: the card's expiry bounds
// them).
var expiryHolder = exResident{"00000000176", "岡本 誠", "東京都千代田区一番町7番8号", "1969-09-09", "male", "C131016000176"}

var renewalCodeRE = regexp.MustCompile(`[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}`)

// TestExpiryNotices: issue both certificates on a card expiring in two
// months; run the notices twice the same day (two on-demand runs) and see
// exactly one notice per certificate, from the first run; the PDF says the
// name, address, kind and expiry, the form and the code, and not the birth
// date, the resident code or the serial; the daily Schedule exists. Then a
// proxy renewal starts from the signing notice's code (the code is marked
// used by that case) and a second start with it is refused, as are an
// unknown code and another person's, with nothing started.
func TestExpiryNotices(t *testing.T) {
	beginTest(t)
	ctx := context.Background()
	db := municipalDB(t)
	expiry := time.Now().In(storage.Tokyo).AddDate(0, 2, 0).Format(time.DateOnly)
	r := expiryHolder
	if _, err := db.Exec(ctx, `INSERT INTO residents (resident_code, municipality_code, name, birth_date, sex, address, status)
		VALUES ($1, '131016', $2, $3, $4, $5, 'resident') ON CONFLICT DO NOTHING`, r.code, r.name, r.birth, r.sex, r.address); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `INSERT INTO cards (card_serial, resident_code, expires_on) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		r.card, r.code, expiry); err != nil {
		t.Fatal(err)
	}
	clerk1 := login(t, "clerk1")
	startTerminal(t, r.card, expiry, false)
	_, st := issue(t, clerk1, r.application())
	if st["status"] != workflows.StatusCompleted {
		t.Fatalf("issuance did not complete: %v", st)
	}
	certs := certsOf(st)
	sign, auth := certs[contract.KindSigning]["serial"].(string), certs[contract.KindUserAuth]["serial"].(string)

	tc, err := temporalclient.Dial(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	if _, err := tc.ScheduleClient().GetHandle(ctx, workflows.ExpiryNoticeScheduleID).Describe(ctx); err != nil {
		t.Errorf("the daily Schedule %s: %v", workflows.ExpiryNoticeScheduleID, err)
	}
	runID := "it-" + time.Now().Format("150405.000000")
	var results []workflows.ExpiryNoticesResult
	for _, n := range []string{"1", "2"} {
		run, err := workflows.StartExpiryNotices(ctx, tc, runID+"-"+n)
		if err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		var res workflows.ExpiryNoticesResult
		err = run.Get(wctx, &res)
		cancel()
		if err != nil {
			t.Fatalf("run %s: %v", n, err)
		}
		results = append(results, res)
	}
	if results[0].Produced < 2 || results[1].Produced != 0 {
		t.Errorf("runs %+v: want this holder's two notices from the first, none from the second", results)
	}
	ca := jlis(t)
	first := workflows.WorkflowID(contract.ProcExpiryNotices, "on-demand-"+runID+"-1")
	var pdf []byte
	for _, serial := range []string{sign, auth} {
		var n int
		var run string
		if err := ca.QueryRow(ctx, `SELECT count(*), min(run_id) FROM ca_expiry_notices WHERE serial = $1`, serial).Scan(&n, &run); err != nil {
			t.Fatal(err)
		}
		if n != 1 || run != first {
			t.Errorf("certificate %s: %d notices from %s, want one from %s", serial, n, run, first)
		}
	}
	if err := ca.QueryRow(ctx, `SELECT pdf FROM ca_expiry_notices WHERE serial = $1`, sign).Scan(&pdf); err != nil {
		t.Fatal(err)
	}
	text := lettertest.Text(t, pdf)
	flat := strings.Join(strings.Fields(text), "")
	for _, want := range []string{"電子証明書の有効期限通知書", "岡本誠様", "東京都千代田区一番町7番8号", "署名用電子証明書", "委任状", "代理人の氏名"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the notice does not say %q:\n%s", want, text)
		}
	}
	for _, not := range []string{"1969", "昭和44", r.code, sign, "男"} {
		if strings.Contains(flat, not) {
			t.Errorf("the notice says %q:\n%s", not, text)
		}
	}
	code := renewalCodeRE.FindString(text)
	if code == "" {
		t.Fatalf("no renewal code on the notice:\n%s", text)
	}

	body := func(code string) map[string]any {
		return map[string]any{"terminalId": "T0001", "renewalCode": code, "application": r.application(),
			"proxy": map[string]string{"name": "岡本 翔", "address": "東京都千代田区一番町7番8号", "relationship": "子"}}
	}
	before := time.Now()
	var bad apiErr
	if c := clerk1.do("POST", "/api/procedures/proxy-issuance", body("ABCD-EFGH-JKLM-NPQR"), &bad); c != http.StatusNotFound || bad.Error.Code != "unknown_renewal_code" {
		t.Errorf("an unknown code: HTTP %d %+v", c, bad)
	}
	other := body(code)
	other["application"] = exMover.application()
	bad = apiErr{}
	if c := clerk1.do("POST", "/api/procedures/proxy-issuance", other, &bad); c != http.StatusForbidden || bad.Error.Code != "renewal_code_other_holder" {
		t.Errorf("another person's application with the code: HTTP %d %+v", c, bad)
	}
	var started struct{ CaseNumber string }
	if c := clerk1.do("POST", "/api/procedures/proxy-issuance", body(strings.ToLower(code)), &started); c != http.StatusCreated {
		t.Fatalf("renewal from the code: HTTP %d", c)
	}
	n := started.CaseNumber
	clerk1.waitStep(n, time.Minute, workflows.StepIdentityCheck)
	var usedBy string
	var left []byte
	if err := ca.QueryRow(ctx, `SELECT coalesce(used_by_case, ''), pdf FROM ca_expiry_notices WHERE serial = $1`, sign).Scan(&usedBy, &left); err != nil {
		t.Fatal(err)
	}
	if usedBy != n || left != nil {
		t.Errorf("the code is used by %q (letter kept: %v), want %s and the letter wiped", usedBy, left != nil, n)
	}
	bad = apiErr{}
	if c := clerk1.do("POST", "/api/procedures/proxy-issuance", body(code), &bad); c != http.StatusConflict || bad.Error.Code != "renewal_code_used" {
		t.Errorf("a second use of the code: HTTP %d %+v", c, bad)
	}
	var cases int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM cases c JOIN clerks k ON k.id = c.opened_by
		WHERE c.procedure = $1 AND k.login = 'clerk1' AND c.opened_at >= $2`, workflows.ProcedureProxyIssuance, before).Scan(&cases); err != nil {
		t.Fatal(err)
	}
	if cases != 1 {
		t.Errorf("%d proxy cases opened by the four starts, want the one", cases)
	}
	// The renewal runs on: the proxy's check with the form; a renewed kind
	// keeps its PIN, so nobody types one.
	var e apiErr
	if c := clerk1.do("POST", "/api/cases/"+n+"/identity-check", map[string]any{"documentType": "drivers_license", "verified": true, "powerOfAttorney": true}, &e); c != http.StatusOK {
		t.Fatalf("the proxy's identity check: HTTP %d %v", c, e)
	}
	st = clerk1.waitStep(n, 2*time.Minute, workflows.StepDone, workflows.StepRejected)
	if iss, _ := st["issuance"].(map[string]any); st["status"] != workflows.StatusCompleted || iss["renewal"] != true || len(certsOf(st)) != 2 {
		t.Fatalf("the renewal: %v", st)
	}
	renewed := certsOf(st)
	// The next run notices the renewed certificates (on the same card, so
	// expiring with it) and not the old ones again: they are superseded.
	run, err := workflows.StartExpiryNotices(ctx, tc, runID+"-3")
	if err != nil {
		t.Fatal(err)
	}
	var third workflows.ExpiryNoticesResult
	if err := run.Get(ctx, &third); err != nil {
		t.Fatal(err)
	}
	var olds, news int
	if err := ca.QueryRow(ctx, `SELECT count(*) FILTER (WHERE serial IN ($1, $2)), count(*) FILTER (WHERE serial IN ($3, $4))
		FROM ca_expiry_notices`, sign, auth, renewed[contract.KindSigning]["serial"], renewed[contract.KindUserAuth]["serial"]).Scan(&olds, &news); err != nil {
		t.Fatal(err)
	}
	if olds != 2 || news != 2 || third.Produced != 2 {
		t.Errorf("after the renewal: %d notices of the old certificates, %d of the renewed, run %+v; want 2, 2 and 2 produced", olds, news, third)
	}
}
