package letter

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
)

// ErrNotALetter is returned by ReadBack for bytes this package did not write.
var ErrNotALetter = errors.New("letter: not a letter written by this package")

// Page is one page of a letter read back: its content stream and the text
// of each text-showing operation, decoded through the fonts' ToUnicode
// maps, in drawing order.
type Page struct {
	Content []byte
	Lines   []string
}

// Text is the page's text, one drawing operation a line.
func (p Page) Text() string { return strings.Join(p.Lines, "\n") }

var (
	objRE      = regexp.MustCompile(`(?m)^(\d+) 0 obj\n`)
	kidsRE     = regexp.MustCompile(`/Type /Pages /Kids \[([^\]]*)\]`)
	refRE      = regexp.MustCompile(`(\d+) 0 R`)
	fontsRE    = regexp.MustCompile(`/Font << ((?:/\w+ \d+ 0 R ?)*)>>`)
	fontRefRE  = regexp.MustCompile(`/(\w+) (\d+) 0 R`)
	contentsRE = regexp.MustCompile(`/Contents (\d+) 0 R`)
	toUniRE    = regexp.MustCompile(`/ToUnicode (\d+) 0 R`)
	lengthRE   = regexp.MustCompile(`/Length (\d+)`)
	showRE     = regexp.MustCompile(`/(\w+) [\d.]+ Tf[^<]*<([0-9A-F]*)> Tj`)
	bfcharRE   = regexp.MustCompile(`<([0-9A-F]{4})> <([0-9A-F]+)>`)
)

// ReadBack reads a letter written by this package the way a reader does
// for its text: page tree, content streams, fonts and their ToUnicode maps.
// Tests of the letters use it where poppler is not installed.
func ReadBack(pdf []byte) ([]Page, error) {
	objs, err := objects(pdf)
	if err != nil {
		return nil, err
	}
	var kids string
	for _, o := range objs {
		if m := kidsRE.FindStringSubmatch(o.dict); m != nil {
			kids = m[1]
		}
	}
	if kids == "" {
		return nil, fmt.Errorf("%w: no page tree", ErrNotALetter)
	}
	var pages []Page
	for _, ref := range refRE.FindAllStringSubmatch(kids, -1) {
		page := objs[atoi(ref[1])]
		c := contentsRE.FindStringSubmatch(page.dict)
		if c == nil {
			return nil, fmt.Errorf("%w: a page without contents", ErrNotALetter)
		}
		maps := map[string]map[string]string{}
		if f := fontsRE.FindStringSubmatch(page.dict); f != nil {
			for _, fr := range fontRefRE.FindAllStringSubmatch(f[1], -1) {
				tu := toUniRE.FindStringSubmatch(objs[atoi(fr[2])].dict)
				if tu == nil {
					return nil, fmt.Errorf("%w: font %s has no ToUnicode map", ErrNotALetter, fr[1])
				}
				maps[fr[1]] = bfchars(objs[atoi(tu[1])].stream)
			}
		}
		content := objs[atoi(c[1])].stream
		p := Page{Content: content}
		for _, m := range showRE.FindAllSubmatch(content, -1) {
			cmap := maps[string(m[1])]
			if cmap == nil {
				return nil, fmt.Errorf("%w: font %s not in the page's resources", ErrNotALetter, m[1])
			}
			var line strings.Builder
			for h := m[2]; len(h) >= 4; h = h[4:] {
				s, ok := cmap[string(h[:4])]
				if !ok {
					return nil, fmt.Errorf("%w: CID %s of font %s has no Unicode", ErrNotALetter, h[:4], m[1])
				}
				line.WriteString(s)
			}
			p.Lines = append(p.Lines, line.String())
		}
		pages = append(pages, p)
	}
	return pages, nil
}

type object struct {
	dict   string
	stream []byte // inflated
}

// objects finds every "n 0 obj … endobj" and inflates the streams.
func objects(pdf []byte) (map[int]object, error) {
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return nil, ErrNotALetter
	}
	out := map[int]object{}
	for _, loc := range objRE.FindAllSubmatchIndex(pdf, -1) {
		n := atoi(string(pdf[loc[2]:loc[3]]))
		body := pdf[loc[1]:]
		var o object
		if s := bytes.Index(body, []byte(">>\nstream\n")); s >= 0 && s < bytes.Index(body, []byte("\nendobj\n")) {
			o.dict = string(body[:s+2])
			l := lengthRE.FindStringSubmatch(o.dict)
			if l == nil {
				return nil, fmt.Errorf("%w: stream %d without /Length", ErrNotALetter, n)
			}
			data := body[s+len(">>\nstream\n"):]
			if atoi(l[1]) > len(data) {
				return nil, fmt.Errorf("%w: stream %d is cut short", ErrNotALetter, n)
			}
			data = data[:atoi(l[1])]
			if strings.Contains(o.dict, "/FlateDecode") {
				zr, err := zlib.NewReader(bytes.NewReader(data))
				if err != nil {
					return nil, fmt.Errorf("%w: stream %d: %w", ErrNotALetter, n, err)
				}
				if data, err = io.ReadAll(zr); err != nil {
					return nil, fmt.Errorf("%w: stream %d: %w", ErrNotALetter, n, err)
				}
			}
			o.stream = data
		} else if e := bytes.Index(body, []byte("\nendobj\n")); e >= 0 {
			o.dict = string(body[:e])
		}
		out[n] = o
	}
	return out, nil
}

// bfchars reads a ToUnicode map's bfchar entries: code → text.
func bfchars(cmap []byte) map[string]string {
	m := map[string]string{}
	for _, e := range bfcharRE.FindAllSubmatch(cmap, -1) {
		var units []uint16
		for h := e[2]; len(h) >= 4; h = h[4:] {
			u, _ := strconv.ParseUint(string(h[:4]), 16, 16)
			units = append(units, uint16(u))
		}
		m[string(e[1])] = string(utf16.Decode(units))
	}
	return m
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
