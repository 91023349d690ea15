package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/ca"
)

// fakeRoom is the mail room's view of the CA in memory, with the store's
// rules: a mailed notice leaves the queue and loses its letter; a second
// mark keeps the first.
type fakeRoom struct{ notices []ca.ExpiryNotice }

func (f *fakeRoom) UnmailedExpiryNotices(_ context.Context, limit int) ([]ca.ExpiryNotice, error) {
	var out []ca.ExpiryNotice
	for _, n := range f.notices {
		if n.MailedAt.IsZero() && n.PDF != nil && len(out) < limit {
			out = append(out, n)
		}
	}
	return out, nil
}

func (f *fakeRoom) MarkExpiryNoticeMailed(_ context.Context, number, by string, at time.Time) (ca.ExpiryNotice, error) {
	for i, n := range f.notices {
		if n.NoticeNumber == number {
			if n.MailedAt.IsZero() {
				n.MailedAt, n.MailedBy = at, by
			}
			n.PDF = nil
			f.notices[i] = n
			return n, nil
		}
	}
	return ca.ExpiryNotice{}, ca.ErrUnknownLetter
}

// TestPrintThenMailed: print writes each unmailed letter under its notice
// number, readable by its owner only, and changes nothing; mailed records
// the mailing, after which print has nothing left; an unknown number is
// an error; bad arguments are the usage.
func TestPrintThenMailed(t *testing.T) {
	room := &fakeRoom{notices: []ca.ExpiryNotice{
		{NoticeNumber: "EN-000000000001", PDF: []byte("%PDF-1")},
		{NoticeNumber: "EN-000000000002", PDF: []byte("%PDF-2")},
	}}
	ctx, dir := context.Background(), t.TempDir()
	now := func() time.Time { return time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC) }
	var out bytes.Buffer
	if err := run(ctx, []string{"print", "-out", dir}, &out, room, now); err != nil {
		t.Fatal(err)
	}
	for i, n := range room.notices {
		path := filepath.Join(dir, n.NoticeNumber+".pdf")
		b, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(b, n.PDF) {
			t.Errorf("letter %d: %q, %v", i, b, err)
		}
		if st, _ := os.Stat(path); st == nil || st.Mode().Perm() != 0o600 {
			t.Errorf("letter %d is readable by others: %v", i, st.Mode())
		}
	}
	if !strings.Contains(out.String(), "2 notices to mail") {
		t.Errorf("print said %q", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"mailed", "-by", "mailroom1", "EN-000000000001", "EN-000000000002"}, &out, room, now); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "EN-000000000002 mailed 2026-12-02T09:00:00Z by mailroom1") {
		t.Errorf("mailed said %q", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"print", "-out", t.TempDir()}, &out, room, now); err != nil || !strings.Contains(out.String(), "0 notices") {
		t.Errorf("after mailing print said %q, %v", out.String(), err)
	}
	if err := run(ctx, []string{"mailed", "-by", "mailroom1", "EN-FFFFFFFFFFFF"}, &out, room, now); !errors.Is(err, ca.ErrUnknownLetter) {
		t.Errorf("an unknown notice: %v", err)
	}
	for _, args := range [][]string{nil, {"print"}, {"mailed", "EN-000000000001"}, {"mailed", "-by", "x"}, {"send"}} {
		if err := run(ctx, args, &out, room, now); err == nil || (!strings.Contains(err.Error(), "usage") && !strings.Contains(err.Error(), "flag")) {
			t.Errorf("%v: %v, want the usage", args, err)
		}
	}
}
