package inquiry

import (
	"fmt"
	"time"
)

// tokyo is the time zone of every date on a letter.
var tokyo = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		return time.FixedZone("Asia/Tokyo", 9*3600)
	}
	return loc
}()

// era is a Japanese era (元号) and the first day of its first year.
type era struct {
	name  string
	start time.Time
}

// eras lists the eras a letter may need, newest first.
var eras = []era{
	{"令和", time.Date(2019, 5, 1, 0, 0, 0, 0, tokyo)},
	{"平成", time.Date(1989, 1, 8, 0, 0, 0, 0, tokyo)},
	{"昭和", time.Date(1926, 12, 25, 0, 0, 0, 0, tokyo)},
}

var weekdays = [...]string{"日", "月", "火", "水", "木", "金", "土"}

// JapaneseDate formats t's date in Asia/Tokyo the way official letters do,
// with the era year and the Gregorian date: "令和8年6月15日（月）（2026年6月15日）".
// The first year of an era is written 元年.
func JapaneseDate(t time.Time) string {
	d := t.In(tokyo)
	return fmt.Sprintf("%s%d月%d日（%s）（%d年%d月%d日）", EraYear(d), d.Month(), d.Day(),
		weekdays[d.Weekday()], d.Year(), d.Month(), d.Day())
}

// JapaneseDateTime is JapaneseDate with the time of day:
// "令和8年6月15日（月）17時00分（2026年6月15日）".
func JapaneseDateTime(t time.Time) string {
	d := t.In(tokyo)
	return fmt.Sprintf("%s%d月%d日（%s）%d時%02d分（%d年%d月%d日）", EraYear(d), d.Month(), d.Day(),
		weekdays[d.Weekday()], d.Hour(), d.Minute(), d.Year(), d.Month(), d.Day())
}

// EraYear returns the era and year of t's date in Asia/Tokyo, such as
// "令和8年" or "令和元年"; before 昭和 it falls back to the Gregorian year.
func EraYear(t time.Time) string {
	d := t.In(tokyo)
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, tokyo)
	for _, e := range eras {
		if !day.Before(e.start) {
			y := d.Year() - e.start.Year() + 1
			if y == 1 {
				return e.name + "元年"
			}
			return fmt.Sprintf("%s%d年", e.name, y)
		}
	}
	return fmt.Sprintf("%d年", d.Year())
}
