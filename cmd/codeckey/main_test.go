package main

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/madoguchi/madoguchi/internal/codec"
	"github.com/madoguchi/madoguchi/internal/config"
)

func TestRotateListRetire(t *testing.T) {
	path := filepath.Join(t.TempDir(), "codec.key")
	first := bytes.Repeat([]byte{1}, 32)
	if err := os.WriteFile(path, []byte(hex.EncodeToString(first)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Config{CodecKeyFile: path}
	var out bytes.Buffer
	if err := run([]string{"rotate"}, &out, cfg); err != nil {
		t.Fatal(err)
	}
	keys, err := codec.ReadKeyFile(path)
	if err != nil || len(keys) != 2 {
		t.Fatalf("after rotate: %d keys, %v", len(keys), err)
	}
	if strings.Contains(out.String(), hex.EncodeToString(keys[1])) || strings.Contains(out.String(), hex.EncodeToString(first)) {
		t.Fatal("codeckey printed a key")
	}
	if !strings.Contains(out.String(), codec.KeyID(keys[1])+"\tencrypts") {
		t.Fatalf("output does not name the new key as encrypting:\n%s", out.String())
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode().Perm())
	}
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"retire", "-id", codec.KeyID(keys[1])}, false}, // the current key
		{[]string{"retire"}, false},
		{[]string{"frobnicate"}, false},
		{[]string{}, false},
		{[]string{"retire", "-id", codec.KeyID(first)}, true},
		{[]string{"list"}, true},
	} {
		if err := run(tc.args, &out, cfg); (err == nil) != tc.ok {
			t.Errorf("codeckey %q: error %v", tc.args, err)
		}
	}
	if keys, _ := codec.ReadKeyFile(path); len(keys) != 1 || codec.KeyID(keys[0]) == codec.KeyID(first) {
		t.Fatal("retire did not drop the old key")
	}
}

func TestExport(t *testing.T) {
	dir := t.TempDir()
	master := filepath.Join(dir, "codec.key")
	if err := codec.WriteKeyFile(master, [][]byte{bytes.Repeat([]byte{1}, 32)}); err != nil {
		t.Fatal(err)
	}
	cfg := config.Config{CodecKeyFile: master}
	out := filepath.Join(dir, "t0001.key")
	var buf bytes.Buffer
	if err := run([]string{"export", "-municipality", "131016", "-out", out}, &buf, cfg); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("scoped keyring: %v %v", st, err)
	}
	c, err := codec.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Scopes(); len(s) != 1 || s[0] != "131016" || !strings.Contains(buf.String(), "scopes 131016") {
		t.Fatalf("scopes %v, output %q", s, buf.String())
	}
	text, _ := os.ReadFile(out)
	if strings.Contains(string(text), hex.EncodeToString(bytes.Repeat([]byte{1}, 32))) {
		t.Fatal("the scoped keyring holds the master key")
	}
	// After a rotation, a re-export holds both key ids, the new one last.
	if err := run([]string{"rotate"}, &buf, cfg); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"export", "-municipality", "131016", "-out", out}, &buf, cfg); err != nil {
		t.Fatal(err)
	}
	keys, _ := codec.ReadKeyFile(master)
	if c, err = codec.Load(out); err != nil || c.KeyID() != codec.KeyID(keys[1]) || len(c.KeyIDs()) != 2 {
		t.Fatalf("after rotate and export: %v %v", c.KeyIDs(), err)
	}
	buf.Reset()
	if err := run([]string{"list", "-file", out}, &buf, cfg); err != nil || !strings.Contains(buf.String(), "scopes 131016") ||
		!strings.Contains(buf.String(), codec.KeyID(keys[1])+"\tencrypts") {
		t.Fatalf("list of a scoped keyring: %v\n%s", err, buf.String())
	}
	// The CA worker's: several municipalities and the Organization.
	if err := run([]string{"export", "-municipality", "131016, 141003", "-organization", "-out", filepath.Join(dir, "ca.key")}, &buf, cfg); err != nil {
		t.Fatal(err)
	}
	if c, _ := codec.Load(filepath.Join(dir, "ca.key")); strings.Join(c.Scopes(), ",") != "131016,141003,organization" {
		t.Fatalf("ca scopes %v", c.Scopes())
	}
	for _, args := range [][]string{
		{"export"},
		{"export", "-municipality", "13101"},
		{"export", "-municipality", "system"},
		{"export", "-municipality", "131016", "-out", master},
		{"export", "-municipality", "131016", "-file", out, "-out", filepath.Join(dir, "x.key")}, // from a scoped keyring
	} {
		if err := run(args, &buf, cfg); err == nil {
			t.Errorf("codeckey %q succeeded", args)
		}
	}
	if _, err := codec.ReadKeyFile(master); err != nil {
		t.Fatalf("the master keyring was damaged: %v", err)
	}
}
