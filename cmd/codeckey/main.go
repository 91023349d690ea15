// Command codeckey manages the payload codec's keyring, the file at
// MADOGUCHI_CODEC_KEY_FILE (.dev/codec.key for `make run`).
//
//	source .dev/env
//	codeckey list               # key ids, oldest first; the last one encrypts
//	codeckey rotate             # add a new key, which encrypts from now on
//	codeckey retire -id 1a2b3c4d  # drop an old key (its payloads become unreadable)
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

	"github.com/madoguchi/madoguchi/internal/codec"
	"github.com/madoguchi/madoguchi/internal/config"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, config.FromEnv()); err != nil {
		fmt.Fprintln(os.Stderr, "codeckey:", err)
		os.Exit(2)
	}
}

var errUsage = errors.New("usage: codeckey list|rotate|retire [-file path] [-id keyid]")

func run(args []string, out io.Writer, cfg config.Config) error {
	if len(args) == 0 {
		return errUsage
	}
	cmd := args[0]
	fl := flag.NewFlagSet("codeckey "+cmd, flag.ContinueOnError)
	fl.SetOutput(out)
	file := fl.String("file", cfg.CodecKeyFile, "the keyring file")
	id := fl.String("id", "", "the key id to retire (retire only)")
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
	default:
		return errUsage
	}
	keys, err := codec.ReadKeyFile(*file)
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
