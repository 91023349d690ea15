package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// HoldReleaseRequest is the application to release the hold (一時保留の解除
// 申請書): the holder brings the found card to the counter.
type HoldReleaseRequest struct {
	ResidentCode string `json:"residentCode"`
	// CardSerial is the found card's serial, as printed on it.
	CardSerial string `json:"cardSerial"`
	// TerminalID is the counter terminal the card is inserted in.
	TerminalID string `json:"terminalId"`
}

// Terminal implements OnTerminal for the start requests that embed it.
func (r HoldReleaseRequest) Terminal() string { return r.TerminalID }

// Holder implements CertificateHolder for the start requests that embed it.
func (r HoldReleaseRequest) Holder() (string, []string, string) {
	return r.ResidentCode, nil, r.CardSerial
}

// Check implements StartRequest for the start requests that embed it.
func (r HoldReleaseRequest) Check() *contract.Rejection { return r.check() }

func (r HoldReleaseRequest) check() *contract.Rejection {
	switch {
	case !residentCodeRE.MatchString(r.ResidentCode):
		return &contract.Rejection{Code: "bad_resident_code", Message: "住民票コードは11桁の数字で入力してください / The resident code must be 11 digits."}
	case !cardSerialRE.MatchString(r.CardSerial):
		return &contract.Rejection{Code: "bad_card_serial", Message: "カードの番号を入力してください（英数字） / Enter the card's serial (letters and digits)."}
	case r.TerminalID == "":
		return &contract.Rejection{Code: "unknown_terminal", Message: "カードを挿入した統合端末を指定してください / Name the terminal the card is inserted in."}
	}
	return nil
}

// HoldReleaseResult is the detail of a hold release's outcome.
type HoldReleaseResult struct {
	Released    []kit.StatusChange `json:"released,omitempty"`
	RetainUntil string             `json:"retainUntil,omitempty"`
}

// holdRelease holds the steps both hold-release procedures share (第3 2(1),
// 2(2)).
type holdRelease struct {
	c      *kit.Case
	req    HoldReleaseRequest
	st     *kit.StatusChangeState
	target contract.RecordedCertificate
}

func newHoldRelease(c *kit.Case, req HoldReleaseRequest) *holdRelease {
	return &holdRelease{c: c, req: req, st: kit.UseStatusChanges(c)}
}

// findHeld finds the holder's user-authentication certificate on the card
// named, and checks at the Organization that it is held: a revoked one can
// never be released.
func (h *holdRelease) findHeld(ctx workflow.Context) error {
	h.c.Enter(ctx, StepTargets, "")
	res, err := kit.Local(ctx, contract.FindCertificates, contract.FindCertificatesInput{MunicipalityCode: h.c.Office(),
		ResidentCode: h.req.ResidentCode, Kinds: []string{contract.KindUserAuth}, OnCard: h.req.CardSerial,
		Today: workflow.GetInfo(ctx).WorkflowStartTime})
	if err != nil {
		return err
	}
	for _, cert := range res.Certificates {
		if cert.Card == h.req.CardSerial {
			h.target = cert
		}
	}
	if h.target.Serial == "" {
		return contract.Reject("card_not_held",
			"このカードには一時保留中の利用者証明用電子証明書がありません / This card holds no user-authentication certificate of this person.")
	}
	h.st.Targets = []kit.CertificateSummary{{Kind: h.target.Kind, Serial: h.target.Serial, NotAfter: h.target.NotAfter}}
	if h.target.Status == "revoked" {
		return rejectRevokedNotHeld()
	}
	h.c.Enter(ctx, StepHoldCheck, "")
	st, err := kit.StatusAt(ctx, h.target.Serial)
	if err != nil {
		return err
	}
	switch {
	case st.Held():
		return nil
	case st.State == "revoked":
		return rejectRevokedNotHeld()
	default:
		return contract.Reject("not_on_hold",
			"この電子証明書は一時保留されていません / This certificate is not on hold.")
	}
}

func rejectRevokedNotHeld() error {
	return contract.Reject("revoked_not_held",
		"この電子証明書は失効しており、一時保留ではないため解除できません / This certificate was revoked, not held: it cannot be released.")
}

// checkCard reads the card: it must be the card named, holding the held
// certificate.
func (h *holdRelease) checkCard(ctx workflow.Context, term *kit.Terminal) error {
	h.c.Enter(ctx, StepCardCheck, "")
	h.c.Waiting(ctx, "applicant", "terminal: insert the found card")
	read, err := term.ReadCard(ctx)
	h.c.Done(ctx)
	if err != nil {
		return err
	}
	if read.CardSerial != h.req.CardSerial || !sameSerial(read.AuthSerial, h.target.Serial) {
		return contract.Reject("card_not_held",
			"挿入されたカードは一時保留中の電子証明書のカードではありません / The inserted card is not the card of the held certificate.")
	}
	return nil
}

// verifyPIN has the holder type the user-authentication PIN on the touch
// panel, verified on the card, until it is right or the card blocks it.
func (h *holdRelease) verifyPIN(ctx workflow.Context, term *kit.Terminal) error {
	h.c.Enter(ctx, StepPINVerify, "applicant")
	// The card counts the tries (3 for the user-authentication PIN); the
	// bound is a guard, not the rule.
	for try := 1; try <= 10; try++ {
		res, err := term.VerifyPIN(ctx, h.req.CardSerial, contract.KindUserAuth)
		if err != nil {
			return err
		}
		if res.Verified {
			return nil
		}
		if res.Blocked {
			return contract.Reject("pin_blocked",
				"暗証番号が誤って入力され、ロックされました。暗証番号の初期化の後に解除を申請してください / The PIN is now locked: reset it (第3 1) and apply again.")
		}
		h.c.Note(fmt.Sprintf("wrong PIN, %d tries left", res.RetriesLeft))
	}
	return contract.Reject("pin_not_verified", "暗証番号を確認できませんでした / The PIN could not be verified.")
}

// release has the Organization lift the hold, and records it.
func (h *holdRelease) release(ctx workflow.Context, docs ...string) (HoldReleaseResult, error) {
	h.c.Enter(ctx, StepRelease, "")
	res, err := kit.Release(ctx, h.c, h.target.Serial)
	if err != nil {
		return HoldReleaseResult{}, err
	}
	if res.Outcome != "released" {
		return HoldReleaseResult{}, contract.Reject("not_on_hold",
			"この電子証明書は一時保留されていません / This certificate is not on hold.")
	}
	h.c.Enter(ctx, StepRecords, "")
	d, err := kit.Local(ctx, contract.RegisterDocuments, contract.RegisterDocumentsInput{CaseNumber: h.c.Number(), DocTypes: docs})
	if err != nil {
		return HoldReleaseResult{}, err
	}
	return HoldReleaseResult{Released: h.st.Released, RetainUntil: d.RetainUntil}, nil
}

// sameSerial compares serials as hex numbers, whatever their case or
// leading zeros.
func sameSerial(a, b string) bool {
	norm := func(s string) string { return strings.TrimLeft(strings.ToLower(s), "0") }
	return a != "" && norm(a) == norm(b)
}
