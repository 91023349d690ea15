package workflows

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/deadline"
	"github.com/madoguchi/madoguchi/internal/searchattr"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// The records family (認証業務情報の開示請求・訂正等請求, 第2 3 and 4): a request is
// taken at a counter, which checks who asks and forwards it; the
// Organization decides it on its own case and writes to the requester
// directly. The counter sees that it was forwarded and how it stands, never
// the records.

// OrganizationOffice is the Organization's office code.
const OrganizationOffice = "jlis"

// Steps of the records family.
const (
	StepForwardedToOrganization = "forwarded_to_organization"
	StepDisclosure              = "disclosure"
	StepCorrectionDecision      = "correction_decision"
	StepLetterPickup            = "letter_pickup"
	StepCorrectionPeriod        = "correction_period"
)

// Timing of the family.
const (
	// PickupWindow is how long a letter waits at the Organization's counter
	// for the requester; then it is mailed, so it always reaches them.
	PickupWindow = 30 * 24 * time.Hour
	// OverdueGrace is how long an Organization case waits after its legal
	// deadline passed (overdue, in the managers' list) before it fails for a
	// manager to take up.
	OverdueGrace = 60 * 24 * time.Hour
	// CorrectionPeriod is how long after a disclosure a correction may be
	// asked of it: 90 days, our reading after 個人情報保護法 第90条第3項, as
	// 法第61条 names none. The disclosure case stays open for it, answering
	// the gateway's check of what it disclosed.
	CorrectionPeriod = 90 * 24 * time.Hour
	// recordsFollowWindow bounds the counter's wait for the Organization:
	// both deadlines, the grace, a pick-up and slack.
	recordsFollowWindow = 60*24*time.Hour + OverdueGrace + PickupWindow + 7*24*time.Hour
)

// OrganizationCase is the Organization's case number for a request taken
// at a counter: derived from it, so forwarding twice opens one case.
func OrganizationCase(counterCase string) string { return OrganizationOffice + "-" + counterCase }

// RecordsStatusSignal carries the Organization's side to the counter.
const RecordsStatusSignal = "records-status"

// RecordsStatus is how the Organization's case stands: steps and dates,
// never the records.
type RecordsStatus struct {
	Step      string    `json:"step"`
	Status    string    `json:"status"`
	Due       time.Time `json:"due,omitzero"`
	Extended  bool      `json:"extended,omitempty"`
	Delivered bool      `json:"delivered,omitempty"`
}

// RecordsRequest is what a disclosure request names: whose records, and
// how the letter reaches them.
type RecordsRequest struct {
	ResidentCode string `json:"residentCode"`
	Delivery     string `json:"delivery"`
}

func (r RecordsRequest) check() *contract.Rejection {
	switch {
	case !residentCodeRE.MatchString(r.ResidentCode):
		return &contract.Rejection{Code: "bad_resident_code", Message: "住民票コード（11桁）を入力してください / Enter the 11-digit resident code."}
	case r.Delivery != contract.DeliveryMail && r.Delivery != contract.DeliveryPickup:
		return &contract.Rejection{Code: "bad_delivery", Message: "通知書の受取方法（郵送または窓口交付）を選んでください / Choose how the notice is received: mail or pick-up."}
	}
	return nil
}

// Holder implements CertificateHolder: the person must be the
// municipality's resident.
func (r RecordsRequest) Holder() (string, []string, string) { return r.ResidentCode, nil, "" }

// RecordsRequestResult is the counter's outcome: where the request went and
// how it ended there.
type RecordsRequestResult struct {
	OrgCase   string `json:"organizationCase"`
	OrgStatus string `json:"organizationStatus"`
	Delivered bool   `json:"delivered"`
}

// counterRequest is the counter's side of a records request, shared by the
// four counter procedures.
type counterRequest struct {
	c       *kit.Case
	id      *kit.Identity
	st      *kit.RecordsState
	clerk   string
	clerkID int64
	request RecordsRequest
	// proxy is set when a proxy asks for the person (第2 3(2), 4(2)).
	proxy bool
	// org is the Organization's procedure; input makes its start input.
	org      string
	orgType  string
	input    func(orgCase string, requester contract.Requester) any
	docTypes []string
}

func newCounterRequest(ctx workflow.Context, c *kit.Case, proxy bool, clerk string, clerkID int64, req RecordsRequest) (*counterRequest, error) {
	id, err := kit.UseIdentity(ctx, c, kit.StepReception)
	if err != nil {
		return nil, err
	}
	if proxy {
		id.Expect(kit.PersonProxy)
	}
	r := &counterRequest{c: c, id: id, st: &kit.RecordsState{Delivery: req.Delivery}, clerk: clerk, clerkID: clerkID, request: req, proxy: proxy}
	c.State().Records = r.st
	return r, nil
}

// run is the counter's steps, 第2 3(1)/(2) and 4(1)/(2) ア to ウ.
func (r *counterRequest) run(ctx workflow.Context) (RecordsRequestResult, error) {
	c := r.c
	// ア 請求書の受付.
	c.Enter(ctx, kit.StepReception, r.clerk)
	// イ 本人確認: the requester's identity documents, or the proxy's with
	// the power of attorney (委任状); nothing is disclosed at the counter.
	what := "clerk: the requester's identity documents"
	if r.proxy {
		what = "clerk: the proxy's identity documents and power of attorney"
	}
	if err := r.id.Await(ctx, StepIdentityCheck, what); err != nil {
		return RecordsRequestResult{}, err
	}
	// The Organization writes to the person as the register reads: the
	// municipality's own, or at the Organization's counter any
	// municipality's (住基ネット).
	atOrganization := c.Office() == OrganizationOffice
	muni := c.Office()
	if atOrganization {
		muni = ""
	}
	who, err := kit.Local(ctx, contract.ReadRequester, contract.ReadRequesterInput{MunicipalityCode: muni, ResidentCode: r.request.ResidentCode})
	if err != nil {
		return RecordsRequestResult{}, err
	}
	// A municipality keeps the request and the power of attorney (第3 3);
	// the Organization keeps its own with the request it receives.
	if !atOrganization {
		if _, err := kit.Local(ctx, contract.RegisterDocuments, contract.RegisterDocumentsInput{CaseNumber: c.Number(), DocTypes: r.docTypes}); err != nil {
			return RecordsRequestResult{}, err
		}
	}
	// ウ 機構への送付: the Organization's case, which outlives this one.
	orgCase := OrganizationCase(c.Number())
	r.st.OrgCase = orgCase
	wfID := WorkflowID(r.org, orgCase)
	if _, err := kit.Local(ctx, contract.OpenCase, contract.OpenCaseInput{CaseNumber: orgCase, Office: OrganizationOffice,
		Procedure: r.org, WorkflowID: wfID, OpenedBy: r.clerkID}); err != nil {
		return RecordsRequestResult{}, err
	}
	var last RecordsStatus
	heard := false
	sig := workflow.GetSignalChannel(ctx, RecordsStatusSignal)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var st RecordsStatus
			sig.Receive(ctx, &st)
			last, heard = st, true
			r.st.OrgStep, r.st.OrgStatus, r.st.Due, r.st.Extended = st.Step, st.Status, st.Due, st.Extended
			// The counter's managers see the Organization's deadline in
			// their own list too, until the letter has gone.
			due := searchattr.Due.ValueSet(st.Due)
			if st.Delivered || st.Due.IsZero() {
				due = searchattr.Due.ValueUnset()
			}
			_ = workflow.UpsertTypedSearchAttributes(ctx, due)
		}
	})
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: wfID, TaskQueue: contract.MunicipalTaskQueue,
		ParentClosePolicy:     enums.PARENT_CLOSE_POLICY_ABANDON,
		TypedSearchAttributes: searchattr.Start(r.org, orgCase, OrganizationOffice, kit.StepReception),
	})
	child := workflow.ExecuteChildWorkflow(cctx, r.orgType, r.input(orgCase, who.Requester))
	if err := child.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		return RecordsRequestResult{}, fmt.Errorf("forward to the Organization: %w", err)
	}
	if err := c.Record(ctx, "forwarded", r.clerk, orgCase); err != nil {
		return RecordsRequestResult{}, err
	}
	// The counter follows the Organization's case until the letter has
	// left the Organization, or the case ended without it.
	c.Enter(ctx, StepForwardedToOrganization, "")
	var out kit.Outcome[any]
	ended := false
	workflow.Go(ctx, func(ctx workflow.Context) {
		_ = child.Get(ctx, &out)
		ended = true
	})
	if err := c.Await(ctx, recordsFollowWindow, "organization", "the Organization", kit.Lapse{Code: "organization_no_answer",
		Message: "機構の手続が期限内に終わりませんでした / The Organization's procedure did not end in time."},
		func() bool { return ended || (heard && last.Delivered) }); err != nil {
		return RecordsRequestResult{}, err
	}
	res := RecordsRequestResult{OrgCase: orgCase, OrgStatus: kit.StatusOpen, Delivered: heard && last.Delivered}
	if !ended || out.Status == kit.StatusCompleted {
		if ended {
			res.OrgStatus = out.Status
		}
		r.st.OrgStatus = res.OrgStatus
		return res, nil
	}
	// The Organization's case ended without the letter: this one ends the
	// same way, with its reason.
	res.OrgStatus = out.Status
	r.st.OrgStatus = out.Status
	code, msg := "organization_"+out.Status, "機構の手続が終了しました / The Organization's procedure ended."
	if out.Rejection != nil {
		code, msg = out.Rejection.Code, out.Rejection.Message
	}
	switch out.Status {
	case kit.StatusRejected:
		return res, contract.Reject(code, msg)
	case kit.StatusLapsed:
		return res, contract.Lapse(code, msg)
	case kit.StatusCancelled:
		return res, temporal.NewCanceledError(msg)
	}
	return res, kit.FailedAs("機構の手続が障害で終了しました: " + msg + " / The Organization's procedure failed: " + msg)
}

// OrgRequest is what the Organization's side of a records request starts
// with: where it was made, and whom the letters go to.
type OrgRequest struct {
	CaseNumber string `json:"caseNumber"`
	// Office is the Organization's office code.
	Office        string             `json:"office"`
	CounterOffice string             `json:"counterOffice"`
	CounterCase   string             `json:"counterCase"`
	Requester     contract.Requester `json:"requester"`
	Delivery      string             `json:"delivery"`
	// ReceivedAt is when the Organization received the request (zero: when
	// its case starts); the deadline counts from its day.
	ReceivedAt time.Time `json:"receivedAt,omitzero"`
}

// openOrgSide opens the Organization's case of a request: its records
// section, the counter it tells (its parent), the 30-day deadline with its
// one extension, and the identity check of a letter's pick-up.
func openOrgSide(ctx workflow.Context, procedure, deadlineName string, in OrgRequest) (*orgSide, error) {
	c, err := kit.New(ctx, kit.Info{Number: in.CaseNumber, Procedure: procedure, Office: in.Office})
	if err != nil {
		return nil, err
	}
	received := in.ReceivedAt
	if received.IsZero() {
		received = workflow.Now(ctx)
	}
	st := &kit.RecordsState{Delivery: in.Delivery, CounterOffice: in.CounterOffice, CounterCase: in.CounterCase, Received: received}
	c.State().Records = st
	o := &orgSide{c: c, st: st, req: in, procedure: procedure}
	if p := workflow.GetInfo(ctx).ParentWorkflowExecution; p != nil {
		o.counter = p.ID
	}
	original := deadline.DisclosureDeadline(received)
	if err := o.useDeadline(ctx, deadlineName, original, deadline.ExtendDisclosure(original, 0)); err != nil {
		return nil, err
	}
	if o.id, err = kit.UseIdentity(ctx, c); err != nil {
		return nil, err
	}
	return o, nil
}

// received is the request as the Organization records it; more adds a
// procedure's own fields.
func (o *orgSide) received(more func(*contract.ReceiveRecordsRequestInput)) contract.ReceiveRecordsRequestInput {
	r := contract.ReceiveRecordsRequestInput{CaseNumber: o.req.CaseNumber, Procedure: o.procedure, Requester: o.req.Requester,
		Delivery: o.req.Delivery, ReceivedAt: o.st.Received, CounterOffice: o.req.CounterOffice, CounterCase: o.req.CounterCase}
	if more != nil {
		more(&r)
	}
	return r
}

// orgSide is what the Organization's two procedures share: telling the
// counter how the case stands, and delivering the letter.
type orgSide struct {
	c       *kit.Case
	st      *kit.RecordsState
	counter string // the counter's workflow id
	dl      *kit.Deadline
	id      *kit.Identity
	// original and extended are the deadline and its one extension.
	original, extended deadline.Deadline
	req                OrgRequest
	procedure          string
}

// tell signals the counter; a counter that has ended is not an error.
func (o *orgSide) tell(ctx workflow.Context, delivered bool) {
	if o.counter == "" {
		return
	}
	st := RecordsStatus{Step: o.c.Step(), Status: kit.StatusOpen, Delivered: delivered, Due: o.original.Fires, Extended: o.st.Extended}
	if o.st.Extended {
		st.Due = o.extended.Fires
	}
	_ = workflow.SignalExternalWorkflow(ctx, o.counter, "", RecordsStatusSignal, st).Get(ctx, nil)
}

// deliver sees the queued letter to the requester: by mail at once, or at
// the Organization's counter after an identity check, mailed when nobody
// collects it within PickupWindow.
func (o *orgSide) deliver(ctx workflow.Context, letter, delivery string) error {
	how, by := contract.DeliveredByMail, ""
	if delivery == contract.DeliveryPickup {
		o.id.Expect(kit.PersonApplicant)
		until := workflow.Now(ctx).Add(PickupWindow)
		for how == contract.DeliveredByMail && workflow.Now(ctx).Before(until) {
			came, verified, err := o.id.AwaitVisit(ctx, StepLetterPickup, "operator: the requester collects the letter", until.Sub(workflow.Now(ctx)))
			if err != nil {
				return err
			}
			if !came {
				break
			}
			if verified {
				checks := o.c.State().Identity.Checks
				how, by = contract.DeliveredByHandOver, checks[len(checks)-1].Clerk
				continue
			}
			o.c.Note("identity not verified: not handed over")
			o.id.Again(kit.PersonApplicant)
		}
	}
	res, err := kit.Org(ctx, contract.DeliverLetter, contract.DeliverLetterInput{CaseNumber: o.c.Number(), Letter: letter, How: how, By: by, At: workflow.Now(ctx)})
	if err != nil {
		return err
	}
	o.st.DeliveredHow, o.st.DeliveredAt = res.How, res.DeliveredAt
	return o.c.Record(ctx, "letter_delivered:"+letter, by, res.How)
}

// useDeadline opts an Organization case into its 30-day deadline, once
// extendable with the extension notice (法第59条第2項), which goes by mail
// whatever the delivery chosen for the decision.
func (o *orgSide) useDeadline(ctx workflow.Context, name string, original, extended deadline.Deadline) error {
	o.original, o.extended = original, extended
	dl, err := kit.UseDeadline(ctx, o.c, name, original.Fires, extended.Fires, func(ctx workflow.Context, in kit.ExtendDeadlineInput, _ time.Time) error {
		if _, err := kit.Org(ctx, contract.SendRecordsLetter, contract.SendRecordsLetterInput{CaseNumber: o.c.Number(),
			Letter: contract.LetterExtension, IssuedOn: workflow.Now(ctx),
			Extension: &contract.ExtensionDetail{OriginalDue: original.LastDay.Start(), NewDue: extended.LastDay.Start(), Reason: in.Reason}}); err != nil {
			return err
		}
		if err := o.deliverNow(ctx, contract.LetterExtension); err != nil {
			return err
		}
		o.st.Extended = true
		o.tell(ctx, false)
		return nil
	})
	o.dl = dl
	return err
}

// deliverNow mails a letter that needs no hand-over.
func (o *orgSide) deliverNow(ctx workflow.Context, letter string) error {
	_, err := kit.Org(ctx, contract.DeliverLetter, contract.DeliverLetterInput{CaseNumber: o.c.Number(), Letter: letter,
		How: contract.DeliveredByMail, At: workflow.Now(ctx)})
	return err
}

// correctionFields says which fields each action may name.
var correctionFields = map[string][]string{
	contract.ActionCorrect: {contract.FieldMunicipality, contract.FieldCounterpart, contract.FieldRevocationReason},
	contract.ActionAdd:     {contract.FieldCounterpart},
	contract.ActionDelete:  {contract.FieldCounterpart, contract.FieldRecord},
}

// checkItems refuses a malformed correction request.
func checkItems(items []contract.CorrectionItem) *contract.Rejection {
	if len(items) == 0 || len(items) > 20 {
		return &contract.Rejection{Code: "bad_items", Message: "訂正等を求める事項を1件以上20件以下で入力してください / Enter between 1 and 20 items to correct.", Field: "items"}
	}
	for i, it := range items {
		n, at := i+1, func(field string) string { return fmt.Sprintf("items.%d.%s", i, field) }
		switch {
		case !serialRE.MatchString(it.Serial):
			return &contract.Rejection{Code: "bad_serial", Message: fmt.Sprintf("%d件目: シリアル番号を入力してください / Item %d: enter the serial number.", n, n), Field: at("serial")}
		case !slices.Contains(correctionFields[it.Action], it.Field):
			return &contract.Rejection{Code: "bad_item", Message: fmt.Sprintf("%d件目: 訂正等の種類と項目の組合せが正しくありません / Item %d: this action cannot apply to this field.", n, n), Field: at("field")}
		case it.Action != contract.ActionDelete && it.Value == "":
			return &contract.Rejection{Code: "missing_value", Message: fmt.Sprintf("%d件目: 正しい内容を入力してください / Item %d: enter the correct value.", n, n), Field: at("value")}
		case it.Statement == "":
			return &contract.Rejection{Code: "missing_statement", Message: fmt.Sprintf("%d件目: 訂正等を求める理由を入力してください / Item %d: enter the statement of what is wrong.", n, n), Field: at("statement")}
		}
	}
	return nil
}

// disclosure makes the request a disclosure request (第2 3).
func (r *counterRequest) disclosure(docTypes ...string) {
	r.org, r.orgType, r.docTypes = contract.ProcDisclosure, "Disclosure", docTypes
	r.input = func(orgCase string, who contract.Requester) any {
		return DisclosureInput{OrgRequest{CaseNumber: orgCase, Office: OrganizationOffice, CounterOffice: r.c.Office(), CounterCase: r.c.Number(),
			Requester: who, Delivery: r.request.Delivery}}
	}
}

// correction makes the request a correction request (第2 4) of what a
// disclosure disclosed.
func (r *counterRequest) correction(req CorrectionRequest, docTypes ...string) {
	r.org, r.orgType, r.docTypes = contract.ProcCorrection, "Correction", docTypes
	r.input = func(orgCase string, who contract.Requester) any {
		return CorrectionInput{OrgRequest: OrgRequest{CaseNumber: orgCase, Office: OrganizationOffice, CounterOffice: r.c.Office(), CounterCase: r.c.Number(),
			Requester: who, Delivery: r.request.Delivery}, DisclosureCase: req.DisclosureCase, Items: req.Items}
	}
}

// CorrectionRequest is what a correction request names: whose records,
// the disclosure they were disclosed by (its case number is on the
// notice), each thing that is wrong, and how the decision reaches them.
type CorrectionRequest struct {
	RecordsRequest
	DisclosureCase string                    `json:"disclosureCase"`
	Items          []contract.CorrectionItem `json:"items"`
}

func (r CorrectionRequest) check() *contract.Rejection {
	if rej := r.RecordsRequest.check(); rej != nil {
		return rej
	}
	if !disclosureCaseRE.MatchString(r.DisclosureCase) {
		return &contract.Rejection{Code: "bad_disclosure_case", Message: "開示通知書に記載の受付番号を入力してください / Enter the case number printed on the disclosure notice."}
	}
	return checkItems(r.Items)
}

// Disclosure implements AboutDisclosure.
func (r CorrectionRequest) Disclosure() (string, string, []string) {
	serials := make([]string, 0, len(r.Items))
	for _, it := range r.Items {
		serials = append(serials, it.Serial)
	}
	return r.DisclosureCase, r.ResidentCode, serials
}

var disclosureCaseRE = regexp.MustCompile(`^` + OrganizationOffice + `-[0-9A-Za-z-]{1,60}$`)
