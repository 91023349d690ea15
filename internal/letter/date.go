package letter

import (
	"fmt"
	"time"

	"github.com/madoguchi/madoguchi/internal/validity"
)

// tokyo is the time zone of every date on a letter.
var tokyo = validity.Tokyo

// era is a Japanese era (元号) and the first day of its first year.
type era struct {
	name  string
	start validity.Date
}

// eras lists the eras a letter may need, newest first.
var eras = []era{
	{"令和", validity.NewDate(2019, 5, 1)},
	{"平成", validity.NewDate(1989, 1, 8)},
	{"昭和", validity.NewDate(1926, 12, 25)},
}

var weekdays = [...]string{"日", "月", "火", "水", "木", "金", "土"}

// EraYear returns the era and year of d, such as "令和8年" or "令和元年";
// before 昭和 it falls back to the Gregorian year.
func EraYear(d validity.Date) string {
	for _, e := range eras {
		if !d.Before(e.start) {
			y := d.Year - e.start.Year + 1
			if y == 1 {
				return e.name + "元年"
			}
			return fmt.Sprintf("%s%d年", e.name, y)
		}
	}
	return fmt.Sprintf("%d年", d.Year)
}

// JapaneseDate formats d the way official letters do, with the era year,
// the weekday and the Gregorian date: "令和8年6月15日（月）（2026年6月15日）".
// The first year of an era is written 元年.
func JapaneseDate(d validity.Date) string {
	return fmt.Sprintf("%s%d月%d日（%s）（%d年%d月%d日）", EraYear(d), d.Month, d.Day,
		weekdays[d.Start().Weekday()], d.Year, d.Month, d.Day)
}

// JapaneseDateTime is JapaneseDate of t's date in Asia/Tokyo with the time
// of day: "令和8年6月15日（月）17時00分（2026年6月15日）". Deadlines are
// printed as dates, without it.
func JapaneseDateTime(t time.Time) string {
	t = t.In(tokyo)
	d := validity.DateOf(t)
	return fmt.Sprintf("%s%d月%d日（%s）%d時%02d分（%d年%d月%d日）", EraYear(d), d.Month, d.Day,
		weekdays[t.Weekday()], t.Hour(), t.Minute(), d.Year, d.Month, d.Day)
}
