package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
)

// MunicipalityName: the fixture's offices' names.
func (s *apiStore) MunicipalityName(_ context.Context, code string) (string, error) {
	if o, ok := apiOffices[code]; ok {
		return o[1], nil
	}
	return "", storage.ErrNotFound
}

// noPersonalData fails when an access-log entry holds the fixture's
// personal data: a resident code or a name.
func noPersonalData(t *testing.T, a storage.HistoryAccess) {
	t.Helper()
	all := strings.Join([]string{a.ClerkLogin, a.Office, a.Kind, a.CaseNumber, a.Reference, a.Municipality}, " ")
	for code := range apiResidents {
		if strings.Contains(all, code) {
			t.Errorf("the access log holds a resident code: %+v", a)
		}
	}
	if strings.Contains(all, "試験") {
		t.Errorf("the access log holds a name: %+v", a)
	}
}

// TestAccessLogKinds: each read of personal data is logged, before its
// answer, with who, what (kind, case, reference), when and from which
// office: a start's register check with the case it opened, a start the
// register refused with no case, a letter printed from the register, a
// disclosure's answer; a read that cannot be logged is not answered.
func TestAccessLogKinds(t *testing.T) {
	revocation := `{"status":"completed","certificateStatus":{"reason":"cessationOfOperation","revoked":[{"serial":"51","kind":"sign","at":"2026-12-01T01:00:00Z"}]}}`
	start := func(resident string) func(f *apiFixture) int {
		return func(f *apiFixture) int {
			return matrixStart(contract.ProcInPersonRevocation, resident, apiMunicipality)(f, "clerk1", apiTerminal).Code
		}
	}
	for _, tc := range []struct {
		name    string
		answers map[string]string
		send    func(f *apiFixture) int
		status  int
		// want is the entry expected; its case "new" is the case opened.
		want storage.HistoryAccess
	}{
		{"a start's register check", nil, start("12345678901"), http.StatusCreated,
			storage.HistoryAccess{ClerkLogin: "clerk1", Office: apiMunicipality, Kind: storage.AccessRegisterRecord, CaseNumber: "new", Reference: "start_check", Municipality: apiMunicipality}},
		{"a start refused by the register", nil, start("22222222222"), http.StatusForbidden,
			storage.HistoryAccess{ClerkLogin: "clerk1", Office: apiMunicipality, Kind: storage.AccessRegisterRecord,
				Reference: "start:" + contract.ProcInPersonRevocation + ":other_municipality_resident", Municipality: apiMunicipality}},
		{"a resident not in the register", nil, start("99999999999"), http.StatusNotFound,
			storage.HistoryAccess{ClerkLogin: "clerk1", Office: apiMunicipality, Kind: storage.AccessRegisterRecord,
				Reference: "start:" + contract.ProcInPersonRevocation + ":not_in_register", Municipality: apiMunicipality}},
		{"a revocation notice", map[string]string{workflows.StateQuery: revocation}, func(f *apiFixture) int {
			return matrixGet("/api/cases/131016-20261201-000001/revocation-notice.pdf")(f, "clerk1", "").Code
		}, http.StatusOK, storage.HistoryAccess{ClerkLogin: "clerk1", Office: apiMunicipality, Kind: storage.AccessRegisterRecord,
			CaseNumber: "131016-20261201-000001", Reference: "revocation_notice", Municipality: apiMunicipality}},
		{"an inquiry letter", nil, func(f *apiFixture) int {
			f.store.inquiries = map[string][]byte{"131016-20261201-000001": []byte("%PDF-1.7")}
			return matrixGet("/api/cases/131016-20261201-000001/inquiry.pdf")(f, "manager1", "").Code
		}, http.StatusOK, storage.HistoryAccess{ClerkLogin: "manager1", Office: apiMunicipality, Kind: storage.AccessRegisterRecord,
			CaseNumber: "131016-20261201-000001", Reference: "inquiry_letter", Municipality: apiMunicipality}},
		{"a disclosure's answer", map[string]string{workflows.DisclosedQuery: `{}`}, func(f *apiFixture) int {
			return matrixStart(contract.ProcInPersonCorrectionRequest, "12345678901", apiMunicipality)(f, "clerk1", apiTerminal).Code
		}, http.StatusCreated, storage.HistoryAccess{ClerkLogin: "clerk1", Office: apiMunicipality, Kind: storage.AccessDisclosure,
			CaseNumber: "jlis-131016-20261201-000001", Municipality: "jlis"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAPIFixture(t, &apiTemporal{answers: tc.answers})
			f.addCase(contract.ProcInPersonRevocation, "131016-20261201-000001", apiMunicipality)
			f.addCase(contract.ProcDisclosure, "jlis-131016-20261201-000001", "jlis")
			if got := tc.send(f); got != tc.status {
				t.Fatalf("status %d, want %d (%s)", got, tc.status, f.log)
			}
			want := tc.want
			if want.CaseNumber == "new" {
				if len(f.store.inserted) != 1 {
					t.Fatalf("opened %d cases", len(f.store.inserted))
				}
				want.CaseNumber = f.store.inserted[0].CaseNumber
			}
			var found bool
			for _, a := range f.store.accesses {
				noPersonalData(t, a)
				if a.Kind == want.Kind {
					found = true
					a.ID, a.ClerkID = 0, 0
					if !a.At.Equal(apiNow) {
						t.Errorf("logged at %v, want %v", a.At, apiNow)
					}
					a.At = want.At
					if a != want {
						t.Errorf("logged %+v, want %+v", a, want)
					}
				}
			}
			if !found {
				t.Errorf("no %s read logged: %+v", want.Kind, f.store.accesses)
			}
			// A read that cannot be logged is not answered, and no case opens.
			f = newAPIFixture(t, &apiTemporal{answers: tc.answers})
			f.addCase(contract.ProcInPersonRevocation, "131016-20261201-000001", apiMunicipality)
			f.addCase(contract.ProcDisclosure, "jlis-131016-20261201-000001", "jlis")
			f.store.accessErr = errors.New(internalText)
			if got := tc.send(f); got != http.StatusInternalServerError || len(f.tc.starts) != 0 {
				t.Errorf("with the log down: %d, %d started", got, len(f.tc.starts))
			}
		})
	}
}

// TestAccessLogSearch: an auditor searches the log by kind, staff, case
// and period; the own office's staff's reads of others' records are in it;
// a bad kind is a 400 before the store.
func TestAccessLogSearch(t *testing.T) {
	f := newAPIFixture(t, &apiTemporal{})
	f.store.accesses = []storage.HistoryAccess{
		{ID: 1, ClerkLogin: "manager1", Office: apiMunicipality, Kind: storage.AccessHistory, CaseNumber: "131016-20261201-000001", Municipality: apiMunicipality, At: apiNow},
		{ID: 2, ClerkLogin: "clerk1", Office: apiMunicipality, Kind: storage.AccessRegisterRecord, CaseNumber: "131016-20261201-000001", Municipality: apiMunicipality, At: apiNow},
		{ID: 3, ClerkLogin: "clerk1", Office: apiMunicipality, Kind: storage.AccessDisclosure, CaseNumber: "jlis-131016-20261201-000001", Municipality: "jlis", At: apiNow},
		{ID: 4, ClerkLogin: "yokohama1", Office: "141003", Kind: storage.AccessRegisterRecord, CaseNumber: "141003-20261201-000001", Municipality: "141003", At: apiNow},
	}
	for _, tc := range []struct {
		query string
		ids   []int64
	}{
		{"", []int64{3, 2, 1}}, // newest first
		{"?kind=register_record", []int64{2}},
		{"?kind=disclosure&staff=clerk1", []int64{3}},
		{"?staff=manager1", []int64{1}},
		{"?case=131016-20261201-000001&from=2026-12-01&to=2026-12-01", []int64{2, 1}},
	} {
		var res struct{ Entries []storage.HistoryAccess }
		rec := matrixGet("/api/access-log"+tc.query)(f, "auditor1", "")
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &res) != nil {
			t.Fatalf("%s: %d %s", tc.query, rec.Code, rec.Body)
		}
		var ids []int64
		for _, e := range res.Entries {
			ids = append(ids, e.ID)
		}
		if !slices.Equal(ids, tc.ids) {
			t.Errorf("%s: entries %v, want %v", tc.query, ids, tc.ids)
		}
	}
	last := f.store.accessFilters[len(f.store.accessFilters)-1]
	if last.From.IsZero() || last.To.Sub(last.From).Hours() != 24 || last.Municipality != apiMunicipality || !last.Staff {
		t.Errorf("filter %+v", last)
	}
	n := len(f.store.accessFilters)
	if rec := matrixGet("/api/access-log?kind=everything")(f, "auditor1", ""); rec.Code != http.StatusBadRequest || errorBody(t, rec).Code != "bad_kind" ||
		len(f.store.accessFilters) != n {
		t.Errorf("a bad kind: %d %s", rec.Code, rec.Body)
	}
}
