package inquiry

import (
	"time"

	"github.com/madoguchi/madoguchi/internal/letter"
	"github.com/madoguchi/madoguchi/internal/validity"
)

// tokyo is the time zone of every date on a letter.
var tokyo = validity.Tokyo

// JapaneseDate formats t's date in Asia/Tokyo the way official letters do,
// with the era year and the Gregorian date: "令和8年6月15日（月）（2026年6月15日）".
// The first year of an era is written 元年 (letter.JapaneseDate).
func JapaneseDate(t time.Time) string { return letter.JapaneseDate(validity.DateOf(t)) }

// JapaneseDateTime is JapaneseDate with the time of day:
// "令和8年6月15日（月）17時00分（2026年6月15日）".
func JapaneseDateTime(t time.Time) string { return letter.JapaneseDateTime(t) }

// EraYear returns the era and year of t's date in Asia/Tokyo, such as
// "令和8年" or "令和元年"; before 昭和 it falls back to the Gregorian year.
func EraYear(t time.Time) string { return letter.EraYear(validity.DateOf(t)) }
