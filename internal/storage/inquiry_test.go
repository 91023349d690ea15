package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/internal/inquiry"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/internal/storage/storagetest"
)

// openInquiryDB opens the municipal test database (MADOGUCHI_DB_DSN), migrated
// and seeded with the demo data.
func openInquiryDB(t *testing.T) *storage.DB {
	t.Helper()
	return storagetest.Seeded(t)
}

// newInquiryCase opens a fresh case in Chiyoda for one test.
func newInquiryCase(t *testing.T, db *storage.DB) string {
	t.Helper()
	ctx := context.Background()
	clerk, err := db.ClerkByLogin(ctx, "clerk1")
	if err != nil {
		t.Fatal(err)
	}
	number, err := db.NextCaseNumber(ctx, demo.Chiyoda, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.InsertCase(ctx, storage.Case{CaseNumber: number, MunicipalityCode: demo.Chiyoda,
		Procedure: "proxy-issuance", WorkflowID: "test-inquiry-" + number, OpenedBy: clerk.ID}); err != nil {
		t.Fatal(err)
	}
	return number
}

// inquiryFixture is an inquiry created for a test, with the code that only
// the test knows.
type inquiryFixture struct {
	caseNumber string
	code       string
	deadline   time.Time
}

func createTestInquiry(t *testing.T, db *storage.DB, deadline time.Time, maxAttempts int) inquiryFixture {
	t.Helper()
	deadline = deadline.Truncate(time.Microsecond) // what Postgres keeps
	number := newInquiryCase(t, db)
	code, err := inquiry.NewReplyCode()
	if err != nil {
		t.Fatal(err)
	}
	salt, err := inquiry.NewSalt()
	if err != nil {
		t.Fatal(err)
	}
	created, err := db.CreateInquiry(context.Background(), storage.NewInquiry{
		CaseNumber: number, CodeHash: inquiry.Hash(number, code, salt), Salt: salt, Deadline: deadline,
		MaxAttempts: maxAttempts, Pages: 1, PDF: []byte("%PDF-printable " + code), ArchivedPDF: []byte("%PDF-archived"),
		CreatedAt: time.Now(),
	})
	if err != nil || !created {
		t.Fatalf("create inquiry: created=%v err=%v", created, err)
	}
	return inquiryFixture{caseNumber: number, code: code, deadline: deadline}
}

func mailTestInquiry(t *testing.T, db *storage.DB, q inquiryFixture) inquiryFixture {
	t.Helper()
	if err := db.MarkInquiryMailed(context.Background(), q.caseNumber, "clerk1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return q
}

// wrongReplyCode returns a well-formed code that is not q's.
func wrongReplyCode(q inquiryFixture) string {
	if strings.HasPrefix(q.code, "AAAA") {
		return "BBBB-BBBB-BB"
	}
	return "AAAA-AAAA-AA"
}

func inquiryState(t *testing.T, db *storage.DB, number string) storage.Inquiry {
	t.Helper()
	q, err := db.Inquiry(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestCreateInquiryIsIdempotent(t *testing.T) {
	db := openInquiryDB(t)
	ctx := context.Background()
	deadline := time.Now().Add(30 * 24 * time.Hour).Truncate(time.Microsecond)
	q := createTestInquiry(t, db, deadline, 0)

	// A retried activity comes with a new code; it must not replace the first.
	salt, _ := inquiry.NewSalt()
	created, err := db.CreateInquiry(ctx, storage.NewInquiry{CaseNumber: q.caseNumber, CodeHash: inquiry.Hash(q.caseNumber, "ZZZZ-ZZZZ-ZZ", salt),
		Salt: salt, Deadline: deadline.Add(time.Hour), PDF: []byte("%PDF-second"), ArchivedPDF: []byte("%PDF-second")})
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Fatal("a second inquiry was created for the same case")
	}
	row := inquiryState(t, db, q.caseNumber)
	if row.Status != storage.InquiryPrepared || row.Attempts != 0 || row.MaxAttempts != storage.DefaultMaxAttempts ||
		!row.Deadline.Equal(deadline) || !row.Printable || !row.MailedAt.IsZero() {
		t.Fatalf("after a repeated create: %+v", row)
	}
	pdf, err := db.InquiryPDF(ctx, q.caseNumber)
	if err != nil || !bytes.Equal(pdf, []byte("%PDF-printable "+q.code)) {
		t.Fatalf("InquiryPDF = %q, %v; want the first letter", pdf, err)
	}
	mailTestInquiry(t, db, q)
	if res, err := db.CheckReplyCode(ctx, q.caseNumber, "ZZZZ-ZZZZ-ZZ", time.Now()); err != nil || res.OK {
		t.Fatalf("the retry's code opened the inquiry: %+v, %v", res, err)
	}
	if res, err := db.CheckReplyCode(ctx, q.caseNumber, q.code, time.Now()); err != nil || !res.OK {
		t.Fatalf("the first code does not open the inquiry: %+v, %v", res, err)
	}
	if _, err := db.CreateInquiry(ctx, storage.NewInquiry{CaseNumber: "no-such-case", CodeHash: make([]byte, 32), Salt: salt,
		Deadline: deadline, ArchivedPDF: []byte("x")}); err == nil {
		t.Fatal("an inquiry was created for a case that does not exist")
	}
}

func TestWrongCodesCountAndLock(t *testing.T) {
	db := openInquiryDB(t)
	ctx := context.Background()
	for _, limit := range []int{storage.DefaultMaxAttempts, 3} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			q := mailTestInquiry(t, db, createTestInquiry(t, db, time.Now().Add(time.Hour), limit))
			for i := 1; i <= limit; i++ {
				res, err := db.CheckReplyCode(ctx, q.caseNumber, wrongReplyCode(q), time.Now())
				if err != nil {
					t.Fatal(err)
				}
				want := storage.ReplyCheck{AttemptsLeft: limit - i, Locked: i == limit}
				if res != want {
					t.Fatalf("wrong code %d: %+v, want %+v", i, res, want)
				}
				if got := inquiryState(t, db, q.caseNumber).Attempts; got != i {
					t.Fatalf("attempts = %d after %d wrong codes", got, i)
				}
			}
			row := inquiryState(t, db, q.caseNumber)
			if row.Status != storage.InquiryLocked || row.LockedAt.IsZero() {
				t.Fatalf("after the limit: %+v", row)
			}
			// Locked: even the right code no longer opens it, and nothing more is counted.
			res, err := db.CheckReplyCode(ctx, q.caseNumber, q.code, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if res.OK || !res.Locked || res.CodeMatches || res.AttemptsLeft != 0 {
				t.Fatalf("right code on a locked inquiry: %+v", res)
			}
			if got := inquiryState(t, db, q.caseNumber).Attempts; got != limit {
				t.Fatalf("attempts = %d after the lock, want %d", got, limit)
			}
		})
	}
}

func TestExpiredCountsNoAttempt(t *testing.T) {
	db := openInquiryDB(t)
	ctx := context.Background()
	q := mailTestInquiry(t, db, createTestInquiry(t, db, time.Now().Add(time.Hour), 0))
	if _, err := db.CheckReplyCode(ctx, q.caseNumber, wrongReplyCode(q), time.Now()); err != nil {
		t.Fatal(err)
	}
	late := q.deadline.Add(time.Second)
	for _, code := range []string{wrongReplyCode(q), q.code} {
		res, err := db.CheckReplyCode(ctx, q.caseNumber, code, late)
		if err != nil {
			t.Fatal(err)
		}
		want := storage.ReplyCheck{Expired: true, AttemptsLeft: storage.DefaultMaxAttempts - 1}
		if res != want {
			t.Fatalf("after the deadline: %+v, want %+v", res, want)
		}
	}
	row := inquiryState(t, db, q.caseNumber)
	if row.Attempts != 1 || row.Status != storage.InquiryMailed {
		t.Fatalf("after expired checks: attempts %d status %s; want 1, mailed", row.Attempts, row.Status)
	}
	// At the deadline itself the reply is still in time.
	res, err := db.CheckReplyCode(ctx, q.caseNumber, q.code, q.deadline)
	if err != nil || !res.OK {
		t.Fatalf("at the deadline: %+v, %v", res, err)
	}
}

func TestRightCodeAnswersOnce(t *testing.T) {
	db := openInquiryDB(t)
	ctx := context.Background()
	q := mailTestInquiry(t, db, createTestInquiry(t, db, time.Now().Add(time.Hour), 0))
	// As a clerk might type it: lower case, full width, spaces.
	typed := strings.ToLower(strings.ReplaceAll(q.code, "-", " "))
	res, err := db.CheckReplyCode(ctx, q.caseNumber, typed, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || !res.CodeMatches || res.Locked || res.Expired || res.AlreadyAnswered || res.AttemptsLeft != storage.DefaultMaxAttempts {
		t.Fatalf("right code: %+v", res)
	}
	row := inquiryState(t, db, q.caseNumber)
	if row.Status != storage.InquiryAnswered || row.AnsweredAt.IsZero() {
		t.Fatalf("after the right code: %+v", row)
	}
	again, err := db.CheckReplyCode(ctx, q.caseNumber, q.code, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if again.OK || !again.AlreadyAnswered || !again.CodeMatches {
		t.Fatalf("the right code a second time: %+v; want not OK, already answered", again)
	}
	wrong, err := db.CheckReplyCode(ctx, q.caseNumber, wrongReplyCode(q), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if wrong.OK || !wrong.AlreadyAnswered || wrong.CodeMatches {
		t.Fatalf("a wrong code after the answer: %+v", wrong)
	}
	if got := inquiryState(t, db, q.caseNumber); got.Attempts != 0 || !got.AnsweredAt.Equal(row.AnsweredAt) {
		t.Fatalf("checks after the answer changed the row: %+v", got)
	}
	if err := db.LapseInquiry(ctx, q.caseNumber, time.Now()); !errors.Is(err, storage.ErrInquiryAnswered) {
		t.Fatalf("lapsing an answered inquiry: %v, want ErrInquiryAnswered", err)
	}
}

func TestOtherCasesCodeFails(t *testing.T) {
	db := openInquiryDB(t)
	ctx := context.Background()
	a := mailTestInquiry(t, db, createTestInquiry(t, db, time.Now().Add(time.Hour), 0))
	b := mailTestInquiry(t, db, createTestInquiry(t, db, time.Now().Add(time.Hour), 0))
	res, err := db.CheckReplyCode(ctx, a.caseNumber, b.code, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || res.CodeMatches || res.AttemptsLeft != storage.DefaultMaxAttempts-1 {
		t.Fatalf("case A with case B's code: %+v", res)
	}
	// B is untouched, and its own code still opens it.
	if got := inquiryState(t, db, b.caseNumber).Attempts; got != 0 {
		t.Fatalf("case B's attempts = %d", got)
	}
	if res, err := db.CheckReplyCode(ctx, b.caseNumber, b.code, time.Now()); err != nil || !res.OK {
		t.Fatalf("case B with its own code: %+v, %v", res, err)
	}
	if _, err := db.CheckReplyCode(ctx, "131016-19990101-999999", a.code, time.Now()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown case: %v, want ErrNotFound", err)
	}
}

func TestMailingWipesThePrintableLetter(t *testing.T) {
	db := openInquiryDB(t)
	ctx := context.Background()
	q := createTestInquiry(t, db, time.Now().Add(time.Hour), 0)
	if _, err := db.CheckReplyCode(ctx, q.caseNumber, q.code, time.Now()); !errors.Is(err, storage.ErrInquiryNotMailed) {
		t.Fatalf("code before mailing: %v, want ErrInquiryNotMailed", err)
	}
	if got := inquiryState(t, db, q.caseNumber).Attempts; got != 0 {
		t.Fatalf("a check before mailing counted an attempt (%d)", got)
	}
	first := time.Now().Add(-time.Minute).Truncate(time.Microsecond)
	if err := db.MarkInquiryMailed(ctx, q.caseNumber, "clerk1", first); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkInquiryMailed(ctx, q.caseNumber, "clerk2", time.Now()); err != nil {
		t.Fatalf("marking again: %v", err)
	}
	row := inquiryState(t, db, q.caseNumber)
	if row.Status != storage.InquiryMailed || !row.MailedAt.Equal(first) || row.MailedBy != "clerk1" || row.Printable {
		t.Fatalf("after mailing twice: %+v; want the first mailing kept and the letter wiped", row)
	}
	if _, err := db.InquiryPDF(ctx, q.caseNumber); !errors.Is(err, storage.ErrInquiryPDFWiped) {
		t.Fatalf("InquiryPDF after mailing: %v, want ErrInquiryPDFWiped", err)
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM inquiries WHERE position($1::bytea in COALESCE(pdf, '')) > 0
		OR position($1::bytea in archived_pdf) > 0`, []byte(q.code)).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the code is still in %d stored letters (%v)", n, err)
	}
	if pdf, err := db.InquiryArchivedPDF(ctx, q.caseNumber); err != nil || string(pdf) != "%PDF-archived" {
		t.Fatalf("archived letter: %q, %v", pdf, err)
	}
	if err := db.MarkInquiryMailed(ctx, "131016-19990101-999999", "clerk1", time.Now()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("mailing an unknown inquiry: %v", err)
	}
}

func TestLapse(t *testing.T) {
	db := openInquiryDB(t)
	ctx := context.Background()
	t.Run("mailed, then lapsed", func(t *testing.T) {
		q := mailTestInquiry(t, db, createTestInquiry(t, db, time.Now().Add(time.Hour), 0))
		if err := db.LapseInquiry(ctx, q.caseNumber, time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := db.LapseInquiry(ctx, q.caseNumber, time.Now()); err != nil {
			t.Fatalf("lapsing again: %v", err)
		}
		row := inquiryState(t, db, q.caseNumber)
		if row.Status != storage.InquiryLapsed || row.LapsedAt.IsZero() {
			t.Fatalf("after the lapse: %+v", row)
		}
		// Before the recorded deadline, but lapsed: no reply is taken.
		res, err := db.CheckReplyCode(ctx, q.caseNumber, q.code, time.Now())
		if err != nil || res.OK || !res.Expired {
			t.Fatalf("right code after the lapse: %+v, %v", res, err)
		}
	})
	t.Run("never mailed", func(t *testing.T) {
		q := createTestInquiry(t, db, time.Now().Add(time.Hour), 0)
		if err := db.LapseInquiry(ctx, q.caseNumber, time.Now()); err != nil {
			t.Fatal(err)
		}
		if row := inquiryState(t, db, q.caseNumber); row.Status != storage.InquiryLapsed || row.Printable {
			t.Fatalf("after the lapse: %+v; want lapsed, the letter wiped", row)
		}
		if err := db.MarkInquiryMailed(ctx, q.caseNumber, "clerk1", time.Now()); !errors.Is(err, storage.ErrInquiryClosed) {
			t.Fatalf("mailing a lapsed letter: %v, want ErrInquiryClosed", err)
		}
	})
	t.Run("locked stays locked", func(t *testing.T) {
		q := mailTestInquiry(t, db, createTestInquiry(t, db, time.Now().Add(time.Hour), 1))
		if res, err := db.CheckReplyCode(ctx, q.caseNumber, wrongReplyCode(q), time.Now()); err != nil || !res.Locked {
			t.Fatalf("one wrong code with a limit of 1: %+v, %v", res, err)
		}
		if err := db.LapseInquiry(ctx, q.caseNumber, time.Now()); err != nil {
			t.Fatal(err)
		}
		if row := inquiryState(t, db, q.caseNumber); row.Status != storage.InquiryLocked {
			t.Fatalf("a lapse changed a locked inquiry to %s", row.Status)
		}
	})
	if err := db.LapseInquiry(ctx, "131016-19990101-999999", time.Now()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("lapsing an unknown inquiry: %v", err)
	}
}

func TestConcurrentChecks(t *testing.T) {
	db := openInquiryDB(t)
	ctx := context.Background()
	run := func(q inquiryFixture, code string, n int) []storage.ReplyCheck {
		var wg sync.WaitGroup
		results := make([]storage.ReplyCheck, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { results[i], errs[i] = db.CheckReplyCode(ctx, q.caseNumber, code, time.Now()) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		return results
	}
	t.Run("the right code answers exactly once", func(t *testing.T) {
		q := mailTestInquiry(t, db, createTestInquiry(t, db, time.Now().Add(time.Hour), 0))
		ok := 0
		for _, r := range run(q, q.code, 6) {
			if r.OK {
				ok++
			} else if !r.AlreadyAnswered {
				t.Errorf("a concurrent right code neither answered nor saw the answer: %+v", r)
			}
		}
		if ok != 1 {
			t.Fatalf("%d concurrent checks answered, want exactly 1", ok)
		}
	})
	t.Run("wrong codes never pass the limit", func(t *testing.T) {
		q := mailTestInquiry(t, db, createTestInquiry(t, db, time.Now().Add(time.Hour), 0))
		left := map[int]int{}
		for _, r := range run(q, wrongReplyCode(q), 8) {
			left[r.AttemptsLeft]++
		}
		// Attempts left 4, 3, 2, 1 once each, then 0 for the four that
		// locked it or found it locked.
		for n := 1; n <= 4; n++ {
			if left[n] != 1 {
				t.Fatalf("attempts left seen: %v; want 4,3,2,1 once each", left)
			}
		}
		if left[0] != 4 {
			t.Fatalf("attempts left seen: %v; want four 0s", left)
		}
		if row := inquiryState(t, db, q.caseNumber); row.Attempts != storage.DefaultMaxAttempts || row.Status != storage.InquiryLocked {
			t.Fatalf("after concurrent wrong codes: %+v", row)
		}
	})
}

func TestInquiriesList(t *testing.T) {
	db := openInquiryDB(t)
	ctx := context.Background()
	soon := mailTestInquiry(t, db, createTestInquiry(t, db, time.Now().Add(time.Hour), 0))
	later := createTestInquiry(t, db, time.Now().Add(2*time.Hour), 0)
	list, err := db.Inquiries(ctx, demo.Chiyoda, storage.InquiryPrepared, storage.InquiryMailed)
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, q := range list {
		if q.Status != storage.InquiryPrepared && q.Status != storage.InquiryMailed {
			t.Fatalf("listed a %s inquiry", q.Status)
		}
		if i > 0 && q.Deadline.Before(list[i-1].Deadline) {
			t.Fatal("not ordered by deadline")
		}
		pos[q.CaseNumber] = i + 1
	}
	if pos[soon.caseNumber] == 0 || pos[later.caseNumber] == 0 || pos[soon.caseNumber] > pos[later.caseNumber] {
		t.Fatalf("list positions %d, %d", pos[soon.caseNumber], pos[later.caseNumber])
	}
	all, err := db.Inquiries(ctx, demo.Chiyoda)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, q := range all {
		if q.CaseNumber == soon.caseNumber || q.CaseNumber == later.caseNumber {
			seen++
		}
	}
	if seen != 2 {
		t.Fatalf("listing every status shows %d of the 2 new inquiries", seen)
	}
	answered, err := db.Inquiries(ctx, demo.Chiyoda, storage.InquiryAnswered)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range answered {
		if q.Status != storage.InquiryAnswered {
			t.Fatalf("listing answered inquiries shows a %s one", q.Status)
		}
	}
	other, err := db.Inquiries(ctx, demo.Yokohama)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range other {
		if q.CaseNumber == soon.caseNumber || q.CaseNumber == later.caseNumber {
			t.Fatal("another municipality sees Chiyoda's inquiries")
		}
	}
	if name, err := db.MunicipalityName(ctx, demo.Chiyoda); err != nil || name != "東京都千代田区" {
		t.Fatalf("MunicipalityName = %q, %v", name, err)
	}
	if _, err := db.MunicipalityName(ctx, "999999"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown municipality: %v", err)
	}
}
