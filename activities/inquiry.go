package activities

import (
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
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrTypeInvalid, nil)
}

// PrepareInquiryInput asks for the inquiry letter of a proxy application.
type PrepareInquiryInput struct {
	CaseNumber       string `json:"caseNumber"`
	MunicipalityCode string `json:"municipalityCode"`
	// ResidentCode is the applicant's; the letter's addressee is read from
	// the register, not from the application.
	ResidentCode string `json:"residentCode"`
	ProxyName    string `json:"proxyName"`
	// Deadline is when the reply is due; the letter prints it to the minute.
	Deadline time.Time `json:"deadline"`
}

// PrepareInquiryResult tells the stored inquiry's deadline and the
// letter's page count. The reply code is deliberately absent: it exists
// only in the printable PDF, never in workflow history.
type PrepareInquiryResult struct {
	Deadline time.Time `json:"deadline"`
	Pages    int       `json:"pages"`
	// Reused is set when the case already had its inquiry (a retry).
	Reused bool `json:"reused,omitempty"`
}

// PrepareInquiry makes the inquiry letter (第2 1(2)): it reads the
// applicant's name and registered address from the register, makes a
// one-time reply code, renders the letter as a PDF and stores the code's
// hash with the letter. A retry after a crash finds the inquiry the first
// attempt stored and returns it: never a second code.
func (q *Inquiry) PrepareInquiry(ctx context.Context, in PrepareInquiryInput) (PrepareInquiryResult, error) {
	switch {
	case strings.TrimSpace(in.CaseNumber) == "":
		return PrepareInquiryResult{}, inquiryInvalid("prepare inquiry: no case number")
	case strings.TrimSpace(in.ProxyName) == "":
		return PrepareInquiryResult{}, inquiryInvalid("prepare inquiry: no proxy name")
	case in.Deadline.IsZero():
		return PrepareInquiryResult{}, inquiryInvalid("prepare inquiry: no deadline")
	}
	if existing, err := q.Store.Inquiry(ctx, in.CaseNumber); err == nil {
		return PrepareInquiryResult{Deadline: existing.Deadline, Pages: existing.Pages, Reused: true}, nil
	} else if !errors.Is(err, storage.ErrNotFound) {
		return PrepareInquiryResult{}, fmt.Errorf("prepare inquiry: %w", err)
	}
	now := q.now()
	if !in.Deadline.After(now) {
		return PrepareInquiryResult{}, inquiryInvalid("prepare inquiry: the deadline %s is not in the future", in.Deadline.Format(time.RFC3339))
	}

	rec, err := q.Store.Resident(ctx, in.ResidentCode)
	if errors.Is(err, storage.ErrNotFound) {
		return PrepareInquiryResult{}, Reject("not_in_register",
			"住民基本台帳に該当する住民票コードがありません / No resident with this resident code is in the register.")
	}
	if err != nil {
		return PrepareInquiryResult{}, fmt.Errorf("prepare inquiry: %w", err)
	}
	if rec.MunicipalityCode != in.MunicipalityCode || rec.Status != "resident" {
		return PrepareInquiryResult{}, Reject("no_registered_address",
			"申請者は当市区町村に住民登録がないため、照会書を送付できません / The applicant has no registered address in this municipality to send the inquiry to.")
	}
	muni, err := q.Store.MunicipalityName(ctx, in.MunicipalityCode)
	if errors.Is(err, storage.ErrNotFound) {
		return PrepareInquiryResult{}, inquiryInvalid("prepare inquiry: unknown municipality %s", in.MunicipalityCode)
	}
	if err != nil {
		return PrepareInquiryResult{}, fmt.Errorf("prepare inquiry: %w", err)
	}

	code, err := inquiry.NewReplyCode()
	if err != nil {
		return PrepareInquiryResult{}, err
	}
	salt, err := inquiry.NewSalt()
	if err != nil {
		return PrepareInquiryResult{}, err
	}
	letter := inquiry.Letter{
		CaseNumber: in.CaseNumber, MunicipalityName: muni, ApplicantName: rec.Name, ApplicantAddress: rec.Address,
		ProxyName: in.ProxyName, ReplyCode: code, Deadline: in.Deadline, IssuedOn: now,
	}
	pdf, err := inquiry.RenderPDF(letter)
	if errors.Is(err, inquiry.ErrIncompleteLetter) {
		return PrepareInquiryResult{}, temporal.NewNonRetryableApplicationError("prepare inquiry: the letter cannot be made", ErrTypeInvalid, err)
	}
	if err != nil {
		return PrepareInquiryResult{}, fmt.Errorf("prepare inquiry: %w", err)
	}
	letter.ReplyCode = inquiry.MaskedReplyCode
	archived, err := inquiry.RenderPDF(letter)
	if err != nil {
		return PrepareInquiryResult{}, fmt.Errorf("prepare inquiry: archived copy: %w", err)
	}
	pages, err := inquiry.PageCount(pdf)
	if err != nil {
		return PrepareInquiryResult{}, fmt.Errorf("prepare inquiry: %w", err)
	}
	created, err := q.Store.CreateInquiry(ctx, storage.NewInquiry{
		CaseNumber: in.CaseNumber, CodeHash: inquiry.Hash(in.CaseNumber, code, salt), Salt: salt,
		Deadline: in.Deadline, MaxAttempts: q.MaxAttempts, Pages: pages, PDF: pdf, ArchivedPDF: archived, CreatedAt: now,
	})
	if err != nil {
		return PrepareInquiryResult{}, fmt.Errorf("prepare inquiry: %w", err)
	}
	// Read back what is stored: when a concurrent attempt won, its inquiry
	// is the one (and this code was never stored).
	stored, err := q.Store.Inquiry(ctx, in.CaseNumber)
	if err != nil {
		return PrepareInquiryResult{}, fmt.Errorf("prepare inquiry: %w", err)
	}
	return PrepareInquiryResult{Deadline: stored.Deadline, Pages: stored.Pages, Reused: !created}, nil
}

// MarkMailedInput records that the clerk mailed the letter.
type MarkMailedInput struct {
	CaseNumber string `json:"caseNumber"`
	Clerk      string `json:"clerk"` // the clerk's login
}

// MarkMailedResult is the recorded mailing (the first one, on a retry).
type MarkMailedResult struct {
	MailedAt time.Time `json:"mailedAt"`
	MailedBy string    `json:"mailedBy"`
	Deadline time.Time `json:"deadline"`
}

// MarkMailed records that the letter was mailed to the registered
// address; from then on the printable letter is wiped and the code exists
// only on paper.
func (q *Inquiry) MarkMailed(ctx context.Context, in MarkMailedInput) (MarkMailedResult, error) {
	if strings.TrimSpace(in.CaseNumber) == "" || strings.TrimSpace(in.Clerk) == "" {
		return MarkMailedResult{}, inquiryInvalid("mark mailed: case number and clerk are required")
	}
	err := q.Store.MarkInquiryMailed(ctx, in.CaseNumber, in.Clerk, q.now())
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return MarkMailedResult{}, inquiryInvalid("mark mailed: case %s has no inquiry", in.CaseNumber)
	case errors.Is(err, storage.ErrInquiryClosed):
		return MarkMailedResult{}, temporal.NewNonRetryableApplicationError("mark mailed: the inquiry is closed", ErrTypeInvalid, err)
	case err != nil:
		return MarkMailedResult{}, fmt.Errorf("mark mailed: %w", err)
	}
	st, err := q.Store.Inquiry(ctx, in.CaseNumber)
	if err != nil {
		return MarkMailedResult{}, fmt.Errorf("mark mailed: %w", err)
	}
	return MarkMailedResult{MailedAt: st.MailedAt, MailedBy: st.MailedBy, Deadline: st.Deadline}, nil
}

// CheckReplyCodeInput is the reply code the clerk typed from the reply the
// proxy brought back. The code passes through workflow history here,
// encrypted by the payload codec like every payload (docs/INQUIRY.md).
type CheckReplyCodeInput struct {
	CaseNumber string `json:"caseNumber"`
	Code       string `json:"code"`
}

// Reasons a reply code is not accepted (CheckReplyCodeResult.Reason).
const (
	ReplyMalformed       = "malformed"        // not the shape of a code: not counted
	ReplyWrongCode       = "wrong_code"       // counted
	ReplyExpired         = "expired"          // the deadline passed: not counted
	ReplyLocked          = "locked"           // too many wrong codes
	ReplyAlreadyAnswered = "already_answered" // answered before, with another entry
	ReplyNotMailed       = "not_mailed"       // the letter was never recorded as mailed
)

// CheckReplyCodeResult is the outcome, with a message the clerk reads out.
type CheckReplyCodeResult struct {
	OK           bool `json:"ok"`
	AttemptsLeft int  `json:"attemptsLeft"`
	Expired      bool `json:"expired,omitempty"`
	Locked       bool `json:"locked,omitempty"`
	// Reason is empty when OK, else one of the Reply… constants.
	Reason string `json:"reason,omitempty"`
	// Message is in Japanese and English, for the clerk.
	Message string `json:"message,omitempty"`
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
func (q *Inquiry) CheckReplyCode(ctx context.Context, in CheckReplyCodeInput) (CheckReplyCodeResult, error) {
	if strings.TrimSpace(in.CaseNumber) == "" {
		return CheckReplyCodeResult{}, inquiryInvalid("check reply code: no case number")
	}
	if !inquiry.ValidReplyCode(in.Code) {
		st, err := q.Store.Inquiry(ctx, in.CaseNumber)
		if errors.Is(err, storage.ErrNotFound) {
			return CheckReplyCodeResult{}, inquiryInvalid("check reply code: case %s has no inquiry", in.CaseNumber)
		}
		if err != nil {
			return CheckReplyCodeResult{}, fmt.Errorf("check reply code: %w", err)
		}
		return CheckReplyCodeResult{AttemptsLeft: max(0, st.MaxAttempts-st.Attempts), Locked: st.Status == storage.InquiryLocked,
			Reason: ReplyMalformed, Message: fmt.Sprintf(
				"回答コードの形式が違います。回答書に印刷された英数字%d文字（0・O・1・Iは使われていません）を確かめてください（回数には数えません） / "+
					"That is not a reply code: check the %d letters and digits printed on the reply (0, O, 1 and I are never used). This entry was not counted.",
				inquiry.CodeLength, inquiry.CodeLength)}, nil
	}
	res, err := q.Store.CheckReplyCode(ctx, in.CaseNumber, in.Code, q.now())
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return CheckReplyCodeResult{}, inquiryInvalid("check reply code: case %s has no inquiry", in.CaseNumber)
	case errors.Is(err, storage.ErrInquiryNotMailed):
		return CheckReplyCodeResult{Reason: ReplyNotMailed, AttemptsLeft: res.AttemptsLeft,
			Message: "照会書の郵送が記録されていないため、回答を受け付けられません / The inquiry letter has not been recorded as mailed, so no reply can be taken."}, nil
	case err != nil:
		return CheckReplyCodeResult{}, fmt.Errorf("check reply code: %w", err)
	}
	out := CheckReplyCodeResult{OK: res.OK, AttemptsLeft: res.AttemptsLeft, Expired: res.Expired, Locked: res.Locked}
	switch {
	case res.OK:
	case res.AlreadyAnswered && res.CodeMatches:
		out.OK = true
	case res.AlreadyAnswered:
		out.Reason = ReplyAlreadyAnswered
		out.Message = "この照会書にはすでに回答を受け付けています / A reply to this inquiry has already been accepted."
	case res.Locked:
		out.Reason = ReplyLocked
		out.Message = "回答コードの誤りが上限回数に達したため、この照会書は使えません。改めて申請してください / " +
			"Too many wrong reply codes: this inquiry can no longer be answered; the application must be made again."
	case res.Expired:
		out.Reason = ReplyExpired
		out.Message = "回答期限を過ぎています / The reply deadline has passed."
	default:
		out.Reason = ReplyWrongCode
		out.Message = fmt.Sprintf("回答コードが違います。回答書の受付番号がこの申請のものか確かめてください（残り%d回） / "+
			"Wrong reply code. Check that the reply is for this case (its case number is printed on it). %d attempts left.",
			res.AttemptsLeft, res.AttemptsLeft)
	}
	return out, nil
}

// LapseInquiryInput lapses the inquiry of a case whose deadline passed.
type LapseInquiryInput struct {
	CaseNumber string `json:"caseNumber"`
}

// LapseInquiryResult is the inquiry's status afterwards: lapsed, or locked
// or answered when it had ended that way first.
type LapseInquiryResult struct {
	Status string `json:"status"`
}

// LapseInquiry records that the reply did not come back in time; the
// printable letter is wiped. Repeating it is harmless.
func (q *Inquiry) LapseInquiry(ctx context.Context, in LapseInquiryInput) (LapseInquiryResult, error) {
	err := q.Store.LapseInquiry(ctx, in.CaseNumber, q.now())
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return LapseInquiryResult{}, inquiryInvalid("lapse inquiry: case %s has no inquiry", in.CaseNumber)
	case errors.Is(err, storage.ErrInquiryAnswered):
		return LapseInquiryResult{Status: storage.InquiryAnswered}, nil
	case err != nil:
		return LapseInquiryResult{}, fmt.Errorf("lapse inquiry: %w", err)
	}
	st, err := q.Store.Inquiry(ctx, in.CaseNumber)
	if err != nil {
		return LapseInquiryResult{}, fmt.Errorf("lapse inquiry: %w", err)
	}
	return LapseInquiryResult{Status: st.Status}, nil
}
