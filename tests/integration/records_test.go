package integration

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/internal/letter"
	"github.com/madoguchi/madoguchi/internal/searchattr"
	"github.com/madoguchi/madoguchi/internal/temporalclient"
	"github.com/madoguchi/madoguchi/workflows"
)

var recordsProxy = map[string]any{"name": "代理 花子", "address": "東京都千代田区一番町1番地", "relationship": "child"}

// caseCount is the number of cases of the municipal database.
func caseCount(t *testing.T) (n int) {
	t.Helper()
	if err := municipalDB(t).QueryRow(context.Background(), `SELECT count(*) FROM cases`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// orgLetter is a letter the Organization queued for a case, read back.
func orgLetter(t *testing.T, orgCase, kind string) (text, delivery, how string) {
	t.Helper()
	var pdf []byte
	var deliveredHow *string
	if err := jlis(t).QueryRow(context.Background(), `SELECT pdf, delivery, delivered_how FROM ca_letters WHERE case_number = $1 AND letter = $2`,
		orgCase, kind).Scan(&pdf, &delivery, &deliveredHow); err != nil {
		t.Fatalf("the %s letter of %s: %v", kind, orgCase, err)
	}
	pages, err := letter.ReadBack(pdf)
	if err != nil {
		t.Fatalf("the %s letter of %s: %v", kind, orgCase, err)
	}
	var b strings.Builder
	for _, p := range pages {
		b.WriteString(p.Text())
		b.WriteString("\n")
	}
	if deliveredHow != nil {
		how = *deliveredHow
	}
	return b.String(), delivery, how
}

// serialsOf are the serials the Organization issued to a resident.
func serialsOf(t *testing.T, resident string) []string {
	t.Helper()
	rows, err := jlis(t).Query(context.Background(), `SELECT serial FROM ca_certificates WHERE resident_code = $1 AND cert_der IS NOT NULL ORDER BY serial`, resident)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// disclose has the Organization's operator send the disclosure notice of a
// case once it waits for it, and the counter case end.
func disclose(t *testing.T, clerk, op *api, counterCase string) string {
	t.Helper()
	orgCase := workflows.OrganizationCase(counterCase)
	op.waitStep(orgCase, time.Minute, workflows.StepDisclosure)
	var res struct{ Records int }
	if code := op.do("POST", "/api/cases/"+orgCase+"/disclose", map[string]any{}, &res); code != http.StatusOK {
		t.Fatalf("disclose: HTTP %d", code)
	}
	done := clerk.waitStep(counterCase, time.Minute, workflows.StepDone, workflows.StepRejected, workflows.StepFailed)
	if done["status"] != workflows.StatusCompleted {
		t.Fatalf("the counter's case: %v", done)
	}
	return orgCase
}

// TestDisclosureAndCorrection: a resident with certificates from an
// issuance and a revocation in this run asks in person for their records
// (第2 3(1)), by mail; the counter forwards and sees only how it stands;
// the Organization's operator discloses, and the mailed notice lists
// exactly the Organization's records. Then a correction (第2 4(1)) of one
// item is accepted and another refused: the record changes, the audit
// keeps the old value, the certificate and the CA's state stay as signed.
// Bad requests are refused with nothing recorded.
func TestDisclosureAndCorrection(t *testing.T) {
	beginTest(t)
	r := demo.Find(demo.ResidentDisclosure)
	startTerminal(t, r.CardSerial, r.CardExpiry, false)
	clerk, op, yokohama := login(t, "clerk1"), login(t, "jlis1"), login(t, "yokohama1")
	_, st := issue(t, clerk, application(demo.ResidentDisclosure, true, true))
	if st["status"] != workflows.StatusCompleted {
		t.Fatalf("issuance: %v", st)
	}
	certs := certsOf(st)
	sign, auth := certs[contract.KindSigning]["serial"].(string), certs[contract.KindUserAuth]["serial"].(string)
	n := startStatusChange(t, clerk, "inperson-revocation", map[string]any{"residentCode": demo.ResidentDisclosure, "signing": true,
		"reason": "cessationOfOperation", "terminalId": "T0001"})
	checkIdentity(t, clerk, n, false)
	if done := clerk.waitStep(n, time.Minute, workflows.StepDone, workflows.StepRejected); done["status"] != workflows.StatusCompleted {
		t.Fatalf("revocation: %v", done)
	}

	// Bad requests: refused before any case exists.
	before := caseCount(t)
	for _, bad := range []struct {
		who       *api
		procedure string
		body      map[string]any
		status    int
		code      string
	}{
		{yokohama, "inperson-disclosure-request", map[string]any{"residentCode": demo.ResidentDisclosure, "delivery": "mail"}, http.StatusForbidden, "other_municipality_resident"},
		{clerk, "proxy-disclosure-request", map[string]any{"residentCode": demo.ResidentDisclosure, "delivery": "mail"}, http.StatusBadRequest, "missing_proxy"},
		{clerk, "inperson-disclosure-request", map[string]any{"residentCode": demo.ResidentDisclosure, "delivery": "fax"}, http.StatusBadRequest, "bad_delivery"},
		{clerk, "inperson-correction-request", map[string]any{"residentCode": demo.ResidentDisclosure, "delivery": "mail",
			"disclosureCase": "jlis-131016-20990101-000001", "items": []map[string]any{{"serial": sign, "action": "correct", "field": "municipality", "value": "131024", "statement": "誤り"}}},
			http.StatusNotFound, "unknown_disclosure"},
	} {
		var e apiErr
		if code := bad.who.do("POST", "/api/procedures/"+bad.procedure, bad.body, &e); code != bad.status || e.Error.Code != bad.code {
			t.Errorf("%s %v: HTTP %d %+v, want %d %s", bad.procedure, bad.body, code, e, bad.status, bad.code)
		}
	}
	if after := caseCount(t); after != before {
		t.Errorf("bad requests opened %d cases", after-before)
	}

	// 第2 3(1): in person, by mail.
	counter := startStatusChange(t, clerk, "inperson-disclosure-request", map[string]any{"residentCode": demo.ResidentDisclosure, "delivery": "mail"})
	checkIdentity(t, clerk, counter, false)
	fwd := clerk.waitStep(counter, time.Minute, workflows.StepForwardedToOrganization)
	orgCase := workflows.OrganizationCase(counter)
	if rec, _ := fwd["records"].(map[string]any); rec["organizationCase"] != orgCase {
		t.Errorf("the counter does not show where it forwarded: %v", fwd["records"])
	}
	// Separation: the clerk cannot read the Organization's case; the
	// operator can, and lists its deadline.
	var e apiErr
	if code := clerk.do("GET", "/api/cases/"+orgCase, nil, &e); code != http.StatusNotFound {
		t.Errorf("the municipal clerk read the Organization's case: HTTP %d", code)
	}
	op.waitStep(orgCase, time.Minute, workflows.StepDisclosure)
	var list struct{ Deadlines []map[string]any }
	if code := op.do("GET", "/api/deadlines", nil, &list); code != http.StatusOK ||
		!slices.ContainsFunc(list.Deadlines, func(d map[string]any) bool { return d["caseNumber"] == orgCase && d["overdue"] == false }) {
		t.Errorf("the deadline list (HTTP %d) does not hold %s in time: %v", code, orgCase, list.Deadlines)
	}
	disclose(t, clerk, op, counter)

	// The notice went by mail, and lists exactly the Organization's records.
	text, delivery, how := orgLetter(t, orgCase, contract.LetterDisclosure)
	if delivery != contract.DeliveryMail || how != contract.DeliveredByMail {
		t.Errorf("the notice: delivery %q, delivered %q", delivery, how)
	}
	records := serialsOf(t, demo.ResidentDisclosure)
	if len(records) < 2 {
		t.Fatalf("the Organization holds %d records of the resident", len(records))
	}
	for _, s := range records {
		if !strings.Contains(text, s) {
			t.Errorf("the notice does not list %s", s)
		}
	}
	for _, want := range []string{"認証業務情報開示通知書", r.Name, r.Address, "失効", "利用者の意思によるサービスの停止", orgCase} {
		if !strings.Contains(text, want) {
			t.Errorf("the notice does not say %q", want)
		}
	}
	// The operator prints the same notice through the gateway (a look-up on
	// the CA worker, recorded as a disclosure read); the counter may not.
	var queued []byte
	if err := jlis(t).QueryRow(context.Background(), `SELECT pdf FROM ca_letters WHERE case_number = $1 AND letter = 'disclosure'`, orgCase).Scan(&queued); err != nil {
		t.Fatal(err)
	}
	if code, pdf := op.get("/api/cases/" + orgCase + "/disclosure-notice.pdf"); code != http.StatusOK || !bytes.Equal(pdf, queued) {
		t.Errorf("the operator's print of the notice: HTTP %d, %d bytes, the queued letter's %v", code, len(pdf), bytes.Equal(pdf, queued))
	}
	if code, _ := op.get("/api/cases/" + orgCase + "/correction-notice.pdf"); code != http.StatusNotFound {
		t.Errorf("a letter never made: HTTP %d", code)
	}
	if code, _ := clerk.get("/api/cases/" + orgCase + "/disclosure-notice.pdf"); code != http.StatusForbidden {
		t.Errorf("the counter's clerk printed the Organization's notice: HTTP %d", code)
	}
	// The counter's state holds none of the records.
	if b := clerk.raw("GET", "/api/cases/"+counter); strings.Contains(string(b), sign) || strings.Contains(string(b), auth) {
		t.Errorf("the counter's case shows a serial: %s", b)
	}

	// 第2 4(1): a record that was never disclosed cannot be corrected.
	before = caseCount(t)
	corr := func(items []map[string]any) map[string]any {
		return map[string]any{"residentCode": demo.ResidentDisclosure, "delivery": "mail", "disclosureCase": orgCase, "items": items}
	}
	if code := clerk.do("POST", "/api/procedures/inperson-correction-request", corr([]map[string]any{
		{"serial": "abcdef123456", "action": "correct", "field": "municipality", "value": "131024", "statement": "誤り"}}), &e); code != http.StatusUnprocessableEntity || e.Error.Code != "not_disclosed" {
		t.Errorf("a correction of a record never disclosed: HTTP %d %+v", code, e)
	}
	if after := caseCount(t); after != before {
		t.Errorf("the refused correction opened %d cases", after-before)
	}
	counter = startStatusChange(t, clerk, "inperson-correction-request", corr([]map[string]any{
		{"serial": sign, "action": "correct", "field": "municipality", "value": "131024", "statement": "発行した市区町村が違います"},
		{"serial": auth, "action": "delete", "field": "counterpart", "statement": "対応証明書の記録は不要です"}}))
	checkIdentity(t, clerk, counter, false)
	orgCorr := workflows.OrganizationCase(counter)
	op.waitStep(orgCorr, time.Minute, workflows.StepCorrectionDecision)
	var dec struct{ Decision string }
	if code := op.do("POST", "/api/cases/"+orgCorr+"/decide-correction", map[string]any{"accepted": []int{0},
		"reason": "発行した市区町村の記録に誤りがあったため訂正します。対応証明書の記録は正しいため削除しません。"}, &dec); code != http.StatusOK || dec.Decision != contract.DecisionPart {
		t.Fatalf("decision: HTTP %d %+v", code, dec)
	}
	if done := clerk.waitStep(counter, time.Minute, workflows.StepDone, workflows.StepRejected, workflows.StepFailed); done["status"] != workflows.StatusCompleted {
		t.Fatalf("the correction's counter case: %v", done)
	}
	// The audit keeps the old value; the refused item is recorded too.
	type row struct {
		accepted      bool
		field, oldV   string
		newV, decider *string
	}
	rows, err := jlis(t).Query(context.Background(), `SELECT accepted, field, old_value, new_value, decided_by FROM ca_record_corrections WHERE case_number = $1 ORDER BY item`, orgCorr)
	if err != nil {
		t.Fatal(err)
	}
	var got []row
	for rows.Next() {
		var x row
		var oldV *string
		if err := rows.Scan(&x.accepted, &x.field, &oldV, &x.newV, &x.decider); err != nil {
			t.Fatal(err)
		}
		if oldV != nil {
			x.oldV = *oldV
		}
		got = append(got, x)
	}
	rows.Close()
	if len(got) != 2 || !got[0].accepted || got[0].field != contract.FieldMunicipality || got[0].oldV != "131016" ||
		got[0].newV == nil || *got[0].newV != "131024" || got[1].accepted {
		t.Errorf("the correction audit: %+v", got)
	}
	// The certificate and the CA's state are as signed.
	var muni string
	if err := jlis(t).QueryRow(context.Background(), `SELECT municipality_code FROM ca_certificates WHERE serial = $1`, sign).Scan(&muni); err != nil || muni != "131016" {
		t.Errorf("the issuance record's municipality is %q (%v): a correction must not rewrite it", muni, err)
	}
	if got := caStatus(t, sign); got != 5 {
		t.Errorf("the CA's status of %s changed to %d", sign, got)
	}
	text, _, _ = orgLetter(t, orgCorr, contract.LetterCorrection)
	for _, want := range []string{"訂正等決定通知書", "一部", sign, "131024"} {
		if !strings.Contains(text, want) {
			t.Errorf("the decision notice does not say %q", want)
		}
	}

	// 第2 4(2): a proxy asks for the counterpart to be added; refused.
	body := corr([]map[string]any{{"serial": sign, "action": "add", "field": "counterpart", "value": auth, "statement": "対応証明書が記録されていません"}})
	body["proxy"] = recordsProxy
	counter = startStatusChange(t, clerk, "proxy-correction-request", body)
	checkIdentity(t, clerk, counter, true)
	orgCorr = workflows.OrganizationCase(counter)
	op.waitStep(orgCorr, time.Minute, workflows.StepCorrectionDecision)
	if code := op.do("POST", "/api/cases/"+orgCorr+"/decide-correction", map[string]any{"accepted": []int{},
		"reason": "対応証明書は既に記録されています。"}, &dec); code != http.StatusOK || dec.Decision != contract.DecisionRefused {
		t.Fatalf("refusal: HTTP %d %+v", code, dec)
	}
	if done := clerk.waitStep(counter, time.Minute, workflows.StepDone, workflows.StepRejected, workflows.StepFailed); done["status"] != workflows.StatusCompleted {
		t.Fatalf("the proxy correction's counter case: %v", done)
	}
	if text, _, _ = orgLetter(t, orgCorr, contract.LetterCorrection); !strings.Contains(text, "訂正等をしないこととしました") {
		t.Errorf("the refusal notice does not say so:\n%s", text)
	}
}

// TestDisclosureByProxyNoRecords: a proxy with a power of attorney asks
// for the records of a person who has none (第2 3(2)); the notice says so.
// A proxy whose identity is not proved forwards nothing.
func TestDisclosureByProxyNoRecords(t *testing.T) {
	beginTest(t)
	clerk, op := login(t, "clerk1"), login(t, "jlis1")
	r := demo.Find(demo.ResidentNoRecords)

	// The proxy's documents do not prove who they are: refused, nothing
	// reaches the Organization.
	bad := startStatusChange(t, clerk, "proxy-disclosure-request", map[string]any{"residentCode": demo.ResidentNoRecords, "delivery": "mail", "proxy": recordsProxy})
	clerk.waitStep(bad, time.Minute, workflows.StepIdentityCheck)
	var e apiErr
	if code := clerk.do("POST", "/api/cases/"+bad+"/identity-check", map[string]any{"documentType": "drivers_license", "verified": true}, &e); code != http.StatusConflict {
		t.Errorf("a proxy without the power of attorney: HTTP %d %+v, want 409", code, e)
	}
	if code := clerk.do("POST", "/api/cases/"+bad+"/identity-check", map[string]any{"documentType": "drivers_license", "verified": false}, nil); code != http.StatusOK {
		t.Fatalf("identity check: HTTP %d", code)
	}
	if done := clerk.waitStep(bad, time.Minute, workflows.StepRejected, workflows.StepDone); done["status"] != workflows.StatusRejected {
		t.Errorf("a proxy not identified: %v", done)
	}
	var n int
	if err := jlis(t).QueryRow(context.Background(), `SELECT count(*) FROM ca_records_requests WHERE case_number = $1`, workflows.OrganizationCase(bad)).Scan(&n); err != nil || n != 0 {
		t.Errorf("the Organization received %d requests of a refused proxy (%v)", n, err)
	}

	counter := startStatusChange(t, clerk, "proxy-disclosure-request", map[string]any{"residentCode": demo.ResidentNoRecords, "delivery": "mail", "proxy": recordsProxy})
	checkIdentity(t, clerk, counter, true)
	orgCase := disclose(t, clerk, op, counter)
	text, _, _ := orgLetter(t, orgCase, contract.LetterDisclosure)
	for _, want := range []string{"認証業務情報開示通知書", r.Name, "開示請求に係る認証業務情報はありません"} {
		if !strings.Contains(text, want) {
			t.Errorf("the notice does not say %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "代理 花子") {
		t.Error("the notice is addressed to the proxy, not the person")
	}
	var docs int
	_ = municipalDB(t).QueryRow(context.Background(), `SELECT count(*) FROM documents WHERE case_number = $1 AND doc_type IN ('disclosure_request', 'power_of_attorney')`, counter).Scan(&docs)
	if docs != 2 {
		t.Errorf("%d of the request and the power of attorney kept", docs)
	}
}

// TestDisclosureOverdueInTheList: a request the Organization received 31
// days ago by post, with neither a disclosure nor an extension, is overdue
// in the deadline list; an extension is refused; a manager cancels it.
func TestDisclosureOverdueInTheList(t *testing.T) {
	beginTest(t)
	op := login(t, "jlis1")
	tc, err := temporalclient.Dial(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	orgCase := workflows.OrganizationCase("131016-20261101-009901")
	wfID := workflows.WorkflowID(contract.ProcDisclosure, orgCase)
	ctx := context.Background()
	if _, err := municipalDB(t).Exec(ctx, `INSERT INTO cases (case_number, municipality_code, procedure, workflow_id, opened_by)
		SELECT $1, 'jlis', $2, $3, id FROM clerks WHERE login = 'jlis1' ON CONFLICT DO NOTHING`, orgCase, contract.ProcDisclosure, wfID); err != nil {
		t.Fatal(err)
	}
	r := demo.Find(demo.ResidentNoRecords)
	if _, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: wfID, TaskQueue: contract.MunicipalTaskQueue,
		TypedSearchAttributes: searchattr.Start(contract.ProcDisclosure, orgCase, workflows.OrganizationOffice, workflows.StepReception)},
		"Disclosure", workflows.DisclosureInput{OrgRequest: workflows.OrgRequest{CaseNumber: orgCase, Office: workflows.OrganizationOffice,
			CounterOffice: workflows.OrganizationOffice, CounterCase: orgCase,
			Requester: contract.Requester{ResidentCode: r.ResidentCode, Name: r.Name, Address: r.Address}, Delivery: contract.DeliveryMail,
			ReceivedAt: time.Now().Add(-31 * 24 * time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	st := op.waitStep(orgCase, time.Minute, workflows.StepDisclosure)
	deadline := time.Now().Add(time.Minute)
	for {
		var list struct{ Deadlines []map[string]any }
		op.do("GET", "/api/deadlines?overdue=1", nil, &list)
		if slices.ContainsFunc(list.Deadlines, func(d map[string]any) bool { return d["caseNumber"] == orgCase && d["overdue"] == true }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is not overdue in the list: %v (state %v)", orgCase, list.Deadlines, st)
		}
		time.Sleep(300 * time.Millisecond)
	}
	var e apiErr
	if code := op.do("POST", "/api/cases/"+orgCase+"/extend-deadline", map[string]any{"reason": "遅延"}, &e); code != http.StatusConflict || !strings.Contains(e.Error.Message, "deadline has passed") {
		t.Errorf("an extension after the deadline: HTTP %d %+v", code, e)
	}
	if code := op.do("POST", "/api/cases/"+orgCase+"/cancel", map[string]any{"reason": "試験の後始末"}, nil); code != http.StatusOK {
		t.Errorf("cancel: HTTP %d", code)
	}
	if done := op.waitStep(orgCase, time.Minute, workflows.StepCancelled); done["status"] != workflows.StatusCancelled {
		t.Errorf("the overdue case did not end: %v", done)
	}
}

// TestDisclosureAtTheOrganization: the Organization's own counter takes a
// request from a resident of any municipality; the notice is collected at
// its counter after an identity check.
func TestDisclosureAtTheOrganization(t *testing.T) {
	beginTest(t)
	op := login(t, "jlis1")
	r := demo.Find(demo.ResidentYokohama)
	counter := startStatusChange(t, op, "inperson-disclosure-request", map[string]any{"residentCode": r.ResidentCode, "delivery": "pickup"})
	if !strings.HasPrefix(counter, workflows.OrganizationOffice+"-") {
		t.Errorf("the Organization's counter opened case %s", counter)
	}
	checkIdentity(t, op, counter, false)
	orgCase := workflows.OrganizationCase(counter)
	op.waitStep(orgCase, time.Minute, workflows.StepDisclosure)
	if code := op.do("POST", "/api/cases/"+orgCase+"/disclose", map[string]any{}, nil); code != http.StatusOK {
		t.Fatalf("disclose: HTTP %d", code)
	}
	// The person comes to collect it.
	op.waitStep(orgCase, time.Minute, workflows.StepLetterPickup)
	if code := op.do("POST", "/api/cases/"+orgCase+"/identity-check", map[string]any{"documentType": "residence_card", "verified": true}, nil); code != http.StatusOK {
		t.Fatalf("identity check at pick-up: HTTP %d", code)
	}
	if done := op.waitStep(counter, time.Minute, workflows.StepDone, workflows.StepRejected, workflows.StepFailed); done["status"] != workflows.StatusCompleted {
		t.Fatalf("the counter's case: %v", done)
	}
	text, delivery, how := orgLetter(t, orgCase, contract.LetterDisclosure)
	if delivery != contract.DeliveryPickup || how != contract.DeliveredByHandOver {
		t.Errorf("the notice: delivery %q, delivered %q", delivery, how)
	}
	if !strings.Contains(text, r.Name) || strings.Contains(text, r.Address) {
		t.Errorf("a notice for pick-up names the person and no address:\n%s", text)
	}
}
