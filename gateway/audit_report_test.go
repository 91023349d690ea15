package gateway

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/letter"
	"github.com/madoguchi/madoguchi/internal/letter/lettertest"
	"github.com/madoguchi/madoguchi/internal/storage"
)

// reportPeriod is what the fake's report reads were asked.
type reportPeriod struct {
	office   string
	from, to time.Time
}

// The fake's audit report inputs: the cases of apiMunicipality, whatever
// the period; the periods asked are kept.
func (s *apiStore) ReportCases(_ context.Context, office string, from, to time.Time) ([]storage.ReportCase, error) {
	s.reportAsked = append(s.reportAsked, reportPeriod{office, from, to})
	if office != apiMunicipality {
		return nil, nil
	}
	return []storage.ReportCase{{CaseNumber: "131016-20261201-000001", Procedure: "inperson-pin-change", Status: "completed"},
		{CaseNumber: "131016-20261201-000002", Procedure: "inperson-pin-change", Status: "lapsed", Reason: "intent_not_confirmed"},
		{CaseNumber: "131016-20261201-000003", Procedure: "inperson-revocation", Status: "cancelled", Reason: "cancelled"},
		{CaseNumber: "131016-20261201-000004", Procedure: "inperson-revocation", Status: "rejected", Reason: "not_holder"}}, nil
}

func (s *apiStore) PINConfirmations(_ context.Context, office string, _, _ time.Time) ([]storage.PINConfirmation, error) {
	return []storage.PINConfirmation{{CaseNumber: "131016-20261201-000001", EnteredBy: "clerk1", ConfirmedBy: "manager1"}}, nil
}

// ReportDisposals: the fixture records disposals when disposals is set.
func (s *apiStore) ReportDisposals(_ context.Context, office string, _, _ time.Time) ([]storage.ReportDisposal, bool, error) {
	if s.disposals == nil {
		return nil, false, nil
	}
	return s.disposals, true, nil
}

func (s *apiStore) AccessSummary(_ context.Context, office string, _, _ time.Time) ([]storage.AccessCount, error) {
	return []storage.AccessCount{{ClerkLogin: "clerk1", Kind: storage.AccessRegisterRecord, Count: 3}}, nil
}

func (f *apiFixture) get(login, path string) (int, string) {
	rec := matrixGet(path)(f, login, "")
	return rec.Code, rec.Body.String()
}

// TestAuditReportRoute: an auditor's or a manager's report of the own
// office for a period, as CSV and as PDF with the same totals; the period
// asked is the Japanese days, inclusive; bad requests are 400s before any
// read; a clerk is refused.
func TestAuditReportRoute(t *testing.T) {
	f := newAPIFixture(t, &apiTemporal{})
	f.store.refusals = []storage.Refusal{{Office: apiMunicipality, Kind: storage.RefusalFeeTypedByHand, Actor: "clerk1", Subject: "131016-20261201-000001", Reason: "fee_computed", At: apiNow}}
	rec := matrixGet("/api/audit/report?from=2026-12-01&to=2026-12-31&format=csv")(f, "auditor1", "")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	rows, err := csv.NewReader(bytes.NewReader(rec.Body.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, r := range rows {
		got[strings.Join(r, ",")] = true
	}
	for _, want := range []string{"totals,,,total,4,,,", "totals,,,rejected,1,,,", "procedures,,inperson-revocation,cancelled,1,,,",
		"not_completed,131016-20261201-000002,inperson-pin-change,lapsed,,,,intent_not_confirmed",
		"pins,131016-20261201-000001,inperson-pin-change,confirmed,,clerk1,manager1,", "pins,131016-20261201-000002,inperson-pin-change,confirmation_missing,,,,",
		"access,,,register_record,3,clerk1,,", "disposals,,,not_recorded,,,,disposals are not recorded yet"} {
		if !got[want] {
			t.Errorf("no row %q in\n%s", want, rec.Body)
		}
	}
	if strings.Contains(rec.Body.String(), "12345678901") {
		t.Error("the report holds a resident code")
	}
	asked := f.store.reportAsked[0]
	if asked.office != apiMunicipality || !asked.from.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, storage.Tokyo)) || !asked.to.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, storage.Tokyo)) {
		t.Errorf("asked %+v", asked)
	}
	if fl := f.store.refusalFilters[0]; fl.Office != apiMunicipality || !fl.From.Equal(asked.from) || !fl.To.Equal(asked.to) {
		t.Errorf("refusals asked %+v", fl)
	}

	lettertest.RequireFonts(t)
	rec = matrixGet("/api/audit/report?from=2026-12-01&to=2026-12-31&format=pdf")(f, "manager1", "")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/pdf" {
		t.Fatalf("pdf: %d %s", rec.Code, rec.Body)
	}
	pages, err := letter.ReadBack(rec.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, p := range pages {
		text.WriteString(p.Text() + "\n")
	}
	for _, want := range []string{"totals: completed=1 rejected=1 lapsed=1 failed=0 cancelled=1 open=0 total=4", "fee_typed_by_hand", "東京都千代田区（131016）"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the PDF does not say %q:\n%s", want, text.String())
		}
	}

	// Once disposals are recorded, they are listed.
	f.store.disposals = []storage.ReportDisposal{{CaseNumber: "131016-20261201-000009", Item: "document:application", ApprovedBy: "manager2", At: apiNow}}
	if _, body := f.get("auditor1", "/api/audit/report?from=2026-12-01&to=2026-12-31"); !strings.Contains(body, "disposals,131016-20261201-000009,,document:application,,manager2,,") ||
		strings.Contains(body, "not_recorded") {
		t.Errorf("the disposals recorded:\n%s", body)
	}
	for _, tc := range []struct{ query, code string }{
		{"from=2026-12-01&to=2026-12-31&format=xlsx", "bad_format"},
		{"from=2026-12-01", "bad_date"},
		{"from=yesterday&to=2026-12-31", "bad_date"},
		{"from=2026-12-31&to=2026-12-01", "bad_period"},
		{"from=2025-01-01&to=2026-12-31", "bad_period"},
	} {
		n := len(f.store.reportAsked)
		rec := matrixGet("/api/audit/report?"+tc.query)(f, "auditor1", "")
		if rec.Code != http.StatusBadRequest || errorBody(t, rec).Code != tc.code || len(f.store.reportAsked) != n {
			t.Errorf("%s: %d %s", tc.query, rec.Code, rec.Body)
		}
	}
	if rec := matrixGet("/api/audit/report?from=2026-12-01&to=2026-12-31")(f, "clerk1", ""); rec.Code != http.StatusForbidden {
		t.Errorf("a clerk's report: %d", rec.Code)
	}
}
