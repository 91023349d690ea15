package gateway

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestStatusChangeBadInput: a revocation or hold release that names another
// municipality's resident, an unknown serial or card, a reason the
// procedure may not use, or a malformed field is answered 4xx with a code
// a clerk can act on, before any case is recorded or started.
func TestStatusChangeBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, login, procedure string
		body                   map[string]any
		status                 int
		code                   string
	}{
		{"another municipality's resident", "yokohama1", "inperson-revocation",
			map[string]any{"residentCode": "12345678901", "signing": true, "reason": "cessationOfOperation"}, http.StatusForbidden, "other_municipality_resident"},
		{"unknown resident", "clerk1", "inperson-revocation",
			map[string]any{"residentCode": "99999999999", "signing": true, "reason": "cessationOfOperation"}, http.StatusNotFound, "not_in_register"},
		{"unknown serial", "clerk1", "proxy-revocation",
			map[string]any{"residentCode": "12345678901", "serials": []string{"ff01"}, "reason": "keyCompromise", "proxy": map[string]any{"name": "代理 人", "address": "東京都"}},
			http.StatusNotFound, "unknown_certificate"},
		{"reason superseded", "clerk1", "inperson-revocation",
			map[string]any{"residentCode": "12345678901", "signing": true, "reason": "superseded"}, http.StatusBadRequest, "reason_not_allowed"},
		{"reason hold", "clerk1", "inperson-revocation",
			map[string]any{"residentCode": "12345678901", "userAuth": true, "reason": "certificateHold"}, http.StatusBadRequest, "reason_not_allowed"},
		{"lost card with a wish", "clerk1", "inperson-revocation",
			map[string]any{"residentCode": "12345678901", "signing": true, "reason": "cessationOfOperation", "cardLost": true}, http.StatusBadRequest, "reason_not_allowed"},
		{"nothing to revoke", "clerk1", "inperson-revocation",
			map[string]any{"residentCode": "12345678901", "reason": "keyCompromise"}, http.StatusBadRequest, "no_certificate_requested"},
		{"another's terminal", "yokohama1", "inperson-revocation",
			map[string]any{"residentCode": "12345678901", "signing": true, "reason": "keyCompromise", "terminalId": "T0001"}, http.StatusBadRequest, "unknown_terminal"},
		{"hold release: not the card's holder", "clerk1", "inperson-hold-release",
			map[string]any{"residentCode": "12345678901", "cardSerial": "C2", "terminalId": "T0001"}, http.StatusNotFound, "unknown_card"},
		{"hold release: another municipality", "yokohama1", "proxy-hold-release",
			map[string]any{"residentCode": "12345678901", "cardSerial": "C1", "terminalId": "T0001", "proxy": map[string]any{"name": "代理 人", "address": "横浜市"}},
			http.StatusBadRequest, "unknown_terminal"},
		{"hold release: no terminal", "clerk1", "inperson-hold-release",
			map[string]any{"residentCode": "12345678901", "cardSerial": "C1"}, http.StatusBadRequest, "unknown_terminal"},
		{"PIN reset at a terminal not authorised", "clerk1", "inperson-pin-reset",
			map[string]any{"residentCode": "12345678901", "userAuth": true, "terminalId": "T0002"}, http.StatusForbidden, "terminal_not_authorised"},
		{"proxy PIN reset at a terminal not authorised", "clerk1", "proxy-pin-reset",
			map[string]any{"residentCode": "12345678901", "signing": true, "terminalId": "T0002", "proxy": map[string]any{"name": "代理 人", "address": "東京都"}},
			http.StatusForbidden, "terminal_not_authorised"},
		{"PIN change there is fine", "clerk1", "inperson-pin-change",
			map[string]any{"residentCode": "12345678901", "userAuth": true, "terminalId": "T0002"}, http.StatusCreated, ""},
		{"loss report: malformed card", "operator1", "loss-report", map[string]any{"cardSerial": "C1; DROP"}, http.StatusBadRequest, "bad_card_serial"},
		{"loss report by a clerk", "clerk1", "loss-report", map[string]any{"cardSerial": "C1"}, http.StatusForbidden, "not_permitted"},
		{"revocation by the operator", "operator1", "inperson-revocation",
			map[string]any{"residentCode": "12345678901", "signing": true, "reason": "keyCompromise"}, http.StatusForbidden, "not_permitted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAPIFixture(t, &apiTemporal{})
			b, _ := json.Marshal(tc.body)
			rec := f.post(tc.login, "/api/procedures/"+tc.procedure, b)
			if tc.status == http.StatusCreated {
				if rec.Code != tc.status || len(f.tc.starts) != 1 {
					t.Errorf("%d %s, want %d and a start", rec.Code, rec.Body, tc.status)
				}
				return
			}
			if rec.Code != tc.status || errorBody(t, rec).Code != tc.code {
				t.Errorf("%d %s, want %d %s", rec.Code, rec.Body, tc.status, tc.code)
			}
			if len(f.store.inserted)+len(f.tc.starts) != 0 {
				t.Errorf("bad input recorded %d cases and started %d workflows", len(f.store.inserted), len(f.tc.starts))
			}
		})
	}
}

// TestLossReportAnswersItsOutcome: the loss report is synchronous: a card
// the Organization never issued for is a 404 naming the (rejected) case,
// a completed report a 201 with what was held and revoked.
func TestLossReportAnswersItsOutcome(t *testing.T) {
	f := newAPIFixture(t, &apiTemporal{outcome: `{"status":"rejected","rejection":{"code":"unknown_card","message":"no such card"}}`})
	rec := f.post("operator1", "/api/procedures/loss-report", []byte(`{"cardSerial":"C404"}`))
	var body struct {
		CaseNumber string   `json:"caseNumber"`
		Error      apiError `json:"error"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if rec.Code != http.StatusNotFound || body.Error.Code != "unknown_card" || body.Error.Message == "" || body.CaseNumber == "" {
		t.Errorf("unknown card: %d %s", rec.Code, rec.Body)
	}
	f = newAPIFixture(t, &apiTemporal{outcome: `{"status":"completed","detail":{"held":[{"serial":"a2"}],"revoked":[{"serial":"51"}]}}`})
	rec = f.post("operator1", "/api/procedures/loss-report", []byte(`{"cardSerial":"C1"}`))
	var done StartedResult
	if err := json.Unmarshal(rec.Body.Bytes(), &done); err != nil || rec.Code != http.StatusCreated || done.Status != "completed" || done.CaseNumber == "" {
		t.Errorf("completed: %d %s", rec.Code, rec.Body)
	}
	if len(f.tc.starts) != 1 {
		t.Fatalf("%d starts", len(f.tc.starts))
	}
}
