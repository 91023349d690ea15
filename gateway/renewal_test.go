package gateway

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/renewal"
	"github.com/madoguchi/madoguchi/workflows"
)

const testRenewalCode = "ABCD-EFGH-JKLM-NPQR"

func renewalBody(resident, code string) []byte {
	b, _ := json.Marshal(map[string]any{
		"terminalId":  apiTerminal,
		"renewalCode": code,
		"application": contract.Application{ResidentCode: resident, Name: "山田 花子", BirthDate: "1990-01-02", Sex: "female",
			Address: "東京都千代田区", Signing: true, UserAuth: true},
		"proxy": map[string]any{"name": "代理 人", "address": "東京都", "relationship": "子"},
	})
	return b
}

func holderJSON(h contract.RenewalHolder) string {
	b, _ := json.Marshal(h)
	return string(b)
}

// TestProxyRenewalFromCode: the proxy issuance start takes the expiry
// notice's renewal code; the gateway asks the Organization about it
// (a RenewalCodeCheck workflow with the code's hash, never the code) and
// starts the renewal with the hash when the code is the applicant's,
// unused and not expired. A malformed, unknown, used, expired, another
// person's or another municipality's code is a 4xx and nothing is started
// or recorded.
func TestProxyRenewalFromCode(t *testing.T) {
	good := contract.RenewalHolder{Found: true, Serial: "a1", Kind: contract.KindSigning, MunicipalityCode: apiMunicipality,
		ResidentCode: "12345678901", NotAfter: apiNow.AddDate(0, 2, 0), CodeExpiresAt: apiNow.AddDate(0, 2, 0)}
	t.Run("started", func(t *testing.T) {
		tc := &apiTemporal{outcome: holderJSON(good)}
		f := newAPIFixture(t, tc)
		rec := f.post("clerk1", "/api/procedures/proxy-issuance", renewalBody("12345678901", strings.ToLower(testRenewalCode)))
		if rec.Code != http.StatusCreated {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		if len(tc.starts) != 2 {
			t.Fatalf("starts %v, want the check and the procedure", tc.starts)
		}
		check, ok := tc.starts[0].(workflows.RenewalCodeCheckInput)
		if !ok || check.CodeHash != renewal.Hash(testRenewalCode) {
			t.Errorf("the check was %#v, want the code's hash", tc.starts[0])
		}
		in, ok := tc.starts[1].(workflows.ProxyIssuanceInput)
		if !ok || in.RenewalCodeHash != renewal.Hash(testRenewalCode) || in.Application.ResidentCode != "12345678901" {
			t.Fatalf("the procedure started with %#v", tc.starts[1])
		}
		for _, s := range tc.starts {
			b, _ := json.Marshal(s)
			if strings.Contains(string(b), "ABCD") {
				t.Errorf("the code itself went to Temporal: %s", b)
			}
		}
		if len(f.store.inserted) != 1 {
			t.Errorf("cases %v", f.store.inserted)
		}
	})
	used, expired, other, elsewhere := good, good, good, good
	used.UsedByCase = "131016-20261101-0001"
	expired.CodeExpiresAt = apiNow.Add(-time.Minute)
	other.ResidentCode = "22222222222"
	elsewhere.ResidentCode, elsewhere.MunicipalityCode = "33333333333", "141003"
	for _, tc := range []struct {
		name, resident, code string
		holder               contract.RenewalHolder
		status               int
		errCode              string
	}{
		{"malformed", "12345678901", "ABCD-EFGH", good, http.StatusBadRequest, "bad_renewal_code"},
		{"unknown", "12345678901", testRenewalCode, contract.RenewalHolder{}, http.StatusNotFound, "unknown_renewal_code"},
		{"used", "12345678901", testRenewalCode, used, http.StatusConflict, "renewal_code_used"},
		{"expired", "12345678901", testRenewalCode, expired, http.StatusConflict, "renewal_code_expired"},
		{"another person's", "12345678901", testRenewalCode, other, http.StatusForbidden, "renewal_code_other_holder"},
		{"another municipality's", "33333333333", testRenewalCode, elsewhere, http.StatusForbidden, "renewal_code_other_municipality"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := &apiTemporal{outcome: holderJSON(tc.holder)}
			f := newAPIFixture(t, tmp)
			rec := f.post("clerk1", "/api/procedures/proxy-issuance", renewalBody(tc.resident, tc.code))
			if rec.Code != tc.status {
				t.Fatalf("%d %s, want %d", rec.Code, rec.Body, tc.status)
			}
			if e := errorBody(t, rec); e.Code != tc.errCode || !strings.Contains(e.Message, " / ") {
				t.Errorf("error %+v, want %s with a message in Japanese and English", e, tc.errCode)
			}
			for _, s := range tmp.starts {
				if _, ok := s.(workflows.ProxyIssuanceInput); ok {
					t.Errorf("a procedure started: %#v", s)
				}
			}
			if len(f.store.inserted) != 0 {
				t.Errorf("a case was recorded: %v", f.store.inserted)
			}
		})
	}
}
