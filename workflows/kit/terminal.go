package kit

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/sealing"
)

// TerminalState is the terminal a case uses, and whether it responds.
type TerminalState struct {
	ID            string `json:"id"`
	NotResponding bool   `json:"notResponding,omitempty"`
}

// Terminal is the card steps module: the card in a counter terminal's
// reader, driven through its card agent. It has no clerk handlers.
type Terminal struct {
	c      *Case
	id     string
	serial string
	// waitWhat is what the case waited for before the terminal stopped
	// responding, restored when it responds again.
	waitWhat string
}

// UseTerminal opts the case into card steps on a terminal.
func UseTerminal(c *Case, id string) *Terminal {
	c.st.Terminal = &TerminalState{ID: id}
	return &Terminal{c: c, id: id}
}

// ID is the terminal's id.
func (t *Terminal) ID() string { return t.id }

func (t *Terminal) notResponding(ctx workflow.Context) {
	if t.c.st.Terminal.NotResponding {
		return
	}
	t.c.st.Terminal.NotResponding = true
	t.waitWhat = t.c.st.WaitingFor
	t.c.Waiting(ctx, "terminal", fmt.Sprintf("terminal %s not responding / 統合端末 %s が応答しません", t.id, t.id))
	t.c.Note("terminal not responding")
}

func (t *Terminal) responding(ctx workflow.Context) {
	if !t.c.st.Terminal.NotResponding {
		return
	}
	t.c.st.Terminal.NotResponding = false
	t.c.Done(ctx)
	t.c.st.WaitingFor = t.waitWhat
}

// ReadCard reads the card inserted in the terminal (第2 1(1)ア(エ)A).
func (t *Terminal) ReadCard(ctx workflow.Context) (contract.ReadCardResult, error) {
	res, err := onTerminal(ctx, t, contract.ReadCard, 5*time.Minute, contract.ReadCardInput{CaseNumber: t.c.Number()})
	if err == nil && t.serial == "" {
		t.serial = res.CardSerial
	}
	return res, err
}

// CardSerial is the serial of the first card read in this case.
func (t *Terminal) CardSerial() string { return t.serial }

// PINSource says where a card's new PINs come from.
type PINSource struct {
	// Clerk types them for the applicant; empty when the applicant does.
	Clerk string
	// Notice is a relay's sealed PIN notice, opened on the terminal.
	Notice *sealing.Notice
}

// FromApplicant: the applicant types the PINs on the touch panel.
func FromApplicant() PINSource { return PINSource{} }

// FromClerk: a clerk types them (after a second clerk's confirmation).
func FromClerk(clerk string) PINSource { return PINSource{Clerk: clerk} }

// FromNotice: the PINs of a sealed notice, set by a clerk.
func FromNotice(n sealing.Notice, clerk string) PINSource { return PINSource{Clerk: clerk, Notice: &n} }

// SetPINs sets the PINs of the given kinds on the card (第2 1(1)ア(エ)C).
func (t *Terminal) SetPINs(ctx workflow.Context, src PINSource, cardSerial string, kinds []string) error {
	actor := "applicant"
	if src.Clerk != "" {
		actor = src.Clerk
	}
	if src.Notice != nil {
		_, err := onTerminal(ctx, t, contract.SetPINsFromNotice, 2*time.Minute, contract.SetPINsFromNoticeInput{
			CaseNumber: t.c.Number(), CardSerial: cardSerial, Notice: *src.Notice})
		return err
	}
	// Someone types at the panel: that is a wait for a person.
	t.c.Waiting(ctx, "applicant", actor+": touch panel")
	_, err := onTerminal(ctx, t, contract.SetPINs, 30*time.Minute, contract.SetPINsInput{
		CaseNumber: t.c.Number(), CardSerial: cardSerial, Kinds: kinds, EnteredBy: src.Clerk})
	t.c.Done(ctx)
	return err
}

// GenerateKeys makes RSA-2048 key pairs on the card (第2 1(1)ア(オ)).
func (t *Terminal) GenerateKeys(ctx workflow.Context, cardSerial string, kinds []string) (contract.GenerateKeysResult, error) {
	return onTerminal(ctx, t, contract.GenerateKeys, 2*time.Minute, contract.GenerateKeysInput{
		CaseNumber: t.c.Number(), CardSerial: cardSerial, Kinds: kinds})
}

// Write writes the certificates to the card (第2 1(1)ア(キ)).
func (t *Terminal) Write(ctx workflow.Context, cardSerial string, certs []contract.IssuedCertificate) error {
	_, err := onTerminal(ctx, t, contract.WriteCertificates, 2*time.Minute, contract.WriteCertificatesInput{
		CaseNumber: t.c.Number(), CardSerial: cardSerial, Certificates: certs})
	return err
}

// SealNotice has the applicant type the PINs on a relay's terminal, which
// seals them at once to the address municipality's key (経由市区町村).
func SealNotice(ctx workflow.Context, t *Terminal, in contract.SealPINNoticeInput) (contract.SealPINNoticeResult, error) {
	return onTerminal(ctx, t, contract.SealPINNotice, 30*time.Minute, in)
}

// VerifyPIN has the holder type the PIN of one kind on the touch panel and
// verifies it on the card (第3 2): possession of the card, proven without the
// PIN leaving the terminal.
func (t *Terminal) VerifyPIN(ctx workflow.Context, cardSerial, kind string) (contract.VerifyPINResult, error) {
	t.c.Waiting(ctx, "applicant", "applicant: touch panel (PIN) / 暗証番号の入力")
	res, err := onTerminal(ctx, t, contract.VerifyPIN, 30*time.Minute, contract.VerifyPINInput{
		CaseNumber: t.c.Number(), CardSerial: cardSerial, Kind: kind})
	t.c.Done(ctx)
	return res, err
}

// ChangePIN has the holder (or a clerk, for them) type the current and the
// new PIN of one kind on the touch panel; the card changes it (第3 1).
func (t *Terminal) ChangePIN(ctx workflow.Context, src PINSource, cardSerial, kind string) (contract.ChangePINResult, error) {
	actor := "applicant"
	if src.Clerk != "" {
		actor = src.Clerk
	}
	t.c.Waiting(ctx, "applicant", actor+": touch panel (current and new PIN) / 暗証番号の変更")
	res, err := onTerminal(ctx, t, contract.ChangePIN, 30*time.Minute, contract.ChangePINInput{
		CaseNumber: t.c.Number(), CardSerial: cardSerial, Kind: kind, EnteredBy: src.Clerk})
	t.c.Done(ctx)
	return res, err
}

// ResetPIN sets new PINs of the kinds without the old ones, from an
// authorised terminal (第3 1 初期化).
func (t *Terminal) ResetPIN(ctx workflow.Context, src PINSource, cardSerial string, kinds []string) (contract.ResetPINResult, error) {
	actor := "applicant"
	if src.Clerk != "" {
		actor = src.Clerk
	}
	t.c.Waiting(ctx, "applicant", actor+": touch panel (new PIN) / 暗証番号の初期化")
	res, err := onTerminal(ctx, t, contract.ResetPIN, 30*time.Minute, contract.ResetPINInput{
		CaseNumber: t.c.Number(), CardSerial: cardSerial, Kinds: kinds, EnteredBy: src.Clerk})
	t.c.Done(ctx)
	return res, err
}
