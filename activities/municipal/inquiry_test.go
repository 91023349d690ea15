package municipal

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"go.temporal.io/sdk/temporal"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/internal/inquiry"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/internal/storage/storagetest"
)

// inquiryTestDB opens the municipal test database, migrated and seeded.
func inquiryTestDB(t *testing.T) *storage.DB {
	t.Helper()
	return storagetest.Seeded(t)
}

func inquiryTestCase(t *testing.T, db *storage.DB, municipality string) string {
	t.Helper()
	ctx := context.Background()
	clerk, err := db.ClerkByLogin(ctx, "clerk1")
	if err != nil {
		t.Fatal(err)
	}
	number, err := db.NextCaseNumber(ctx, municipality, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.InsertCase(ctx, storage.Case{CaseNumber: number, MunicipalityCode: municipality, Procedure: "proxy-issuance",
		WorkflowID: "test-inquiry-activity-" + number, OpenedBy: clerk.ID}); err != nil {
		t.Fatal(err)
	}
	return number
}

// pageText inflates a letter's streams and returns its UTF-16 hex strings
// decoded, one per shown run.
func pageText(t *testing.T, pdf []byte) []string {
	t.Helper()
	var out []string
	for _, m := range regexp.MustCompile(`(?s)/Length (\d+) /Filter /FlateDecode >>\nstream\n`).FindAllSubmatchIndex(pdf, -1) {
		zr, err := zlib.NewReader(bytes.NewReader(pdf[m[1]:]))
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range regexp.MustCompile(`<([0-9A-F]+)>`).FindAllSubmatch(data, -1) {
			raw, err := hex.DecodeString(string(h[1]))
			if err != nil || len(raw)%2 != 0 {
				continue
			}
			units := make([]uint16, len(raw)/2)
			for i := range units {
				units[i] = uint16(raw[2*i])<<8 | uint16(raw[2*i+1])
			}
			out = append(out, string(utf16.Decode(units)))
		}
	}
	return out
}

var codeShape = regexp.MustCompile(`^[` + inquiry.Alphabet + `]{4}-[` + inquiry.Alphabet + `]{4}-[` + inquiry.Alphabet + `]{2}$`)

// codeOnLetter reads the reply code off a printed letter, as the applicant does.
func codeOnLetter(t *testing.T, pdf []byte) string {
	t.Helper()
	found := map[string]bool{}
	for _, s := range pageText(t, pdf) {
		if codeShape.MatchString(s) {
			found[s] = true
		}
	}
	if len(found) != 1 {
		t.Fatalf("the letter shows %d distinct reply codes, want 1", len(found))
	}
	for c := range found {
		return c
	}
	return ""
}

func TestInquiryActivitiesEndToEnd(t *testing.T) {
	db := inquiryTestDB(t)
	ctx := context.Background()
	now := time.Now()
	act := &Inquiry{Store: db, Now: func() time.Time { return now }}
	number := inquiryTestCase(t, db, demo.Chiyoda)
	deadline := now.Add(14 * 24 * time.Hour).Truncate(time.Microsecond)
	in := contract.PrepareInquiryInput{CaseNumber: number, MunicipalityCode: demo.Chiyoda, ResidentCode: demo.ResidentAdult,
		ProxyName: "代理 花子", Deadline: deadline}

	res, err := act.PrepareInquiry(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if res.Reused || res.Pages != 1 || !res.Deadline.Equal(deadline) {
		t.Fatalf("PrepareInquiry = %+v", res)
	}
	pdf, err := db.InquiryPDF(ctx, number)
	if err != nil {
		t.Fatal(err)
	}
	code := codeOnLetter(t, pdf)
	resident := demo.Find(demo.ResidentAdult)
	text := strings.Join(pageText(t, pdf), "")
	for _, s := range []string{resident.Name, resident.Address, "代理", "東京都千代田区長", number} {
		if !strings.Contains(strings.ReplaceAll(text, " ", ""), strings.ReplaceAll(s, " ", "")) {
			t.Errorf("the letter does not show %q", s)
		}
	}
	// The code is in no result, and not in the archived copy.
	js, _ := json.Marshal(res)
	if bytes.Contains(js, []byte(code)) || bytes.Contains(js, []byte(inquiry.NormalizeReplyCode(code))) {
		t.Fatalf("the result carries the code: %s", js)
	}
	archived, err := db.InquiryArchivedPDF(ctx, number)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range pageText(t, archived) {
		if s == code {
			t.Fatal("the archived letter shows the code")
		}
	}
	if !strings.Contains(strings.Join(pageText(t, archived), ""), inquiry.MaskedReplyCode) {
		t.Fatal("the archived letter does not show the masked code")
	}

	// A retry (say after a worker crash) gets the same inquiry, not a new code.
	now = now.Add(time.Minute)
	again, err := act.PrepareInquiry(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Reused || !again.Deadline.Equal(deadline) || again.Pages != 1 {
		t.Fatalf("retried PrepareInquiry = %+v", again)
	}
	if pdf2, err := db.InquiryPDF(ctx, number); err != nil || !bytes.Equal(pdf, pdf2) {
		t.Fatalf("the retry changed the letter (%v)", err)
	}

	// Before mailing, no reply is taken.
	chk, err := act.CheckReplyCode(ctx, contract.CheckReplyCodeInput{CaseNumber: number, Code: code})
	if err != nil || chk.OK || chk.Reason != contract.ReplyNotMailed {
		t.Fatalf("code before mailing: %+v, %v", chk, err)
	}
	mailed, err := act.MarkMailed(ctx, contract.MarkMailedInput{CaseNumber: number, Clerk: "clerk1"})
	if err != nil {
		t.Fatal(err)
	}
	if mailed.MailedBy != "clerk1" || !mailed.MailedAt.Equal(now.Truncate(time.Microsecond)) || !mailed.Deadline.Equal(deadline) {
		t.Fatalf("MarkMailed = %+v", mailed)
	}
	if _, err := db.InquiryPDF(ctx, number); !errors.Is(err, storage.ErrInquiryPDFWiped) {
		t.Fatalf("the printable letter survived the mailing: %v", err)
	}

	steps := []struct {
		name   string
		code   string
		ok     bool
		reason string
		left   int
	}{
		{"a typing slip is not counted", "ABCD-EFGH-J", false, contract.ReplyMalformed, 5},
		{"an ambiguous character is a slip", strings.Replace(code, code[:1], "0", 1), false, contract.ReplyMalformed, 5},
		{"a wrong code is counted", wrongCodeFor(code), false, contract.ReplyWrongCode, 4},
		{"the right code, typed loosely", strings.ToLower(strings.ReplaceAll(code, "-", " ")), true, "", 4},
		{"the right code again (a re-run)", code, true, "", 4},
		{"a wrong code after the answer", wrongCodeFor(code), false, contract.ReplyAlreadyAnswered, 4},
	}
	for _, s := range steps {
		res, err := act.CheckReplyCode(ctx, contract.CheckReplyCodeInput{CaseNumber: number, Code: s.code})
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if res.OK != s.ok || res.Reason != s.reason || res.AttemptsLeft != s.left {
			t.Fatalf("%s: %+v; want ok=%v reason=%q left=%d", s.name, res, s.ok, s.reason, s.left)
		}
		if !res.OK && res.Message == "" {
			t.Fatalf("%s: no message for the clerk", s.name)
		}
		if strings.Contains(res.Message, inquiry.NormalizeReplyCode(code)) || strings.Contains(res.Message, code) {
			t.Fatalf("%s: the message shows the code", s.name)
		}
	}
	lapse, err := act.LapseInquiry(ctx, contract.LapseInquiryInput{CaseNumber: number})
	if err != nil || lapse.Status != storage.InquiryAnswered {
		t.Fatalf("lapsing an answered inquiry: %+v, %v", lapse, err)
	}
}

// wrongCodeFor returns a well-formed code that differs from code.
func wrongCodeFor(code string) string {
	if strings.HasPrefix(code, "AAAA") {
		return "BBBB-BBBB-BB"
	}
	return "AAAA-AAAA-AA"
}

func TestInquiryActivitiesDeadlineLockAndLapse(t *testing.T) {
	db := inquiryTestDB(t)
	ctx := context.Background()
	now := time.Now()
	act := &Inquiry{Store: db, Now: func() time.Time { return now }, MaxAttempts: 2}
	prepare := func() (string, string) {
		number := inquiryTestCase(t, db, demo.Chiyoda)
		if _, err := act.PrepareInquiry(ctx, contract.PrepareInquiryInput{CaseNumber: number, MunicipalityCode: demo.Chiyoda,
			ResidentCode: demo.ResidentAdult, ProxyName: "代理 花子", Deadline: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		pdf, err := db.InquiryPDF(ctx, number)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := act.MarkMailed(ctx, contract.MarkMailedInput{CaseNumber: number, Clerk: "clerk2"}); err != nil {
			t.Fatal(err)
		}
		return number, codeOnLetter(t, pdf)
	}

	t.Run("locked at the configured limit", func(t *testing.T) {
		number, code := prepare()
		first, _ := act.CheckReplyCode(ctx, contract.CheckReplyCodeInput{CaseNumber: number, Code: wrongCodeFor(code)})
		second, _ := act.CheckReplyCode(ctx, contract.CheckReplyCodeInput{CaseNumber: number, Code: wrongCodeFor(code)})
		right, _ := act.CheckReplyCode(ctx, contract.CheckReplyCodeInput{CaseNumber: number, Code: code})
		if first.AttemptsLeft != 1 || first.Locked || !second.Locked || second.Reason != contract.ReplyLocked || right.OK || !right.Locked {
			t.Fatalf("wrong, wrong, right with a limit of 2: %+v / %+v / %+v", first, second, right)
		}
		lapse, err := act.LapseInquiry(ctx, contract.LapseInquiryInput{CaseNumber: number})
		if err != nil || lapse.Status != storage.InquiryLocked {
			t.Fatalf("lapsing a locked inquiry: %+v, %v", lapse, err)
		}
	})
	t.Run("after the deadline", func(t *testing.T) {
		number, code := prepare()
		late := &Inquiry{Store: db, Now: func() time.Time { return now.Add(2 * time.Hour) }}
		res, err := late.CheckReplyCode(ctx, contract.CheckReplyCodeInput{CaseNumber: number, Code: code})
		if err != nil || res.OK || !res.Expired || res.Reason != contract.ReplyExpired || res.AttemptsLeft != 2 {
			t.Fatalf("right code after the deadline: %+v, %v", res, err)
		}
		lapse, err := late.LapseInquiry(ctx, contract.LapseInquiryInput{CaseNumber: number})
		if err != nil || lapse.Status != storage.InquiryLapsed {
			t.Fatalf("lapse: %+v, %v", lapse, err)
		}
		again, err := late.LapseInquiry(ctx, contract.LapseInquiryInput{CaseNumber: number})
		if err != nil || again.Status != storage.InquiryLapsed {
			t.Fatalf("lapse again: %+v, %v", again, err)
		}
	})
	t.Run("another case's code", func(t *testing.T) {
		a, _ := prepare()
		_, codeB := prepare()
		res, err := act.CheckReplyCode(ctx, contract.CheckReplyCodeInput{CaseNumber: a, Code: codeB})
		if err != nil || res.OK || res.Reason != contract.ReplyWrongCode || res.AttemptsLeft != 1 {
			t.Fatalf("case A with case B's code: %+v, %v", res, err)
		}
	})
}

func TestPrepareInquiryRefusals(t *testing.T) {
	db := inquiryTestDB(t)
	ctx := context.Background()
	act := &Inquiry{Store: db}
	tests := []struct {
		name      string
		resident  string
		muni      string
		deadline  time.Duration
		rejection string // the contract.Rejection code, or "" for an Invalid error
	}{
		{"not in the register", "99999999999", demo.Chiyoda, time.Hour, "not_in_register"},
		{"moved out: no registered address", demo.ResidentMovedOut, demo.Chiyoda, time.Hour, "no_registered_address"},
		{"a resident of another municipality", demo.ResidentYokohama, demo.Chiyoda, time.Hour, "no_registered_address"},
		{"deadline in the past", demo.ResidentAdult, demo.Chiyoda, -time.Hour, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			number := inquiryTestCase(t, db, demo.Chiyoda)
			_, err := act.PrepareInquiry(ctx, contract.PrepareInquiryInput{CaseNumber: number, MunicipalityCode: tt.muni,
				ResidentCode: tt.resident, ProxyName: "代理 花子", Deadline: time.Now().Add(tt.deadline)})
			if tt.rejection != "" {
				rej, ok := contract.AsRejection(err)
				if !ok || rej.Code != tt.rejection {
					t.Fatalf("err = %v, want rejection %s", err, tt.rejection)
				}
			} else {
				var appErr *temporal.ApplicationError
				if !errors.As(err, &appErr) || appErr.Type() != contract.ErrTypeInvalid || !appErr.NonRetryable() {
					t.Fatalf("err = %v, want a non-retryable Invalid error", err)
				}
			}
			if _, err := db.Inquiry(ctx, number); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("a refused inquiry was stored: %v", err)
			}
		})
	}
}

// panicStore fails the test if an activity reaches the database with
// input it should have refused.
type panicStore struct{ InquiryStore }

func TestInquiryActivitiesRefuseBadInputEarly(t *testing.T) {
	act := &Inquiry{Store: panicStore{}}
	ctx := context.Background()
	errs := []error{}
	_, err := act.PrepareInquiry(ctx, contract.PrepareInquiryInput{ProxyName: "x", Deadline: time.Now().Add(time.Hour)})
	errs = append(errs, err)
	_, err = act.PrepareInquiry(ctx, contract.PrepareInquiryInput{CaseNumber: "c", Deadline: time.Now().Add(time.Hour)})
	errs = append(errs, err)
	_, err = act.PrepareInquiry(ctx, contract.PrepareInquiryInput{CaseNumber: "c", ProxyName: "x"})
	errs = append(errs, err)
	_, err = act.MarkMailed(ctx, contract.MarkMailedInput{CaseNumber: "c"})
	errs = append(errs, err)
	_, err = act.CheckReplyCode(ctx, contract.CheckReplyCodeInput{Code: "ABCD-EFGH-JK"})
	errs = append(errs, err)
	for i, err := range errs {
		var appErr *temporal.ApplicationError
		if !errors.As(err, &appErr) || appErr.Type() != contract.ErrTypeInvalid || !appErr.NonRetryable() {
			t.Errorf("call %d: err = %v, want a non-retryable Invalid error", i, err)
		}
	}
}
