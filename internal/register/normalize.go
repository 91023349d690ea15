package register

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"

	"github.com/madoguchi/madoguchi/internal/validity"
)

// Normalize prepares a basic-4-information value for comparison: it folds
// width (full-width ASCII letters, digits, punctuation and the ideographic
// space to half-width; half-width katakana to full-width, recomposing voiced
// marks as NFKC does: ｶﾞ → ガ), trims, and collapses runs of white space to
// one ASCII space, so 「山田　太郎」 and "山田 太郎" compare equal.
//
// Nothing else is folded on purpose: not letter case, not kanji variants
// (異体字, which full NFKC/NFC would merge for compatibility ideographs such
// as 﨑/神), not kanji versus Arabic numerals, not the presence of a space.
// The register is authoritative; anything beyond width is for a clerk to
// judge, not for the machine to forgive.
func Normalize(s string) string {
	s = composeKanaMarks(width.Fold.String(s))
	return strings.Join(strings.Fields(s), " ")
}

// composeKanaMarks joins a kana and a following combining (semi-)voiced
// sound mark into the precomposed kana, only where one exists. It composes
// locally instead of running NFC over the string, because NFC would also
// replace CJK compatibility ideographs in names.
func composeKanaMarks(s string) string {
	if !strings.ContainsAny(s, "\u3099\u309a") {
		return s
	}
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(rs); i++ {
		if i+1 < len(rs) && (rs[i+1] == '\u3099' || rs[i+1] == '\u309a') && isKana(rs[i]) {
			if c := norm.NFC.String(string(rs[i : i+2])); utf8.RuneCountInString(c) == 1 {
				b.WriteString(c)
				i++
				continue
			}
		}
		b.WriteRune(rs[i])
	}
	return b.String()
}

func isKana(r rune) bool { return r >= '\u3041' && r <= '\u30ff' }

var (
	reISODate = regexp.MustCompile(`^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$`)
	reKanji   = regexp.MustCompile(`^(\d{4})年(\d{1,2})月(\d{1,2})日$`)
	reEra     = regexp.MustCompile(`^(明治|大正|昭和|平成|令和)(元|\d{1,2})年(\d{1,2})月(\d{1,2})日$`)
)

// era is a Japanese era: year N of the era is Gregorian offset+N, and a date
// belongs to it from start up to the next era's start.
type era struct {
	name   string
	offset int
	start  Date
}

// eras, newest first. Meiji starts at 1873-01-01 because dates before that
// were in the lunisolar calendar and cannot be converted by offset.
var eras = []era{
	{"令和", 2018, Date{Year: 2019, Month: time.May, Day: 1}},
	{"平成", 1988, Date{Year: 1989, Month: time.January, Day: 8}},
	{"昭和", 1925, Date{Year: 1926, Month: time.December, Day: 25}},
	{"大正", 1911, Date{Year: 1912, Month: time.July, Day: 30}},
	{"明治", 1867, Date{Year: 1873, Month: time.January, Day: 1}},
}

// ParseDate reads a date of birth as written on an application or kept in
// the register: after width folding and removing spaces, "YYYY-MM-DD",
// "YYYY/M/D", "YYYY.M.D", "YYYY年M月D日" or a Japanese-era date such as
// "平成2年4月2日" / "令和元年5月1日" (the date must fall inside that era).
// Errors never quote the input, which is personal data.
func ParseDate(s string) (Date, error) {
	s = strings.Join(strings.Fields(width.Fold.String(s)), "")
	var y, m, d int
	if g := reISODate.FindStringSubmatch(s); g != nil {
		y, m, d = atoi(g[1]), atoi(g[2]), atoi(g[3])
	} else if g := reKanji.FindStringSubmatch(s); g != nil {
		y, m, d = atoi(g[1]), atoi(g[2]), atoi(g[3])
	} else if g := reEra.FindStringSubmatch(s); g != nil {
		n := 1
		if g[2] != "元" {
			n = atoi(g[2])
		}
		m, d = atoi(g[3]), atoi(g[4])
		for i, e := range eras {
			if e.name != g[1] {
				continue
			}
			if n < 1 {
				return Date{}, fmt.Errorf("%w: era year 0", ErrInvalidDate)
			}
			y = e.offset + n
			date := Date{Year: y, Month: time.Month(m), Day: d}
			if !date.Valid() {
				return Date{}, fmt.Errorf("%w: no such day", ErrInvalidDate)
			}
			if date.Before(e.start) || (i > 0 && !date.Before(eras[i-1].start)) {
				return Date{}, fmt.Errorf("%w: outside the era %s", ErrInvalidDate, e.name)
			}
			return date, nil
		}
	} else {
		return Date{}, fmt.Errorf("%w: unrecognised format", ErrInvalidDate)
	}
	date := Date{Year: y, Month: time.Month(m), Day: d}
	if !date.Valid() {
		return Date{}, fmt.Errorf("%w: no such day", ErrInvalidDate)
	}
	return date, nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s) // the regexps admit only digits
	return n
}

// ErrInvalidDate is returned by ParseDate for an unreadable or non-existent date.
var ErrInvalidDate = validity.ErrInvalidDate

// Canonical sex codes (ISO/IEC 5218, the coding also used in Japanese
// public-sector data).
const (
	SexMale   = "1"
	SexFemale = "2"
)

// NormalizeSex maps the usual spellings of the register's two values
// (男/男性/M/male/1, 女/女性/F/female/2, any width or case) to SexMale or
// SexFemale; any other value is returned normalised but otherwise as is, so
// it only matches itself.
func NormalizeSex(s string) string {
	n := Normalize(s)
	switch strings.ToLower(n) {
	case "男", "男性", "m", "male", "1":
		return SexMale
	case "女", "女性", "f", "female", "2":
		return SexFemale
	}
	return n
}
