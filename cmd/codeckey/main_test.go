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
