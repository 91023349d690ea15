package workflows

import (
	"fmt"
	"slices"

	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// Steps of the PIN procedures (第3 1).
const (
	StepPINChange = "pin_change"
	StepPINReset  = "pin_reset"
)

// PINRequest is the application for a PIN change or reset (暗証番号変更／
// 初期化申請書): whose card, which PINs, at which terminal.
type PINRequest struct {
	ResidentCode string `json:"residentCode"`
	Signing      bool   `json:"signing"`
	UserAuth     bool   `json:"userAuth"`
	// TerminalID is the counter terminal the card is inserted in.
	TerminalID string `json:"terminalId"`
}

func (r PINRequest) kinds() []string {
	var k []string
	if r.Signing {
		k = append(k, contract.KindSigning)
	}
	if r.UserAuth {
		k = append(k, contract.KindUserAuth)
	}
	return k
}

// Terminal implements OnTerminal for the start requests that embed it.
func (r PINRequest) Terminal() string { return r.TerminalID }

// Holder implements CertificateHolder for the start requests that embed it.
func (r PINRequest) Holder() (string, []string, string) { return r.ResidentCode, nil, "" }

// Check implements StartRequest for the start requests that embed it.
func (r PINRequest) Check() *contract.Rejection { return r.check() }

func (r PINRequest) check() *contract.Rejection {
	switch {
	case !residentCodeRE.MatchString(r.ResidentCode):
		return &contract.Rejection{Code: "bad_resident_code", Message: "住民票コードは11桁の数字で入力してください / The resident code must be 11 digits."}
	case len(r.kinds()) == 0:
		return &contract.Rejection{Code: "no_pin_requested", Message: "対象の暗証番号（署名用・利用者証明用）を選んでください / Choose the PINs (signing, user authentication)."}
	case r.TerminalID == "":
		return &contract.Rejection{Code: "unknown_terminal", Message: "カードを挿入した統合端末を指定してください / Name the terminal the card is inserted in."}
	}
	return nil
}

// PINResult is the detail of a PIN procedure's outcome: which PINs
// changed. It never holds a PIN.
type PINResult struct {
	Kinds       []string `json:"kinds"`
	RetainUntil string   `json:"retainUntil,omitempty"`
}

// pinWork holds the steps the PIN procedures share (第3 1(1), 1(2)).
type pinWork struct {
	c    *kit.Case
	req  PINRequest
	card string
}

// checkCard reads the card (ICカードの確認): it must be the applicant's,
// still valid, and hold a current certificate of each kind asked for.
func (p *pinWork) checkCard(ctx workflow.Context, term *kit.Terminal) error {
	p.c.Enter(ctx, StepCardCheck, "")
	p.c.Waiting(ctx, "applicant", "terminal: insert the card")
	read, err := term.ReadCard(ctx)
	p.c.Done(ctx)
	if err != nil {
		return err
	}
	if _, err := kit.Local(ctx, contract.CheckCard, contract.CheckCardInput{ResidentCode: p.req.ResidentCode, CardSerial: read.CardSerial,
		Today: workflow.GetInfo(ctx).WorkflowStartTime}); err != nil {
		return err
	}
	on, err := kit.Local(ctx, contract.FindCertificates, contract.FindCertificatesInput{MunicipalityCode: p.c.Office(),
		ResidentCode: p.req.ResidentCode, Kinds: p.req.kinds(), OnCard: read.CardSerial, Today: workflow.GetInfo(ctx).WorkflowStartTime})
	if err != nil {
		return err
	}
	for _, k := range p.req.kinds() {
		if !slices.ContainsFunc(on.Certificates, func(c contract.RecordedCertificate) bool { return c.Kind == k && c.Status == "active" }) {
			return contract.Reject("no_certificate_of_kind",
				"このカードには対象の有効な電子証明書がありません（"+k+"） / The card holds no valid certificate of this kind ("+k+").")
		}
	}
	p.card = read.CardSerial
	return nil
}

// pinsFrom says who types at the panel, after the second clerk's
// confirmation when a clerk does (令和4年改正).
func (p *pinWork) pinsFrom(ctx workflow.Context, pin *kit.ClerkPIN) (kit.PINSource, error) {
	if pin == nil || pin.Enterer() == "" {
		return kit.FromApplicant(), nil
	}
	if err := pin.AwaitIntent(ctx); err != nil {
		return kit.PINSource{}, err
	}
	return kit.FromClerk(pin.Enterer()), nil
}

// change has the card change each PIN asked for, asking again after a
// wrong current PIN while the card allows.
func (p *pinWork) change(ctx workflow.Context, term *kit.Terminal, src kit.PINSource) error {
	p.c.Enter(ctx, StepPINChange, actorOf(src))
	for _, k := range p.req.kinds() {
		changed := false
		// The card counts the tries; the bound is a guard, not the rule.
		for try := 1; try <= 10 && !changed; try++ {
			res, err := term.ChangePIN(ctx, src, p.card, k)
			if err != nil {
				return err
			}
			switch {
			case res.Changed:
				changed = true
			case res.Blocked:
				return contract.Reject("pin_blocked",
					"暗証番号がロックされました。暗証番号の初期化を申請してください / The PIN is locked: apply for a PIN reset.")
			default:
				p.c.Note(fmt.Sprintf("wrong current %s PIN, %d tries left", k, res.RetriesLeft))
			}
		}
		if !changed {
			return contract.Reject("pin_not_changed", "暗証番号を変更できませんでした / The PIN could not be changed.")
		}
	}
	return nil
}

// reset sets the new PINs from an authorised terminal.
func (p *pinWork) reset(ctx workflow.Context, term *kit.Terminal, src kit.PINSource) error {
	p.c.Enter(ctx, StepPINReset, actorOf(src))
	_, err := term.ResetPIN(ctx, src, p.card, p.req.kinds())
	return err
}

// documents registers the application documents.
func (p *pinWork) documents(ctx workflow.Context, docs ...string) (PINResult, error) {
	p.c.Enter(ctx, StepDocuments, "")
	d, err := kit.Local(ctx, contract.RegisterDocuments, contract.RegisterDocumentsInput{CaseNumber: p.c.Number(), DocTypes: docs})
	if err != nil {
		return PINResult{}, err
	}
	return PINResult{Kinds: p.req.kinds(), RetainUntil: d.RetainUntil}, nil
}

// inPersonPIN runs 第3 1(1) in person: the PIN change and the PIN reset
// differ only in what the card does at (エ) and in the application kept.
func inPersonPIN(ctx workflow.Context, info kit.Info, clerk string, req PINRequest,
	act func(p *pinWork, ctx workflow.Context, term *kit.Terminal, src kit.PINSource) error, application string) (kit.Outcome[PINResult], error) {
	c, err := kit.New(ctx, info)
	if err != nil {
		return kit.Outcome[PINResult]{}, err
	}
	id, err := kit.UseIdentity(ctx, c, kit.StepReception)
	if err != nil {
		return kit.Outcome[PINResult]{}, err
	}
	pin, err := kit.UseClerkPIN(ctx, c, kit.StepReception, StepIdentityCheck, StepCardCheck)
	if err != nil {
		return kit.Outcome[PINResult]{}, err
	}
	term := kit.UseTerminal(c, req.TerminalID)
	return kit.Run(ctx, c, func(ctx workflow.Context) (PINResult, error) {
		p := &pinWork{c: c, req: req}
		// 第3 1(1)ア 申請書の受付.
		c.Enter(ctx, kit.StepReception, clerk)
		// 第3 1(1)イ 本人確認 (before the card).
		if err := id.Await(ctx, StepIdentityCheck, "clerk: identity documents"); err != nil {
			return PINResult{}, err
		}
		// 第3 1(1)ウ ICカードの確認.
		if err := p.checkCard(ctx, term); err != nil {
			return PINResult{}, err
		}
		// 第3 1(1)エ 暗証番号の変更／初期化, on the touch panel and the card,
		// after the second clerk's confirmation when a clerk types.
		src, err := p.pinsFrom(ctx, pin)
		if err != nil {
			return PINResult{}, err
		}
		if err := act(p, ctx, term, src); err != nil {
			return PINResult{}, err
		}
		// 第3 1(1)オ 申請書等の保存.
		return p.documents(ctx, application, "identity_check_record")
	})
}
