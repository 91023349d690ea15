package notice

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/madoguchi/madoguchi/internal/letter"
	"github.com/madoguchi/madoguchi/internal/letter/lettertest"
)

// readBack renders a letter and reads it back twice: through
// letter.ReadBack, as every letter test does, and in a subtest through
// pdftotext, as a reader does. Each text must hold every want and none of
// nots. The lines are joined, so that a wrapped sentence is found whole;
// pdftotext's text is compared without white space, as it gives a
// full-width space (　) back as a gap of its own judging.
func readBack(t *testing.T, render func() ([]byte, error), want, nots []string) {
	t.Helper()
	lettertest.RequireFonts(t)
	pdf, err := render()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := render(); !bytes.Equal(pdf, again) {
		t.Error("the same notice rendered to different bytes")
	}
	pages, err := letter.ReadBack(pdf)
	if err != nil {
		t.Fatal(err)
	}
	fits(t, pages)
	var b strings.Builder
	for _, p := range pages {
		b.WriteString(p.Text())
	}
	says(t, strings.ReplaceAll(b.String(), "\n", ""), func(s string) string { return s }, want, nots)
	t.Run("pdftotext", func(t *testing.T) {
		says(t, lettertest.Text(t, pdf), func(s string) string {
			return strings.Join(strings.Fields(s), "") // U+3000 is a space to Fields too
		}, want, nots)
	})
}

func says(t *testing.T, text string, norm func(string) string, want, nots []string) {
	t.Helper()
	text = norm(text)
	for _, w := range want {
		if !strings.Contains(text, norm(w)) {
			t.Errorf("the notice does not say %q:\n%s", w, text)
		}
	}
	for _, w := range nots {
		if strings.Contains(text, norm(w)) {
			t.Errorf("the notice says %q:\n%s", w, text)
		}
	}
}

// showAt is a text-showing operation as letter.Doc.Show writes it: the
// font resource, size and baseline start.
var showAt = regexp.MustCompile(`BT /(\w+) ([\d.]+) Tf ([\d.-]+) ([\d.-]+) Td[^<]*<[0-9A-F]*> Tj`)

// fits fails the test when a line of a page runs past the margins or
// overlaps another: each line is boxed from its baseline start, its width
// in its face and size, a fifth of the size below the baseline and four
// fifths above.
func fits(t *testing.T, pages []letter.Page) {
	t.Helper()
	scratch, err := letter.New()
	if err != nil {
		t.Fatal(err)
	}
	type box struct {
		line           string
		x0, x1, y0, y1 float64
	}
	for pi, p := range pages {
		ops := showAt.FindAllSubmatch(p.Content, -1)
		if len(ops) != len(p.Lines) {
			t.Fatalf("page %d: %d text operations, %d lines read back", pi+1, len(ops), len(p.Lines))
		}
		var boxes []box
		for i, op := range ops {
			face := letter.Mincho
			if string(op[1]) == "G" {
				face = letter.Gothic
			}
			size, _ := strconv.ParseFloat(string(op[2]), 64)
			x, _ := strconv.ParseFloat(string(op[3]), 64)
			y, _ := strconv.ParseFloat(string(op[4]), 64)
			w := scratch.Width(p.Lines[i], letter.Style{Face: face, Size: size}, 0)
			b := box{p.Lines[i], x, x + w, y - size/5, y + size*4/5}
			if b.x0 < letter.MarginL-0.5 || b.x1 > letter.PageW-letter.MarginR+0.5 {
				t.Errorf("page %d: %q runs past the margins (%.1f to %.1f)", pi+1, b.line, b.x0, b.x1)
			}
			for _, o := range boxes {
				if b.x0 < o.x1 && o.x0 < b.x1 && b.y0 < o.y1 && o.y0 < b.y1 {
					t.Errorf("page %d: %q overlaps %q", pi+1, b.line, o.line)
				}
			}
			boxes = append(boxes, b)
		}
	}
}
