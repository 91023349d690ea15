package gateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/converter"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
)

// TestCorrectionAsksTheDisclosure: a correction request is checked against
// the disclosure it names, by that case's own query, before any case
// exists; a refusal is a 422 with the disclosure's reason.
func TestCorrectionAsksTheDisclosure(t *testing.T) {
	body := []byte(`{"residentCode":"12345678901","delivery":"mail","disclosureCase":"jlis-131016-20261201-000001",
		"items":[{"serial":"51","action":"correct","field":"municipality","value":"131024","statement":"誤り"}]}`)
	for _, tc := range []struct {
		name   string
		answer string
		status int
		code   string
	}{
		{"disclosed", `{}`, http.StatusCreated, ""},
		{"never disclosed", `{"refusal":{"code":"not_disclosed","message":"開示していない記録"}}`, http.StatusUnprocessableEntity, "not_disclosed"},
		{"period passed", `{"refusal":{"code":"correction_period_passed","message":"期間を過ぎています"}}`, http.StatusUnprocessableEntity, "correction_period_passed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAPIFixture(t, &apiTemporal{answers: map[string]string{workflows.DisclosedQuery: tc.answer}})
			rec := f.post("clerk1", "/api/procedures/inperson-correction-request", body)
			if rec.Code != tc.status {
				t.Fatalf("%d %s, want %d", rec.Code, rec.Body, tc.status)
			}
			if want := workflows.WorkflowID(contract.ProcDisclosure, "jlis-131016-20261201-000001"); len(f.tc.queried) != 1 || f.tc.queried[0] != want {
				t.Errorf("queried %v, want %s", f.tc.queried, want)
			}
			// The case is recorded with whom it is about, for the disposal holds.
			if tc.code == "" && (len(f.store.inserted) != 1 || f.store.inserted[0].Resident != "12345678901") {
				t.Errorf("recorded %+v, want the case about 12345678901", f.store.inserted)
			}
			if tc.code != "" {
				if errorBody(t, rec).Code != tc.code || len(f.store.inserted)+len(f.tc.starts) != 0 {
					t.Errorf("refused with %s, recorded %d, started %d", rec.Body, len(f.store.inserted), len(f.tc.starts))
				}
			}
		})
	}
	// A malformed item never reaches the disclosure.
	f := newAPIFixture(t, &apiTemporal{})
	rec := f.post("clerk1", "/api/procedures/inperson-correction-request", []byte(`{"residentCode":"12345678901","delivery":"mail",
		"disclosureCase":"jlis-131016-20261201-000001","items":[{"serial":"51","action":"add","field":"record","statement":"x"}]}`))
	if e := errorBody(t, rec); rec.Code != http.StatusBadRequest || e.Code != "bad_item" || e.Field != "items.0.field" || len(f.tc.queried) != 0 {
		t.Errorf("%d %s, queried %v", rec.Code, rec.Body, f.tc.queried)
	}
}

// TestDeadlineList: the list is one visibility query of the office's open
// cases with a deadline, soonest first, overdue when the deadline passed;
// ?overdue=1 keeps only those.
func TestDeadlineList(t *testing.T) {
	now := apiNow
	row := func(number string, due time.Time) *workflowpb.WorkflowExecutionInfo {
		kw := func(v string) *commonpb.Payload {
			p, _ := converter.GetDefaultDataConverter().ToPayload(v)
			return p
		}
		d, _ := converter.GetDefaultDataConverter().ToPayload(due)
		return &workflowpb.WorkflowExecutionInfo{SearchAttributes: &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{
			"MadoguchiCaseNumber": kw(number), "MadoguchiProcedure": kw(contract.ProcDisclosure), "MadoguchiStep": kw(workflows.StepDisclosure),
			"MadoguchiDue": d}}}
	}
	tc := &apiTemporal{executions: []*workflowpb.WorkflowExecutionInfo{row("jlis-b", now.Add(48*time.Hour)), row("jlis-a", now.Add(-time.Hour))}}
	f := newAPIFixture(t, tc)
	get := func(path string) []DeadlineRow {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+f.tokens["operator1"])
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		var body struct{ Deadlines []DeadlineRow }
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		return body.Deadlines
	}
	all := get("/api/deadlines")
	if len(all) != 2 || all[0].CaseNumber != "jlis-a" || !all[0].Overdue || all[1].Overdue {
		t.Errorf("deadlines %+v", all)
	}
	if late := get("/api/deadlines?overdue=1"); len(late) != 1 || late[0].CaseNumber != "jlis-a" {
		t.Errorf("overdue %+v", late)
	}
	if q := tc.lists[0]; !strings.Contains(q, "MadoguchiDue IS NOT NULL") || !strings.Contains(q, "'jlis'") || !strings.Contains(q, "MadoguchiStatus = 'open'") {
		t.Errorf("query %q", q)
	}
}

// TestRecordsLetterPrinted: the Organization's operator prints its case's
// queued notice (read through the look-up, recorded as a disclosure read
// first); a letter not queued is a 404, so is one of a procedure that has
// none; a municipal clerk may not.
func TestRecordsLetterPrinted(t *testing.T) {
	pdf := []byte("%PDF-1.7 the notice")
	b64 := base64.StdEncoding.EncodeToString(pdf)
	f := newAPIFixture(t, &apiTemporal{outcome: `{"found":true,"pdf":"` + b64 + `"}`})
	org := "jlis-131016-20261201-000001"
	f.addCase(contract.ProcDisclosure, org, "jlis")
	rec := matrixGet("/api/cases/"+org+"/disclosure-notice.pdf")(f, "operator1", "")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/pdf" || !bytes.Equal(rec.Body.Bytes(), pdf) {
		t.Fatalf("%d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	if n := len(f.store.accesses); n != 1 || f.store.accesses[0].Kind != storage.AccessDisclosure || f.store.accesses[0].Reference != "letter:disclosure" {
		t.Errorf("access log %+v", f.store.accesses)
	}
	f.tc.outcome = `{"found":false}`
	if rec := matrixGet("/api/cases/"+org+"/extension-notice.pdf")(f, "operator1", ""); rec.Code != http.StatusNotFound || errorBody(t, rec).Code != "no_letter" {
		t.Errorf("a letter not queued: %d %s", rec.Code, rec.Body)
	}
	f.addCase(contract.ProcLossReport, "jlis-20261201-000009", "jlis")
	if rec := matrixGet("/api/cases/jlis-20261201-000009/disclosure-notice.pdf")(f, "operator1", ""); rec.Code != http.StatusNotFound {
		t.Errorf("a loss report's notice: %d %s", rec.Code, rec.Body)
	}
	if rec := matrixGet("/api/cases/"+org+"/disclosure-notice.pdf")(f, "clerk1", ""); rec.Code != http.StatusForbidden {
		t.Errorf("a municipal clerk: %d", rec.Code)
	}
}
