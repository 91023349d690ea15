package letter

import (
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"
)

// requireFonts is lettertest.RequireFonts, which this package's own tests
// cannot import.
func requireFonts(t *testing.T) {
	t.Helper()
	if err := CheckFonts(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

// fixedWidth measures as the old fixed-width letters did: ASCII half, the
// rest full width, at 10 pt.
func fixedWidth(s string) float64 {
	w := 0.0
	for _, r := range s {
		if r >= 0x20 && r <= 0x7E {
			w += 5
		} else {
			w += 10
		}
	}
	return w
}

func TestWrap(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		width float64 // in full-width characters
		want  []string
	}{
		{"fits", "あいう", 5, []string{"あいう"}},
		{"breaks between kanji", "あいうえおかきく", 5, []string{"あいうえお", "かきく"}},
		{"closing punctuation hangs", "あいうえお。かき", 5, []string{"あいうえお。", "かき"}},
		{"opening bracket carried over", "あいうえ（かき）", 5, []string{"あいうえ", "（かき）"}},
		{"ascii words are kept whole", "ab cd efgh", 2.5, []string{"ab cd", "efgh"}},
		{"a word too long for a line is cut", "abcdefghijkl", 3, []string{"abcdef", "ghijkl"}},
		{"no space at the start of a continued line", "あいうえお　かき", 5, []string{"あいうえお", "かき"}},
		{"a paragraph's indent is kept", "　あいうえおかき", 5, []string{"　あいうえ", "おかき"}},
		{"empty", "", 5, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wrap(tt.in, tt.width*10, fixedWidth)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("wrap(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// The subset is a valid TrueType font holding the glyphs drawn, with their
// original numbers and widths, and a checksum a font loader accepts.
func TestSubset(t *testing.T) {
	requireFonts(t)
	f, err := loadFace(Mincho)
	if err != nil {
		t.Fatal(err)
	}
	runes := []rune("照会書ABC 𠮷〓")
	used, chars := map[uint16]bool{}, map[rune]uint16{}
	u := newFontUse(Mincho, f)
	for _, r := range runes {
		g := u.glyphOf(r)
		used[g] = true
		if u.has(r) {
			chars[r] = g
		}
	}
	if u.has('𠮷') {
		t.Log("this IPAex Mincho draws 𠮷")
	}
	sub, err := f.subset(used, chars)
	if err != nil {
		t.Fatal(err)
	}
	if len(sub) > len(f.tables["glyf"])/20 {
		t.Errorf("the subset is %d bytes: not a subset", len(sub))
	}
	if got := checksum(sub); got != 0xB1B0AFBA {
		t.Errorf("whole-font checksum %#x, want 0xB1B0AFBA", got)
	}
	back, err := parseTTF(sub)
	if err != nil {
		t.Fatalf("the subset does not parse: %v", err)
	}
	for g := range used {
		if len(back.glyph(g)) == 0 && len(f.glyph(g)) != 0 {
			t.Errorf("glyph %d lost", g)
		}
		if back.advances[g] != f.advances[g] {
			t.Errorf("glyph %d width %d, want %d", g, back.advances[g], f.advances[g])
		}
	}
	for r, g := range chars {
		if back.cmap[r] != g {
			t.Errorf("the subset's cmap maps %q to %d, want %d", r, back.cmap[r], g)
		}
	}
	if back.glyph(f.cmap['山']) != nil {
		t.Error("an unused glyph was kept")
	}
	if back.psName != f.psName || back.unitsPerEm != f.unitsPerEm {
		t.Errorf("name %q / %d units, want %q / %d", back.psName, back.unitsPerEm, f.psName, f.unitsPerEm)
	}
	// Tables in tag order, 4-byte aligned.
	prev := ""
	for i := 0; i < int(binary.BigEndian.Uint16(sub[4:])); i++ {
		tag, off := string(sub[12+16*i:16+16*i]), binary.BigEndian.Uint32(sub[20+16*i:])
		if tag <= prev || off%4 != 0 {
			t.Errorf("table %q at %d out of order or unaligned", tag, off)
		}
		prev = tag
	}
}

func TestFontMissing(t *testing.T) {
	saved := fontDirs
	t.Cleanup(func() { fontDirs = saved })
	empty := t.TempDir()
	fontDirs = map[Face][]string{Gothic: {empty}, Mincho: {empty}}
	t.Setenv(FontDirEnv, "")
	if _, err := New(); !errors.Is(err, ErrFontMissing) {
		t.Fatalf("New without fonts: %v, want ErrFontMissing", err)
	}
	if err := CheckFonts(); err == nil || !strings.Contains(err.Error(), "fonts-ipaexfont-gothic") {
		t.Errorf("CheckFonts = %v, want the missing package named", err)
	}
}

func TestBadFont(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("not a font"), {0, 1, 0, 0, 0, 50, 0, 0, 0, 0, 0, 0}} {
		if _, err := parseTTF(b); !errors.Is(err, errBadFont) {
			t.Errorf("parseTTF(%q) = %v, want errBadFont", b, err)
		}
	}
}
