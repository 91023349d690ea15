package workflows

import (
	"regexp"

	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/reasons"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// Steps of the revocation family (第2 2) and the hold release (第3 2).
const (
	StepTargets      = "targets"       // the certificates asked for, from the municipal record
	StepRevocation   = "revocation"    // the Organization revokes
	StepRecords      = "records"       // the municipal record and documents
	StepHoldCheck    = "hold_check"    // the certificate is held, not revoked
	StepPINVerify    = "pin_verify"    // the holder's PIN, verified on the card
	StepRelease      = "release"       // the Organization releases the hold
	StepStatusChange = "status_change" // the Organization's 24-hour line acts
)

var (
	residentCodeRE = regexp.MustCompile(`^[0-9]{11}$`)
	// serialRE is a certificate serial as the CA writes it: lower-case hex.
	serialRE = regexp.MustCompile(`^[0-9a-f]{1,40}$`)
	// cardSerialRE is a card's serial as printed on it.
	cardSerialRE = regexp.MustCompile(`^[0-9A-Za-z]{1,32}$`)
)

// RevocationRequest is what the holder (or the proxy) asks for on the
// revocation application (失効申請書) or the leak/loss report (漏えい等届出書).
// It carries the resident code only; the register holds the rest.
type RevocationRequest struct {
	ResidentCode string `json:"residentCode"`
	// Signing and UserAuth are the certificates to revoke; revoking one
	// leaves the other alone.
	Signing  bool `json:"signing"`
	UserAuth bool `json:"userAuth"`
	// Serials name the certificates instead, when the holder knows them.
	Serials []string `json:"serials,omitempty"`
	// Reason is keyCompromise (the key leaked, or the card was lost) or
	// cessationOfOperation (the holder's wish).
	Reason reasons.Reason `json:"reason"`
	// CardLost: the card was lost (a leak/loss report); it is not read.
	CardLost bool `json:"cardLost,omitempty"`
	// TerminalID is the counter terminal the card is inserted in; empty
	// when the card is not brought (lost, or simply not at hand).
	TerminalID string `json:"terminalId,omitempty"`
}

// kinds are the kinds asked for.
func (r RevocationRequest) kinds() []string {
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
func (r RevocationRequest) Terminal() string { return r.TerminalID }

// Holder implements CertificateHolder for the start requests that embed it.
func (r RevocationRequest) Holder() (string, []string, string) { return r.ResidentCode, r.Serials, "" }

// check refuses a malformed request for a procedure.
func (r RevocationRequest) check(procedure string) *contract.Rejection {
	switch {
	case !residentCodeRE.MatchString(r.ResidentCode):
		return &contract.Rejection{Code: "bad_resident_code", Message: "住民票コードは11桁の数字で入力してください / The resident code must be 11 digits."}
	case len(r.kinds()) == 0 && len(r.Serials) == 0:
		return &contract.Rejection{Code: "no_certificate_requested", Message: "失効する電子証明書を選んでください / Choose the certificates to revoke."}
	case !r.Reason.IsRevocation() || !contract.ReasonAllowed(procedure, r.Reason):
		return &contract.Rejection{Code: "reason_not_allowed", Message: "この手続で使えない失効事由です（keyCompromise または cessationOfOperation） / This procedure may not use that reason (keyCompromise or cessationOfOperation)."}
	case r.CardLost && r.Reason != reasons.KeyCompromise:
		return &contract.Rejection{Code: "reason_not_allowed", Message: "紛失の届出の失効事由は keyCompromise です / A lost card is revoked as keyCompromise."}
	case r.CardLost && r.TerminalID != "":
		return &contract.Rejection{Code: "lost_card_present", Message: "紛失したカードは読み取れません。統合端末を指定しないでください / A lost card cannot be read; name no terminal."}
	}
	for _, s := range r.Serials {
		if !serialRE.MatchString(s) {
			return &contract.Rejection{Code: "unknown_certificate", Message: "シリアル番号の形式が正しくありません / The serial number is malformed."}
		}
	}
	return nil
}

// RevocationResult is the detail of a revocation's outcome: what the
// Organization revoked, for the revocation notice (失効通知書).
type RevocationResult struct {
	Reason      reasons.Reason     `json:"reason"`
	Revoked     []kit.StatusChange `json:"revoked,omitempty"`
	Unchanged   []kit.StatusChange `json:"unchanged,omitempty"`
	RetainUntil string             `json:"retainUntil,omitempty"`
	// Notice is the document the holder receives (GET …/revocation-notice.pdf).
	Notice string `json:"notice,omitempty"`
}

// revocation holds the steps both revocation procedures share (第2 2(1)ア,
// 2(2)ア), so each procedure reads as the manual's list.
type revocation struct {
	c       *kit.Case
	req     RevocationRequest
	st      *kit.StatusChangeState
	targets []contract.RecordedCertificate
}

func newRevocation(c *kit.Case, req RevocationRequest) *revocation {
	st := kit.UseStatusChanges(c)
	st.Reason = req.Reason
	return &revocation{c: c, req: req, st: st}
}

// findTargets reads the certificates asked for from the municipal record.
func (r *revocation) findTargets(ctx workflow.Context) error {
	r.c.Enter(ctx, StepTargets, "")
	res, err := kit.Local(ctx, contract.FindCertificates, contract.FindCertificatesInput{MunicipalityCode: r.c.Office(),
		ResidentCode: r.req.ResidentCode, Kinds: r.req.kinds(), Serials: r.req.Serials, Today: workflow.GetInfo(ctx).WorkflowStartTime})
	if err != nil {
		return err
	}
	r.targets = res.Certificates
	for _, t := range r.targets {
		r.st.Targets = append(r.st.Targets, kit.CertificateSummary{Kind: t.Kind, Serial: t.Serial, NotAfter: t.NotAfter})
	}
	return nil
}

// checkCard reads the card when it was brought: it must be the card the
// certificates are on. A lost card, or one not brought, is no obstacle.
func (r *revocation) checkCard(ctx workflow.Context, term *kit.Terminal) error {
	if term == nil {
		return nil
	}
	r.c.Enter(ctx, StepCardCheck, "")
	r.c.Waiting(ctx, "applicant", "terminal: insert the card")
	read, err := term.ReadCard(ctx)
	r.c.Done(ctx)
	if err != nil {
		return err
	}
	for _, t := range r.targets {
		if t.Card != read.CardSerial {
			return contract.Reject("card_not_holding",
				"挿入されたカードには失効する電子証明書が記録されていません / The inserted card does not hold the certificates to revoke.")
		}
	}
	return nil
}

// revoke has the Organization revoke each target with the typed reason.
func (r *revocation) revoke(ctx workflow.Context) error {
	r.c.Enter(ctx, StepRevocation, "")
	for _, t := range r.targets {
		if _, err := kit.Revoke(ctx, r.c, t.Serial, r.req.Reason); err != nil {
			return err
		}
	}
	return nil
}

// record updates the municipal record and registers the documents; the
// holder receives the revocation notice.
func (r *revocation) record(ctx workflow.Context, docs ...string) (RevocationResult, error) {
	r.c.Enter(ctx, StepRecords, "")
	res := RevocationResult{Reason: r.req.Reason, Revoked: r.st.Revoked, Unchanged: r.st.Unchanged, Notice: "revocation_notice"}
	var serials []string
	for _, t := range r.targets {
		serials = append(serials, t.Serial)
	}
	lost := ""
	if r.req.CardLost && len(r.targets) > 0 {
		lost = r.targets[0].Card
	}
	if _, err := kit.Local(ctx, contract.RecordRevoked, contract.RecordRevokedInput{CaseNumber: r.c.Number(), Serials: serials, LostCard: lost}); err != nil {
		return res, err
	}
	// The notice handed to the holder is kept with the application.
	docs = append(docs, res.Notice)
	d, err := kit.Local(ctx, contract.RegisterDocuments, contract.RegisterDocumentsInput{CaseNumber: r.c.Number(), DocTypes: docs})
	if err != nil {
		return res, err
	}
	res.RetainUntil = d.RetainUntil
	return res, nil
}
