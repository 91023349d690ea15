// Command sealingkey manages a municipality's sealing keys for PIN notices
// (暗証番号届出): the private key files on its terminal and the public keys
// registered in the municipal database (docs/SEALING.md).
//
//	source .dev/env
//	sealingkey -municipality 131016 [-dir $MADOGUCHI_STATE/sealing/131016] [-rotate] [-prune]
//
// Without -rotate it makes the municipality's first key if it has none, and
// otherwise checks that the current key's private key file is in the
// directory and matches the registry: it is idempotent, for setup. -rotate
// makes a new current key (the previous one keeps opening notices for
// storage.SealingKeyOverlap). -prune deletes the key files whose overlap has
// ended. It prints key ids and dates only: never a private key.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/madoguchi/madoguchi/internal/config"
	"github.com/madoguchi/madoguchi/internal/sealing"
	"github.com/madoguchi/madoguchi/internal/storage"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	err := run(ctx, os.Args[1:], os.Stdout, config.FromEnv())
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sealingkey:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer, cfg config.Config) error {
	fl := flag.NewFlagSet("sealingkey", flag.ContinueOnError)
	fl.SetOutput(out)
	municipality := fl.String("municipality", "", "6-digit municipality code (required)")
	dir := fl.String("dir", "", "private key directory (default $MADOGUCHI_STATE/sealing/<municipality>)")
	rotate := fl.Bool("rotate", false, "make a new current key; the previous one retires after the overlap")
	prune := fl.Bool("prune", false, "delete the private key files whose overlap has ended")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q", fl.Args())
	}
	if !sealing.ValidMunicipality(*municipality) {
		return fmt.Errorf("-municipality must be a 6-digit code, got %q", *municipality)
	}
	if *dir == "" {
		*dir = filepath.Join(cfg.State, "sealing", *municipality)
	}
	if err := config.Require("MADOGUCHI_DB_DSN", cfg.DBDSN); err != nil {
		return err
	}
	db, err := storage.Open(ctx, cfg.DBDSN)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}

	cur, err := db.CurrentSealingKey(ctx, *municipality)
	switch {
	case errors.Is(err, storage.ErrNotFound) || (err == nil && *rotate):
		pub, err := sealing.Rotate(ctx, *dir, *municipality, db)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "sealingkey: %s: new key %s is current (%s)\n", *municipality, pub.KeyID, *dir)
	case err != nil:
		return err
	default:
		if err := checkCurrent(*dir, cur); err != nil {
			return err
		}
		fmt.Fprintf(out, "sealingkey: %s: key %s is current and present in %s\n", *municipality, cur.KeyID, *dir)
	}

	if *prune {
		removed, err := sealing.Prune(ctx, *dir, *municipality, db, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "sealingkey: %s: pruned %d key file(s) %v\n", *municipality, len(removed), removed)
	}
	return list(ctx, out, db, *dir, *municipality)
}

// list prints the municipality's registered keys and whether each one's
// private key file is in dir.
func list(ctx context.Context, out io.Writer, db *storage.DB, dir, municipality string) error {
	keys, err := db.SealingKeys(ctx, municipality)
	if err != nil {
		return err
	}
	here, err := sealing.KeyIDs(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, k := range keys {
		state := "current"
		if !k.RetireAfter.IsZero() {
			state = "opens notices until " + k.RetireAfter.In(storage.Tokyo).Format(time.RFC3339)
		}
		file := "no file here"
		if slices.Contains(here, k.Public.KeyID) {
			file = "file here"
		}
		fmt.Fprintf(out, "  %s  created %s  %s, %s\n", k.Public.KeyID, k.CreatedAt.In(storage.Tokyo).Format(time.RFC3339), state, file)
	}
	return nil
}

// checkCurrent makes sure the registered current key can be opened here: its
// file is in dir and holds the private key of the registered public key.
func checkCurrent(dir string, cur sealing.PublicKey) error {
	ids, err := sealing.KeyIDs(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if !slices.Contains(ids, cur.KeyID) {
		return fmt.Errorf("the current key %s of %s is registered but its file is not in %s: notices sealed to it cannot be opened here; copy the file, or run again with -rotate",
			cur.KeyID, cur.Municipality, dir)
	}
	kr, err := sealing.LoadKeyring(dir)
	if err != nil {
		return err
	}
	pub, err := kr.PublicKey(cur.KeyID)
	if err != nil {
		return err
	}
	if pub.Municipality != cur.Municipality || !bytes.Equal(pub.Key, cur.Key) {
		return fmt.Errorf("key file %s in %s does not match the registered public key of %s", cur.KeyID, dir, cur.Municipality)
	}
	return nil
}
