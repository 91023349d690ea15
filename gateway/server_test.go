package gateway

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/codec"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
)

// The fixed messages of errors.go: what a clerk reads when the cause is ours.
const (
	msgFinished    = "この手続は既に終了しています / This procedure has already finished."
	msgAlready     = "この手続は既に開始されています / This procedure was already started."
	msgUnavailable = "処理を完了できませんでした。しばらくしてから再度お試しください / The back office could not complete the request; try again shortly."
	msgInternal    = "処理中に問題が発生しました / Something went wrong on our side."
)

const (
	apiMunicipality = "131016"
	apiTerminal     = "T0001"
	apiPostOffice   = "jp-chiyoda"
)

// apiStore fakes what the staff API reads: sessions (the token is one byte
// repeated, per clerk), cases, terminals and case numbers. An error set in
// err is answered by every database call after authentication.
type apiStore struct {
	Store
	sessions map[string]storage.Clerk
	cases    map[string]storage.Case
	err      error
	inserted []storage.Case
	// delegations are the recorded delegations; events counts what the
	// delegation routes recorded.
	delegations []storage.Delegation
	events      int
	// chains are the verification reports of the offices' audit chains,
	// verified the offices asked for.
	chains   map[string]storage.ChainReport
	verified []string
	// accessChains are the verification reports of the access log's chains.
	accessChains map[string]storage.ChainReport
	// accesses is the access log; accessFilters its searches.
	accesses      []storage.HistoryAccess
	accessFilters []storage.AccessFilter
	// accessErr fails the access log's writes only.
	accessErr error
	// reportAsked are the audit report's reads.
	reportAsked []reportPeriod
	// disposals are the recorded disposals (nil: not recorded yet).
	disposals []storage.ReportDisposal
	// inquiries are the stored inquiry letters by case.
	inquiries map[string][]byte
	// complaints is the complaints register; complaintFilters its lists.
	complaints       []storage.Complaint
	complaintFilters []storage.ComplaintFilter
	// terminalStatus is the terminals' status changed from active.
	terminalStatus map[string]string
	// signIns is the fake sign-in throttling; accounts the accounts made
	// or changed through the API, accountEvents what was recorded.
	signIns       fakeSignIns
	accounts      map[string]storage.Account
	accountEvents []storage.AccountEvent
	// registered are the terminals registered through the API; pinReset
	// the PIN-reset authority changed.
	registered []storage.Terminal
	pinReset   map[string]bool
	// refusals is the register of refused attempts; refusalFilters its lists.
	refusals       []storage.Refusal
	refusalFilters []storage.RefusalFilter
	// disposalLists are the day's disposal lists by office/day.
	disposalLists map[string]storage.DisposalList
	// retention is the retention periods set, by document type.
	retention map[string]int
	// fees is what the fee reports read (by office); feeAsks their periods.
	fees    map[string]storage.FeeReport
	feeAsks [][2]time.Time
}

func (s *apiStore) VerifyAuditChain(_ context.Context, office string) (storage.ChainReport, error) {
	if s.err != nil {
		return storage.ChainReport{}, s.err
	}
	s.verified = append(s.verified, office)
	if rep, ok := s.chains[office]; ok {
		return rep, nil
	}
	return storage.ChainReport{Office: office, OK: true}, nil
}

func (s *apiStore) SessionClerk(_ context.Context, token []byte, _ time.Time) (storage.Clerk, error) {
	c, ok := s.sessions[string(token)]
	if !ok {
		return storage.Clerk{}, storage.ErrNotFound
	}
	return c, nil
}

func (s *apiStore) Case(_ context.Context, number string) (storage.Case, error) {
	if s.err != nil {
		return storage.Case{}, s.err
	}
	c, ok := s.cases[number]
	if !ok {
		return storage.Case{}, storage.ErrNotFound
	}
	return c, nil
}

func (s *apiStore) Terminal(_ context.Context, id string) (storage.Terminal, error) {
	if s.err != nil {
		return storage.Terminal{}, s.err
	}
	office, ok := apiTerminals[id]
	if !ok {
		return storage.Terminal{}, storage.ErrNotFound
	}
	return storage.Terminal{ID: id, MunicipalityCode: office, ReaderName: "Virtual PCD 00 00", PINReset: id != apiNoResetTerminal,
		Status: cmp.Or(s.terminalStatus[id], storage.TerminalActive)}, nil
}

// apiNoResetTerminal is the fixture's terminal not authorised to reset PINs.
const apiNoResetTerminal = "T0002"

// apiTerminals are the fixture's terminals and their offices.
var apiTerminals = map[string]string{apiTerminal: apiMunicipality, apiNoResetTerminal: apiMunicipality, "P0001": apiPostOffice, "Y0001": "141003", "O0001": "271004"}

// apiResidents are the fixture's register: resident code, municipality.
var apiResidents = map[string]string{"12345678901": apiMunicipality, "22222222222": "141305", "33333333333": "141003"}

func (s *apiStore) NextCaseNumber(_ context.Context, municipality string, _ time.Time) (string, error) {
	if s.err != nil {
		return "", s.err
	}
	return fmt.Sprintf("%s-20260401-%04d", municipality, len(s.inserted)+1), nil
}

// The register the holder checks read: one resident of apiMunicipality,
// with card C1 and certificate 51.
func (s *apiStore) Resident(_ context.Context, code string) (storage.Resident, error) {
	m, ok := apiResidents[code]
	if !ok {
		return storage.Resident{}, storage.ErrNotFound
	}
	return storage.Resident{ResidentCode: code, MunicipalityCode: m, Name: "試験 花子", Address: "試験町1番地"}, nil
}

// Cards: C1 is 12345678901's; "C" + a resident code is that resident's.
func (s *apiStore) Card(_ context.Context, serial string) (storage.Card, error) {
	if serial == "C1" {
		return storage.Card{Serial: serial, ResidentCode: "12345678901"}, nil
	}
	if r, ok := strings.CutPrefix(serial, "C"); ok && apiResidents[r] != "" {
		return storage.Card{Serial: serial, ResidentCode: r}, nil
	}
	return storage.Card{}, storage.ErrNotFound
}

func (s *apiStore) Certificate(_ context.Context, serial string) (storage.IssuedCertificate, error) {
	if serial != "51" {
		return storage.IssuedCertificate{}, storage.ErrNotFound
	}
	return storage.IssuedCertificate{Serial: serial, ResidentCode: "12345678901", Kind: "sign", CardSerial: "C1", Status: "active"}, nil
}

// The fixture's offices: its municipality, 横浜市, 川崎市 (delegating to
// 横浜市), 大阪市 (a relay), 千代田郵便局 (under 千代田区's delegation) and
// the Organization.
var apiOffices = map[string][2]string{
	apiMunicipality: {workflows.OfficeMunicipality, "東京都千代田区"}, "141003": {workflows.OfficeMunicipality, "神奈川県横浜市"},
	"141305": {workflows.OfficeMunicipality, "神奈川県川崎市"}, "271004": {workflows.OfficeMunicipality, "大阪府大阪市"},
	apiPostOffice: {workflows.OfficePostOffice, "千代田郵便局"}, "jlis": {workflows.OfficeOrganization, "機構"},
}

func (s *apiStore) Office(_ context.Context, code string) (string, string, error) {
	o, ok := apiOffices[code]
	if !ok {
		return "", "", storage.ErrNotFound
	}
	return o[0], o[1], nil
}

func (s *apiStore) Delegations(_ context.Context, office string) ([]storage.Delegation, error) {
	var out []storage.Delegation
	for _, d := range s.delegations {
		if d.Municipality == office || d.Office == office {
			out = append(out, d)
		}
	}
	return out, nil
}

func (s *apiStore) DelegationsBetween(_ context.Context, municipality, office string) ([]storage.Delegation, error) {
	if s.err != nil {
		return nil, s.err
	}
	var out []storage.Delegation
	for _, d := range s.delegations {
		if d.Municipality == municipality && d.Office == office {
			out = append(out, d)
		}
	}
	return out, nil
}

func (s *apiStore) Delegation(_ context.Context, id int64) (storage.Delegation, error) {
	for _, d := range s.delegations {
		if d.ID == id {
			return d, nil
		}
	}
	return storage.Delegation{}, storage.ErrNotFound
}

func (s *apiStore) CreateDelegation(_ context.Context, d storage.Delegation, _ int64, _ time.Time) (int64, error) {
	for _, o := range s.delegations {
		if o.Municipality == d.Municipality && o.Office == d.Office &&
			(d.EndsOn == nil || o.StartsOn.Before(*d.EndsOn)) && (o.EndsOn == nil || d.StartsOn.Before(*o.EndsOn)) {
			return 0, storage.ErrDelegationOverlap
		}
	}
	d.ID = int64(len(s.delegations) + 1)
	s.delegations = append(s.delegations, d)
	s.events++
	return d.ID, nil
}

func (s *apiStore) NotifyDelegation(_ context.Context, id int64, on time.Time, _ int64, _ time.Time) error {
	s.events++
	return nil
}

func (s *apiStore) EndDelegation(_ context.Context, id int64, on time.Time, _ int64, _ time.Time) error {
	for i := range s.delegations {
		if s.delegations[i].ID == id {
			s.delegations[i].EndsOn, s.delegations[i].Ended = &on, true
		}
	}
	s.events++
	return nil
}

func (s *apiStore) InsertCase(_ context.Context, c storage.Case) error {
	if s.err != nil {
		return s.err
	}
	s.inserted = append(s.inserted, c)
	return nil
}

// apiTemporal fakes the two Temporal calls the write routes make. It
// records what was sent; updateErr fails the update call, getErr its
// outcome, startErr the start.
type apiTemporal struct {
	client.Client
	updates   []client.UpdateWorkflowOptions
	starts    []any
	lists     []string
	updateErr error
	getErr    error
	startErr  error
	// outcome is the started workflows' outcome (JSON); a completion when empty.
	outcome string
	// answers are query answers (JSON) by query type, and queried the
	// workflow ids asked; executions are what ListWorkflow lists.
	answers    map[string]string
	queried    []string
	executions []*workflowpb.WorkflowExecutionInfo
	// history is what GetWorkflowHistory answers.
	history []*historypb.HistoryEvent
	// nextToken is the page token ListWorkflow answers; pageTokens and
	// pageSizes what it was asked.
	nextToken  []byte
	pageTokens [][]byte
	pageSizes  []int32
	// pollers are DescribeTaskQueue's answers, by task queue.
	pollers map[string][]*taskqueuepb.PollerInfo
}

func (t *apiTemporal) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	t.updates = append(t.updates, o)
	if t.updateErr != nil {
		return nil, t.updateErr
	}
	return apiUpdateHandle{o: o, err: t.getErr}, nil
}

func (t *apiTemporal) ExecuteWorkflow(_ context.Context, _ client.StartWorkflowOptions, _ any, args ...any) (client.WorkflowRun, error) {
	t.starts = append(t.starts, args...)
	if t.startErr != nil {
		return nil, t.startErr
	}
	return apiRun{outcome: cmp.Or(t.outcome, `{"status":"completed","detail":{}}`)}, nil
}

// QueryWorkflow answers a query type of answers, or with an empty open
// state.
func (t *apiTemporal) QueryWorkflow(_ context.Context, id, _ string, query string, _ ...any) (converter.EncodedValue, error) {
	t.queried = append(t.queried, id)
	if a, ok := t.answers[query]; ok {
		return apiValue(a), nil
	}
	return apiValue(`{"status":"open","step":"reception"}`), nil
}

// ListWorkflow records the visibility query and lists nothing.
func (t *apiTemporal) ListWorkflow(_ context.Context, r *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	t.lists = append(t.lists, r.GetQuery())
	t.pageTokens, t.pageSizes = append(t.pageTokens, r.GetNextPageToken()), append(t.pageSizes, r.GetPageSize())
	return &workflowservice.ListWorkflowExecutionsResponse{Executions: t.executions, NextPageToken: t.nextToken}, nil
}

// apiValue is a query's answer (JSON).
type apiValue string

func (v apiValue) HasValue() bool    { return true }
func (v apiValue) Get(out any) error { return json.Unmarshal([]byte(v), out) }

// apiRun is a started workflow whose outcome is known at once.
type apiRun struct {
	client.WorkflowRun
	outcome string
}

func (r apiRun) Get(_ context.Context, v any) error { return json.Unmarshal([]byte(r.outcome), v) }

type apiUpdateHandle struct {
	o   client.UpdateWorkflowOptions
	err error
}

func (h apiUpdateHandle) WorkflowID() string { return h.o.WorkflowID }
func (h apiUpdateHandle) RunID() string      { return "" }
func (h apiUpdateHandle) UpdateID() string   { return h.o.UpdateID }
func (h apiUpdateHandle) Get(_ context.Context, v any) error {
	if h.err != nil {
		return h.err
	}
	return json.Unmarshal([]byte(`{"ok":true}`), v)
}

type apiFixture struct {
	t     *testing.T
	h     http.Handler
	store *apiStore
	tc    *apiTemporal
	log   *bytes.Buffer
	codec *codec.AESGCM
	// tokens are the bearer tokens by login.
	tokens map[string]string
}

// newAPIFixture serves the staff API on the fakes. With tc nil the server
// has no Temporal client at all: a route that reaches Temporal panics
// (gin answers 500).
func newAPIFixture(t *testing.T, tc *apiTemporal) *apiFixture {
	t.Helper()
	f := &apiFixture{t: t, log: &bytes.Buffer{}, tokens: map[string]string{},
		store: &apiStore{sessions: map[string]storage.Clerk{}, cases: map[string]storage.Case{}}, tc: tc}
	for i, c := range []storage.Clerk{
		{Login: "clerk1", MunicipalityCode: apiMunicipality, Role: workflows.RoleClerk},
		{Login: "manager1", MunicipalityCode: apiMunicipality, Role: workflows.RoleManager},
		{Login: "auditor1", MunicipalityCode: apiMunicipality, Role: workflows.RoleAuditor},
		{Login: "operator1", MunicipalityCode: "jlis", OfficeKind: workflows.OfficeOrganization, Role: workflows.RoleOperator},
		{Login: "norole", MunicipalityCode: apiMunicipality},
		{Login: "yokohama1", MunicipalityCode: "141003", Role: workflows.RoleClerk},
		{Login: "post1", MunicipalityCode: apiPostOffice, OfficeKind: workflows.OfficePostOffice, Role: workflows.RoleClerk},
		{Login: "osaka1", MunicipalityCode: "271004", Role: workflows.RoleClerk},
	} {
		c.ID, c.DisplayName = int64(i+1), c.Login
		c.OfficeKind = cmp.Or(c.OfficeKind, workflows.OfficeMunicipality)
		token := bytes.Repeat([]byte{byte(i + 1)}, 32)
		f.store.sessions[string(token)] = c
		f.tokens[c.Login] = base64.RawURLEncoding.EncodeToString(token)
	}
	f.store.delegations = apiDelegations()
	var temporal client.Client
	if tc != nil {
		temporal = tc
	}
	key := bytes.Repeat([]byte{7}, 32)
	cd, err := codec.New(key)
	if err != nil {
		t.Fatal(err)
	}
	f.codec = cd
	srv := New(f.store, temporal, cd, slog.New(slog.NewTextHandler(f.log, nil)), workflows.InquiryPolicy{})
	srv.now = func() time.Time { return apiNow }
	f.h = srv.Handler()
	return f
}

// apiNow is the fixture's clock: a counter day of December 2026.
var apiNow = time.Date(2026, 12, 1, 10, 0, 0, 0, storage.Tokyo)

// apiDelegations are the fixture's delegations: 千代田区 to its post office
// for what a post office does (1: issuance / renewal and the PIN change and
// reset, as in internal/demo), 川崎市 to 横浜市 for every delegable procedure
// (2), and 千代田区 to 大阪市 from next April, not yet active (3).
func apiDelegations() []storage.Delegation {
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	var all []string
	for _, p := range workflows.Catalog {
		if p.Delegable {
			all = append(all, p.Name)
		}
	}
	return []storage.Delegation{
		{ID: 1, Municipality: apiMunicipality, Office: apiPostOffice, OfficeKind: workflows.OfficePostOffice,
			Procedures: []string{workflows.ProcedureInPersonIssuance, contract.ProcInPersonPINChange, contract.ProcInPersonPINReset, contract.ProcProxyPINReset},
			StartsOn:   day("2026-04-01")},
		{ID: 2, Municipality: "141305", Office: "141003", OfficeKind: workflows.OfficeMunicipality, Procedures: all, StartsOn: day("2026-04-01")},
		{ID: 3, Municipality: apiMunicipality, Office: "271004", OfficeKind: workflows.OfficeMunicipality,
			Procedures: []string{workflows.ProcedureInPersonIssuance}, StartsOn: day("2027-04-01")},
	}
}

// addCase records a case of the fixture's municipality (or another).
func (f *apiFixture) addCase(procedure, number, municipality string) storage.Case {
	c := storage.Case{CaseNumber: number, MunicipalityCode: municipality, Procedure: procedure,
		WorkflowID: workflows.WorkflowID(procedure, number), OpenedBy: 1, Status: workflows.StatusOpen}
	f.store.cases[number] = c
	return c
}

// InquiryPDF: the cases of inquiries have an inquiry letter, no other.
func (s *apiStore) InquiryPDF(_ context.Context, number string) ([]byte, error) {
	if pdf, ok := s.inquiries[number]; ok {
		return pdf, nil
	}
	return nil, storage.ErrNotFound
}

// addCaseAt records a case of a municipality that an office acted on.
func (f *apiFixture) addCaseAt(procedure, number, municipality, office string) storage.Case {
	c := f.addCase(procedure, number, municipality)
	c.Office = office
	f.store.cases[number] = c
	return c
}

func (f *apiFixture) post(login, path string, body []byte) *httptest.ResponseRecorder {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+f.tokens[login])
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

// errorBody reads an error answer and checks it has the API's shape and
// nothing else: {"error": {"code", "message"}}, with the field it is about
// when there is one.
func errorBody(t *testing.T, rec *httptest.ResponseRecorder) apiError {
	t.Helper()
	var raw map[string]map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
		t.Fatalf("error answer is not JSON: %v: %s", err, rec.Body)
	}
	e, ok := raw["error"]
	keys := 2
	if _, at := e["field"]; at {
		keys = 3 // the field it is about, never sent empty
	}
	if len(raw) != 1 || !ok || len(e) != keys || e["code"] == "" || e["message"] == "" || (keys == 3 && e["field"] == "") {
		t.Fatalf("error answer is not {error:{code,message[,field]}}: %s", rec.Body)
	}
	return apiError{Code: e["code"], Message: e["message"], Field: e["field"]}
}

// validatorRefusal is the error the SDK's client returns when an update's
// validator refuses it: the validator's error, through the failure
// converter, as an *temporal.ApplicationError.
func validatorRefusal(msg string) error {
	return temporal.GetDefaultFailureConverter().FailureToError(&failurepb.Failure{
		Message: msg, Source: "GoSDK",
		FailureInfo: &failurepb.Failure_ApplicationFailureInfo{ApplicationFailureInfo: &failurepb.ApplicationFailureInfo{
			Type: "*errors.errorString", NonRetryable: true}},
	})
}

// activityFailure is an update handler's failure caused by an activity's
// error, as the client sees it.
func activityFailure(msg, errType string, detail *contract.Rejection) error {
	app := &failurepb.ApplicationFailureInfo{Type: errType, NonRetryable: true}
	if detail != nil {
		p, err := converter.GetDefaultDataConverter().ToPayloads(*detail)
		if err != nil {
			panic(err)
		}
		app.Details = p
	}
	return temporal.GetDefaultFailureConverter().FailureToError(&failurepb.Failure{
		Message: "activity error", Source: "GoSDK",
		FailureInfo: &failurepb.Failure_ActivityFailureInfo{ActivityFailureInfo: &failurepb.ActivityFailureInfo{
			ActivityType: &commonpb.ActivityType{Name: "MarkMailed"}, ActivityId: "7"}},
		Cause: &failurepb.Failure{Message: msg, Source: "GoSDK",
			FailureInfo: &failurepb.Failure_ApplicationFailureInfo{ApplicationFailureInfo: app}},
	})
}

// internalText is planted in every internal error: it must never reach a
// body, and must reach the log.
const internalText = "pgx: 10.0.0.7:5432 password authentication failed for user madoguchi"

// TestTemporalErrorsMapped sends each kind of Temporal error through the
// three routes that call Temporal (an update that fails, an update whose
// outcome is a failure, a start) and checks the status, code and message:
// a validator's refusal carries its own clerk-written message; every other
// error has a fixed message and its own text stays in the log.
func TestTemporalErrorsMapped(t *testing.T) {
	const refusal = "本人確認を受け付ける段階ではありません（現在: card_check） / The procedure is not waiting for an identity check (now at card_check)"
	cases := []struct {
		name     string
		err      error
		status   int
		code     string
		message  string
		internal bool // the error's own text is internal
	}{
		{"validator refusal", validatorRefusal(refusal), http.StatusConflict, "step_not_accepted", refusal, false},
		{"validator refusal, wrapped", fmt.Errorf("update identity-check: %w", validatorRefusal(refusal)), http.StatusConflict, "step_not_accepted", refusal, false},
		{"not found", serviceerror.NewNotFound("workflow not found for ID: inperson-issuance/131016-20260401-0001; " + internalText), http.StatusConflict, "procedure_finished", msgFinished, true},
		{"already started", serviceerror.NewWorkflowExecutionAlreadyStarted("Workflow execution is already running. "+internalText, "req-1", "run-1"), http.StatusConflict, "already_started", msgAlready, true},
		{"an activity's error inside a handler", activityFailure("storage: mark mailed: "+internalText, "", nil), http.StatusBadGateway, "backend_unavailable", msgUnavailable, true},
		{"an activity's rejection inside a handler", activityFailure(refusal, contract.ErrTypeRejected, &contract.Rejection{Code: "card_not_applicants", Message: refusal}), http.StatusConflict, "step_not_accepted", refusal, false},
		{"plain error", errors.New(internalText), http.StatusBadGateway, "backend_unavailable", msgUnavailable, true},
		{"unavailable", serviceerror.NewUnavailable("connection refused: " + internalText), http.StatusBadGateway, "backend_unavailable", msgUnavailable, true},
		{"server internal", serviceerror.NewInternal(internalText), http.StatusBadGateway, "backend_unavailable", msgUnavailable, true},
		{"deadline", fmt.Errorf("%s: %w", internalText, context.DeadlineExceeded), http.StatusBadGateway, "backend_unavailable", msgUnavailable, true},
	}
	routes := []struct {
		name string
		set  func(tc *apiTemporal, err error)
		send func(f *apiFixture) *httptest.ResponseRecorder
	}{
		{"update", func(tc *apiTemporal, err error) { tc.updateErr = err }, sendIdentityCheck},
		{"update outcome", func(tc *apiTemporal, err error) { tc.getErr = err }, sendIdentityCheck},
		{"start", func(tc *apiTemporal, err error) { tc.startErr = err }, sendStart},
	}
	for _, tt := range cases {
		for _, r := range routes {
			t.Run(tt.name+"/"+r.name, func(t *testing.T) {
				tc := &apiTemporal{}
				r.set(tc, tt.err)
				f := newAPIFixture(t, tc)
				rec := r.send(f)
				if rec.Code != tt.status {
					t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
				}
				got := errorBody(t, rec)
				if got.Code != tt.code || got.Message != tt.message {
					t.Errorf("answered %+v, want code %q message %q", got, tt.code, tt.message)
				}
				if strings.Contains(rec.Body.String(), "pgx") || strings.Contains(rec.Body.String(), "10.0.0.7") {
					t.Errorf("internal text in the answer: %s", rec.Body)
				}
				if tt.status == http.StatusBadGateway && !strings.Contains(f.log.String(), internalText) {
					t.Errorf("the internal error was not logged: %s", f.log)
				}
			})
		}
	}
}

func sendIdentityCheck(f *apiFixture) *httptest.ResponseRecorder {
	f.t.Helper()
	cs := f.addCase(workflows.ProcedureInPersonIssuance, apiMunicipality+"-20260401-0001", apiMunicipality)
	return f.post("clerk1", "/api/cases/"+cs.CaseNumber+"/identity-check", []byte(`{"documentType":"individual_number_card","verified":true}`))
}

func sendStart(f *apiFixture) *httptest.ResponseRecorder {
	f.t.Helper()
	return f.post("clerk1", "/api/procedures/inperson-issuance", startBody(f.t))
}

func startBody(t *testing.T) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"terminalId": apiTerminal, "addressMunicipality": "141003", "handOverAt": workflows.HandOverAtRelay,
		// The status-change procedures' requests.
		"residentCode": "12345678901", "signing": true, "reason": "cessationOfOperation", "cardSerial": "C1",
		"application": map[string]any{"residentCode": "12345678901", "name": "試験 花子", "birthDate": "1985-06-15", "sex": "female",
			"address": "東京都千代田区千代田1番1号", "signing": true, "userAuth": true},
		// The records requests'.
		"delivery": "mail", "disclosureCase": "jlis-131016-20261201-000001",
		"items": []map[string]any{{"serial": "51", "action": "correct", "field": "municipality", "value": "131016", "statement": "発行した市区町村が違う"}},
		"proxy": map[string]any{"name": "試験 太郎", "address": "東京都千代田区千代田1番1号", "relationship": "spouse"},
		// An audit finding's.
		"category": "procedure", "summary": "受付簿の記載漏れ"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDatabaseErrorsMapped checks failInternal: a database failure on any
// route is a 500 with the fixed message, its text only in the log.
func TestDatabaseErrorsMapped(t *testing.T) {
	for _, r := range []struct {
		name string
		send func(f *apiFixture) *httptest.ResponseRecorder
	}{
		{"step (case lookup)", sendIdentityCheck},
		{"start (terminal lookup)", sendStart},
		{"state (case lookup)", func(f *apiFixture) *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodGet, "/api/cases/131016-20260401-0001", nil)
			req.Header.Set("Authorization", "Bearer "+f.tokens["clerk1"])
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			return rec
		}},
	} {
		t.Run(r.name, func(t *testing.T) {
			f := newAPIFixture(t, &apiTemporal{})
			f.store.err = errors.New(internalText)
			rec := r.send(f)
			if rec.Code != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500: %s", rec.Code, rec.Body)
			}
			if got := errorBody(t, rec); got.Code != "internal" || got.Message != msgInternal {
				t.Errorf("answered %+v", got)
			}
			if strings.Contains(rec.Body.String(), "pgx") || strings.Contains(rec.Body.String(), "10.0.0.7") {
				t.Errorf("internal text in the answer: %s", rec.Body)
			}
			if !strings.Contains(f.log.String(), internalText) {
				t.Errorf("the internal error was not logged: %s", f.log)
			}
			if len(f.tc.updates)+len(f.tc.starts) != 0 {
				t.Errorf("Temporal was called after the database failed")
			}
		})
	}
}

// forgedBody is a step body naming another clerk, in the field's JSON name
// and in its Go name (encoding/json matches keys without case).
const forgedBody = `{"clerk":"mallory","Clerk":"mallory","documentType":"individual_number_card","verified":true,` +
	`"reason":"test","caseNumber":"131016-20260401-0001","code":"ABCD-1234","terminalId":"T0001","approve":true}`

// clerkOf reads the Clerk field of a decoded step input.
func clerkOf(t *testing.T, in any) string {
	t.Helper()
	v := reflect.ValueOf(in)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		t.Fatalf("step input %T is not a struct", in)
	}
	fv := v.FieldByName("Clerk")
	if !fv.IsValid() || fv.Kind() != reflect.String {
		t.Fatalf("step input %T has no string Clerk field", in)
	}
	return fv.String()
}

// TestForgedClerkIgnoredByDecode decodes a forged body for every step of
// every procedure of the catalog: the clerk is the session's.
func TestForgedClerkIgnoredByDecode(t *testing.T) {
	n := 0
	for _, p := range workflows.Catalog {
		for _, st := range p.Steps {
			for _, body := range []string{forgedBody, `{"clerk":"mallory"}`} {
				in, err := st.Decode([]byte(body), "clerk1")
				if err != nil {
					t.Fatalf("%s/%s: decode: %v", p.Name, st.Path, err)
				}
				if got := clerkOf(t, in); got != "clerk1" {
					t.Errorf("%s/%s: decoded clerk %q, want the session's clerk1", p.Name, st.Path, got)
				}
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("the catalog has no steps")
	}
}

// TestForgedClerkIgnoredByRoute posts the forged body to every step of
// every procedure as clerk1 (as manager1 or auditor1 for the steps only
// they take): what reaches Temporal names the session's login, for the
// procedure's update and workflow.
func TestForgedClerkIgnoredByRoute(t *testing.T) {
	loginOf := map[string]string{workflows.RoleClerk: "clerk1", workflows.RoleManager: "manager1", workflows.RoleAuditor: "auditor1"}
	for i, p := range workflows.Catalog {
		for _, st := range p.Steps {
			t.Run(p.Name+"/"+st.Path, func(t *testing.T) {
				f := newAPIFixture(t, &apiTemporal{})
				cs := f.addCase(p.Name, fmt.Sprintf("%s-20260401-%04d", apiMunicipality, i+1), apiMunicipality)
				login := loginOf[p.StepRolesOf(st.Path)[0]]
				rec := f.post(login, "/api/cases/"+cs.CaseNumber+"/"+st.Path, []byte(forgedBody))
				if rec.Code != http.StatusOK {
					t.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				if len(f.tc.updates) != 1 {
					t.Fatalf("%d updates sent, want 1", len(f.tc.updates))
				}
				u := f.tc.updates[0]
				if u.WorkflowID != cs.WorkflowID || u.UpdateName != st.Update || len(u.Args) != 1 {
					t.Fatalf("sent %s %s with %d args, want %s %s with 1", u.WorkflowID, u.UpdateName, len(u.Args), cs.WorkflowID, st.Update)
				}
				if got := clerkOf(t, u.Args[0]); got != login {
					t.Errorf("update sent with clerk %q, want the session's %s", got, login)
				}
				if bytes.Contains([]byte(fmt.Sprintf("%+v", u.Args[0])), []byte("mallory")) {
					t.Errorf("the forged name reached the update: %+v", u.Args[0])
				}
			})
		}
	}
}

// TestStepNotInProcedure posts, for each procedure of the catalog, every
// step another procedure has and this one does not (and a step nobody has):
// 409 step_not_in_procedure, answered before Temporal (the server has no
// Temporal client here).
func TestStepNotInProcedure(t *testing.T) {
	var all []string
	for _, p := range workflows.Catalog {
		for _, st := range p.Steps {
			if !slices.Contains(all, st.Path) {
				all = append(all, st.Path)
			}
		}
	}
	all = append(all, "frobnicate")
	checked := 0
	for i, p := range workflows.Catalog {
		for _, path := range all {
			if _, has := p.Step(path); has {
				continue
			}
			f := newAPIFixture(t, nil)
			cs := f.addCase(p.Name, fmt.Sprintf("%s-20260401-%04d", apiMunicipality, i+1), apiMunicipality)
			rec := f.post("clerk1", "/api/cases/"+cs.CaseNumber+"/"+path, []byte(`{"documentType":"individual_number_card","verified":true}`))
			if rec.Code != http.StatusConflict {
				t.Errorf("%s/%s: status %d, want 409: %s", p.Name, path, rec.Code, rec.Body)
				continue
			}
			if got := errorBody(t, rec); got.Code != "step_not_in_procedure" {
				t.Errorf("%s/%s: answered %+v", p.Name, path, got)
			}
			checked++
		}
	}
	// The one the issue names: relay forwarding never takes a clerk-typed PIN.
	if _, has := mustLookup(t, workflows.ProcedureRelayForwarding).Step("pin-entry"); has {
		t.Fatal("relay-forwarding has a pin-entry step")
	}
	if checked == 0 {
		t.Fatal("no step was checked")
	}
}

// TestStepOnUnknownProcedureOrOtherMunicipality: a case whose procedure is
// not in the catalog gets 409; another municipality's case the unknown
// case's 404, before anything is read of the body.
func TestStepOnUnknownProcedureOrOtherMunicipality(t *testing.T) {
	f := newAPIFixture(t, nil)
	cs := f.addCase("retired-procedure", apiMunicipality+"-20260401-0009", apiMunicipality)
	rec := f.post("clerk1", "/api/cases/"+cs.CaseNumber+"/identity-check", []byte(`{}`))
	if rec.Code != http.StatusConflict || errorBody(t, rec).Code != "step_not_in_procedure" {
		t.Errorf("unknown procedure: %d %s", rec.Code, rec.Body)
	}
	other := f.addCase(workflows.ProcedureInPersonIssuance, "141003-20260401-0001", "141003")
	rec = f.post("clerk1", "/api/cases/"+other.CaseNumber+"/identity-check", []byte(`{}`))
	if rec.Code != http.StatusNotFound || errorBody(t, rec).Code != "unknown_case" {
		t.Errorf("another municipality's case: %d %s, want the unknown case's 404", rec.Code, rec.Body)
	}
}

func mustLookup(t *testing.T, name string) workflows.Procedure {
	t.Helper()
	p, ok := workflows.Lookup(name)
	if !ok {
		t.Fatalf("%s is not in the catalog", name)
	}
	return p
}

// TestStartRoles posts a valid start of every procedure of the catalog as
// each role: a role not in the entry's StartRoles is refused with 403 and
// nothing is recorded or started; a procedure nobody starts has no route.
func TestStartRoles(t *testing.T) {
	logins := map[string]string{workflows.RoleClerk: "clerk1", workflows.RoleManager: "manager1",
		workflows.RoleAuditor: "auditor1", workflows.RoleOperator: "operator1", "": "norole"}
	for _, p := range workflows.Catalog {
		for role, login := range logins {
			t.Run(p.Name+"/"+cmp.Or(role, "none"), func(t *testing.T) {
				f := newAPIFixture(t, &apiTemporal{})
				rec := f.post(login, "/api/procedures/"+p.Name, startBody(t))
				office := workflows.OfficeMunicipality
				if role == workflows.RoleOperator {
					office = workflows.OfficeOrganization
				}
				allowed := slices.Contains(p.StartRoles, role) && slices.Contains(p.StartOffices, office)
				switch {
				case len(p.StartRoles) == 0:
					if rec.Code != http.StatusNotFound && rec.Code != http.StatusForbidden {
						t.Errorf("a procedure started by no one answered %d: %s", rec.Code, rec.Body)
					}
				case allowed:
					if rec.Code != http.StatusCreated {
						t.Errorf("status %d, want 201: %s", rec.Code, rec.Body)
					}
				default:
					if rec.Code != http.StatusForbidden {
						t.Errorf("status %d, want 403: %s", rec.Code, rec.Body)
					}
				}
				if !allowed && len(f.store.inserted)+len(f.tc.starts) != 0 {
					t.Errorf("a refused start recorded %d cases and started %d workflows", len(f.store.inserted), len(f.tc.starts))
				}
			})
		}
	}
}

// TestStartRolesFromCatalog takes clerks off in-person issuance's
// StartRoles: the gateway's own check, after the route's role filter, then
// refuses them (403 not_permitted) while managers still start it.
func TestStartRolesFromCatalog(t *testing.T) {
	i := slices.IndexFunc(workflows.Catalog, func(p workflows.Procedure) bool { return p.Name == workflows.ProcedureInPersonIssuance })
	if i < 0 {
		t.Fatal("in-person issuance is not in the catalog")
	}
	saved := workflows.Catalog[i].StartRoles
	t.Cleanup(func() { workflows.Catalog[i].StartRoles = saved })
	workflows.Catalog[i].StartRoles = []string{workflows.RoleManager}

	f := newAPIFixture(t, &apiTemporal{})
	rec := f.post("clerk1", "/api/procedures/inperson-issuance", startBody(t))
	if rec.Code != http.StatusForbidden || errorBody(t, rec).Code != "not_permitted" {
		t.Errorf("clerk: %d %s, want 403 not_permitted", rec.Code, rec.Body)
	}
	if len(f.store.inserted)+len(f.tc.starts) != 0 {
		t.Errorf("the refused start recorded a case or started a workflow")
	}
	if rec := f.post("manager1", "/api/procedures/inperson-issuance", startBody(t)); rec.Code != http.StatusCreated {
		t.Errorf("manager: %d %s, want 201", rec.Code, rec.Body)
	}
	if len(f.tc.starts) != 1 {
		t.Fatalf("%d workflows started, want 1", len(f.tc.starts))
	}
	if in, ok := f.tc.starts[0].(workflows.InPersonIssuanceInput); !ok || in.Clerk != "manager1" || in.MunicipalityCode != apiMunicipality {
		t.Errorf("started with %+v", f.tc.starts[0])
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
