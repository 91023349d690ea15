package inquiry

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/sha256"
	"regexp"
	"strings"
	"testing"
)

func TestNewReplyCode(t *testing.T) {
	shape := regexp.MustCompile(`^[` + Alphabet + `]{4}-[` + Alphabet + `]{4}-[` + Alphabet + `]{2}$`)
	seen := map[string]bool{}
	counts := map[rune]int{}
	const n = 2000
	for i := 0; i < n; i++ {
		c, err := NewReplyCode()
		if err != nil {
			t.Fatal(err)
		}
		if !shape.MatchString(c) {
			t.Fatalf("code %q does not have the shape XXXX-XXXX-XX over the alphabet", c)
		}
		if strings.ContainsAny(c, "0O1I") {
			t.Fatalf("code %q contains an ambiguous character", c)
		}
		if !ValidReplyCode(c) {
			t.Fatalf("ValidReplyCode(%q) = false for a fresh code", c)
		}
		if seen[c] {
			t.Fatalf("code %q repeated within %d codes", c, i)
		}
		seen[c] = true
		for _, r := range NormalizeReplyCode(c) {
			counts[r]++
		}
	}
	// Every symbol turns up, roughly uniformly (expected 625 each).
	if len(counts) != len(Alphabet) {
		t.Fatalf("only %d of %d symbols were used", len(counts), len(Alphabet))
	}
	for r, c := range counts {
		if c < 450 || c > 800 {
			t.Errorf("symbol %q used %d times out of %d, far from uniform", r, c, n*CodeLength)
		}
	}
}

func TestNormalizeReplyCode(t *testing.T) {
	tests := []struct {
		name, in, want string
		valid          bool
	}{
		{"as printed", "ABCD-EFGH-JK", "ABCDEFGHJK", true},
		{"lower case", "abcd-efgh-jk", "ABCDEFGHJK", true},
		{"no hyphens", "ABCDEFGHJK", "ABCDEFGHJK", true},
		{"spaces", " AB CD  EFGH JK ", "ABCDEFGHJK", true},
		{"full-width letters", "ＡＢＣＤ－ＥＦＧＨ－ＪＫ", "ABCDEFGHJK", true},
		{"full-width lower case and ideographic space", "ａｂｃｄ　ｅｆｇｈ　ｊｋ", "ABCDEFGHJK", true},
		{"prolonged sound mark from an IME", "ABCDーEFGHーJK", "ABCDEFGHJK", true},
		{"en dash and minus sign", "ABCD–EFGH−JK", "ABCDEFGHJK", true},
		{"digits", "2345-6789-AB", "23456789AB", true},
		{"full-width digits", "２３４５６７８９ＡＢ", "23456789AB", true},
		{"tab and newline", "ABCD\tEFGH\nJK", "ABCDEFGHJK", true},
		{"zero is not in the alphabet", "ABCD-EFGH-J0", "ABCDEFGHJ0", false},
		{"letter O is not in the alphabet", "ABCD-EFGH-JO", "ABCDEFGHJO", false},
		{"one is not in the alphabet", "ABCD-EFGH-J1", "ABCDEFGHJ1", false},
		{"letter I is not in the alphabet", "ABCD-EFGH-JI", "ABCDEFGHJI", false},
		{"too short", "ABCD-EFGH-J", "ABCDEFGHJ", false},
		{"too long", "ABCD-EFGH-JKL", "ABCDEFGHJKL", false},
		{"empty", "", "", false},
		{"kana", "あいうえお-かきくけこ", "あいうえおかきくけこ", false},
		{"punctuation", "ABCD.EFGH.JK", "ABCD.EFGH.JK", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NormalizeReplyCode(tt.in); got != tt.want {
				t.Errorf("NormalizeReplyCode(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got := ValidReplyCode(tt.in); got != tt.valid {
				t.Errorf("ValidReplyCode(%q) = %v, want %v", tt.in, got, tt.valid)
			}
		})
	}
}

func TestFormatReplyCode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abcdefghjk", "ABCD-EFGH-JK"},
		{"ＡＢＣＤ ＥＦＧＨ ＪＫ", "ABCD-EFGH-JK"},
		{"ABC", "ABC"}, // not a code: left as normalised
	}
	for _, tt := range tests {
		if got := FormatReplyCode(tt.in); got != tt.want {
			t.Errorf("FormatReplyCode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHash(t *testing.T) {
	salt := bytes.Repeat([]byte{7}, SaltSize)
	otherSalt := bytes.Repeat([]byte{8}, SaltSize)
	const c1, c2 = "131016-20260601-000001", "131016-20260601-000002"
	base := Hash(c1, "ABCD-EFGH-JK", salt)
	if len(base) != HashSize {
		t.Fatalf("hash is %d bytes, want %d", len(base), HashSize)
	}
	tests := []struct {
		name       string
		caseNumber string
		code       string
		salt       []byte
		same       bool
	}{
		{"same inputs", c1, "ABCD-EFGH-JK", salt, true},
		{"code as typed differently", c1, "ａｂｃｄ ｅｆｇｈ ｊｋ", salt, true},
		{"another case", c2, "ABCD-EFGH-JK", salt, false},
		{"another code", c1, "ABCD-EFGH-JL", salt, false},
		{"another salt", c1, "ABCD-EFGH-JK", otherSalt, false},
		// The separator keeps the case number and code apart.
		{"boundary shifted", c1 + "A", "BCD-EFGH-JK", salt, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Hash(tt.caseNumber, tt.code, tt.salt)
			if got := bytes.Equal(h, base); got != tt.same {
				t.Errorf("hash equal = %v, want %v", got, tt.same)
			}
			if got := Verify(tt.caseNumber, tt.code, tt.salt, base); got != tt.same {
				t.Errorf("Verify = %v, want %v", got, tt.same)
			}
		})
	}
	if bytes.Contains(base, []byte("ABCDEFGHJK")) {
		t.Error("the hash contains the code")
	}
}

func TestNewSalt(t *testing.T) {
	a, err := NewSalt()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSalt()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != SaltSize || bytes.Equal(a, b) {
		t.Fatalf("salts %x and %x: want two different %d-byte salts", a, b, SaltSize)
	}
}

// TestHashIterationsPinned pins the reply code's PBKDF2-SHA256 cost that
// docs/INQUIRY.md documents (100,000 iterations, never below a floor) and
// checks that Hash really spends it, against an independent derivation with
// that literal count.
func TestHashIterationsPinned(t *testing.T) {
	const documented, floor = 100_000, 100_000
	if HashIterations != documented || HashIterations < floor {
		t.Fatalf("HashIterations is %d, want %d (at least %d)", HashIterations, documented, floor)
	}
	const caseNumber, code = "131016-20260601-000001", "ABCD-EFGH-JK"
	salt := bytes.Repeat([]byte{7}, SaltSize)
	pw := hashContext + "\x00" + caseNumber + "\x00" + NormalizeReplyCode(code)
	want, err := pbkdf2.Key(sha256.New, pw, salt, documented, HashSize)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(Hash(caseNumber, code, salt), want) {
		t.Fatalf("Hash is not PBKDF2-SHA256 with %d iterations", documented)
	}
}
