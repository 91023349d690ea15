package municipal

import (
	"github.com/madoguchi/madoguchi/contract"

	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/madoguchi/madoguchi/internal/inquiry"
	"github.com/madoguchi/madoguchi/internal/storage"
)

// InquiryStore is what the inquiry activities need of the database.
type InquiryStore interface {
	Resident(ctx context.Context, code string) (storage.Resident, error)
	MunicipalityName(ctx context.Context, code string) (string, error)
	Inquiry(ctx context.Context, caseNumber string) (storage.Inquiry, error)
	CreateInquiry(ctx context.Context, in storage.NewInquiry) (bool, error)
	MarkInquiryMailed(ctx context.Context, caseNumber, clerk string, at time.Time) error
	CheckReplyCode(ctx context.Context, caseNumber, code string, now time.Time) (storage.ReplyCheck, error)
	LapseInquiry(ctx context.Context, caseNumber string, at time.Time) error
}

// Inquiry holds the activities of the proxy-issuance inquiry (照会書兼回答書,
// 第2 1(2)): prepare the letter, record its mailing, check the reply code
// the clerk enters, lapse it. They run in the municipal worker.
type Inquiry struct {
	Store InquiryStore
	// Now is the clock; injected so deadlines can be tested.
	Now func() time.Time
	// MaxAttempts is how many wrong reply codes lock an inquiry; 0 means
	// storage.DefaultMaxAttempts.
	MaxAttempts int
}

func (q *Inquiry) now() time.Time {
	if q.Now != nil {
		return q.Now()
	}
	return time.Now()
}

// inquiryInvalid is a non-retryable error for input no retry can fix. Its
// message names what is wrong, never personal data or a code.
func inquiryInvalid(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), contract.ErrTypeInvalid, nil)
}

// PrepareInquiry makes the inquiry letter (第2 1(2)): it reads the
// applicant's name and registered address from the register, makes a
// one-time reply code, renders the letter as a PDF and stores the code's
// hash with the letter. A retry after a crash finds the inquiry the first
// attempt stored and returns it: never a second code.
func (q *Inquiry) PrepareInquiry(ctx context.Context, in contract.PrepareInquiryInput) (contract.PrepareInquiryResult, error) {
	switch {
	case strings.TrimSpace(in.CaseNumber) == "":
		return contract.PrepareInquiryResult{}, inquiryInvalid("prepare inquiry: no case number")
	case strings.TrimSpace(in.ProxyName) == "":
		return contract.PrepareInquiryResult{}, inquiryInvalid("prepare inquiry: no proxy name")
	case in.Deadline.IsZero():
		return contract.PrepareInquiryResult{}, inquiryInvalid("prepare inquiry: no deadline")
	}
	if existing, err := q.Store.Inquiry(ctx, in.CaseNumber); err == nil {
		return contract.PrepareInquiryResult{Deadline: existing.Deadline, Pages: existing.Pages, Reused: true}, nil
	} else if !errors.Is(err, storage.ErrNotFound) {
		return contract.PrepareInquiryResult{}, fmt.Errorf("prepare inquiry: %w", err)
	}
	now := q.now()
	if !in.Deadline.After(now) {
		return contract.PrepareInquiryResult{}, inquiryInvalid("prepare inquiry: the deadline %s is not in the future", in.Deadline.Format(time.RFC3339))
	}

	rec, err := q.Store.Resident(ctx, in.ResidentCode)
	if errors.Is(err, storage.ErrNotFound) {
		return contract.PrepareInquiryResult{}, contract.Reject("not_in_register",
			"住民基本台帳に該当する住民票コードがありません / No resident with this resident code is in the register.")
	}
	if err != nil {
		return contract.PrepareInquiryResult{}, fmt.Errorf("prepare inquiry: %w", err)
	}
	if rec.MunicipalityCode != in.MunicipalityCode || rec.Status != "resident" {
		return contract.PrepareInquiryResult{}, contract.Reject("no_registered_address",
			"申請者は当市区町村に住民登録がないため、照会書を送付できません / The applicant has no registered address in this municipality to send the inquiry to.")
	}
	muni, err := q.Store.MunicipalityName(ctx, in.MunicipalityCode)
	if errors.Is(err, storage.ErrNotFound) {
		return contract.PrepareInquiryResult{}, inquiryInvalid("prepare inquiry: unknown municipality %s", in.MunicipalityCode)
	}
	if err != nil {
		return contract.PrepareInquiryResult{}, fmt.Errorf("prepare inquiry: %w", err)
	}

	code, err := inquiry.NewReplyCode()
	if err != nil {
		return contract.PrepareInquiryResult{}, err
	}
	salt, err := inquiry.NewSalt()
	if err != nil {
		return contract.PrepareInquiryResult{}, err
	}
	letter := inquiry.Letter{
		CaseNumber: in.CaseNumber, MunicipalityName: muni, ApplicantName: rec.Name, ApplicantAddress: rec.Address,
		ProxyName: in.ProxyName, ReplyCode: code, Deadline: in.Deadline, IssuedOn: now, Subject: in.Subject,
	}
	pdf, err := inquiry.RenderPDF(letter)
	if errors.Is(err, inquiry.ErrIncompleteLetter) {
		return contract.PrepareInquiryResult{}, temporal.NewNonRetryableApplicationError("prepare inquiry: the letter cannot be made", contract.ErrTypeInvalid, err)
	}
	if err != nil {
		return contract.PrepareInquiryResult{}, fmt.Errorf("prepare inquiry: %w", err)
	}
	letter.ReplyCode = inquiry.MaskedReplyCode
	archived, err := inquiry.RenderPDF(letter)
	if err != nil {
		return contract.PrepareInquiryResult{}, fmt.Errorf("prepare inquiry: archived copy: %w", err)
	}
	pages, err := inquiry.PageCount(pdf)
	if err != nil {
		return contract.PrepareInquiryResult{}, fmt.Errorf("prepare inquiry: %w", err)
	}
	created, err := q.Store.CreateInquiry(ctx, storage.NewInquiry{
		CaseNumber: in.CaseNumber, CodeHash: inquiry.Hash(in.CaseNumber, code, salt), Salt: salt,
		Deadline: in.Deadline, MaxAttempts: q.MaxAttempts, Pages: pages, PDF: pdf, ArchivedPDF: archived, CreatedAt: now,
	})
	if err != nil {
		return contract.PrepareInquiryResult{}, fmt.Errorf("prepare inquiry: %w", err)
	}
	// Read back what is stored: when a concurrent attempt won, its inquiry
	// is the one (and this code was never stored).
	stored, err := q.Store.Inquiry(ctx, in.CaseNumber)
	if err != nil {
		return contract.PrepareInquiryResult{}, fmt.Errorf("prepare inquiry: %w", err)
	}
	return contract.PrepareInquiryResult{Deadline: stored.Deadline, Pages: stored.Pages, Reused: !created}, nil
}

// MarkMailed records that the letter was mailed to the registered
// address; from then on the printable letter is wiped and the code exists
// only on paper.
func (q *Inquiry) MarkMailed(ctx context.Context, in contract.MarkMailedInput) (contract.MarkMailedResult, error) {
	if strings.TrimSpace(in.CaseNumber) == "" || strings.TrimSpace(in.Clerk) == "" {
		return contract.MarkMailedResult{}, inquiryInvalid("mark mailed: case number and clerk are required")
	}
	err := q.Store.MarkInquiryMailed(ctx, in.CaseNumber, in.Clerk, q.now())
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return contract.MarkMailedResult{}, inquiryInvalid("mark mailed: case %s has no inquiry", in.CaseNumber)
	case errors.Is(err, storage.ErrInquiryClosed):
		return contract.MarkMailedResult{}, temporal.NewNonRetryableApplicationError("mark mailed: the inquiry is closed", contract.ErrTypeInvalid, err)
	case err != nil:
		return contract.MarkMailedResult{}, fmt.Errorf("mark mailed: %w", err)
	}
	st, err := q.Store.Inquiry(ctx, in.CaseNumber)
	if err != nil {
		return contract.MarkMailedResult{}, fmt.Errorf("mark mailed: %w", err)
	}
	return contract.MarkMailedResult{MailedAt: st.MailedAt, MailedBy: st.MailedBy, Deadline: st.Deadline}, nil
}

// CheckReplyCode checks the reply code (第2 1(2)): the right code answers
// the inquiry; a wrong one counts an attempt and the limit locks it; after
// the deadline nothing is counted; a typing slip (not the shape of a
// code) is not counted either. A case's code never opens another case.
//
// The right code for an inquiry already answered is OK again: a local
// activity re-run after a worker crash must find the answer its first run
// recorded. The workflow's own state (it stops taking replies once one is
// accepted) is what makes a reply count once.
func (q *Inquiry) CheckReplyCode(ctx context.Context, in contract.CheckReplyCodeInput) (contract.CheckReplyCodeResult, error) {
	if strings.TrimSpace(in.CaseNumber) == "" {
		return contract.CheckReplyCodeResult{}, inquiryInvalid("check reply code: no case number")
	}
	if !inquiry.ValidReplyCode(in.Code) {
		st, err := q.Store.Inquiry(ctx, in.CaseNumber)
		if errors.Is(err, storage.ErrNotFound) {
			return contract.CheckReplyCodeResult{}, inquiryInvalid("check reply code: case %s has no inquiry", in.CaseNumber)
		}
		if err != nil {
			return contract.CheckReplyCodeResult{}, fmt.Errorf("check reply code: %w", err)
		}
		return contract.CheckReplyCodeResult{AttemptsLeft: max(0, st.MaxAttempts-st.Attempts), Locked: st.Status == storage.InquiryLocked,
			Reason: contract.ReplyMalformed, Message: fmt.Sprintf(
				"回答コードの形式が違います。回答書に印刷された英数字%d文字（0・O・1・Iは使われていません）を確かめてください（回数には数えません） / "+
					"That is not a reply code: check the %d letters and digits printed on the reply (0, O, 1 and I are never used). This entry was not counted.",
				inquiry.CodeLength, inquiry.CodeLength)}, nil
	}
	res, err := q.Store.CheckReplyCode(ctx, in.CaseNumber, in.Code, q.now())
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return contract.CheckReplyCodeResult{}, inquiryInvalid("check reply code: case %s has no inquiry", in.CaseNumber)
	case errors.Is(err, storage.ErrInquiryNotMailed):
		return contract.CheckReplyCodeResult{Reason: contract.ReplyNotMailed, AttemptsLeft: res.AttemptsLeft,
			Message: "照会書の郵送が記録されていないため、回答を受け付けられません / The inquiry letter has not been recorded as mailed, so no reply can be taken."}, nil
	case err != nil:
		return contract.CheckReplyCodeResult{}, fmt.Errorf("check reply code: %w", err)
	}
	out := contract.CheckReplyCodeResult{OK: res.OK, AttemptsLeft: res.AttemptsLeft, Expired: res.Expired, Locked: res.Locked}
	switch {
	case res.OK:
	case res.AlreadyAnswered && res.CodeMatches:
		out.OK = true
	case res.AlreadyAnswered:
		out.Reason = contract.ReplyAlreadyAnswered
		out.Message = "この照会書にはすでに回答を受け付けています / A reply to this inquiry has already been accepted."
	case res.Locked:
		out.Reason = contract.ReplyLocked
		out.Message = "回答コードの誤りが上限回数に達したため、この照会書は使えません。改めて申請してください / " +
			"Too many wrong reply codes: this inquiry can no longer be answered; the application must be made again."
	case res.Expired:
		out.Reason = contract.ReplyExpired
		out.Message = "回答期限を過ぎています / The reply deadline has passed."
	default:
		out.Reason = contract.ReplyWrongCode
		out.Message = fmt.Sprintf("回答コードが違います。回答書の受付番号がこの申請のものか確かめてください（残り%d回） / "+
			"Wrong reply code. Check that the reply is for this case (its case number is printed on it). %d attempts left.",
			res.AttemptsLeft, res.AttemptsLeft)
	}
	return out, nil
}

// LapseInquiry records that the reply did not come back in time; the
// printable letter is wiped. Repeating it is harmless.
func (q *Inquiry) LapseInquiry(ctx context.Context, in contract.LapseInquiryInput) (contract.LapseInquiryResult, error) {
	err := q.Store.LapseInquiry(ctx, in.CaseNumber, q.now())
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return contract.LapseInquiryResult{}, inquiryInvalid("lapse inquiry: case %s has no inquiry", in.CaseNumber)
	case errors.Is(err, storage.ErrInquiryAnswered):
		return contract.LapseInquiryResult{Status: storage.InquiryAnswered}, nil
	case err != nil:
		return contract.LapseInquiryResult{}, fmt.Errorf("lapse inquiry: %w", err)
	}
	st, err := q.Store.Inquiry(ctx, in.CaseNumber)
	if err != nil {
		return contract.LapseInquiryResult{}, fmt.Errorf("lapse inquiry: %w", err)
	}
	return contract.LapseInquiryResult{Status: st.Status}, nil
}
