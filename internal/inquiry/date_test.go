package inquiry

import (
	"testing"
	"time"
)

func TestJapaneseDates(t *testing.T) {
	utc := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, time.UTC) }
	tests := []struct {
		name     string
		t        time.Time
		era      string
		date     string
		dateTime string
	}{
		{"reiwa 8", time.Date(2026, 6, 15, 17, 0, 0, 0, tokyo), "令和8年",
			"令和8年6月15日（月）（2026年6月15日）", "令和8年6月15日（月）17時00分（2026年6月15日）"},
		{"first day of reiwa is 元年", time.Date(2019, 5, 1, 9, 5, 0, 0, tokyo), "令和元年",
			"令和元年5月1日（水）（2019年5月1日）", "令和元年5月1日（水）9時05分（2019年5月1日）"},
		{"last day of heisei", time.Date(2019, 4, 30, 23, 59, 0, 0, tokyo), "平成31年",
			"平成31年4月30日（火）（2019年4月30日）", "平成31年4月30日（火）23時59分（2019年4月30日）"},
		{"reiwa 2 starts on 1 January", time.Date(2020, 1, 1, 0, 0, 0, 0, tokyo), "令和2年",
			"令和2年1月1日（水）（2020年1月1日）", "令和2年1月1日（水）0時00分（2020年1月1日）"},
		// 2026-06-15 15:30 UTC is already the 16th in Tokyo.
		{"the date is Tokyo's", utc(2026, 6, 15, 15, 30), "令和8年",
			"令和8年6月16日（火）（2026年6月16日）", "令和8年6月16日（火）0時30分（2026年6月16日）"},
		// 2019-04-30 15:00 UTC is 1 May 00:00 in Tokyo: already 令和.
		{"era change at Tokyo midnight", utc(2019, 4, 30, 15, 0), "令和元年",
			"令和元年5月1日（水）（2019年5月1日）", "令和元年5月1日（水）0時00分（2019年5月1日）"},
		{"heisei 元年", time.Date(1989, 1, 8, 12, 0, 0, 0, tokyo), "平成元年",
			"平成元年1月8日（日）（1989年1月8日）", "平成元年1月8日（日）12時00分（1989年1月8日）"},
		{"showa 64", time.Date(1989, 1, 7, 12, 0, 0, 0, tokyo), "昭和64年",
			"昭和64年1月7日（土）（1989年1月7日）", "昭和64年1月7日（土）12時00分（1989年1月7日）"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EraYear(tt.t); got != tt.era {
				t.Errorf("EraYear = %q, want %q", got, tt.era)
			}
			if got := JapaneseDate(tt.t); got != tt.date {
				t.Errorf("JapaneseDate = %q, want %q", got, tt.date)
			}
			if got := JapaneseDateTime(tt.t); got != tt.dateTime {
				t.Errorf("JapaneseDateTime = %q, want %q", got, tt.dateTime)
			}
		})
	}
}
