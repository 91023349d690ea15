// Command expirynotices is the Organization's mail room for the expiry
// notices (有効期限通知書, issue 12) the daily run produces, on the jlis
// database (MADOGUCHI_JLIS_DSN and the HSM, as every process of the
// Organization opens them):
//
//	expirynotices print -out DIR [-limit N]      write the notices not yet mailed as DIR/<notice number>.pdf
//	expirynotices mailed -by NAME NUMBER...      record those notices mailed; their letters are wiped
//
// print changes nothing; mailed wipes each letter's bytes, which hold the
// renewal code in the clear, as the proxy inquiry's letter is wiped once
// mailed. Marking a notice again keeps the first record.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/config"
)

func main() {
	ctx := context.Background()
	err := func() error {
		cfg := config.FromEnv()
		if err := config.Require("MADOGUCHI_JLIS_DSN", cfg.JLISDSN); err != nil {
			return err
		}
		conn, err := ca.Connect(ctx, cfg.JLISDSN)
		if err != nil {
			return err
		}
		defer conn.Close()
		c, err := conn.Load(ctx, ca.Options{RepositoryURL: cfg.RepositoryURL})
		if err != nil {
			return err
		}
		return run(ctx, os.Args[1:], os.Stdout, c, time.Now)
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, "expirynotices:", err)
		os.Exit(2)
	}
}

// mailRoom is what the command needs of the CA (ca.CA).
type mailRoom interface {
	UnmailedExpiryNotices(ctx context.Context, limit int) ([]ca.ExpiryNotice, error)
	MarkExpiryNoticeMailed(ctx context.Context, noticeNumber, by string, at time.Time) (ca.ExpiryNotice, error)
}

const usage = "usage: expirynotices print -out DIR [-limit N] | expirynotices mailed -by NAME NUMBER..."

func run(ctx context.Context, args []string, out io.Writer, c mailRoom, now func() time.Time) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("expirynotices "+args[0], flag.ContinueOnError)
	dir := fs.String("out", "", "the folder the letters are written to")
	limit := fs.Int("limit", 500, "at most this many letters")
	by := fs.String("by", "", "who mailed them")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "print":
		if *dir == "" || fs.NArg() != 0 {
			return errors.New(usage)
		}
		ns, err := c.UnmailedExpiryNotices(ctx, *limit)
		if err != nil {
			return err
		}
		for _, n := range ns {
			// 0600: the letter holds the renewal code.
			if err := os.WriteFile(filepath.Join(*dir, n.NoticeNumber+".pdf"), n.PDF, 0o600); err != nil {
				return err
			}
			fmt.Fprintln(out, n.NoticeNumber)
		}
		fmt.Fprintf(out, "%d notices to mail in %s\n", len(ns), *dir)
		return nil
	case "mailed":
		if *by == "" || fs.NArg() == 0 {
			return errors.New(usage)
		}
		at := now()
		for _, number := range fs.Args() {
			n, err := c.MarkExpiryNoticeMailed(ctx, number, *by, at)
			if err != nil {
				return fmt.Errorf("%s: %w", number, err)
			}
			fmt.Fprintf(out, "%s mailed %s by %s\n", n.NoticeNumber, n.MailedAt.Format(time.RFC3339), n.MailedBy)
		}
		return nil
	}
	return errors.New(usage)
}
