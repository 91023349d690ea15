package workflows

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// CorrectionInput starts the Organization's side of a correction request.
type CorrectionInput struct {
	OrgRequest
	DisclosureCase string                    `json:"disclosureCase"`
	Items          []contract.CorrectionItem `json:"items"`
}

// CorrectionResult is the outcome: the decision and what was amended,
// serials and fields only.
type CorrectionResult = kit.Outcome[CorrectionOutcome]

// CorrectionOutcome is the detail of a correction.
type CorrectionOutcome struct {
	Decision  string    `json:"decision"`
	Amended   []string  `json:"amended,omitempty"` // serial/field of each accepted item
	Delivered string    `json:"delivered,omitempty"`
	Due       time.Time `json:"due"`
}

// DecideCorrectionUpdate is the operator's decision on a correction.
const DecideCorrectionUpdate = "decide-correction"

// DecideCorrectionInput is the decision: which items (their positions in
// the request, from 0) are accepted, and the reason. None accepted is a
// refusal; some, an acceptance in part.
type DecideCorrectionInput struct {
	Clerk    string `json:"clerk"`
	Accepted []int  `json:"accepted"`
	Reason   string `json:"reason"`
}

// SetClerk implements kit.Actor.
func (in *DecideCorrectionInput) SetClerk(l string) { in.Clerk = l }

// DecideCorrectionResult is the decision's outcome.
type DecideCorrectionResult struct {
	Decision string `json:"decision"`
}

var decideCorrectionStep = kit.NewHumanStep[DecideCorrectionInput]("decide-correction", DecideCorrectionUpdate)

// Correction is the Organization's side of a correction request (訂正等請求,
// 法第61条): within 30 days of receipt (our reading, as for a disclosure;
// once extendable with a notice) an operator decides each item, accepting
// all, some or none with a reason; the accepted ones amend the records,
// each keeping the old value in the audit (never the certificate or a
// signed CRL); the decision notice goes to the requester.
func Correction(ctx workflow.Context, in CorrectionInput) (CorrectionResult, error) {
	o, err := openOrgSide(ctx, contract.ProcCorrection, "correction", in.OrgRequest)
	if err != nil {
		return CorrectionResult{}, err
	}
	c, st := o.c, o.st
	var decision *contract.CorrectionDecision
	var amended []string
	if err := workflow.SetUpdateHandlerWithOptions(ctx, DecideCorrectionUpdate,
		func(ctx workflow.Context, d DecideCorrectionInput) (DecideCorrectionResult, error) {
			err := c.Serialized(ctx, func(ctx workflow.Context) error {
				if decision != nil {
					return nil
				}
				dec := contract.CorrectionDecision{Reason: d.Reason}
				for i, it := range in.Items {
					dec.Items = append(dec.Items, contract.DecidedItem{CorrectionItem: it, Accepted: slices.Contains(d.Accepted, i)})
				}
				// 訂正等: the records are amended, the old values kept.
				res, err := kit.Org(ctx, contract.ApplyCorrections, contract.ApplyCorrectionsInput{CaseNumber: in.CaseNumber,
					DisclosureCase: in.DisclosureCase, Items: dec.Items, DecidedBy: d.Clerk, Reason: d.Reason, At: workflow.Now(ctx)})
				if err != nil {
					return err
				}
				// 訂正等決定通知書.
				q, err := kit.Org(ctx, contract.SendRecordsLetter, contract.SendRecordsLetterInput{CaseNumber: in.CaseNumber,
					Letter: contract.LetterCorrection, IssuedOn: workflow.Now(ctx), Correction: &dec})
				if err != nil {
					return err
				}
				for _, a := range res.Applied {
					amended = append(amended, a.Serial+"/"+a.Field)
				}
				decision = &dec
				st.Decision, st.DoneBy, st.LetterQueued = dec.Outcome(), d.Clerk, q.QueuedAt
				return c.Record(ctx, "correction_decided", d.Clerk, dec.Outcome())
			})
			out := DecideCorrectionResult{}
			if decision != nil {
				out.Decision = decision.Outcome()
			}
			return out, err
		}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, d DecideCorrectionInput) error {
			if err := c.Accepting(); err != nil {
				return err
			}
			switch {
			case c.Step() != StepCorrectionDecision || decision != nil:
				return errors.New("訂正等の決定を受け付ける段階ではありません / The case is not waiting for a decision")
			case d.Clerk == "":
				return errors.New("担当者が不明です / The operator is missing")
			case d.Reason == "":
				return errors.New("決定の理由を入力してください / Enter the reason for the decision")
			}
			seen := map[int]bool{}
			for _, i := range d.Accepted {
				if i < 0 || i >= len(in.Items) || seen[i] {
					return fmt.Errorf("訂正等を認める事項の番号が正しくありません（%d） / No such item to accept (%d)", i, i)
				}
				seen[i] = true
			}
			return nil
		}}); err != nil {
		return CorrectionResult{}, err
	}
	return kit.Run(ctx, c, func(ctx workflow.Context) (CorrectionOutcome, error) {
		// 訂正等請求の受付 (法第61条).
		c.Enter(ctx, kit.StepReception, "")
		if _, err := kit.Org(ctx, contract.ReceiveRecordsRequest, o.received(func(r *contract.ReceiveRecordsRequestInput) {
			r.DisclosureCase, r.Items = in.DisclosureCase, in.Items
		})); err != nil {
			return CorrectionOutcome{}, err
		}
		// 訂正等の決定, by the deadline in force.
		c.Enter(ctx, StepCorrectionDecision, "")
		o.tell(ctx, false)
		if err := o.dl.AwaitDuty(ctx, "operator", "operator: decide the correction", OverdueGrace,
			func() bool { return decision != nil }); err != nil {
			return CorrectionOutcome{}, err
		}
		o.dl.Met(ctx)
		if err := o.deliver(ctx, contract.LetterCorrection, in.Delivery); err != nil {
			return CorrectionOutcome{}, err
		}
		o.tell(ctx, true)
		return CorrectionOutcome{Decision: decision.Outcome(), Amended: amended, Delivered: st.DeliveredHow, Due: o.dl.Due()}, nil
	})
}
