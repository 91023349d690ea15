package renewal

import (
	"strings"
	"testing"
)

// TestCodeForm: a fresh code has 16 symbols of the alphabet, grouped 4-4-4-4;
// what a clerk types in another form hashes the same; two codes differ.
func TestCodeForm(t *testing.T) {
	a, err := NewCode()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewCode()
	if a == b {
		t.Errorf("two codes are the same: %s", a)
	}
	if len(a) != 19 || strings.Count(a, "-") != 3 || !Valid(a) {
		t.Errorf("code %q is not 4-4-4-4 of the alphabet", a)
	}
	typed := strings.ToLower(strings.ReplaceAll(a, "-", "ー"))
	if Hash(typed) != Hash(a) || !Valid(typed) {
		t.Errorf("%q typed as %q does not hash the same", a, typed)
	}
	if Hash(a) == Hash(b) || !ValidHash(Hash(a)) {
		t.Error("hashes of two codes are equal or malformed")
	}
	for _, bad := range []string{"", "ABCD-EFGH-JKLM-NPQ", "ABCD-EFGH-JKLM-NPQ0", "ABCD-EFGH-JK"} {
		if Valid(bad) {
			t.Errorf("%q is taken for a code", bad)
		}
	}
	for _, bad := range []string{"", "zz", strings.Repeat("A", 64)} {
		if ValidHash(bad) {
			t.Errorf("%q is taken for a hash", bad)
		}
	}
}
