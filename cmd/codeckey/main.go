// Command codeckey manages the payload codec's keyring, the file at
// MADOGUCHI_CODEC_KEY_FILE (.dev/codec.key for `make run`).
//
//	source .dev/env
//	codeckey list               # key ids, oldest first; the last one encrypts
//	codeckey rotate             # add a new key, which encrypts from now on
//	codeckey retire -id 1a2b3c4d  # drop an old key (its payloads become unreadable)
//	codeckey export -municipality 131016 -out t0001.key  # a terminal's scoped keyring
//	codeckey export -municipality 131016,141003,141305 -organization -out ca.key
//
// export writes a scoped keyring: for each scope named (the municipality
// codes, and the Organization's with -organization) the key derived from
// every master key, oldest first; a process loading it works only those
// scopes. It prints the scoped keyring's lines without their keys. After a
// rotate, export again: the terminal gets the new key and keeps the old.
//
// -file names another key file. The file is rewritten atomically with mode
// 0600. Running workers, the gateway and the card agents need no restart:
// each reads the file again when a payload names a key it lacks (at most once
// a second) and when the file changes (looked at every 30 s), and encrypts
// with the new key from then on; the older keys keep decrypting. It prints
// key ids only, never a key.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/madoguchi/madoguchi/internal/codec"
	"github.com/madoguchi/madoguchi/internal/config"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, config.FromEnv()); err != nil {
		fmt.Fprintln(os.Stderr, "codeckey:", err)
		os.Exit(2)
	}
}

var errUsage = errors.New("usage: codeckey list|rotate|retire|export [-file path] [-id keyid] [-municipality codes -organization -out path]")

func run(args []string, out io.Writer, cfg config.Config) error {
	if len(args) == 0 {
		return errUsage
	}
	cmd := args[0]
	fl := flag.NewFlagSet("codeckey "+cmd, flag.ContinueOnError)
	fl.SetOutput(out)
	file := fl.String("file", cfg.CodecKeyFile, "the keyring file")
	id := fl.String("id", "", "the key id to retire (retire only)")
	munis := fl.String("municipality", "", "export: the municipality codes to export, comma-separated")
	orgScope := fl.Bool("organization", false, "export: add the Organization's scope")
	outPath := fl.String("out", "", "export: the scoped keyring to write (default: codec-<codes>.key beside the master)")
	if err := fl.Parse(args[1:]); err != nil {
		return err
	}
	if fl.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q", fl.Args())
	}
	switch cmd {
	case "list":
	case "rotate":
		newID, err := codec.Rotate(*file)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "rotated %s: key %s encrypts from now on; running processes follow within 30 s\n", *file, newID)
	case "retire":
		if *id == "" {
			return errors.New("retire needs -id")
		}
		if err := codec.Retire(*file, *id); err != nil {
			return err
		}
		fmt.Fprintf(out, "retired key %s from %s: payloads encrypted with it can no longer be read\n", *id, *file)
	case "export":
		scopes, err := exportScopes(*munis, *orgScope)
		if err != nil {
			return err
		}
		dst := *outPath
		if dst == "" {
			dst = filepath.Join(filepath.Dir(*file), "codec-"+strings.Join(scopes, "-")+".key")
		}
		if filepath.Clean(dst) == filepath.Clean(*file) {
			return errors.New("export: -out must not be the master keyring")
		}
		if err := codec.WriteScopedKeyFile(*file, dst, scopes); err != nil {
			return err
		}
		c, err := codec.Load(dst)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "exported %s: scopes %s, keys %s (the last encrypts)\n", dst, strings.Join(c.Scopes(), ","), strings.Join(c.KeyIDs(), ","))
		return nil
	default:
		return errUsage
	}
	keys, err := codec.ReadKeyFile(*file)
	if errors.Is(err, codec.ErrScopedKeyring) && cmd == "list" {
		// A terminal's keyring: its scopes and key ids, never a key.
		c, err := codec.Load(*file)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "scoped keyring: scopes %s\n", strings.Join(c.Scopes(), ","))
		for _, id := range c.KeyIDs() {
			mark := ""
			if id == c.KeyID() {
				mark = "\tencrypts"
			}
			fmt.Fprintf(out, "%s%s\n", id, mark)
		}
		return nil
	}
	if err != nil {
		return err
	}
	for i, k := range keys {
		mark := ""
		if i == len(keys)-1 {
			mark = "\tencrypts"
		}
		fmt.Fprintf(out, "%s%s\n", codec.KeyID(k), mark)
	}
	return nil
}

// exportScopes are the scopes export names: 6-digit municipality codes and,
// with org, the Organization's.
func exportScopes(munis string, org bool) ([]string, error) {
	var scopes []string
	for m := range strings.SplitSeq(munis, ",") {
		m = strings.TrimSpace(m)
		if m == "" {
			continue
		}
		if codec.ScopeOfWorkflowID(m) != m {
			return nil, fmt.Errorf("export: %q is not a 6-digit municipality code", m)
		}
		scopes = append(scopes, m)
	}
	if org {
		scopes = append(scopes, codec.ScopeOrganization)
	}
	if len(scopes) == 0 {
		return nil, errors.New("export needs -municipality (or -organization)")
	}
	return scopes, nil
}
