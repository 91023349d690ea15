// Command auditchain verifies the audit trail's hash chains (docs/AUDIT.md)
// and records their daily anchors, on the municipal database
// (MADOGUCHI_DB_DSN).
//
//	auditchain verify [-office X] [-anchor]   every office's chain, or X's; exit 1 if one is broken
//	auditchain anchor [-day YYYY-MM-DD]       record each office's chain head as the day's anchor
//
// verify changes nothing unless -anchor is given: then it records today's
// anchor (Asia/Tokyo) of each chain it found intact, as the daily Schedule
// does (workflows.AnchorAuditChains); a broken chain is never anchored.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/madoguchi/madoguchi/internal/config"
	"github.com/madoguchi/madoguchi/internal/storage"
)

// errBroken is a verification that found a broken chain (exit status 1).
var errBroken = errors.New("a chain is broken")

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout)
	switch {
	case errors.Is(err, errBroken):
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "auditchain:", err)
		os.Exit(2)
	}
}

const usage = "usage: auditchain verify [-office X] [-anchor] | auditchain anchor [-day YYYY-MM-DD]"

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("auditchain "+args[0], flag.ContinueOnError)
	office := fs.String("office", "", "verify only this office's chain")
	anchor := fs.Bool("anchor", false, "record today's anchor of each chain verified intact")
	day := fs.String("day", "", "the anchors' day (default today, Asia/Tokyo)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return errors.New(usage)
	}
	dsn := config.FromEnv().DBDSN
	if dsn == "" {
		return errors.New("MADOGUCHI_DB_DSN is not set")
	}
	db, err := storage.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	switch args[0] {
	case "verify":
		if *day != "" {
			return errors.New("-day is for anchor")
		}
		return verify(ctx, db, *office, *anchor, out)
	case "anchor":
		if *office != "" || *anchor {
			return errors.New(usage)
		}
		d := time.Now()
		if *day != "" {
			if d, err = time.ParseInLocation(time.DateOnly, *day, storage.Tokyo); err != nil {
				return fmt.Errorf("-day: %w", err)
			}
		}
		return record(ctx, db, d, out)
	default:
		return errors.New(usage)
	}
}

func verify(ctx context.Context, db *storage.DB, office string, anchor bool, out io.Writer) error {
	var offices []string // nil: every office with a chain
	if office != "" {
		offices = []string{office}
	}
	var reps []storage.ChainReport
	var anchors []storage.AuditAnchor
	var err error
	if anchor {
		reps, anchors, err = db.VerifyAndAnchor(ctx, time.Now(), offices)
	} else {
		reps, err = db.VerifyChains(ctx, offices)
	}
	if err != nil {
		return err
	}
	broken := false
	for _, rep := range reps {
		name := rep.Office
		if rep.Chain != "" {
			name += " (" + rep.Chain + ")"
		}
		if rep.OK {
			fmt.Fprintf(out, "%s: ok, %d rows, head %d %s, %d anchors checked\n", name, rep.Rows, rep.HeadSeq, rep.HeadHash, rep.Anchors)
			continue
		}
		broken = true
		b := rep.Break
		// Recorded as an attempt (第3 10), once per break.
		if _, err := db.RecordChainBreak(ctx, rep, "auditchain verify", time.Now()); err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: BROKEN at row %d", name, b.Seq)
		if b.CaseNumber != "" {
			fmt.Fprintf(out, " (case %s, event %s)", b.CaseNumber, b.EventKey)
		}
		fmt.Fprintf(out, ": %s: %s\n", b.Reason, b.Message)
	}
	printAnchors(out, anchors)
	if broken {
		return errBroken
	}
	return nil
}

func record(ctx context.Context, db *storage.DB, day time.Time, out io.Writer) error {
	anchors, err := db.AnchorAuditChains(ctx, day)
	if err != nil {
		return err
	}
	printAnchors(out, anchors)
	if len(anchors) == 0 {
		fmt.Fprintf(out, "nothing to anchor on %s (every office anchored already)\n", day.In(storage.Tokyo).Format(time.DateOnly))
	}
	return nil
}

func printAnchors(out io.Writer, anchors []storage.AuditAnchor) {
	for _, a := range anchors {
		name := a.Office
		if a.Chain != "" {
			name += " (" + a.Chain + ")"
		}
		fmt.Fprintf(out, "anchored %s on %s: head %d %x\n", name, a.Day.Format(time.DateOnly), a.Seq, a.Hash)
	}
}
