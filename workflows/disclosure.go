package workflows

import (
	"errors"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// DisclosureInput starts the Organization's side of a disclosure request.
type DisclosureInput struct {
	OrgRequest
}

// DisclosureResult is the outcome: dates and how the notice went, never
// the records.
type DisclosureResult = kit.Outcome[DisclosureOutcome]

// DisclosureOutcome is the detail of a disclosure.
type DisclosureOutcome struct {
	Delivered    string    `json:"delivered,omitempty"`
	DeliveredAt  time.Time `json:"deliveredAt,omitzero"`
	Due          time.Time `json:"due"`
	Extended     bool      `json:"extended,omitempty"`
	CorrectUntil time.Time `json:"correctionsUntil,omitzero"`
}

// DiscloseUpdate is the operator compiling the records and sending the
// disclosure notice.
const DiscloseUpdate = "disclose"

// DiscloseInput is the operator's step.
type DiscloseInput struct {
	Clerk string `json:"clerk"`
}

// SetClerk implements kit.Actor.
func (in *DiscloseInput) SetClerk(l string) { in.Clerk = l }

// DiscloseResult says when the notice was queued; the count of records is
// the Organization's to see.
type DiscloseResult struct {
	Records  int       `json:"records"`
	QueuedAt time.Time `json:"queuedAt"`
}

// DisclosedQuery answers the gateway's check of a correction request
// against what this disclosure disclosed.
const DisclosedQuery = "disclosed"

// DisclosedQueryInput names the person and the serials a correction is
// about.
type DisclosedQueryInput struct {
	ResidentCode string   `json:"residentCode"`
	Serials      []string `json:"serials"`
}

// DisclosedQueryResult is the answer: a refusal, or none.
type DisclosedQueryResult struct {
	Refusal *contract.Rejection `json:"refusal,omitempty"`
}

var discloseStep = kit.NewHumanStep[DiscloseInput]("disclose", DiscloseUpdate)

// Disclosure is the Organization's side of a disclosure request (法第58条,
// 第59条): the request is received; within 30 days counted from that day an
// operator compiles the requester's certification records from the
// Organization's records and the disclosure notice goes to the requester,
// by mail or at the Organization's counter; before day 30 the Organization
// may extend once, with the extension notice. A deadline passing with
// neither leaves the case overdue in the managers' list. After the notice
// the case stays open for the correction period, answering what it
// disclosed.
func Disclosure(ctx workflow.Context, in DisclosureInput) (DisclosureResult, error) {
	o, err := openOrgSide(ctx, contract.ProcDisclosure, "disclosure", in.OrgRequest)
	if err != nil {
		return DisclosureResult{}, err
	}
	c, st := o.c, o.st
	var disclosed []string
	sent := false
	if err := workflow.SetUpdateHandlerWithOptions(ctx, DiscloseUpdate,
		func(ctx workflow.Context, op DiscloseInput) (DiscloseResult, error) {
			var res DiscloseResult
			err := c.Serialized(ctx, func(ctx workflow.Context) error {
				if sent {
					return nil
				}
				// 認証業務情報の検索: a query over the Organization's records;
				// the serials stay here, the records in its database.
				got, err := kit.Org(ctx, contract.CompileDisclosure, contract.CompileDisclosureInput{CaseNumber: in.CaseNumber, Operator: op.Clerk, At: workflow.Now(ctx)})
				if err != nil {
					return err
				}
				// 開示通知書: rendered and queued for the requester only.
				q, err := kit.Org(ctx, contract.SendRecordsLetter, contract.SendRecordsLetterInput{CaseNumber: in.CaseNumber, Letter: contract.LetterDisclosure, IssuedOn: workflow.Now(ctx)})
				if err != nil {
					return err
				}
				disclosed, sent = got.Serials, true
				st.DoneBy, st.LetterQueued = op.Clerk, q.QueuedAt
				res = DiscloseResult{Records: len(got.Serials), QueuedAt: q.QueuedAt}
				return c.Record(ctx, "disclosure_notice", op.Clerk, q.Delivery)
			})
			return res, err
		}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, op DiscloseInput) error {
			if err := c.Accepting(); err != nil {
				return err
			}
			switch {
			case c.Step() != StepDisclosure || sent:
				return errors.New("開示通知を送る段階ではありません / The case is not waiting for the disclosure notice")
			case op.Clerk == "":
				return errors.New("担当者が不明です / The operator is missing")
			}
			return nil
		}}); err != nil {
		return DisclosureResult{}, err
	}
	if err := workflow.SetQueryHandler(ctx, DisclosedQuery, func(q DisclosedQueryInput) (DisclosedQueryResult, error) {
		switch {
		case q.ResidentCode != in.Requester.ResidentCode:
			return DisclosedQueryResult{Refusal: &contract.Rejection{Code: "not_disclosed_to_requester",
				Message: "この開示はこの請求者に対するものではありません / This disclosure was not made to this requester."}}, nil
		case st.DeliveredAt.IsZero():
			return DisclosedQueryResult{Refusal: &contract.Rejection{Code: "not_yet_disclosed",
				Message: "この開示請求はまだ開示されていません / This disclosure request has not been disclosed yet."}}, nil
		case c.Step() != StepCorrectionPeriod:
			return DisclosedQueryResult{Refusal: &contract.Rejection{Code: "correction_period_passed",
				Message: "訂正等請求の期間を過ぎています / The period for a correction request has passed."}}, nil
		}
		for _, s := range q.Serials {
			if !slices.Contains(disclosed, s) {
				return DisclosedQueryResult{Refusal: &contract.Rejection{Code: "not_disclosed",
					Message: "開示していない記録の訂正等は請求できません（シリアル番号 " + s + "） / A correction may only concern a record that was disclosed (serial " + s + ")."}}, nil
			}
		}
		return DisclosedQueryResult{}, nil
	}); err != nil {
		return DisclosureResult{}, err
	}
	return kit.Run(ctx, c, func(ctx workflow.Context) (DisclosureOutcome, error) {
		// 開示請求の受付 (法第58条): the request, as the counter forwarded it.
		c.Enter(ctx, kit.StepReception, "")
		if _, err := kit.Org(ctx, contract.ReceiveRecordsRequest, o.received(nil)); err != nil {
			return DisclosureOutcome{}, err
		}
		// 開示 (法第59条第1項): within 30 days of receipt, or the extended date.
		c.Enter(ctx, StepDisclosure, "")
		o.tell(ctx, false)
		if err := o.dl.AwaitDuty(ctx, "operator", "operator: compile the records and send the disclosure notice", OverdueGrace,
			func() bool { return sent }); err != nil {
			return DisclosureOutcome{}, err
		}
		o.dl.Met(ctx)
		// 通知書の送付／窓口交付, as the requester chose.
		if err := o.deliver(ctx, contract.LetterDisclosure, in.Delivery); err != nil {
			return DisclosureOutcome{}, err
		}
		// 訂正等請求の期間: the case answers what it disclosed.
		c.Enter(ctx, StepCorrectionPeriod, "")
		st.CorrectionsUntil = workflow.Now(ctx).Add(CorrectionPeriod)
		o.tell(ctx, true)
		out := DisclosureOutcome{Delivered: st.DeliveredHow, DeliveredAt: st.DeliveredAt, Due: o.dl.Due(), Extended: st.Extended, CorrectUntil: st.CorrectionsUntil}
		if err := workflow.Sleep(ctx, CorrectionPeriod); err != nil {
			return out, err
		}
		return out, nil
	})
}
