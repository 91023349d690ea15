package inquiry

import (
	"bytes"
	"errors"
	"regexp"
	"strconv"
)

// The letter is written by internal/letter: PDF/A-2b with embedded subsets
// of the IPAex fonts (docs/INQUIRY.md).

var countRE = regexp.MustCompile(`/Type /Pages /Kids \[[^\]]*\] /Count (\d+)`)

// ErrNotALetter is returned by PageCount for bytes RenderPDF did not make.
var ErrNotALetter = errors.New("inquiry: not a letter rendered by RenderPDF")

// PageCount returns the number of pages of a letter made by RenderPDF.
func PageCount(pdf []byte) (int, error) {
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return 0, ErrNotALetter
	}
	m := countRE.FindSubmatch(pdf)
	if m == nil {
		return 0, ErrNotALetter
	}
	n, err := strconv.Atoi(string(m[1]))
	if err != nil || n < 1 {
		return 0, ErrNotALetter
	}
	return n, nil
}
