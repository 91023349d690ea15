package register

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func d(y int, m time.Month, day int) Date { return Date{Year: y, Month: m, Day: day} }

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"山田　太郎", "山田 太郎"},
		{"  山田   太郎  ", "山田 太郎"},
		{"山田\t太郎", "山田 太郎"},
		{"山田　 　太郎", "山田 太郎"},
		{"ＹＡＭＡＤＡ　Ｔａｒｏ", "YAMADA Taro"},
		{"東京都千代田区霞が関２丁目１番２号", "東京都千代田区霞が関2丁目1番2号"},
		{"１－２－３", "1-2-3"},
		{"ｶﾞｰﾃﾞﾝﾊｲﾂ", "ガーデンハイツ"},
		{"ﾊﾟﾚｽ", "パレス"},
		{"ｳﾞｨﾗ", "ヴィラ"},
		{"か\u3099", "が"},       // decomposed hiragana recomposed
		{"ｱﾞ", "ア\u3099"},      // no precomposed form: left as is
		{"A\u3099", "A\u3099"}, // a mark after a non-kana is not touched
		{"\uF929", "\uF929"},   // compatibility ideograph kept (NFC would give U+6717)
		{"yamada", "yamada"},   // no case folding
		{"", ""},
		{"　", ""},
		{"二丁目", "二丁目"}, // no numeral conversion
	}
	for _, tc := range tests {
		if got := Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q (%U), want %q", tc.in, got, []rune(got), tc.want)
		}
	}
	// Equalities and inequalities that Check relies on.
	same := [][2]string{{"山田　太郎", "山田 太郎"}, {"ＡＢＣ１２３", "ABC123"}, {"ｶﾞｰﾃﾞﾝ", "ガーデン"}}
	for _, p := range same {
		if Normalize(p[0]) != Normalize(p[1]) {
			t.Errorf("%q and %q should normalise alike", p[0], p[1])
		}
	}
	differ := [][2]string{{"山田太郎", "山田 太郎"}, {"Yamada", "YAMADA"}, {"\uF929", "\u6717"}, {"2丁目", "二丁目"}, {"ガ", "カ"}}
	for _, p := range differ {
		if Normalize(p[0]) == Normalize(p[1]) {
			t.Errorf("%q and %q should stay different", p[0], p[1])
		}
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in      string
		want    Date
		wantErr bool
	}{
		{"1990-04-02", d(1990, 4, 2), false},
		{"1990/4/2", d(1990, 4, 2), false},
		{"1990.04.02", d(1990, 4, 2), false},
		{"１９９０－０４－０２", d(1990, 4, 2), false},
		{"１９９０年４月２日", d(1990, 4, 2), false},
		{" 1990 年 4 月 2 日 ", d(1990, 4, 2), false},
		{"平成2年4月2日", d(1990, 4, 2), false},
		{"平成２年４月２日", d(1990, 4, 2), false},
		{"昭和64年1月7日", d(1989, 1, 7), false},
		{"昭和64年1月8日", Date{}, true},
		{"平成元年1月8日", d(1989, 1, 8), false},
		{"平成元年1月7日", Date{}, true},
		{"平成31年4月30日", d(2019, 4, 30), false},
		{"平成31年5月1日", Date{}, true},
		{"令和元年5月1日", d(2019, 5, 1), false},
		{"令和1年5月1日", d(2019, 5, 1), false},
		{"令和元年4月30日", Date{}, true},
		{"令和0年5月1日", Date{}, true},
		{"令和2年2月29日", d(2020, 2, 29), false},
		{"令和3年2月29日", Date{}, true},
		{"昭和元年12月25日", d(1926, 12, 25), false},
		{"昭和元年12月24日", Date{}, true},
		{"大正元年7月30日", d(1912, 7, 30), false},
		{"明治45年7月29日", d(1912, 7, 29), false},
		{"明治45年7月30日", Date{}, true},
		{"明治5年1月1日", Date{}, true}, // lunisolar calendar, not convertible
		{"1990-02-30", Date{}, true},
		{"1990-13-01", Date{}, true},
		{"", Date{}, true},
		{"April 2, 1990", Date{}, true},
		{"90-04-02", Date{}, true},
	}
	for _, tc := range tests {
		got, err := ParseDate(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseDate(%q) = %s, %v; want %s, err=%v", tc.in, got, err, tc.want, tc.wantErr)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidDate) {
				t.Errorf("ParseDate(%q) error is not ErrInvalidDate: %v", tc.in, err)
			}
			if tc.in != "" && strings.Contains(err.Error(), strings.TrimSpace(tc.in)) {
				t.Errorf("ParseDate error quotes its input: %v", err)
			}
		}
	}
}

func TestNormalizeSex(t *testing.T) {
	tests := []struct{ in, want string }{
		{"男", SexMale}, {"男性", SexMale}, {"M", SexMale}, {"m", SexMale}, {"Male", SexMale}, {"ＭＡＬＥ", SexMale}, {"1", SexMale}, {"１", SexMale},
		{"女", SexFemale}, {"女性", SexFemale}, {"F", SexFemale}, {"female", SexFemale}, {"2", SexFemale}, {" 女 ", SexFemale},
		{"9", "9"}, {"", ""}, {"男女", "男女"},
	}
	for _, tc := range tests {
		if got := NormalizeSex(tc.in); got != tc.want {
			t.Errorf("NormalizeSex(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestAge(t *testing.T) {
	tests := []struct {
		name         string
		birth, today Date
		want         int
	}{
		{"day before 15th birthday", d(2011, 6, 15), d(2026, 6, 14), 14},
		{"15th birthday", d(2011, 6, 15), d(2026, 6, 15), 15},
		{"day after 15th birthday", d(2011, 6, 15), d(2026, 6, 16), 15},
		{"29 Feb born, 28 Feb of a non-leap year", d(2012, 2, 29), d(2027, 2, 28), 14},
		{"29 Feb born, 1 Mar of a non-leap year", d(2012, 2, 29), d(2027, 3, 1), 15},
		{"29 Feb born, 28 Feb of a leap year", d(2012, 2, 29), d(2028, 2, 28), 15},
		{"29 Feb born, 29 Feb of a leap year", d(2012, 2, 29), d(2028, 2, 29), 16},
		{"28 Feb born, 28 Feb", d(2011, 2, 28), d(2026, 2, 28), 15},
		{"1 Mar born in a leap year, 29 Feb", d(2012, 3, 1), d(2028, 2, 29), 15},
		{"year boundary", d(1990, 12, 31), d(2026, 1, 1), 35},
		{"31 Dec birthday", d(1990, 12, 31), d(2026, 12, 31), 36},
		{"day of birth", d(2026, 6, 15), d(2026, 6, 15), 0},
		{"before birth", d(2000, 1, 1), d(1999, 12, 31), -1},
	}
	for _, tc := range tests {
		if got := Age(tc.birth, tc.today); got != tc.want {
			t.Errorf("%s: Age(%s, %s) = %d, want %d", tc.name, tc.birth, tc.today, got, tc.want)
		}
	}
}

func TestSameMunicipality(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"131016", "131016", true}, {"13101", "131016", true}, {"131016", "13101", true}, {"１３１０１６", "131016", true},
		{"131016", "131024", false}, {"13102", "131016", false}, {"", "", false}, {"1310", "131016", false}, {"13101", "13101X", false},
	}
	for _, tc := range tests {
		if got := SameMunicipality(tc.a, tc.b); got != tc.want {
			t.Errorf("SameMunicipality(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

var (
	baseRec = Record{
		ResidentCode: "12345678901", MunicipalityCode: "131016",
		Name: "山田 太郎", NameKana: "ヤマダ タロウ", BirthDate: "1990-04-02", Sex: "男",
		Address: "東京都千代田区霞が関2丁目1番2号", Status: StatusResident,
	}
	baseApp = Application{
		Name: "山田 太郎", BirthDate: "1990-04-02", Sex: "男", Address: "東京都千代田区霞が関2丁目1番2号",
		WantSigning: true, WantUserAuth: true,
	}
	today = d(2026, 6, 15)
)

// personal lists the personal values of the fixtures; no message may echo them.
var personal = []string{"山田", "太郎", "ヤマダ", "霞が関", "1990", "12345678901", "平成", "ヤマモト", "ホシノ", "2011-06"}

func TestCheck(t *testing.T) {
	rec := func(f func(*Record)) Record { r := baseRec; f(&r); return r }
	app := func(f func(*Application)) Application { a := baseApp; f(&a); return a }
	child := func(birth string) Record { return rec(func(r *Record) { r.BirthDate = birth }) }
	childApp := func(birth string) Application { return app(func(a *Application) { a.BirthDate = birth }) }

	tests := []struct {
		name  string
		rec   Record
		app   Application
		muni  string
		today Date
		want  []string // rejection codes in order; nil when accepted
	}{
		{name: "matching application", rec: baseRec, app: baseApp},
		{name: "width and space differences are not mismatches", rec: baseRec, app: app(func(a *Application) {
			a.Name, a.Address, a.BirthDate, a.Sex = "山田　　太郎 ", "東京都千代田区霞が関２丁目１番２号", "１９９０／４／２", "男性"
		})},
		{name: "era birth date", rec: baseRec, app: app(func(a *Application) { a.BirthDate = "平成2年4月2日" })},
		{name: "half-width kana in the address", rec: rec(func(r *Record) { r.Address = "東京都千代田区霞が関2丁目1番2号ガーデンハイツ101" }),
			app: app(func(a *Application) {
				a.Address = "東京都千代田区霞が関2丁目1番2号ｶﾞｰﾃﾞﾝﾊｲﾂ101"
			})},
		{name: "5-digit municipality code", rec: baseRec, app: baseApp, muni: "13101"},
		{name: "moved out", rec: rec(func(r *Record) { r.Status = "moved_out" }), app: baseApp, want: []string{CodeNotResident}},
		{name: "deceased", rec: rec(func(r *Record) { r.Status = "deceased" }), app: baseApp, want: []string{CodeNotResident}},
		{name: "other municipality", rec: baseRec, app: baseApp, muni: "131024", want: []string{CodeOtherMunicipality}},
		{name: "nothing requested", rec: baseRec, app: app(func(a *Application) { a.WantSigning, a.WantUserAuth = false, false }), want: []string{CodeNoCertificateRequested}},
		{name: "different name", rec: baseRec, app: app(func(a *Application) { a.Name = "山田 太朗" }), want: []string{CodeMismatchName}},
		{name: "missing space is a mismatch", rec: baseRec, app: app(func(a *Application) { a.Name = "山田太郎" }), want: []string{CodeMismatchName}},
		{name: "letter case is a mismatch", rec: rec(func(r *Record) { r.Name = "SMITH JOHN" }), app: app(func(a *Application) { a.Name = "Smith John" }), want: []string{CodeMismatchName}},
		{name: "full-width latin name matches", rec: rec(func(r *Record) { r.Name = "SMITH JOHN" }), app: app(func(a *Application) { a.Name = "ＳＭＩＴＨ　ＪＯＨＮ" })},
		{name: "empty name", rec: baseRec, app: app(func(a *Application) { a.Name = "" }), want: []string{CodeMismatchName}},
		{name: "different birth date", rec: baseRec, app: app(func(a *Application) { a.BirthDate = "1990-04-03" }), want: []string{CodeMismatchBirthDate}},
		{name: "unreadable birth date", rec: baseRec, app: app(func(a *Application) { a.BirthDate = "1990-13-01" }), want: []string{CodeInvalidBirthDate}},
		{name: "different sex", rec: baseRec, app: app(func(a *Application) { a.Sex = "女" }), want: []string{CodeMismatchSex}},
		{name: "sex as a code", rec: baseRec, app: app(func(a *Application) { a.Sex = "1" })},
		{name: "kanji numeral address is a mismatch", rec: baseRec, app: app(func(a *Application) { a.Address = "東京都千代田区霞が関二丁目1番2号" }), want: []string{CodeMismatchAddress}},
		{name: "former surname matches", rec: rec(func(r *Record) { r.FormerSurname = "ヤマモト" }), app: app(func(a *Application) { a.FormerSurname = "ヤマモト" })},
		{name: "former surname recorded but not given", rec: rec(func(r *Record) { r.FormerSurname = "ヤマモト" }), app: baseApp},
		{name: "former surname differs", rec: rec(func(r *Record) { r.FormerSurname = "ヤマモト" }), app: app(func(a *Application) { a.FormerSurname = "ヤマモド" }), want: []string{CodeMismatchFormerSurname}},
		{name: "former surname given, none recorded", rec: baseRec, app: app(func(a *Application) { a.FormerSurname = "ヤマモト" }), want: []string{CodeMismatchFormerSurname}},
		{name: "alias matches across widths", rec: rec(func(r *Record) { r.Alias = "ホシノ　ヒカル" }), app: app(func(a *Application) { a.Alias = "ﾎｼﾉ ﾋｶﾙ" })},
		{name: "alias given, none recorded", rec: baseRec, app: app(func(a *Application) { a.Alias = "ホシノ" }), want: []string{CodeMismatchAlias}},
		{name: "day before 15th birthday, signing", rec: child("2011-06-16"), app: childApp("2011-06-16"), want: []string{CodeUnder15Signing}},
		{name: "15th birthday, signing", rec: child("2011-06-15"), app: childApp("2011-06-15")},
		{name: "day after 15th birthday, signing", rec: child("2011-06-14"), app: childApp("2011-06-14")},
		{name: "under 15, user authentication only", rec: child("2016-01-01"),
			app: app(func(a *Application) { a.BirthDate, a.WantSigning = "2016-01-01", false })},
		{name: "29 Feb born, 28 Feb of the 15th year", rec: child("2012-02-29"), app: childApp("2012-02-29"), today: d(2027, 2, 28), want: []string{CodeUnder15Signing}},
		{name: "29 Feb born, 1 Mar of the 15th year", rec: child("2012-02-29"), app: childApp("2012-02-29"), today: d(2027, 3, 1)},
		{name: "adult ward, signing", rec: rec(func(r *Record) { r.AdultWard = true }), app: baseApp, want: []string{CodeAdultWardSigning}},
		{name: "adult ward, user authentication only", rec: rec(func(r *Record) { r.AdultWard = true }), app: app(func(a *Application) { a.WantSigning = false })},
		{name: "several problems at once, in order",
			rec:  rec(func(r *Record) { r.BirthDate, r.AdultWard, r.Status = "2016-01-01", true, "moved_out" }),
			app:  app(func(a *Application) { a.BirthDate, a.Name, a.Address = "2016-01-01", "山田 次郎", "どこか" }),
			want: []string{CodeNotResident, CodeMismatchName, CodeMismatchAddress, CodeUnder15Signing, CodeAdultWardSigning}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			muni, day := tc.muni, tc.today
			if muni == "" {
				muni = "131016"
			}
			if day.IsZero() {
				day = today
			}
			rs, err := CheckAll(tc.rec, tc.app, muni, day)
			if err != nil {
				t.Fatalf("CheckAll error: %v", err)
			}
			var got []string
			for _, r := range rs {
				got = append(got, r.Code)
				assertNoPersonal(t, r.Error())
				if !strings.Contains(r.Message, " / ") || r.Message == "" {
					t.Errorf("message for %s is not bilingual: %q", r.Code, r.Message)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("codes %v, want %v", got, tc.want)
			}
			err = Check(tc.rec, tc.app, muni, day)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			var re *RejectionError
			if !errors.As(err, &re) || re.Code != tc.want[0] {
				t.Fatalf("Check = %v, want the first rejection %s", err, tc.want[0])
			}
			if !errors.Is(err, &RejectionError{Code: tc.want[0]}) || errors.Is(err, ErrInvalidRecord) {
				t.Errorf("errors.Is on %v", err)
			}
		})
	}
}

func TestCheckSentinels(t *testing.T) {
	tests := []struct {
		app  Application
		want error
	}{
		{app: Application{Name: "x", BirthDate: "1990-04-02", Sex: "男", Address: baseApp.Address, WantUserAuth: true}, want: ErrMismatchName},
		{app: Application{Name: baseApp.Name, BirthDate: "1990-04-02", Sex: "女", Address: baseApp.Address, WantUserAuth: true}, want: ErrMismatchSex},
	}
	for _, tc := range tests {
		err := Check(baseRec, tc.app, "131016", today)
		if !errors.Is(err, tc.want) {
			t.Errorf("Check = %v, want %v", err, tc.want)
		}
		if errors.Is(err, ErrUnder15Signing) {
			t.Errorf("%v should not match another code", err)
		}
	}
}

func TestCheckInvalidInput(t *testing.T) {
	rec := func(f func(*Record)) Record { r := baseRec; f(&r); return r }
	tests := []struct {
		name  string
		rec   Record
		muni  string
		today Date
	}{
		{"record without name", rec(func(r *Record) { r.Name = "　" }), "131016", today},
		{"record without address", rec(func(r *Record) { r.Address = "" }), "131016", today},
		{"record without status", rec(func(r *Record) { r.Status = "" }), "131016", today},
		{"record with unreadable birth date", rec(func(r *Record) { r.BirthDate = "1990-02-30" }), "131016", today},
		{"record born after the application date", rec(func(r *Record) { r.BirthDate = "2026-06-16" }), "131016", today},
		{"no municipality code", baseRec, "", today},
		{"no application date", baseRec, "131016", Date{}},
		{"impossible application date", baseRec, "131016", d(2026, 2, 29)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.rec, baseApp, tc.muni, tc.today)
			if !errors.Is(err, ErrInvalidRecord) {
				t.Fatalf("Check = %v, want ErrInvalidRecord", err)
			}
			var re *RejectionError
			if errors.As(err, &re) {
				t.Errorf("an invalid record must not look like a rejection: %v", err)
			}
			assertNoPersonal(t, err.Error())
		})
	}
}

func assertNoPersonal(t *testing.T, msg string) {
	t.Helper()
	for _, p := range personal {
		if strings.Contains(msg, p) {
			t.Errorf("message echoes personal value %q: %q", p, msg)
		}
	}
}
