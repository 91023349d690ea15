// Package lettertest holds what the tests of every letter share: the font
// and poppler requirements, and reading a letter back with pdffonts and
// pdftotext as a PDF reader does.
package lettertest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/madoguchi/madoguchi/internal/letter"
)

// InCI reports whether the tests run in CI (CI=true), where nothing a
// letter test needs may be missing.
func InCI() bool { return os.Getenv("CI") == "true" }

// missing fails the test in CI and skips it elsewhere.
func missing(t testing.TB, what string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s (CI=true: scripts/install.sh installs it)", what)
	}
	t.Skipf("%s; run scripts/install.sh", what)
}

// RequireFonts skips the test when the IPAex fonts are not installed, and
// fails it when CI=true: a letter cannot be made without them.
func RequireFonts(t testing.TB) {
	t.Helper()
	if err := letter.CheckFonts(); err != nil {
		missing(t, err.Error())
	}
}

// RequireTool returns the path of a poppler tool (pdffonts, pdftotext),
// skipping the test when it is missing, and failing it when CI=true.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, name+" (poppler-utils) is not installed")
	}
	return p
}

// Font is one row of pdffonts.
type Font struct {
	Name, Type, Encoding string
	Embedded, Subset     bool
	Unicode              bool
}

// Fonts lists the letter's fonts as pdffonts reads them.
func Fonts(t testing.TB, pdf []byte) []Font {
	t.Helper()
	out := run(t, RequireTool(t, "pdffonts"), pdf)
	var fonts []Font
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[1], "---") {
		t.Fatalf("pdffonts printed no table: %s", out)
	}
	for _, ln := range lines[2:] {
		// name, type (may hold spaces), encoding, emb, sub, uni, object, gen
		f := strings.Fields(ln)
		if len(f) < 8 {
			t.Fatalf("pdffonts row %q", ln)
		}
		n := len(f)
		fonts = append(fonts, Font{
			Name: f[0], Type: strings.Join(f[1:n-6], " "), Encoding: f[n-6],
			Embedded: f[n-5] == "yes", Subset: f[n-4] == "yes", Unicode: f[n-3] == "yes",
		})
	}
	return fonts
}

// Text is the letter's text as pdftotext extracts it (UTF-8, reading order).
func Text(t testing.TB, pdf []byte) string {
	t.Helper()
	return run(t, RequireTool(t, "pdftotext"), pdf, "-enc", "UTF-8")
}

func run(t testing.TB, tool string, pdf []byte, args ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "letter.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	args = append(args, path)
	if filepath.Base(tool) == "pdftotext" {
		args = append(args, "-")
	}
	cmd := exec.Command(tool, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v: %s", filepath.Base(tool), err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("%s reports: %s", filepath.Base(tool), stderr.String())
	}
	return string(out)
}

// WriteSample keeps a rendered letter for a person to look at when
// MADOGUCHI_LETTER_SAMPLES names a directory.
func WriteSample(t testing.TB, name string, pdf []byte) {
	t.Helper()
	dir := os.Getenv("MADOGUCHI_LETTER_SAMPLES")
	if dir == "" {
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name), pdf, 0o600); err != nil {
		t.Fatal(err)
	}
}
