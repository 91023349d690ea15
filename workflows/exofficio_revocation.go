package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/register"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// Steps of the ex-officio revocation (第2 2(3)). The manual's body of
// 第2 2(3) is not in our seed (its table of contents names it); the steps
// follow the grounds of 第1 4(2)エ(ウ) 利用者の異動等の通知 and the counter
// work DESIGN.md §8 describes.
const (
	StepExOfficioRevocation = "exofficio_revocation"
	StepRevocationRecords   = "revocation_records"
	StepHolderNotice        = "holder_notice"
)

// DocRevocationNotice is the notice to the holder that the Organization
// revoked a certificate ex officio (電子証明書失効通知書), kept as a document.
const DocRevocationNotice = "exofficio_revocation_notice"

// ExOfficioRevocationInput starts 第2 2(3) for one register change.
type ExOfficioRevocationInput struct {
	CaseNumber       string `json:"caseNumber"`
	MunicipalityCode string `json:"municipalityCode"`
	// Actor is the login of the register's account (or the manager) that
	// sent the change.
	Actor string `json:"actor"`
	// EventID is the change's row in the municipal database, the business
	// key of its revocations at the CA.
	EventID int64                   `json:"eventId"`
	Change  contract.RegisterChange `json:"change"`
}

// ExOfficioRevocationDetail is what the procedure did.
type ExOfficioRevocationDetail struct {
	Change  string                   `json:"change"`
	Revoked []kit.RevokedCertificate `json:"revoked,omitempty"`
	// RetainUntil is how long the notice to the holder is kept.
	RetainUntil string `json:"retainUntil,omitempty"`
}

// ExOfficioRevocationResult is the outcome of the procedure.
type ExOfficioRevocationResult = kit.Outcome[ExOfficioRevocationDetail]

// ExOfficioRevocation is 第2 2(3) 機構による電子証明書の職権失効のために市区町村
// 受付窓口にて行う業務, for one change of the resident register: the
// Organization revokes what the change ends (internal/register.Revocations),
// the municipality records it and tells the holder.
func ExOfficioRevocation(ctx workflow.Context, in ExOfficioRevocationInput) (ExOfficioRevocationResult, error) {
	c, err := kit.New(ctx, kit.Info{Number: in.CaseNumber, Procedure: contract.ProcExOfficioRevocation, Office: in.MunicipalityCode})
	if err != nil {
		return ExOfficioRevocationResult{}, err
	}
	return kit.Run(ctx, c, func(ctx workflow.Context) (ExOfficioRevocationDetail, error) {
		// 第2 2(3)ア 住民基本台帳の異動等の受付: the register's change, recorded
		// by the gateway under the register's change id.
		c.Enter(ctx, kit.StepReception, in.Actor)
		st, err := revocationState(c, in.Change.Kind)
		if err != nil {
			return ExOfficioRevocationDetail{}, err
		}
		detail := ExOfficioRevocationDetail{Change: st.Change}
		if err := c.Record(ctx, "register_change", in.Actor, fmt.Sprintf("%s %s", in.Change.Kind, in.Change.Date)); err != nil {
			return detail, err
		}
		// 第2 2(3)イ 機構への異動等の通知と機構による職権失効 (法第15条第1項, 法第34条第1項).
		c.Enter(ctx, StepExOfficioRevocation, "")
		chunk := contract.RegisterChangeChunk{EventIDs: []int64{in.EventID}, ResidentCodes: []string{in.Change.ResidentCode},
			Kinds: []string{in.Change.Kind}, Dates: []string{in.Change.Date}}
		res, err := kit.Org(ctx, contract.RevokeForRegisterChanges, contract.RevokeForRegisterChangesInput{
			Municipality: c.Office(), Changes: chunk, At: workflow.Now(ctx), WantSerials: true})
		if err != nil {
			return detail, err
		}
		for _, rc := range res.Certificates {
			st.Revoked = append(st.Revoked, kit.RevokedCertificate{Kind: rc.Kind, Serial: rc.Serial, Reason: rc.Reason})
		}
		st.RevokedCount, st.Replayed, st.AlreadyRevoked = len(res.Certificates), res.Replayed, res.AlreadyRevoked
		detail.Revoked = st.Revoked
		// 第2 2(3)ウ 市区町村の記録: the municipality's certificate records.
		c.Enter(ctx, StepRevocationRecords, "")
		if _, err := kit.Local(ctx, contract.CompleteRegisterChanges, contract.CompleteRegisterChangesInput{
			Municipality: c.Office(), EventIDs: chunk.EventIDs, At: workflow.Now(ctx)}); err != nil {
			return detail, err
		}
		if len(st.Revoked) == 0 {
			c.Note("no valid certificate")
			return detail, nil
		}
		// 第2 2(3)エ 利用者への通知: the notice of the revocation, kept with the
		// case's documents.
		c.Enter(ctx, StepHolderNotice, "")
		docs, err := kit.Local(ctx, contract.RegisterDocuments, contract.RegisterDocumentsInput{CaseNumber: c.Number(), DocTypes: []string{DocRevocationNotice}})
		if err != nil {
			return detail, err
		}
		st.Notice, detail.RetainUntil = DocRevocationNotice, docs.RetainUntil
		return detail, c.Record(ctx, "holder_notice", "", fmt.Sprintf("%d certificate(s)", len(st.Revoked)))
	})
}

// revocationState opens the revocation section for a change kind; an
// unknown kind is a rejection (the gateway checks it first).
func revocationState(c *kit.Case, kind string) (*kit.RevocationState, error) {
	ch, err := register.ParseChange(kind)
	if err != nil {
		return nil, contract.Reject("unknown_change", "住民基本台帳の異動の種別が不明です / The kind of register change is unknown.")
	}
	revs, _ := register.Revocations(ch)
	st := &kit.RevocationState{Change: string(ch), Reasons: map[string]string{}}
	for _, r := range revs {
		st.Reasons[r.Kind] = string(r.Reason)
	}
	c.State().Revocation = st
	return st, nil
}
