// Package demo is the embedded demo data: three municipalities, a post
// office, their clerks, a few residents in the register, their cards, the
// counter terminals and the delegations between them (第2 5, 第2 6).
// Everything is fictitious; the password is printed by `make run`.
package demo

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/madoguchi/madoguchi/internal/storage"
)

// Password is the demo clerks' password.
const Password = "madoguchi-demo"

// Municipality codes (全国地方公共団体コード, 6 digits with check digit).
const (
	Chiyoda  = "131016" // 東京都千代田区
	Yokohama = "141003" // 神奈川県横浜市
	// Kawasaki delegates its certification work to Yokohama's head (第2 5).
	Kawasaki = "141305" // 神奈川県川崎市
)

// PostOffice is the demo post office's office code: 千代田郵便局, under a
// delegation from 千代田区 (第2 6).
const PostOffice = "jp-chiyoda"

// DelegationsStart is the first day of the demo delegations.
const DelegationsStart = "2026-04-01"

// Resident codes of the demo residents, by what they are good for.
const (
	ResidentAdult       = "00000000011" // an ordinary adult with a card
	ResidentLeapDay     = "00000000028" // born on 29 February
	ResidentChild       = "00000000036" // under 15: no signing certificate
	ResidentAdultWard   = "00000000044" // adult ward: no signing certificate
	ResidentMovedOut    = "00000000052" // moved out of Chiyoda
	ResidentYokohama    = "00000000060" // a resident of Yokohama
	ResidentCrash       = "00000000079" // used by the crash test
	ResidentPrivacy     = "00000000087" // used by the privacy test
	ResidentSecondCard  = "00000000095" // for a second terminal
	ResidentProxy       = "00000000109" // applies through a proxy
	ResidentRelay       = "00000000117" // applies through a relay municipality
	ResidentKitFail     = "00000000125" // the kit test of a case that fails for good
	ResidentKitSlow     = "00000000133" // the kit test of a slow card write
	ResidentKitReach    = "00000000141" // the kit test of a terminal that does not respond
	ResidentRevoke      = "00000000206" // revokes in person (第2 2(1))
	ResidentProxyRevoke = "00000000214" // revokes through a proxy (第2 2(2))
	ResidentLostCard    = "00000000222" // reports the card lost, then finds it (第3 2)
	ResidentPostOffice  = "00000000230" // applies at the post office (第2 6)
	ResidentKawasaki    = "00000000249" // a resident of Kawasaki (第2 5 at Yokohama)
	ResidentPIN         = "00000000257" // changes and resets PINs (第3 1)
	ResidentDisclosure  = "00000000265" // asks for their records, then a correction (第2 3, 4)
	ResidentNoRecords   = "00000000273" // asks through a proxy, and has no records (第2 3(2))
	ResidentConsole     = "00000000281" // applies through a proxy in the console's browser test
	ResidentCorrection  = "00000000290" // asks in the console's browser test for a correction of two items (第2 4(1))
	ResidentScopedKeys  = "00000000338" // issued at a terminal holding only 千代田区's codec keys
)

// Resident is a demo register record with its card.
type Resident struct {
	storage.Resident
	CardSerial string
	CardExpiry string // YYYY-MM-DD
}

// Residents are the demo register.
var Residents = []Resident{
	{storage.Resident{ResidentCode: ResidentAdult, MunicipalityCode: Chiyoda, Name: "山田 太郎", NameKana: "ヤマダ タロウ",
		Sex: "male", Address: "東京都千代田区千代田1番1号", Status: "resident"}, "C131016000001", "2034-04-01"},
	{storage.Resident{ResidentCode: ResidentLeapDay, MunicipalityCode: Chiyoda, Name: "佐藤 花子", NameKana: "サトウ ハナコ",
		FormerSurname: "鈴木", Sex: "female", Address: "東京都千代田区丸の内2丁目3番4号", Status: "resident"}, "C131016000002", "2035-02-28"},
	{storage.Resident{ResidentCode: ResidentChild, MunicipalityCode: Chiyoda, Name: "鈴木 一郎", NameKana: "スズキ イチロウ",
		Sex: "male", Address: "東京都千代田区神田5番6号", Status: "resident"}, "C131016000003", "2031-06-15"},
	{storage.Resident{ResidentCode: ResidentAdultWard, MunicipalityCode: Chiyoda, Name: "田中 次郎", NameKana: "タナカ ジロウ",
		Sex: "male", Address: "東京都千代田区麹町7番8号", Status: "resident", AdultWard: true}, "C131016000004", "2033-09-30"},
	{storage.Resident{ResidentCode: ResidentMovedOut, MunicipalityCode: Chiyoda, Name: "高橋 美咲", NameKana: "タカハシ ミサキ",
		Sex: "female", Address: "東京都千代田区九段9番10号", Status: "moved_out"}, "C131016000005", "2032-12-01"},
	{storage.Resident{ResidentCode: ResidentYokohama, MunicipalityCode: Yokohama, Name: "伊藤 健", NameKana: "イトウ ケン",
		Sex: "male", Address: "神奈川県横浜市中区本町1丁目1番地", Status: "resident"}, "C141003000006", "2034-07-07"},
	{storage.Resident{ResidentCode: ResidentCrash, MunicipalityCode: Chiyoda, Name: "渡辺 直子", NameKana: "ワタナベ ナオコ",
		Sex: "female", Address: "東京都千代田区霞が関1丁目2番3号", Status: "resident"}, "C131016000007", "2035-05-05"},
	{storage.Resident{ResidentCode: ResidentPrivacy, MunicipalityCode: Chiyoda, Name: "小林 誠", NameKana: "コバヤシ マコト",
		Sex: "male", Address: "東京都千代田区永田町3丁目4番5号", Status: "resident", Alias: "コバヤシ・マコ"}, "C131016000008", "2035-03-03"},
	{storage.Resident{ResidentCode: ResidentSecondCard, MunicipalityCode: Chiyoda, Name: "加藤 恵", NameKana: "カトウ メグミ",
		Sex: "female", Address: "東京都千代田区有楽町1丁目1番1号", Status: "resident"}, "C131016000009", "2034-11-11"},
	{storage.Resident{ResidentCode: ResidentProxy, MunicipalityCode: Chiyoda, Name: "中村 清", NameKana: "ナカムラ キヨシ",
		Sex: "male", Address: "東京都千代田区外神田4丁目5番6号", Status: "resident"}, "C131016000010", "2034-08-08"},
	{storage.Resident{ResidentCode: ResidentRelay, MunicipalityCode: Chiyoda, Name: "松本 遥", NameKana: "マツモト ハルカ",
		Sex: "female", Address: "東京都千代田区一番町7番地", Status: "resident"}, "C131016000011", "2035-01-20"},
	{storage.Resident{ResidentCode: ResidentKitFail, MunicipalityCode: Chiyoda, Name: "山本 陽子", NameKana: "ヤマモト ヨウコ",
		Sex: "female", Address: "東京都千代田区三番町2番地", Status: "resident"}, "C131016000012", "2034-10-10"},
	{storage.Resident{ResidentCode: ResidentKitSlow, MunicipalityCode: Chiyoda, Name: "井上 大輔", NameKana: "イノウエ ダイスケ",
		Sex: "male", Address: "東京都千代田区四番町3番地", Status: "resident"}, "C131016000013", "2034-12-12"},
	{storage.Resident{ResidentCode: ResidentKitReach, MunicipalityCode: Chiyoda, Name: "木村 彩", NameKana: "キムラ アヤ",
		Sex: "female", Address: "東京都千代田区五番町4番地", Status: "resident"}, "C131016000014", "2035-06-06"},
	{storage.Resident{ResidentCode: ResidentRevoke, MunicipalityCode: Chiyoda, Name: "林 和夫", NameKana: "ハヤシ カズオ",
		Sex: "male", Address: "東京都千代田区六番町5番地", Status: "resident"}, "C131016000020", "2034-05-20"},
	{storage.Resident{ResidentCode: ResidentProxyRevoke, MunicipalityCode: Chiyoda, Name: "清水 京子", NameKana: "シミズ キョウコ",
		Sex: "female", Address: "東京都千代田区紀尾井町6番地", Status: "resident"}, "C131016000021", "2035-04-21"},
	{storage.Resident{ResidentCode: ResidentLostCard, MunicipalityCode: Chiyoda, Name: "森 正樹", NameKana: "モリ マサキ",
		Sex: "male", Address: "東京都千代田区平河町7番地", Status: "resident"}, "C131016000022", "2034-09-22"},
	{storage.Resident{ResidentCode: ResidentPostOffice, MunicipalityCode: Chiyoda, Name: "池田 里美", NameKana: "イケダ サトミ",
		Sex: "female", Address: "東京都千代田区飯田橋1丁目2番地", Status: "resident"}, "C131016000023", "2035-08-23"},
	{storage.Resident{ResidentCode: ResidentKawasaki, MunicipalityCode: Kawasaki, Name: "橋本 拓也", NameKana: "ハシモト タクヤ",
		Sex: "male", Address: "神奈川県川崎市川崎区宮本町1番地", Status: "resident"}, "C141305000024", "2034-02-24"},
	{storage.Resident{ResidentCode: ResidentPIN, MunicipalityCode: Chiyoda, Name: "石井 光", NameKana: "イシイ ヒカル",
		Sex: "female", Address: "東京都千代田区富士見2丁目3番地", Status: "resident"}, "C131016000025", "2035-10-25"},
	{storage.Resident{ResidentCode: ResidentDisclosure, MunicipalityCode: Chiyoda, Name: "小川 直子", NameKana: "オガワ ナオコ",
		Sex: "female", Address: "東京都千代田区九段南1丁目2番1号", Status: "resident"}, "C131016000026", "2035-11-26"},
	{storage.Resident{ResidentCode: ResidentNoRecords, MunicipalityCode: Chiyoda, Name: "岡本 健", NameKana: "オカモト ケン",
		Sex: "male", Address: "東京都千代田区三番町3番地", Status: "resident"}, "C131016000027", "2034-12-27"},
	{storage.Resident{ResidentCode: ResidentConsole, MunicipalityCode: Chiyoda, Name: "前田 聡", NameKana: "マエダ サトシ",
		Sex: "male", Address: "東京都千代田区西神田2丁目8番地", Status: "resident"}, "C131016000028", "2035-07-28"},
	{storage.Resident{ResidentCode: ResidentCorrection, MunicipalityCode: Chiyoda, Name: "石井 真理", NameKana: "イシイ マリ",
		Sex: "female", Address: "東京都千代田区神田神保町1丁目1番地", Status: "resident"}, "C131016000029", "2036-03-29"},
	{storage.Resident{ResidentCode: ResidentScopedKeys, MunicipalityCode: Chiyoda, Name: "西村 翔", NameKana: "ニシムラ ショウ",
		Sex: "male", Address: "東京都千代田区内神田3丁目3番地", Status: "resident"}, "C131016000030", "2035-09-30"},
}

// birthDates are kept apart from the struct literal for readability.
var birthDates = map[string]string{
	ResidentAdult: "1980-04-01", ResidentLeapDay: "1992-02-29", ResidentChild: "2014-06-15",
	ResidentAdultWard: "1955-09-30", ResidentMovedOut: "1988-12-01", ResidentYokohama: "1975-07-07",
	ResidentCrash: "1990-05-05", ResidentPrivacy: "1985-03-03", ResidentSecondCard: "1979-11-11",
	ResidentProxy: "1948-08-08", ResidentRelay: "1996-01-20",
	ResidentKitFail: "1983-10-10", ResidentKitSlow: "1977-12-12", ResidentKitReach: "1999-06-06",
	ResidentPIN: "1993-10-25", ResidentRevoke: "1970-05-20", ResidentProxyRevoke: "1986-04-21", ResidentLostCard: "1991-09-22",
	ResidentPostOffice: "1982-08-23", ResidentKawasaki: "1973-02-24",
	ResidentDisclosure: "1968-11-26", ResidentNoRecords: "1959-12-27", ResidentConsole: "1951-07-28",
	ResidentCorrection: "1987-03-29", ResidentScopedKeys: "1994-09-30",
}

// BirthDate returns a demo resident's date of birth (YYYY-MM-DD).
func BirthDate(residentCode string) string { return birthDates[residentCode] }

// Find returns the demo resident with the code.
func Find(residentCode string) Resident {
	for _, r := range Residents {
		if r.ResidentCode == residentCode {
			return r
		}
	}
	return Resident{}
}

// Clerks are the demo staff: login, display name, role, municipality.
var Clerks = [][4]string{
	{"clerk1", "窓口 一郎", "clerk", Chiyoda},
	{"clerk2", "窓口 二郎", "clerk", Chiyoda},
	{"manager1", "管理 花子", "manager", Chiyoda},
	// A second manager approves what manager1 submits (第3 3 disposal lists).
	{"manager2", "管理 次郎", "manager", Chiyoda},
	// Chiyoda's auditor reads case histories and searches who read them.
	{"auditor1", "監査 三郎", "auditor", Chiyoda},
	{"yokohama1", "横浜 窓口", "clerk", Yokohama},
	// Kawasaki's manager records its delegations (第2 5).
	{"kawasaki1", "川崎 管理", "manager", Kawasaki},
	// A post office's clerk takes the delegated applications (第2 6).
	{"post1", "郵便 窓口", "clerk", PostOffice},
	// The Organization's operator takes loss reports (the 24-hour line).
	{"jlis1", "機構 受付", "operator", Organization},
}

// Municipalities are the demo municipalities: code, name.
var Municipalities = [][2]string{{Chiyoda, "東京都千代田区"}, {Yokohama, "神奈川県横浜市"}, {Kawasaki, "神奈川県川崎市"}}

// Delegations are the demo delegations: delegating municipality, delegate
// office, the manager who recorded it, its procedures. Each starts on
// DelegationsStart and has no end; Kawasaki's was notified to the
// Organization (規則66) the same day.
var Delegations = []struct {
	Municipality, Office, Manager string
	Procedures                    []string
}{
	// 第2 6: the post office does issuance / renewal and the PIN change and
	// reset for 千代田区.
	{Chiyoda, PostOffice, "manager1", []string{"inperson-issuance", "inperson-pin-change", "inperson-pin-reset", "proxy-pin-reset"}},
	{Kawasaki, Yokohama, "kawasaki1", []string{"inperson-issuance", "inperson-revocation", "proxy-issuance", "proxy-revocation", "inperson-hold-release", "proxy-hold-release",
		"inperson-pin-change", "inperson-pin-reset", "proxy-pin-reset"}},
}

// Organization is the Organization's (機構) office code.
const Organization = "jlis"

// NoPINReset are the demo terminals not authorised to reset PINs (every
// demo card agent holds the demo terminal key; the record says which the
// Organization authorised).
var NoPINReset = []string{"T0002"}

// Terminals are the demo counter terminals: id, municipality, reader.
var Terminals = [][3]string{
	{"T0001", Chiyoda, "Virtual PCD 00 00"},
	{"T0002", Chiyoda, "Virtual PCD 00 01"},
	{"Y0001", Yokohama, "Virtual PCD 00 01"},
	// The post office's own terminal.
	{"P0001", PostOffice, "Virtual PCD 00 01"},
}

// Seed writes the demo data; it is idempotent.
func Seed(ctx context.Context, db *storage.DB) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(Password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		exec := func(sql string, args ...any) error {
			if _, err := tx.Exec(ctx, sql, args...); err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			return nil
		}
		for _, m := range Municipalities {
			if err := exec(`INSERT INTO municipalities (code, name) VALUES ($1, $2) ON CONFLICT DO NOTHING`, m[0], m[1]); err != nil {
				return err
			}
			if err := exec(`INSERT INTO offices (code, kind, name) VALUES ($1, 'municipality', $2) ON CONFLICT DO NOTHING`, m[0], m[1]); err != nil {
				return err
			}
			// The rule in force (第3 5, internal/fee): issuance free, the
			// certificates of a re-issued card 200 yen. Migration 014's
			// trigger seeds the same rows; they are named here so the demo
			// says what it charges.
			if err := exec(`INSERT INTO fee_schedule (municipality_code, item, amount_yen, valid_from)
				VALUES ($1, 'certificate_issuance', 0, '2016-01-01'), ($1, 'certificate_reissue_after_card_reissue', 200, '2016-01-01')
				ON CONFLICT DO NOTHING`, m[0]); err != nil {
				return err
			}
		}
		if err := exec(`INSERT INTO offices (code, kind, name) VALUES ($1, 'post_office', '千代田郵便局') ON CONFLICT DO NOTHING`, PostOffice); err != nil {
			return err
		}
		for _, c := range Clerks {
			// Marked as the demo's: a production gateway refuses to start
			// while any is there (gateway.RefuseDemoAccounts).
			if err := exec(`INSERT INTO clerks (login, display_name, role, municipality_code, password_hash, demo) VALUES ($1, $2, $3, $4, $5, true)
				ON CONFLICT (login) DO NOTHING`, c[0], c[1], c[2], c[3], string(hash)); err != nil {
				return err
			}
		}
		for _, r := range Residents {
			if err := exec(`INSERT INTO residents (resident_code, municipality_code, name, name_kana, former_surname, alias, birth_date, sex, address, status, adult_ward)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
				r.ResidentCode, r.MunicipalityCode, r.Name, r.NameKana, r.FormerSurname, r.Alias, BirthDate(r.ResidentCode),
				r.Sex, r.Address, r.Status, r.AdultWard); err != nil {
				return err
			}
			if err := exec(`INSERT INTO cards (card_serial, resident_code, expires_on) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
				r.CardSerial, r.ResidentCode, r.CardExpiry); err != nil {
				return err
			}
		}
		for _, t := range Terminals {
			// A municipality's terminals hold its sealing keys; a post office's none.
			if err := exec(`INSERT INTO terminals (id, municipality_code, reader_name, holds_sealing_keys)
				SELECT $1, $2, $3, kind = 'municipality' FROM offices WHERE code = $2 ON CONFLICT DO NOTHING`, t[0], t[1], t[2]); err != nil {
				return err
			}
			if err := exec(`UPDATE terminals SET pin_reset = $2 WHERE id = $1`, t[0], !slices.Contains(NoPINReset, t[0])); err != nil {
				return err
			}
		}
		for _, d := range Delegations {
			if err := exec(`INSERT INTO delegations (municipality_code, delegate_office, procedures, starts_on, notified_on, recorded_by)
				SELECT $1, $2, $3, $4::date, CASE WHEN o.kind = 'municipality' THEN $4::date END, c.id FROM clerks c, offices o
				WHERE c.login = $5 AND o.code = $2
				AND NOT EXISTS (SELECT 1 FROM delegations WHERE municipality_code = $1 AND delegate_office = $2)`,
				d.Municipality, d.Office, d.Procedures, DelegationsStart, d.Manager); err != nil {
				return err
			}
			if err := exec(`INSERT INTO delegation_events (delegation_id, event, on_date, actor)
				SELECT d.id, e.event, d.starts_on, d.recorded_by FROM delegations d,
				(VALUES ('delegated'), ('notified')) AS e(event)
				WHERE d.municipality_code = $1 AND d.delegate_office = $2 AND (e.event = 'delegated' OR d.notified_on IS NOT NULL)
				ON CONFLICT DO NOTHING`, d.Municipality, d.Office); err != nil {
				return err
			}
		}
		return nil
	})
}
