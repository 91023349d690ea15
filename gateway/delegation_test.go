package gateway

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/workflows"
)

// TestDelegationEndStopsNewCases: from the day a delegation ends, a post
// office and a delegated municipality start nothing under it (403
// delegation_ended, nothing recorded or started); a delegation not yet
// begun gives nothing either.
func TestDelegationEndStopsNewCases(t *testing.T) {
	today := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, login, terminal, resident string
		delegation                      int
		code                            string
	}{
		{"post office", "post1", "P0001", "12345678901", 0, "delegation_ended"},
		{"delegated municipality", "yokohama1", "Y0001", "22222222222", 1, "delegation_ended"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAPIFixture(t, &apiTemporal{})
			if rec := matrixStart(workflows.ProcedureInPersonIssuance, tc.resident, "")(f, tc.login, tc.terminal); rec.Code != http.StatusCreated {
				t.Fatalf("before the end: %d %s", rec.Code, rec.Body)
			}
			f = newAPIFixture(t, &apiTemporal{})
			f.store.delegations[tc.delegation].EndsOn = &today
			rec := matrixStart(workflows.ProcedureInPersonIssuance, tc.resident, "")(f, tc.login, tc.terminal)
			if rec.Code != http.StatusForbidden || errorBody(t, rec).Code != tc.code {
				t.Fatalf("after the end: %d %s, want 403 %s", rec.Code, rec.Body, tc.code)
			}
			if len(f.store.inserted)+len(f.tc.starts) != 0 {
				t.Error("a start after the end recorded a case or started a workflow")
			}
		})
	}
	// 千代田区's delegation to 大阪市 begins next April.
	f := newAPIFixture(t, &apiTemporal{})
	if rec := matrixStart(workflows.ProcedureInPersonIssuance, "12345678901", "")(f, "osaka1", "O0001"); rec.Code != http.StatusCreated || f.store.inserted[0].MunicipalityCode != "271004" {
		t.Errorf("a delegation not yet begun: %d %s %+v", rec.Code, rec.Body, f.store.inserted)
	}
}

// TestDelegationBadInput: a delegation that overlaps another of the same
// offices, starts on or after its end, names an office or procedure it
// cannot, or an end in the past or twice is a clear 4xx, and nothing is
// recorded.
func TestDelegationBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, path, body string
		status           int
		code             string
		ended            bool
	}{
		{"overlaps itself", "/api/delegations", `{"office":"jp-chiyoda","procedures":["inperson-issuance"],"startsOn":"2026-12-01"}`, http.StatusConflict, "delegation_overlap", false},
		{"overlaps a later one", "/api/delegations", `{"office":"271004","procedures":["inperson-issuance"],"startsOn":"2026-12-01","endsOn":"2027-05-01"}`, http.StatusConflict, "delegation_overlap", false},
		{"starts after it ends", "/api/delegations", `{"office":"141003","procedures":["inperson-issuance"],"startsOn":"2027-01-02","endsOn":"2027-01-01"}`, http.StatusBadRequest, "ends_before_start", false},
		{"starts when it ends", "/api/delegations", `{"office":"141003","procedures":["inperson-issuance"],"startsOn":"2027-01-01","endsOn":"2027-01-01"}`, http.StatusBadRequest, "ends_before_start", false},
		{"not a date", "/api/delegations", `{"office":"141003","procedures":["inperson-issuance"],"startsOn":"2027-02-30"}`, http.StatusBadRequest, "bad_date", false},
		{"to itself", "/api/delegations", `{"office":"131016","procedures":["inperson-issuance"],"startsOn":"2027-01-01"}`, http.StatusBadRequest, "bad_office", false},
		{"to the Organization", "/api/delegations", `{"office":"jlis","procedures":["inperson-issuance"],"startsOn":"2027-01-01"}`, http.StatusBadRequest, "bad_office", false},
		{"unknown office", "/api/delegations", `{"office":"jp-nowhere","procedures":["inperson-issuance"],"startsOn":"2027-01-01"}`, http.StatusBadRequest, "bad_office", false},
		{"proxy issuance to a post office", "/api/delegations", `{"office":"jp-chiyoda","procedures":["proxy-issuance"],"startsOn":"2030-01-01"}`, http.StatusBadRequest, "procedure_not_delegable", false},
		{"relay forwarding", "/api/delegations", `{"office":"141003","procedures":["relay-forwarding"],"startsOn":"2027-01-01"}`, http.StatusBadRequest, "procedure_not_delegable", false},
		{"no procedure", "/api/delegations", `{"office":"141003","procedures":[],"startsOn":"2027-01-01"}`, http.StatusBadRequest, "procedure_not_delegable", false},
		{"end in the past", "/api/delegations/1/end", `{"on":"2026-11-30"}`, http.StatusBadRequest, "end_in_past", false},
		{"end before it starts", "/api/delegations/3/end", `{"on":"2027-03-31"}`, http.StatusBadRequest, "ends_before_start", false},
		{"end twice", "/api/delegations/1/end", `{"on":"2026-12-24"}`, http.StatusConflict, "already_ended", true},
		{"unknown delegation", "/api/delegations/99/end", `{"on":"2026-12-24"}`, http.StatusNotFound, "unknown_delegation", false},
		{"notice of a post office's", "/api/delegations/1/notice", `{"on":"2026-12-01"}`, http.StatusBadRequest, "notice_not_applicable", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAPIFixture(t, &apiTemporal{})
			if tc.ended {
				end := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
				f.store.delegations[0].EndsOn, f.store.delegations[0].Ended = &end, true
			}
			n := len(f.store.delegations)
			rec := f.post("manager1", tc.path, []byte(tc.body))
			if rec.Code != tc.status || errorBody(t, rec).Code != tc.code {
				t.Fatalf("%d %s, want %d %s", rec.Code, rec.Body, tc.status, tc.code)
			}
			if f.store.events != 0 || len(f.store.delegations) != n {
				t.Error("a refused delegation call recorded something")
			}
		})
	}
	// And the good ones, through the same routes.
	f := newAPIFixture(t, &apiTemporal{})
	for _, c := range []struct{ path, body string }{
		{"/api/delegations", `{"office":"141003","procedures":["inperson-issuance","inperson-revocation"],"startsOn":"2026-12-01","endsOn":"2027-12-01"}`},
		{"/api/delegations/3/notice", `{"on":"2026-12-01"}`},
		{"/api/delegations/1/end", `{"on":"2026-12-01"}`},
	} {
		if rec := f.post("manager1", c.path, []byte(c.body)); rec.Code/100 != 2 {
			t.Errorf("%s: %d %s", c.path, rec.Code, rec.Body)
		}
	}
	if f.store.events != 3 {
		t.Errorf("%d events recorded, want 3", f.store.events)
	}
}

// TestPostOfficeProceduresNameTheirResident: every procedure a post office
// may start is delegable and names the resident it is for (the issuance
// family's application, or a catalog request that is a CertificateHolder),
// so the delegation check always has a municipality to check.
func TestPostOfficeProceduresNameTheirResident(t *testing.T) {
	starters := (&Server{}).starters()
	for _, p := range workflows.Catalog {
		if !slices.Contains(p.StartOffices, workflows.OfficePostOffice) {
			continue
		}
		if !p.Delegable {
			t.Errorf("%s: a post office starts it but it is not delegable", p.Name)
		}
		if p.Start != nil {
			if _, ok := p.Start().(workflows.CertificateHolder); !ok {
				t.Errorf("%s: its start request names no resident", p.Name)
			}
		} else if _, ok := starters[p.Name]; !ok || (p.Name != workflows.ProcedureInPersonIssuance && p.Name != workflows.ProcedureProxyIssuance) {
			t.Errorf("%s: read by the gateway without the delegation check", p.Name)
		}
	}
}
