package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/sealing"
)

// IntentConfirmationWindow is how long a procedure waits for the second
// clerk's confirmation before it lapses.
const IntentConfirmationWindow = 8 * time.Hour

// cardStepsInput is what the common card and CA steps need.
type cardStepsInput struct {
	TerminalID   string
	ResidentCode string
	Kinds        []string
	Register     contract.CheckRegisterResult
	AppliedAt    time.Time
	// Notice is the sealed PIN notice of a relay application; its PINs are
	// opened on the terminal and set by the address municipality's clerk.
	Notice *sealing.Notice
}

// cardStepsResult is what they produced.
type cardStepsResult struct {
	CardSerial   string
	Certificates []contract.IssuedCertificate
	Superseded   []string
	// Lapsed is set when the second clerk's confirmation never came.
	Lapsed bool
}

// issueOnCard runs the steps every issuance shares, written once: the card
// check, the PIN setting (by the applicant, by a clerk after a second
// clerk's confirmation, or from a sealed notice), on-card key generation,
// issuance by the Organization, writing to the card and, on renewal, the
// revocation of the replaced certificates (第2 1(1)ア(エ)–(キ)).
func (p *procedure) issueOnCard(ctx workflow.Context, in cardStepsInput) (cardStepsResult, error) {
	var res cardStepsResult
	current := map[string]contract.CurrentCertificate{}
	for _, c := range in.Register.Current {
		current[c.Kind] = c
	}

	// 第2 1(1)ア(エ)A・B ICカードの確認: the card inserted in the terminal.
	p.enter(ctx, StepCardCheck, "")
	p.state.WaitingFor = "terminal: card"
	var cardRead contract.ReadCardResult
	if err := workflow.ExecuteActivity(terminalCtx(ctx, in.TerminalID, 5*time.Minute), contract.ReadCard.Name,
		contract.ReadCardInput{CaseNumber: p.caseNumber}).Get(ctx, &cardRead); err != nil {
		return res, err
	}
	p.state.WaitingFor = ""
	res.CardSerial = cardRead.CardSerial
	var cardRec contract.CheckCardResult
	if err := workflow.ExecuteLocalActivity(municipalCtx(ctx), contract.CheckCard.Name, contract.CheckCardInput{
		ResidentCode: in.ResidentCode, CardSerial: cardRead.CardSerial, Today: in.AppliedAt,
	}).Get(ctx, &cardRec); err != nil {
		return res, err
	}

	// 第2 1(1)ア(エ)C 暗証番号の指定. On renewal the card keeps its PIN (the
	// manual tells the applicant to use the current one), so only new kinds
	// get a PIN.
	var pinKinds []string
	for _, k := range in.Kinds {
		if _, renewing := current[k]; !renewing {
			pinKinds = append(pinKinds, k)
		}
	}
	if in.Notice != nil || (len(pinKinds) > 0 && p.pinEnterer != "") {
		// A clerk sets the PIN for the applicant: another clerk confirms the
		// applicant's own intent first (令和4年1月31日改正).
		ok, err := p.awaitIntent(ctx, IntentConfirmationWindow)
		if err != nil {
			return res, err
		}
		if !ok {
			res.Lapsed = true
			return res, nil
		}
	}
	switch {
	case in.Notice != nil:
		p.enter(ctx, StepPINSetting, p.pinEnterer)
		if err := workflow.ExecuteActivity(terminalCtx(ctx, in.TerminalID, 2*time.Minute), contract.SetPINsFromNotice.Name, contract.SetPINsFromNoticeInput{
			CaseNumber: p.caseNumber, CardSerial: cardRead.CardSerial, Notice: *in.Notice,
		}).Get(ctx, nil); err != nil {
			return res, err
		}
	case len(pinKinds) > 0:
		actor := "applicant"
		if p.pinEnterer != "" {
			actor = p.pinEnterer
		}
		p.enter(ctx, StepPINSetting, actor)
		p.state.WaitingFor = actor + ": touch panel"
		if err := workflow.ExecuteActivity(terminalCtx(ctx, in.TerminalID, 30*time.Minute), contract.SetPINs.Name, contract.SetPINsInput{
			CaseNumber: p.caseNumber, CardSerial: cardRead.CardSerial, Kinds: pinKinds, EnteredBy: p.pinEnterer,
		}).Get(ctx, nil); err != nil {
			return res, err
		}
		p.state.WaitingFor = ""
	}

	// Validity (規則 13, 49) is fixed before the keys are made so that a
	// card too close to its expiry is refused before anything is written.
	per, err := periods(workflow.Now(ctx), in.AppliedAt, in.Kinds, in.Register, cardRec.Expiry, current)
	if err != nil {
		return res, err
	}

	// 第2 1(1)ア(オ) 鍵ペアの生成: RSA-2048 key pairs generated on the card.
	p.enter(ctx, StepKeyGeneration, "")
	var keys contract.GenerateKeysResult
	if err := workflow.ExecuteActivity(terminalCtx(ctx, in.TerminalID, 2*time.Minute), contract.GenerateKeys.Name, contract.GenerateKeysInput{
		CaseNumber: p.caseNumber, CardSerial: cardRead.CardSerial, Kinds: in.Kinds,
	}).Get(ctx, &keys); err != nil {
		return res, err
	}

	// 第2 1(1)ア(カ) 電子証明書の発行: the Organization issues the certificates.
	p.enter(ctx, StepIssuance, "")
	issueIn := contract.IssueCertificatesInput{CaseNumber: p.caseNumber}
	for _, k := range keys.Keys {
		req := contract.CertificateRequest{
			RequestID: p.caseNumber + "/" + k.Kind, Kind: k.Kind, MunicipalityCode: p.municipality,
			ResidentCode: in.ResidentCode, SPKIDER: k.SPKIDER, NotAfter: per[k.Kind].NotAfter,
		}
		if k.Kind == contract.KindSigning {
			person := in.Register.Person
			req.Person = &person
		}
		issueIn.Requests = append(issueIn.Requests, req)
	}
	var issued contract.IssueCertificatesResult
	if err := workflow.ExecuteActivity(caCtx(ctx), contract.IssueCertificates.Name, issueIn).Get(ctx, &issued); err != nil {
		return res, err
	}
	res.Certificates = issued.Certificates
	for _, c := range issued.Certificates {
		p.state.Certificates = append(p.state.Certificates, CertificateSummary{Kind: c.Kind, Serial: c.Serial, NotBefore: c.NotBefore, NotAfter: c.NotAfter})
	}

	// 第2 1(1)ア(キ) ICカードへの記録: the certificates are written to the card.
	p.enter(ctx, StepCardWrite, "")
	if err := workflow.ExecuteActivity(cardWriteCtx(ctx, in.TerminalID), contract.WriteCertificates.Name, contract.WriteCertificatesInput{
		CaseNumber: p.caseNumber, CardSerial: cardRead.CardSerial, Certificates: issued.Certificates,
	}).Get(ctx, nil); err != nil {
		return res, err
	}

	// 更新: once the new certificate is on the card, the old one is revoked
	// as superseded (第1 4(2)オ; reason 更新のための失効).
	for _, k := range in.Kinds {
		if c, ok := current[k]; ok {
			res.Superseded = append(res.Superseded, c.Serial)
		}
	}
	if len(res.Superseded) > 0 {
		p.enter(ctx, StepRevokeOld, "")
		for _, serial := range res.Superseded {
			var rr contract.RevokeCertificateResult
			if err := workflow.ExecuteActivity(caCtx(ctx), contract.RevokeCertificate.Name, contract.RevokeCertificateInput{
				RequestID: p.caseNumber + "/revoke/" + serial, Serial: serial, Reason: "superseded", At: workflow.Now(ctx),
			}).Get(ctx, &rr); err != nil {
				return res, err
			}
			p.state.Revoked = append(p.state.Revoked, serial)
		}
	}
	err = workflow.ExecuteLocalActivity(municipalCtx(ctx), contract.RecordIssued.Name, contract.RecordIssuedInput{
		CaseNumber: p.caseNumber, ResidentCode: in.ResidentCode, CardSerial: cardRead.CardSerial,
		Certificates: stripDER(issued.Certificates), Superseded: res.Superseded,
	}).Get(ctx, nil)
	return res, err
}

// stripDER drops certificate bodies the municipal record does not need.
func stripDER(certs []contract.IssuedCertificate) []contract.IssuedCertificate {
	out := make([]contract.IssuedCertificate, len(certs))
	for i, c := range certs {
		c.DER, c.CADER = nil, nil
		out[i] = c
	}
	return out
}
