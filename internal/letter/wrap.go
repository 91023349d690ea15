package letter

import (
	"strings"
	"unicode/utf8"
)

// noLineStart are characters that must not begin a line (行頭禁則).
const noLineStart = "、。，．,.)）」』】〕〉》］｝〙〗ー・：；？！ゝゞぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ％"

// noLineEnd are characters that must not end a line (行末禁則).
const noLineEnd = "(（「『【〔〈《［｛〘〖"

// wrap breaks s into lines no wider than width, measured by measure:
// between any two Japanese characters, between ASCII words (a word longer
// than a line is cut), hanging closing punctuation and carrying opening
// brackets over.
func wrap(s string, width float64, measure func(string) float64) []string {
	var tokens []string
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r > ' ' && r <= '~' { // an ASCII word
			j := i
			for j < len(s) && s[j] > ' ' && s[j] <= '~' {
				j++
			}
			word := s[i:j]
			for measure(word) > width && len(word) > 1 {
				cut := 1 // the longest prefix that fits, at least one letter
				for cut < len(word)-1 && measure(word[:cut+1]) <= width {
					cut++
				}
				tokens = append(tokens, word[:cut])
				word = word[cut:]
			}
			tokens = append(tokens, word)
			i = j
			continue
		}
		tokens = append(tokens, s[i:i+n])
		i += n
	}
	var lines []string
	var cur []string
	curW := 0.0
	emit := func() {
		ln := strings.TrimRight(strings.Join(cur, ""), " 　")
		lines = append(lines, ln)
		cur, curW = nil, 0
	}
	for _, t := range tokens {
		w := measure(t)
		if len(cur) == 0 && len(lines) > 0 && (t == " " || t == "　") {
			continue // no space at the start of a continued line
		}
		if curW+w > width && len(cur) > 0 && !oneOf(noLineStart, t) {
			var carry []string
			if last := cur[len(cur)-1]; oneOf(noLineEnd, last) && len(cur) > 1 {
				carry = []string{last}
				cur = cur[:len(cur)-1]
			}
			emit()
			for _, c := range carry {
				cur = append(cur, c)
				curW += measure(c)
			}
			if t == " " || t == "　" {
				continue
			}
		}
		cur = append(cur, t)
		curW += w
	}
	if len(cur) > 0 {
		emit()
	}
	if len(lines) == 0 {
		lines = []string{""}
	}
	return lines
}

// oneOf reports whether token t is a single character of set.
func oneOf(set, t string) bool {
	r, n := utf8.DecodeRuneInString(t)
	return n == len(t) && n > 0 && strings.ContainsRune(set, r)
}
