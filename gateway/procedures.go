package gateway

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

var (
	residentCodeRE = regexp.MustCompile(`^[0-9]{11}$`)
	dateRE         = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	municipalityRE = regexp.MustCompile(`^[0-9]{6}$`)
)

// StartInPersonIssuanceInput is the body of POST /api/procedures/inperson-issuance.
type StartInPersonIssuanceInput struct {
	TerminalID  string               `json:"terminalId"`
	Application contract.Application `json:"application"`
}

// StartProxyIssuanceInput is the body of POST /api/procedures/proxy-issuance.
type StartProxyIssuanceInput struct {
	TerminalID  string               `json:"terminalId"`
	Application contract.Application `json:"application"`
	Proxy       workflows.Proxy      `json:"proxy"`
	// RenewalCode is the code on the proxy-renewal form of the
	// Organization's expiry notice (有効期限通知書): with it the renewal
	// starts without a mailed inquiry. Optional.
	RenewalCode string `json:"renewalCode,omitempty"`
}

// StartRelayForwardingInput is the body of POST /api/procedures/relay-forwarding.
type StartRelayForwardingInput struct {
	TerminalID          string               `json:"terminalId"`
	AddressMunicipality string               `json:"addressMunicipality"`
	HandOverAt          string               `json:"handOverAt"`
	Application         contract.Application `json:"application"`
}

// StartResult answers a started procedure.
type StartResult struct {
	CaseNumber string `json:"caseNumber"`
	Procedure  string `json:"procedure"`
}

func validateApplication(a contract.Application) (code, msg string) {
	switch {
	case !residentCodeRE.MatchString(a.ResidentCode):
		return "bad_resident_code", "住民票コードは11桁の数字で入力してください / The resident code must be 11 digits."
	case a.Name == "":
		return "missing_name", "氏名を入力してください / Enter the applicant's name."
	case !dateRE.MatchString(a.BirthDate):
		return "bad_birth_date", "生年月日は YYYY-MM-DD の形式で入力してください / Enter the date of birth as YYYY-MM-DD."
	case a.Sex != "male" && a.Sex != "female":
		return "bad_sex", "性別は male または female を選んでください / Sex must be male or female."
	case a.Address == "":
		return "missing_address", "住所を入力してください / Enter the applicant's address."
	case !a.Signing && !a.UserAuth:
		return "no_certificate_requested", "発行する電子証明書を選んでください / Choose at least one certificate."
	}
	if _, err := time.Parse(time.DateOnly, a.BirthDate); err != nil {
		return "bad_birth_date", "生年月日が正しい日付ではありません / The date of birth is not a real date."
	}
	return "", ""
}

// readStart decodes a start request into in and checks its application
// (app points into in); it answers 400 and returns false when either fails.
func readStart(c *gin.Context, in any, app *contract.Application) bool {
	if err := c.ShouldBindJSON(in); err != nil {
		fail(c, http.StatusBadRequest, "bad_request", "申請内容を読み取れませんでした / The application could not be read.")
		return false
	}
	if code, msg := validateApplication(*app); code != "" {
		fail(c, http.StatusBadRequest, code, msg)
		return false
	}
	return true
}

// checkTerminal answers 400 unless the terminal is one of the clerk's
// municipality's.
func (s *Server) checkTerminal(c *gin.Context, id string) bool {
	_, ok := s.officeTerminal(c, id)
	return ok
}

// officeTerminal is checkTerminal returning the terminal.
func (s *Server) officeTerminal(c *gin.Context, id string) (storage.Terminal, bool) {
	term, err := s.db.Terminal(c, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && term.MunicipalityCode != currentClerk(c).MunicipalityCode) {
		fail(c, http.StatusBadRequest, "unknown_terminal", "この団体の統合端末ではありません / This terminal does not belong to your municipality.")
		return term, false
	}
	if err != nil {
		s.failInternal(c, err)
		return term, false
	}
	// A suspended or decommissioned terminal gets no more work (第3 6).
	switch term.Status {
	case storage.TerminalSuspended:
		fail(c, http.StatusForbidden, "terminal_suspended", "この統合端末は利用停止中です / This terminal is suspended; use another terminal.")
		return term, false
	case storage.TerminalDecommissioned:
		fail(c, http.StatusForbidden, "terminal_decommissioned", "この統合端末は廃止されています / This terminal is decommissioned; use another terminal.")
		return term, false
	}
	// The case about to open runs on this terminal: open records it, so
	// that decommissioning the terminal ends the case (terminals.go).
	c.Set(caseTerminalKey, term.ID)
	return term, true
}

// caseTerminalKey holds, in a start's request, the terminal its case runs on.
const caseTerminalKey = "madoguchi.case-terminal"

// start allocates a case number, records the case (and the resident it is
// about, "" for none) and starts the procedure with the input built for
// that case number.
func (s *Server) start(c *gin.Context, procedure string, wf any, municipality, resident string, input func(caseNumber string) any) {
	if number, _, ok := s.open(c, procedure, wf, municipality, resident, input); ok {
		c.JSON(http.StatusCreated, StartResult{CaseNumber: number, Procedure: procedure})
	}
}

// open is start without the answer: it returns the case number and the run,
// or answers the error itself and returns false. The case is the
// municipality's (its number, its lists); the clerk's office is recorded as
// the office that acted, which differs under a delegation.
func (s *Server) open(c *gin.Context, procedure string, wf any, municipality, resident string, input func(caseNumber string) any) (string, client.WorkflowRun, bool) {
	clerk := currentClerk(c)
	number, err := s.db.NextCaseNumber(c, municipality, s.now())
	if err != nil {
		s.failInternal(c, err)
		return "", nil, false
	}
	id := workflows.WorkflowID(procedure, number)
	if err := s.db.InsertCase(c, storage.Case{CaseNumber: number, MunicipalityCode: municipality, Office: clerk.MunicipalityCode,
		Procedure: procedure, WorkflowID: id, OpenedBy: clerk.ID, Resident: resident, TerminalID: c.GetString(caseTerminalKey)}); err != nil {
		s.failInternal(c, err)
		return "", nil, false
	}
	// The register record the start's checks read is logged with the case
	// it opened, before the case runs.
	if c.GetBool(registerReadKey) && !s.recordRead(c, storage.AccessRegisterRecord, number, municipality, "start_check") {
		return "", nil, false
	}
	run, err := s.temporal.ExecuteWorkflow(c, client.StartWorkflowOptions{
		ID:                    id,
		TaskQueue:             contract.MunicipalTaskQueue,
		TypedSearchAttributes: workflows.SearchAttributesAt(procedure, number, municipality, clerk.MunicipalityCode),
	}, wf, input(number))
	if err != nil {
		s.failTemporal(c, err)
		return "", nil, false
	}
	return number, run, true
}

// starters read each startable procedure's request; the catalog says who
// may start it.
func (s *Server) starters() map[string]gin.HandlerFunc {
	return map[string]gin.HandlerFunc{
		workflows.ProcedureInPersonIssuance: s.startInPersonIssuance,
		workflows.ProcedureProxyIssuance:    s.startProxyIssuance,
		workflows.ProcedureRelayForwarding:  s.startRelayForwarding,
	}
}

// startProcedure serves POST /api/procedures/{procedure}: the catalog entry
// names the roles and the kinds of office that may start it, checked
// before the request is read.
func (s *Server) startProcedure(c *gin.Context) {
	name := c.Param("procedure")
	p, ok := workflows.Lookup(name)
	start, startable := s.starters()[name]
	if ok && !startable && p.Start != nil {
		start, startable = func(c *gin.Context) { s.startFromCatalog(c, p) }, true
	}
	if !ok || !startable || len(p.StartRoles) == 0 {
		fail(c, http.StatusNotFound, "unknown_procedure", "この手続は窓口から開始できません / There is no such procedure to start here.")
		return
	}
	clerk := currentClerk(c)
	if !slices.Contains(p.StartRoles, clerk.Role) || !slices.Contains(p.StartOffices, clerk.OfficeKind) {
		fail(c, http.StatusForbidden, "not_permitted", "この手続を開始する権限がありません / You may not start this procedure.")
		return
	}
	// The fee is computed from the case (第3 5): one typed in starts nothing.
	if s.refuseTypedFee(c, name) {
		return
	}
	start(c)
}

func (s *Server) startInPersonIssuance(c *gin.Context) {
	var in StartInPersonIssuanceInput
	if !readStart(c, &in, &in.Application) {
		return
	}
	if !s.checkTerminal(c, in.TerminalID) {
		return
	}
	municipality, ok := s.caseMunicipality(c, mustProcedure(workflows.ProcedureInPersonIssuance), in.Application.ResidentCode)
	if !ok {
		return
	}
	clerk := currentClerk(c)
	s.start(c, workflows.ProcedureInPersonIssuance, workflows.InPersonIssuance, municipality, in.Application.ResidentCode, func(n string) any {
		return workflows.InPersonIssuanceInput{CaseNumber: n, MunicipalityCode: municipality, TerminalID: in.TerminalID,
			Clerk: clerk.Login, Application: in.Application}
	})
}

func (s *Server) startProxyIssuance(c *gin.Context) {
	var in StartProxyIssuanceInput
	if !readStart(c, &in, &in.Application) {
		return
	}
	if in.Proxy.Name == "" || in.Proxy.Address == "" {
		fail(c, http.StatusBadRequest, "missing_proxy", "代理人の氏名と住所を入力してください / Enter the proxy's name and address.")
		return
	}
	if !s.checkTerminal(c, in.TerminalID) {
		return
	}
	var codeHash string
	if in.RenewalCode != "" {
		var ok bool
		if codeHash, ok = s.checkRenewalCode(c, in.RenewalCode, in.Application.ResidentCode); !ok {
			return
		}
	}
	municipality, ok := s.caseMunicipality(c, mustProcedure(workflows.ProcedureProxyIssuance), in.Application.ResidentCode)
	if !ok || (codeHash != "" && !s.renewalHolderHere(c, in.Application.ResidentCode, municipality)) {
		return
	}
	clerk := currentClerk(c)
	s.start(c, workflows.ProcedureProxyIssuance, workflows.ProxyIssuance, municipality, in.Application.ResidentCode, func(n string) any {
		return workflows.ProxyIssuanceInput{CaseNumber: n, MunicipalityCode: municipality, TerminalID: in.TerminalID,
			Clerk: clerk.Login, Application: in.Application, Proxy: in.Proxy, Policy: s.inquiry, RenewalCodeHash: codeHash}
	})
}

func (s *Server) startRelayForwarding(c *gin.Context) {
	var in StartRelayForwardingInput
	if !readStart(c, &in, &in.Application) {
		return
	}
	clerk := currentClerk(c)
	switch {
	case !municipalityRE.MatchString(in.AddressMunicipality) || in.AddressMunicipality == clerk.MunicipalityCode:
		fail(c, http.StatusBadRequest, "bad_address_municipality", "住所地の市区町村コード（6桁、この団体以外）を入力してください / Enter the address municipality's 6-digit code (not your own).")
		return
	case in.HandOverAt != workflows.HandOverAtRelay && in.HandOverAt != workflows.HandOverAtAddress:
		fail(c, http.StatusBadRequest, "bad_hand_over", "交付場所は relay か address を選んでください / Hand-over must be relay or address.")
		return
	}
	if !s.checkTerminal(c, in.TerminalID) {
		return
	}
	// A relay forwards another municipality's resident's application by
	// law (経由市区町村), not under a delegation: its own case.
	// The person is another municipality's resident: no hold is the relay's.
	s.start(c, workflows.ProcedureRelayForwarding, workflows.RelayForwarding, clerk.MunicipalityCode, "", func(n string) any {
		return workflows.RelayForwardingInput{CaseNumber: n, MunicipalityCode: clerk.MunicipalityCode, AddressMunicipality: in.AddressMunicipality,
			TerminalID: in.TerminalID, Clerk: clerk.Login, ClerkID: clerk.ID, Application: in.Application, HandOverAt: in.HandOverAt}
	})
}

// scopedCase loads the case named in the path and checks it belongs to the
// clerk's office; another office's case is the unknown case's 404.
func (s *Server) scopedCase(c *gin.Context) (storage.Case, bool) {
	number := c.Param("case")
	cs, err := s.db.Case(c, number)
	if errors.Is(err, storage.ErrNotFound) {
		failUnknownCase(c)
		return storage.Case{}, false
	}
	if err != nil {
		s.failInternal(c, err)
		return storage.Case{}, false
	}
	// A case is its municipality's, and the office's that acted on it
	// under a delegation (a post office sees only those). Any other is
	// answered as an unknown case, so case numbers cannot be probed.
	clerk := currentClerk(c)
	if cs.MunicipalityCode != clerk.MunicipalityCode && cs.Office != clerk.MunicipalityCode {
		failUnknownCase(c)
		return storage.Case{}, false
	}
	return cs, true
}

// failUnknownCase answers a case the clerk may not see: the same for an
// unknown one and another office's, so case numbers cannot be probed.
func failUnknownCase(c *gin.Context) {
	fail(c, http.StatusNotFound, "unknown_case", "この受付番号の手続はありません / There is no procedure with this case number.")
}

// mustProcedure is a catalog entry the gateway's own readers start.
func mustProcedure(name string) workflows.Procedure {
	p, ok := workflows.Lookup(name)
	if !ok {
		panic("gateway: " + name + " is not in the catalog")
	}
	return p
}

func (s *Server) queryState(c *gin.Context, workflowID string) (workflows.State, error) {
	v, err := s.temporal.QueryWorkflow(c, workflowID, "", workflows.StateQuery)
	if err != nil {
		return workflows.State{}, err
	}
	var st workflows.State
	err = v.Get(&st)
	return st, err
}

func (s *Server) caseState(c *gin.Context) {
	cs, ok := s.scopedCase(c)
	if !ok {
		return
	}
	st, err := s.queryState(c, cs.WorkflowID)
	if err != nil {
		s.failTemporal(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

// requireStepRole lets through a role that takes some procedure's step of
// this path (DefaultStepRoles, or a catalog entry's StepRoles); clerkStep
// then checks the case's own procedure.
func requireStepRole(c *gin.Context) {
	role, path := currentClerk(c).Role, c.Param("step")
	if slices.Contains(workflows.DefaultStepRoles, role) {
		c.Next()
		return
	}
	for _, p := range workflows.Catalog {
		if _, ok := p.Step(path); ok && slices.Contains(p.StepRolesOf(path), role) {
			c.Next()
			return
		}
	}
	fail(c, http.StatusForbidden, "forbidden", "この操作を行う権限がありません / You are not allowed to do this.")
}

// clerkStep sends POST /api/cases/{case}/{step} to the procedure.
func (s *Server) clerkStep(c *gin.Context) {
	// A role outside DefaultStepRoles (an auditor) is refused the same 403
	// for any case but its own office's procedures that give it the step,
	// whether the case exists or not: nothing to probe, nothing changed.
	if role := currentClerk(c).Role; !slices.Contains(workflows.DefaultStepRoles, role) {
		cs, err := s.db.Case(c, c.Param("case"))
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			s.failInternal(c, err)
			return
		}
		p, _ := workflows.Lookup(cs.Procedure)
		if err != nil || cs.MunicipalityCode != currentClerk(c).MunicipalityCode || !slices.Contains(p.StepRolesOf(c.Param("step")), role) {
			fail(c, http.StatusForbidden, "forbidden", "この操作を行う権限がありません / You are not allowed to do this.")
			return
		}
	}
	cs, ok := s.scopedCase(c)
	if !ok {
		return
	}
	// The procedure's catalog entry lists the steps its modules registered:
	// a step of a module it did not opt into is a conflict, not a 404.
	proc, known := workflows.Lookup(cs.Procedure)
	def, ok := proc.Step(c.Param("step"))
	if !known || !ok {
		fail(c, http.StatusConflict, "step_not_in_procedure", "この手続ではこの操作はできません / This procedure has no such step.")
		return
	}
	if !slices.Contains(proc.StepRolesOf(def.Path), currentClerk(c).Role) {
		fail(c, http.StatusForbidden, "forbidden", "この操作を行う権限がありません / You are not allowed to do this.")
		return
	}
	if s.refuseTypedFee(c, cs.CaseNumber) {
		return
	}
	body, err := c.GetRawData()
	if err != nil {
		fail(c, http.StatusBadRequest, "bad_request", "入力を読み取れませんでした / The request could not be read.")
		return
	}
	in, err := def.Decode(body, currentClerk(c).Login)
	if err != nil {
		fail(c, http.StatusBadRequest, "bad_request", "入力を読み取れませんでした / The request could not be read.")
		return
	}
	r, isReview := in.(workflows.ReviewRelayInput)
	if isReview && r.Approve {
		if !s.checkTerminal(c, r.TerminalID) {
			return
		}
		// The case's card steps run on the terminal the review names.
		if err := s.db.SetCaseTerminal(c, cs.CaseNumber, r.TerminalID); err != nil {
			s.failInternal(c, err)
			return
		}
	}
	h, err := s.temporal.UpdateWorkflow(c, client.UpdateWorkflowOptions{
		WorkflowID: cs.WorkflowID, UpdateName: def.Update, Args: []any{in}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		s.failTemporal(c, err)
		return
	}
	var res json.RawMessage
	if err := h.Get(c, &res); err != nil {
		s.failTemporal(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json", res)
}

// inquiryPDF serves the inquiry letter of a proxy case for printing.
func (s *Server) inquiryPDF(c *gin.Context) {
	cs, ok := s.scopedCase(c)
	if !ok {
		return
	}
	pdf, err := s.db.InquiryPDF(c, cs.CaseNumber)
	if errors.Is(err, storage.ErrNotFound) {
		fail(c, http.StatusNotFound, "no_inquiry", "この手続には照会書がありません / This procedure has no inquiry letter.")
		return
	}
	if err != nil {
		s.failInternal(c, err)
		return
	}
	// The letter names the holder and their address (第3 8).
	if !s.recordRead(c, storage.AccessRegisterRecord, cs.CaseNumber, cs.MunicipalityCode, "inquiry_letter") {
		return
	}
	c.Header("Content-Disposition", `inline; filename="inquiry-`+cs.CaseNumber+`.pdf"`)
	c.Data(http.StatusOK, "application/pdf", pdf)
}

// CaseSummary is one row of a case list.
type CaseSummary struct {
	CaseNumber string    `json:"caseNumber"`
	Procedure  string    `json:"procedure"`
	OpenedAt   time.Time `json:"openedAt"`
	Status     string    `json:"status"`
	Step       string    `json:"step,omitempty"`
	// Municipality is the case's municipality; Office the office that
	// acted on it (another than the municipality under a delegation).
	Municipality string `json:"municipality,omitempty"`
	Office       string `json:"office,omitempty"`
	// WaitingFor is who the case waits for (a role: clerk, second_clerk,
	// applicant, proxy, terminal, relay, address).
	WaitingFor string `json:"waitingFor,omitempty"`
}

// listCases lists the office's cases of a status (open by default),
// newest first, one page at a time: ?status=open|completed|rejected|lapsed|
// failed|cancelled, ?procedure= (a catalog name), ?from=&to= (the day it
// opened, YYYY-MM-DD in Japan, to inclusive), ?pageSize= (1–200, default
// 200) and ?pageToken= (the nextPageToken of the page before).
func (s *Server) listCases(c *gin.Context) {
	status := c.DefaultQuery("status", workflows.StatusOpen)
	if !slices.Contains(kit.Statuses, status) {
		fail(c, http.StatusBadRequest, "bad_status", "status は open, completed, rejected, lapsed, failed, cancelled のいずれかです / status must be open, completed, rejected, lapsed, failed or cancelled.")
		return
	}
	f := ListFilter{Status: status, Procedure: c.Query("procedure")}
	if _, ok := workflows.Lookup(f.Procedure); f.Procedure != "" && !ok {
		fail(c, http.StatusBadRequest, "bad_procedure", "そのような手続はありません / There is no such procedure.")
		return
	}
	var okFrom, okTo bool
	f.OpenedFrom, okFrom = parseWhen(c.Query("from"), false)
	f.OpenedTo, okTo = parseWhen(c.Query("to"), true)
	if !okFrom || !okTo {
		fail(c, http.StatusBadRequest, "bad_date", "from と to は YYYY-MM-DD の形式で入力してください / from and to must be YYYY-MM-DD.")
		return
	}
	s.listPage(c, f, "cases")
}

// listPage answers one page of a case list (pageSize 1–200, default 200;
// pageToken from the page before) under key, with nextPageToken when
// there is more.
func (s *Server) listPage(c *gin.Context, f ListFilter, key string) {
	size := listLimit
	if v := c.Query("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > listLimit {
			fail(c, http.StatusBadRequest, "bad_page_size", "pageSize は 1 から 200 までです / pageSize must be 1 to 200.")
			return
		}
		size = n
	}
	token, err := base64.RawURLEncoding.DecodeString(c.Query("pageToken"))
	if err != nil {
		fail(c, http.StatusBadRequest, "bad_page_token", "ページの指定が正しくありません / The page token is not valid.")
		return
	}
	clerk := currentClerk(c)
	out, next, err := ListPage(c, s.temporal, clerk.MunicipalityCode, clerk.OfficeKind == workflows.OfficePostOffice, f, size, token)
	if err != nil {
		if len(token) > 0 && isInvalidArgument(err) {
			fail(c, http.StatusBadRequest, "bad_page_token", "ページの指定が正しくありません / The page token is not valid.")
			return
		}
		s.failTemporal(c, err)
		return
	}
	res := gin.H{key: out}
	if len(next) > 0 {
		res["nextPageToken"] = base64.RawURLEncoding.EncodeToString(next)
	}
	c.JSON(http.StatusOK, res)
}

// waiting lists what the municipality is waiting on: identity checks,
// replies due, notices arrived for review, confirmations pending, cards to
// hand over, terminals not responding. One visibility query, not a query of
// each case. With pageSize or pageToken it answers a page at a time, the
// waiting filter in the query (the console's waiting list pages so).
func (s *Server) waiting(c *gin.Context) {
	if c.Query("pageSize") != "" || c.Query("pageToken") != "" {
		s.listPage(c, ListFilter{Status: workflows.StatusOpen, Waiting: true}, "waiting")
		return
	}
	out, err := s.visible(c, currentClerk(c), workflows.StatusOpen, true)
	if err != nil {
		s.failTemporal(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"waiting": out})
}

// listLimit bounds one list answer.
const listLimit = 200

// visible lists the clerk's office's cases of a status from the search
// attributes (no personal data), newest first: a post office's own only; a
// municipality's, with those done on its behalf and those it did for
// another under a delegation.
func (s *Server) visible(c *gin.Context, clerk storage.Clerk, status string, waitingOnly bool) ([]CaseSummary, error) {
	if clerk.OfficeKind == workflows.OfficePostOffice {
		return ListOfficeCases(c, s.temporal, clerk.MunicipalityCode, status, waitingOnly, listLimit)
	}
	return ListCases(c, s.temporal, clerk.MunicipalityCode, status, waitingOnly, listLimit)
}
