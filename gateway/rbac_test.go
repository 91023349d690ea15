package gateway

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"go.temporal.io/sdk/converter"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows"
)

// matrixRoles are the matrix's columns, in the order of each row's cells:
// login, role as the README names it, and the terminal of the clerk's office.
var matrixRoles = []struct{ login, name, terminal string }{
	{"clerk1", "municipal clerk (千代田区)", apiTerminal},
	{"manager1", "manager (千代田区)", apiTerminal},
	{"post1", "post-office clerk (千代田郵便局)", "P0001"},
	{"yokohama1", "delegated municipality's clerk (横浜市, for 川崎市)", "Y0001"},
	{"osaka1", "relay clerk (大阪市)", "O0001"},
	{"operator1", "the Organization's operator", apiTerminal},
	{"auditor1", "auditor (千代田区)", apiTerminal},
}

// The cells of the matrix.
const (
	cellDenied  = '.' // 403, nothing recorded, started, sent or changed
	cellAllowed = 'x' // through (2xx, or a 4xx about the request itself)
	cellOwn     = 'o' // started: a case of the clerk's own office
	cellBehalf  = 'd' // started: the delegating municipality's case, done by the clerk's office
	cellInput   = 'v' // through, refused for its input (400: a relay to one's own municipality)
	cellHidden  = 'n' // 404, the same answer as an unknown case's, nothing recorded or changed
)

var cellText = map[byte]string{cellDenied: "403", cellAllowed: "✓", cellOwn: "✓ own case", cellBehalf: "✓ on behalf", cellInput: "400 (input)", cellHidden: "404 (as unknown)"}

// The fixture's cases: whose, and which office acted.
var matrixCases = []struct{ label, number, municipality, office, procedure string }{
	{"千代田区's own case", "131016-20261201-000001", apiMunicipality, apiMunicipality, workflows.ProcedureInPersonIssuance},
	{"千代田区's case done by its post office", "131016-20261201-000002", apiMunicipality, apiPostOffice, workflows.ProcedureInPersonIssuance},
	{"川崎市's case done by 横浜市", "141305-20261201-000001", "141305", "141003", workflows.ProcedureInPersonIssuance},
	{"川崎市's own case", "141305-20261201-000002", "141305", "141305", workflows.ProcedureInPersonIssuance},
	{"横浜市's own case", "141003-20261201-000001", "141003", "141003", workflows.ProcedureProxyIssuance},
	{"大阪市's own case", "271004-20261201-000001", "271004", "271004", workflows.ProcedureRelayForwarding},
	{"the Organization's case", "jlis-20261201-000001", "jlis", "jlis", contract.ProcLossReport},
}

// matrixResidents are the residents a start names: 千代田区's (which
// delegates to its post office), 川崎市's (which delegates to 横浜市) and
// 横浜市's (which delegates nothing).
var matrixResidents = []struct{ label, code, municipality string }{
	{"千代田区", "12345678901", apiMunicipality},
	{"川崎市", "22222222222", "141305"},
	{"横浜市", "33333333333", "141003"},
}

// matrixRow is one route against one office's thing, with the expected
// cell for each role of matrixRoles.
type matrixRow struct {
	route, target string
	cells         string
	send          func(f *apiFixture, login, terminal string) *httptest.ResponseRecorder
}

func matrixGet(path string) func(f *apiFixture, login, _ string) *httptest.ResponseRecorder {
	return func(f *apiFixture, login, _ string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+f.tokens[login])
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		return rec
	}
}

func matrixPost(path, body string) func(f *apiFixture, login, _ string) *httptest.ResponseRecorder {
	return func(f *apiFixture, login, _ string) *httptest.ResponseRecorder {
		return f.post(login, path, []byte(body))
	}
}

func matrixPut(path, body string) func(f *apiFixture, login, _ string) *httptest.ResponseRecorder {
	return func(f *apiFixture, login, _ string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPut, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+f.tokens[login])
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		return rec
	}
}

// matrixStart posts a valid start of a procedure about a resident, on the
// clerk's own terminal.
func matrixStart(procedure, resident, municipality string) func(f *apiFixture, login, terminal string) *httptest.ResponseRecorder {
	return func(f *apiFixture, login, terminal string) *httptest.ResponseRecorder {
		b, err := json.Marshal(map[string]any{"terminalId": terminal, "addressMunicipality": municipality, "handOverAt": workflows.HandOverAtRelay,
			"residentCode": resident, "signing": true, "reason": "cessationOfOperation", "cardSerial": "C" + resident,
			"application": map[string]any{"residentCode": resident, "name": "試験 花子", "birthDate": "1985-06-15", "sex": "female",
				"address": "試験町1番地", "signing": true, "userAuth": true},
			// The records requests'.
			"delivery": "mail", "disclosureCase": "jlis-131016-20261201-000001",
			// An audit finding's.
			"category": "procedure", "summary": "受付簿の記載漏れ",
			"items": []map[string]any{{"serial": "51", "action": "correct", "field": "municipality", "value": "131016", "statement": "発行した市区町村が違う"}},
			"proxy": map[string]any{"name": "試験 太郎", "address": "試験町1番地", "relationship": "spouse"}})
		if err != nil {
			f.t.Fatal(err)
		}
		return f.post(login, "/api/procedures/"+procedure, b)
	}
}

func matrixCodec(workflowID string) func(f *apiFixture, login, _ string) *httptest.ResponseRecorder {
	return func(f *apiFixture, login, _ string) *httptest.ResponseRecorder {
		p, err := converter.WithDataConverterSerializationContext(f.codec.DataConverter(),
			converter.WorkflowSerializationContext{Namespace: "default", WorkflowID: workflowID}).ToPayload("試験")
		if err != nil {
			f.t.Fatal(err)
		}
		return f.post(login, "/codec/decode", payloadsJSON(f.t, p))
	}
}

// rbacMatrix is every route of the staff API against every office: the
// table of the README's "Who may do what".
func rbacMatrix() []matrixRow {
	rows := []matrixRow{
		{"GET /api/cases", "own office's (a post office: its own work)", "xxxxxxx", matrixGet("/api/cases")},
		{"GET /api/waiting", "own office's (a post office: its own work)", "xxxxxxx", matrixGet("/api/waiting")},
		{"GET /api/deadlines", "own office's open cases with a legal deadline", ".x...xx", matrixGet("/api/deadlines")},
	}
	// Reads of a case, and a clerk's step (cancel stands for every step).
	// Another office's case is answered as an unknown one (404); a step is
	// refused to an auditor (403) of any case but its own office's audit
	// findings (TestAuditorChangesNothing).
	reads := []string{"xxnnnnx", "xxxnnnx", "nnnxnnn", "nnnnnnn", "nnnxnnn", "nnnnxnn", "nnnnnxn"}
	steps := []string{"xxnnnn.", "xxxnnn.", "nnnxnn.", "nnnnnn.", "nnnxnn.", "nnnnxn.", "nnnnnx."}
	for i, c := range matrixCases {
		for _, sub := range []string{"", "/inquiry.pdf", "/revocation-notice.pdf"} {
			rows = append(rows, matrixRow{"GET /api/cases/{case}" + sub, c.label, reads[i], matrixGet("/api/cases/" + c.number + sub)})
		}
		rows = append(rows, matrixRow{"POST /api/cases/{case}/{step}", c.label, steps[i], matrixPost("/api/cases/"+c.number+"/cancel", `{"reason":"試験"}`)})
	}
	// A case's decoded history: its own municipality's managers and
	// auditors only (each opening recorded), and the log of those openings.
	for i, c := range matrixCases {
		cells := ".n....n"
		if i < 2 {
			cells = ".x....x"
		}
		rows = append(rows, matrixRow{"GET /api/cases/{case}/history", c.label, cells, matrixGet("/api/cases/" + c.number + "/history")})
	}
	rows = append(rows, matrixRow{"GET /api/access-log", "the reads of the own office's personal data, and by its staff", ".x....x", matrixGet("/api/access-log")})
	// Starts, by the resident's municipality: 千代田区, 川崎市, 横浜市.
	starts := map[string][3]string{
		workflows.ProcedureInPersonIssuance: {"oodoo..", "oo.do..", "oo.oo.."},
		workflows.ProcedureProxyIssuance:    {"oo.oo..", "oo.do..", "oo.oo.."},
		workflows.ProcedureRelayForwarding:  {"vv.oo..", "oo.oo..", "oo.vo.."},
		// The PIN procedures check the holder before any case; the post
		// office does them for 千代田区 (第2 6(2)).
		contract.ProcInPersonPINChange: {"ood....", "...d...", "...o..."},
		contract.ProcInPersonPINReset:  {"ood....", "...d...", "...o..."},
		contract.ProcProxyPINReset:     {"ood....", "...d...", "...o..."},
		// The records requests are also taken at the Organization's own
		// counter, for a resident of any municipality (第2 3).
		contract.ProcInPersonDisclosureRequest: {"oo...o.", "...d.o.", "...o.o."},
		contract.ProcProxyDisclosureRequest:    {"oo...o.", "...d.o.", "...o.o."},
		contract.ProcInPersonCorrectionRequest: {"oo...o.", "...d.o.", "...o.o."},
		contract.ProcProxyCorrectionRequest:    {"oo...o.", "...d.o.", "...o.o."},
	}
	for _, p := range workflows.Catalog {
		if len(p.StartRoles) == 0 {
			continue
		}
		if p.Name == workflows.ProcedureAuditFinding {
			rows = append(rows, matrixRow{"POST /api/procedures/" + p.Name, "a finding at the own office", "......o", matrixStart(p.Name, "12345678901", apiMunicipality)})
			continue
		}
		if p.Name == contract.ProcLossReport {
			rows = append(rows, matrixRow{"POST /api/procedures/" + p.Name, "a card of any municipality", ".....o.", matrixStart(p.Name, "12345678901", apiMunicipality)})
			continue
		}
		// The status-change procedures check the holder before any case.
		cells, ok := starts[p.Name]
		if !ok {
			cells = [3]string{"oo.....", "...d...", "...o..."}
		}
		for i, r := range matrixResidents {
			rows = append(rows, matrixRow{"POST /api/procedures/" + p.Name, "a resident of " + r.label, cells[i], matrixStart(p.Name, r.code, r.municipality)})
		}
	}
	rows = append(rows,
		matrixRow{"GET /api/delegations", "those of the own office", ".x....x", matrixGet("/api/delegations")},
		matrixRow{"POST /api/delegations", "千代田区 to 横浜市", ".x.....",
			matrixPost("/api/delegations", `{"office":"141003","procedures":["inperson-issuance"],"startsOn":"2026-12-01"}`)},
		matrixRow{"POST /api/delegations/{id}/end", "千代田区's, to its post office", ".x.....", matrixPost("/api/delegations/1/end", `{"on":"2026-12-01"}`)},
		matrixRow{"POST /api/delegations/{id}/end", "川崎市's, to 横浜市", ".......", matrixPost("/api/delegations/2/end", `{"on":"2026-12-01"}`)},
		matrixRow{"POST /api/delegations/{id}/notice", "千代田区's, to 大阪市", ".x.....", matrixPost("/api/delegations/3/notice", `{"on":"2026-12-01"}`)},
		matrixRow{"POST /api/delegations/{id}/notice", "川崎市's, to 横浜市", ".......", matrixPost("/api/delegations/2/notice", `{"on":"2026-12-01"}`)},
		matrixRow{"POST /api/complaints", "a complaint of the own office", "xxxxx..", matrixPost("/api/complaints", `{"category":"other","summary":"受付時間の問合せ"}`)},
		matrixRow{"GET /api/complaints", "the own office's register", ".x....x", matrixGet("/api/complaints?overdue=1")},
		matrixRow{"POST /api/complaints/{id}/answer", "千代田区's complaint", ".x.....", matrixPost("/api/complaints/1/answer", `{"response":"回答します"}`)},
		matrixRow{"GET /api/terminals", "the own office's terminals", ".x.....", matrixGet("/api/terminals")},
		matrixRow{"POST /api/terminals", "a new terminal of the own office", ".x.....", matrixPost("/api/terminals", `{"id":"T0099","reader":"Virtual PCD 00 01"}`)},
		matrixRow{"POST /api/terminals/{id}/suspend", "千代田区's terminal", ".x.....", matrixPost("/api/terminals/T0001/suspend", ``)},
		matrixRow{"POST /api/terminals/{id}/decommission", "千代田区's terminal", ".x.....", matrixPost("/api/terminals/T0001/decommission", ``)},
		matrixRow{"GET /api/refusals", "the own office's refused attempts", ".x....x", matrixGet("/api/refusals")},
		matrixRow{"GET /api/accounts", "the own office's staff accounts", ".x.....", matrixGet("/api/accounts")},
		matrixRow{"POST /api/accounts", "a new account of the own office", ".x.....", matrixPost("/api/accounts", `{"login":"clerk7","displayName":"窓口 七郎","role":"clerk"}`)},
		matrixRow{"POST /api/accounts/{login}/unlock", "千代田区's auditor1", ".x.....", matrixPost("/api/accounts/auditor1/unlock", ``)},
		matrixRow{"GET /api/audit/chain", "the own office's audit trail, verified", ".x....x", matrixGet("/api/audit/chain")},
		matrixRow{"GET /api/disposals", "the own office's list of a day", ".x....x", matrixGet("/api/disposals?day=2026-12-01")},
		matrixRow{"POST /api/disposals/{day}/submit", "千代田区's list, drawn up", ".x.....", matrixPost("/api/disposals/2026-11-30/submit", ``)},
		matrixRow{"POST /api/disposals/{day}/approve", "千代田区's list, submitted by another manager", ".x.....", matrixPost("/api/disposals/2026-12-01/approve", ``)},
		matrixRow{"POST /api/disposals/{day}/dispose", "千代田区's list, not approved (409, recorded)", ".x.....", matrixPost("/api/disposals/2026-12-01/dispose", ``)},
		matrixRow{"GET /api/retention-periods", "the own municipality's periods", ".x....x", matrixGet("/api/retention-periods")},
		matrixRow{"PUT /api/retention-periods/{docType}", "the own municipality's period of a type", ".x.....", matrixPut("/api/retention-periods/power_of_attorney", `{"years":10}`)},
		matrixRow{"GET /api/audit/report", "the own office's audit report for a period", ".x....x", matrixGet("/api/audit/report?from=2026-12-01&to=2026-12-01")},
		matrixRow{"GET /api/fees/report", "the own office's fees of a day", ".x....x", matrixGet("/api/fees/report?day=2026-12-01")},
		matrixRow{"POST /codec/decode", "千代田区's payloads", ".x.....", matrixCodec("inperson-issuance/131016-20261201-000001")},
		matrixRow{"POST /codec/decode", "川崎市's payloads (done by 横浜市)", ".......", matrixCodec("inperson-issuance/141305-20261201-000001")},
	)
	return rows
}

// TestRBACMatrix sends every route of the matrix as every role: a denied
// cell is a 403 with a message and changes nothing; an allowed one passes;
// a start opens the case of the office the cell says, with the clerk's
// office as the acting one. The README's table is this matrix.
func TestRBACMatrix(t *testing.T) {
	for _, row := range rbacMatrix() {
		if len(row.cells) != len(matrixRoles) {
			t.Fatalf("%s %s: %d cells", row.route, row.target, len(row.cells))
		}
		for i, role := range matrixRoles {
			want := row.cells[i]
			t.Run(row.route+"/"+row.target+"/"+role.login, func(t *testing.T) {
				f := newAPIFixture(t, &apiTemporal{})
				for _, c := range matrixCases {
					f.store.cases[c.number] = f.addCaseAt(c.procedure, c.number, c.municipality, c.office)
				}
				f.addComplaints()
				f.addDisposalLists()
				rec := row.send(f, role.login, role.terminal)
				changed := len(f.store.inserted) + len(f.tc.starts) + len(f.tc.updates) + f.store.events
				switch want {
				case cellDenied:
					if rec.Code != http.StatusForbidden {
						t.Fatalf("%d %s, want 403", rec.Code, rec.Body)
					}
					errorBody(t, rec)
					if changed != 0 {
						t.Errorf("a refused call changed %d things", changed)
					}
				case cellHidden:
					if rec.Code != http.StatusNotFound || errorBody(t, rec).Code != "unknown_case" {
						t.Fatalf("%d %s, want the unknown case's 404", rec.Code, rec.Body)
					}
					if changed != 0 || len(f.store.accesses) != 0 {
						t.Errorf("a hidden case's call changed %d things", changed+len(f.store.accesses))
					}
				case cellAllowed:
					if rec.Code == http.StatusForbidden || rec.Code == http.StatusUnauthorized || rec.Code >= 500 {
						t.Fatalf("%d %s, want it allowed", rec.Code, rec.Body)
					}
				case cellInput:
					if rec.Code != http.StatusBadRequest || changed != 0 {
						t.Fatalf("%d %s (changed %d), want 400 for the input", rec.Code, rec.Body, changed)
					}
				case cellOwn, cellBehalf:
					if rec.Code != http.StatusCreated || len(f.store.inserted) != 1 {
						t.Fatalf("%d %s, want a case started", rec.Code, rec.Body)
					}
					clerk := f.store.sessions[string(mustToken(t, f, role.login))]
					got := f.store.inserted[0]
					wantMunicipality := clerk.MunicipalityCode
					if want == cellBehalf {
						wantMunicipality = row.residentMunicipality()
					}
					if got.MunicipalityCode != wantMunicipality || got.Office != clerk.MunicipalityCode ||
						!strings.HasPrefix(got.CaseNumber, wantMunicipality+"-") {
						t.Errorf("case %+v: want %s's, done by %s", got, wantMunicipality, clerk.MunicipalityCode)
					}
				}
			})
		}
	}
}

// residentMunicipality is the municipality of the resident a start row names.
func (r matrixRow) residentMunicipality() string {
	for _, res := range matrixResidents {
		if strings.HasSuffix(r.target, res.label) {
			return res.municipality
		}
	}
	return ""
}

func mustToken(t *testing.T, f *apiFixture, login string) []byte {
	t.Helper()
	for tok, c := range f.store.sessions {
		if c.Login == login {
			return []byte(tok)
		}
	}
	t.Fatalf("no session of %s", login)
	return nil
}

// TestRBACMatrixInREADME: the README's table is the matrix (run with
// MADOGUCHI_PRINT_RBAC=1 to print it).
func TestRBACMatrixInREADME(t *testing.T) {
	var b strings.Builder
	b.WriteString("| route | of | ")
	for _, r := range matrixRoles {
		b.WriteString(r.name + " | ")
	}
	b.WriteString("\n|---|---|" + strings.Repeat("---|", len(matrixRoles)) + "\n")
	for _, row := range rbacMatrix() {
		fmt.Fprintf(&b, "| `%s` | %s | ", row.route, row.target)
		for i := range row.cells {
			b.WriteString(cellText[row.cells[i]] + " | ")
		}
		b.WriteString("\n")
	}
	table := strings.ReplaceAll(b.String(), " \n", "\n")
	if os.Getenv("MADOGUCHI_PRINT_RBAC") == "1" {
		fmt.Print(table)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), table) {
		t.Errorf("README.md does not hold the RBAC matrix as tested; MADOGUCHI_PRINT_RBAC=1 go test -run TestRBACMatrixInREADME ./gateway prints it")
	}
}

// TestListsScopedToOffice: a post office lists only the cases it acted on;
// a municipality its own, those done on its behalf and those it did for
// another municipality.
func TestListsScopedToOffice(t *testing.T) {
	for _, tc := range []struct{ login, want, not string }{
		{"post1", "MadoguchiOffice = '" + apiPostOffice + "'", "MadoguchiMunicipality"},
		{"clerk1", "(MadoguchiMunicipality = '131016' OR MadoguchiOffice = '131016')", "jp-"},
		{"yokohama1", "(MadoguchiMunicipality = '141003' OR MadoguchiOffice = '141003')", "141305"},
	} {
		for _, path := range []string{"/api/cases", "/api/waiting"} {
			f := newAPIFixture(t, &apiTemporal{})
			if rec := matrixGet(path)(f, tc.login, ""); rec.Code != http.StatusOK {
				t.Fatalf("%s %s: %d %s", tc.login, path, rec.Code, rec.Body)
			}
			if len(f.tc.lists) != 1 || !strings.Contains(f.tc.lists[0], tc.want) || strings.Contains(f.tc.lists[0], tc.not) {
				t.Errorf("%s %s: queried %q, want %q", tc.login, path, f.tc.lists, tc.want)
			}
		}
	}
}

// TestCaseListFilters: a list by status and procedure, opened between two
// days, one page at a time; bad filters are refused before visibility.
func TestCaseListFilters(t *testing.T) {
	f := newAPIFixture(t, &apiTemporal{nextToken: []byte("page-2")})
	rec := matrixGet("/api/cases?status=completed&procedure=inperson-issuance&from=2026-12-01&to=2026-12-01&pageSize=20&pageToken="+
		base64.RawURLEncoding.EncodeToString([]byte("page-1")))(f, "manager1", "")
	var res struct{ NextPageToken string }
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &res) != nil {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	q := f.tc.lists[0]
	for _, want := range []string{"MadoguchiStatus = 'completed'", "MadoguchiProcedure = 'inperson-issuance'",
		"StartTime >= '2026-11-30T15:00:00Z'", "StartTime < '2026-12-01T15:00:00Z'", "(MadoguchiMunicipality = '131016' OR MadoguchiOffice = '131016')"} {
		if !strings.Contains(q, want) {
			t.Errorf("query %q lacks %q", q, want)
		}
	}
	if string(f.tc.pageTokens[0]) != "page-1" || f.tc.pageSizes[0] != 20 {
		t.Errorf("asked page %q of %d", f.tc.pageTokens[0], f.tc.pageSizes[0])
	}
	if tok, _ := base64.RawURLEncoding.DecodeString(res.NextPageToken); string(tok) != "page-2" {
		t.Errorf("next page %q", res.NextPageToken)
	}
	for _, bad := range []string{"procedure=nosuch", "procedure=x'%20OR%20'1'='1", "from=yesterday", "pageSize=0", "pageSize=201", "pageToken=*"} {
		f := newAPIFixture(t, &apiTemporal{})
		if rec := matrixGet("/api/cases?"+bad)(f, "manager1", ""); rec.Code != http.StatusBadRequest || len(f.tc.lists) != 0 {
			t.Errorf("%s: %d, queried %q", bad, rec.Code, f.tc.lists)
		}
	}
}

// TestWaitingListPages: with pageSize or pageToken the waiting list is a
// page of the office's open cases that wait for someone, the waiting
// filter in the visibility query; without, one list as before.
func TestWaitingListPages(t *testing.T) {
	f := newAPIFixture(t, &apiTemporal{nextToken: []byte("page-2")})
	rec := matrixGet("/api/waiting?pageSize=50&pageToken="+base64.RawURLEncoding.EncodeToString([]byte("page-1")))(f, "clerk1", "")
	var res struct {
		Waiting       []CaseSummary
		NextPageToken string
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &res) != nil || res.Waiting == nil {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if q := f.tc.lists[0]; !strings.Contains(q, "MadoguchiStatus = 'open'") || !strings.Contains(q, "MadoguchiWaiting IS NOT NULL") ||
		!strings.Contains(q, "(MadoguchiMunicipality = '131016' OR MadoguchiOffice = '131016')") {
		t.Errorf("query %q", q)
	}
	if string(f.tc.pageTokens[0]) != "page-1" || f.tc.pageSizes[0] != 50 {
		t.Errorf("asked page %q of %d", f.tc.pageTokens[0], f.tc.pageSizes[0])
	}
	if tok, _ := base64.RawURLEncoding.DecodeString(res.NextPageToken); string(tok) != "page-2" {
		t.Errorf("next page %q", res.NextPageToken)
	}
	f = newAPIFixture(t, &apiTemporal{})
	if rec := matrixGet("/api/waiting")(f, "clerk1", ""); rec.Code != http.StatusOK || strings.Contains(f.tc.lists[0], "IS NOT NULL") || strings.Contains(rec.Body.String(), "nextPageToken") {
		t.Errorf("the whole list: %d %s, queried %q", rec.Code, rec.Body, f.tc.lists)
	}
	for _, bad := range []string{"pageSize=0", "pageSize=201", "pageToken=*"} {
		f := newAPIFixture(t, &apiTemporal{})
		if rec := matrixGet("/api/waiting?"+bad)(f, "clerk1", ""); rec.Code != http.StatusBadRequest || len(f.tc.lists) != 0 {
			t.Errorf("%s: %d, queried %v", bad, rec.Code, f.tc.lists)
		}
	}
}
