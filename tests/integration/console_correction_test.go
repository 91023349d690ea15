package integration

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/workflows"
)

// fillRow types one item of a correction request into its row.
func (b *tab) fillRow(i, serial, action, field, value, statement string) {
	b.t.Helper()
	id := func(f string) string { return "#f-items-" + i + "-" + f }
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.WaitVisible(chromedp.CSS(id("serial"))),
		chromedp.SendKeys(chromedp.CSS(id("serial")), serial),
		chromedp.SetValue(chromedp.CSS(id("action")), action),
		chromedp.SetValue(chromedp.CSS(id("field")), field),
	}
	if value != "" {
		steps = append(steps, chromedp.SendKeys(chromedp.CSS(id("value")), value))
	}
	if statement != "" {
		steps = append(steps, chromedp.SendKeys(chromedp.CSS(id("statement")), statement))
	}
	b.do("fill item "+i, steps...)
}

// TestConsoleCorrectionItems: a clerk starts an in-person correction
// request (第2 4(1)) of two items in the console's form, adding rows and
// removing one with its buttons (what was typed is kept, the rows after a
// removed one move up); an item left without its statement is refused
// beside that row's field with everything typed kept; the request sent
// opens the case, and the Organization's correction case holds both items.
// demo.ResidentCorrection's certificates are issued and disclosed through
// the API first, since only what a disclosure disclosed can be corrected.
func TestConsoleCorrectionItems(t *testing.T) {
	beginTest(t)
	r := demo.Find(demo.ResidentCorrection)
	clerk, op := login(t, "clerk1"), login(t, "jlis1")
	startBlankCard(t, r)
	_, st := issue(t, clerk, application(demo.ResidentCorrection, true, true))
	if st["status"] != workflows.StatusCompleted {
		t.Fatalf("issuance: %v", st)
	}
	certs := certsOf(st)
	sign, auth := certs[contract.KindSigning]["serial"].(string), certs[contract.KindUserAuth]["serial"].(string)
	counter := startStatusChange(t, clerk, "inperson-disclosure-request", map[string]any{"residentCode": demo.ResidentCorrection, "delivery": "mail"})
	checkIdentity(t, clerk, counter, false)
	disclosure := disclose(t, clerk, op, counter)

	b := newTab(t)
	b.signIn("clerk1")
	b.do("the correction form",
		chromedp.Navigate(gatewayURL+"/console/start"),
		chromedp.Click(chromedp.CSS("#start-inperson-correction-request")),
		chromedp.WaitVisible(chromedp.CSS("#start-form")),
		chromedp.SendKeys(chromedp.CSS("#f-residentCode"), demo.ResidentCorrection),
		chromedp.SetValue(chromedp.CSS("#f-delivery"), contract.DeliveryMail),
		chromedp.SendKeys(chromedp.CSS("#f-disclosureCase"), disclosure))
	if n := b.eval(`document.querySelectorAll("#f-items fieldset.row").length`); n != float64(1) {
		t.Fatalf("the form opens with %v rows, want 1", n)
	}
	if n := b.eval(`document.querySelectorAll("#f-items-0-remove").length`); n != float64(0) {
		t.Error("the only row can be removed")
	}
	b.fillRow("0", sign, contract.ActionCorrect, contract.FieldMunicipality, "131024", "発行した市区町村が違います")

	// Two more rows; the middle one removed: the last moves up.
	b.do("add a row", chromedp.Click(chromedp.CSS("#f-items-add")), chromedp.WaitVisible(chromedp.CSS("#f-items-1-serial")))
	// The browser runs autofocus at its next rendering update.
	for i := 0; b.focused() != "f-items-1-serial"; i++ {
		if i == 20 {
			t.Errorf("the new row's first field has no focus: #%s", b.focused())
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if v := b.value("#f-items-0-serial"); v != sign {
		t.Errorf("adding a row lost the first row's serial: %q", v)
	}
	b.fillRow("1", "ffff0000", contract.ActionCorrect, contract.FieldRevocationReason, "keyCompromise", "この行は削除する")
	b.do("add a third row", chromedp.Click(chromedp.CSS("#f-items-add")), chromedp.WaitVisible(chromedp.CSS("#f-items-2-serial")))
	// The third item without its statement, to be refused.
	b.fillRow("2", auth, contract.ActionDelete, contract.FieldCounterpart, "", "")
	// The form shown again has no third row any more.
	b.do("remove the second row", chromedp.Click(chromedp.CSS("#f-items-1-remove")), chromedp.WaitNotPresent(chromedp.CSS("#f-items-2-serial")),
		chromedp.WaitVisible(chromedp.CSS("#f-items-1-serial")))
	if n := b.eval(`document.querySelectorAll("#f-items fieldset.row").length`); n != float64(2) {
		t.Fatalf("after removing one of three rows the form shows %v: %s", n, b.peek())
	}
	if s1, a1, f1 := b.value("#f-items-1-serial"), b.value("#f-items-1-action"), b.value("#f-items-1-field"); s1 != auth || a1 != contract.ActionDelete || f1 != contract.FieldCounterpart {
		t.Errorf("the third row did not move up: %q %q %q", s1, a1, f1)
	}
	if v := b.value("#f-items-0-value"); v != "131024" {
		t.Errorf("removing a row lost the first row's value: %q", v)
	}

	// The statement missing: refused beside that row's field, nothing lost.
	b.do("send without the second statement", chromedp.Click(chromedp.CSS("#start-submit")), chromedp.WaitVisible(chromedp.CSS("#f-items-1-statement-error")))
	if msg := b.text("#f-items-1-statement-error"); msg != "2件目: 訂正等を求める理由を入力してください" {
		t.Errorf("the second item's error: %q", msg)
	}
	if s0, s1, dc := b.value("#f-items-0-statement"), b.value("#f-items-1-serial"), b.value("#f-disclosureCase"); s0 != "発行した市区町村が違います" || s1 != auth || dc != disclosure {
		t.Errorf("the refused form lost what was typed: %q %q %q", s0, s1, dc)
	}
	b.do("the statement, and send",
		chromedp.SendKeys(chromedp.CSS("#f-items-1-statement"), "対応証明書の記録は不要です"),
		chromedp.Click(chromedp.CSS("#start-submit")))
	n := b.caseNumber()
	b.waitStep(workflows.StepIdentityCheck)
	if f := b.text("#flash"); f != "手続を開始しました。" {
		t.Errorf("the case page says %q", f)
	}

	// The Organization's correction case holds the two items as typed.
	checkIdentity(t, clerk, n, false)
	org := workflows.OrganizationCase(n)
	op.waitStep(org, time.Minute, workflows.StepCorrectionDecision)
	var dec struct{ Decision string }
	if code := op.do("POST", "/api/cases/"+org+"/decide-correction", map[string]any{"accepted": []int{},
		"reason": "記録に誤りは認められませんでした。"}, &dec); code != http.StatusOK || dec.Decision != contract.DecisionRefused {
		t.Fatalf("decision: HTTP %d %+v", code, dec)
	}
	if done := clerk.waitStep(n, time.Minute, workflows.StepDone, workflows.StepRejected, workflows.StepFailed); done["status"] != workflows.StatusCompleted {
		t.Fatalf("the correction's counter case: %v", done)
	}
	rows, err := jlis(t).Query(context.Background(), `SELECT serial, action, field FROM ca_record_corrections WHERE case_number = $1 ORDER BY item`, org)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got [][3]string
	for rows.Next() {
		var x [3]string
		if err := rows.Scan(&x[0], &x[1], &x[2]); err != nil {
			t.Fatal(err)
		}
		got = append(got, x)
	}
	want := [][3]string{{sign, contract.ActionCorrect, contract.FieldMunicipality}, {auth, contract.ActionDelete, contract.FieldCounterpart}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("the Organization recorded the items %v, want %v", got, want)
	}
}
