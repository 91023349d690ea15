package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/reasons"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// LossReportInput starts a loss report at the Organization.
type LossReportInput struct {
	CaseNumber string `json:"caseNumber"`
	// Office is the Organization's office code.
	Office   string `json:"office"`
	Operator string `json:"operator"`
	// CardSerial is the lost card's serial: the report names nothing else.
	CardSerial string `json:"cardSerial"`
}

// LossReportResult is the outcome: what was held and revoked.
type LossReportResult = kit.Outcome[StatusChanges]

// StatusChanges is the detail of a procedure that changes certificate
// statuses: serials and times only.
type StatusChanges struct {
	Held      []kit.StatusChange `json:"held,omitempty"`
	Revoked   []kit.StatusChange `json:"revoked,omitempty"`
	Released  []kit.StatusChange `json:"released,omitempty"`
	Unchanged []kit.StatusChange `json:"unchanged,omitempty"`
}

func changesOf(st *kit.StatusChangeState) StatusChanges {
	return StatusChanges{Held: st.Held, Revoked: st.Revoked, Released: st.Released, Unchanged: st.Unchanged}
}

// StartLossReport is the body of POST /api/procedures/loss-report.
type StartLossReport struct {
	CardSerial string `json:"cardSerial"`
}

// Check implements StartRequest.
func (s *StartLossReport) Check() *contract.Rejection {
	if !cardSerialRE.MatchString(s.CardSerial) {
		return &contract.Rejection{Code: "bad_card_serial", Message: "カードの番号を入力してください（英数字） / Enter the card's serial (letters and digits)."}
	}
	return nil
}

// Input implements StartRequest.
func (s *StartLossReport) Input(o Opening) any {
	return LossReportInput{CaseNumber: o.CaseNumber, Office: o.Office, Operator: o.Clerk, CardSerial: s.CardSerial}
}

// LossReport is the Organization's 24-hour line (第2 2(1) 秘密鍵の漏えい等届出,
// taken by telephone at the Organization, our reading): the card's
// user-authentication certificate is put on hold (一時保留, 第3 2 releases it
// when the card is found) and its signing certificate is revoked as
// compromised. The caller gives the card's serial only; OCSP answers the
// new status at once.
func LossReport(ctx workflow.Context, in LossReportInput) (LossReportResult, error) {
	c, err := kit.New(ctx, kit.Info{Number: in.CaseNumber, Procedure: contract.ProcLossReport, Office: in.Office})
	if err != nil {
		return LossReportResult{}, err
	}
	st := kit.UseStatusChanges(c)
	return kit.Run(ctx, c, func(ctx workflow.Context) (StatusChanges, error) {
		// 届出の受付: the operator records the card's serial.
		c.Enter(ctx, kit.StepReception, in.Operator)
		certs, err := kit.CardCertificates(ctx, in.CardSerial)
		if err != nil {
			return StatusChanges{}, err
		}
		if len(certs) == 0 {
			return StatusChanges{}, contract.Reject("unknown_card",
				"この番号のカードに発行した電子証明書はありません / No certificate was issued for a card with this serial.")
		}
		// 一時保留／失効: held and revoked, each once whatever the retries.
		c.Enter(ctx, StepStatusChange, "")
		for _, cert := range certs {
			st.Targets = append(st.Targets, kit.CertificateSummary{Kind: cert.Kind, Serial: cert.Serial, NotAfter: cert.NotAfter})
		}
		for _, cert := range certs {
			if cert.State != "good" {
				st.Unchanged = append(st.Unchanged, kit.StatusChange{Serial: cert.Serial, Kind: cert.Kind, Outcome: "not_good"})
				continue
			}
			switch cert.Kind {
			case contract.KindUserAuth:
				_, err = kit.Hold(ctx, c, cert.Serial)
			default:
				_, err = kit.Revoke(ctx, c, cert.Serial, reasons.KeyCompromise)
			}
			if err != nil {
				return StatusChanges{}, err
			}
		}
		if err := c.Record(ctx, "loss_report", in.Operator, "card reported lost"); err != nil {
			return StatusChanges{}, err
		}
		return changesOf(st), nil
	})
}
