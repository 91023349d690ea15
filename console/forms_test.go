package console

import (
	"encoding/json"
	"net/url"
	"reflect"
	"testing"

	"github.com/madoguchi/madoguchi/workflows"
)

// TestFieldsOfStartRequests: a start request's form is its JSON fields,
// embedded structs flattened and others nested, as encoding/json reads
// them; what the form posts decodes into the same request.
func TestFieldsOfStartRequests(t *testing.T) {
	type nested struct {
		Name string `json:"name"`
	}
	type embedded struct {
		Code string `json:"residentCode"`
	}
	type request struct {
		embedded
		Signing bool     `json:"signing"`
		Serials []string `json:"serials,omitempty"`
		Proxy   nested   `json:"proxy"`
		Clerk   string   `json:"clerk"`
		PIN     string   `json:"pin"`
		Skip    string   `json:"-"`
		Count   int      `json:"count"`
	}
	fields := fieldsOf(reflect.TypeOf(&request{}), "test", langJA)
	var paths []string
	for _, f := range fields {
		paths = append(paths, f.Path+":"+f.Kind)
	}
	want := []string{"residentCode:text", "signing:checkbox", "serials:list", "proxy.name:text", "count:number"}
	if !reflect.DeepEqual(paths, want) {
		t.Fatalf("fields %v, want %v", paths, want)
	}
	form := url.Values{"residentCode": {" 12345678901 "}, "signing": {"on"}, "serials": {"ab12, cd34\nef"}, "proxy.name": {"代理 太郎"}, "count": {"3"}, "pin": {"1234"}}
	b, _ := json.Marshal(body(fields, form))
	var got request
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Code != "12345678901" || !got.Signing || !reflect.DeepEqual(got.Serials, []string{"ab12", "cd34", "ef"}) || got.Proxy.Name != "代理 太郎" || got.Count != 3 || got.PIN != "" {
		t.Fatalf("posted %s, read back %+v", b, got)
	}
}

// TestEveryStartRequestHasAForm: every catalog procedure with a start
// request gets a non-empty form asking for no PIN.
func TestEveryStartRequestHasAForm(t *testing.T) {
	for _, p := range workflows.Catalog {
		if p.Start == nil {
			continue
		}
		fields := fieldsOf(reflect.TypeOf(p.Start()), p.Name, langJA)
		if len(fields) == 0 {
			t.Errorf("%s: empty form", p.Name)
		}
		for _, f := range fields {
			if skipped(f.Path) {
				t.Errorf("%s asks for %s", p.Name, f.Path)
			}
		}
	}
}

func TestPlaceError(t *testing.T) {
	fields := fieldsOf(reflect.TypeOf(struct {
		App struct {
			Code string `json:"residentCode"`
		} `json:"application"`
	}{}), "x", langJA)
	if !placeError(fields, "bad_resident_code", "", "msg") || fields[0].Error != "msg" {
		t.Errorf("the resident code's error is not beside it: %+v", fields)
	}
	if placeError(fields, "unknown_code", "", "msg") {
		t.Error("an error with no field was placed")
	}
}

func TestWaitingText(t *testing.T) {
	for _, c := range []struct{ lang, in, want string }{
		{langJA, "applicant: touch panel", "申請者: タッチパネルでの暗証番号の入力"},
		{langJA, "proxy: the reply, by 2026-12-24", "代理人: 回答書（2026-12-24 まで）"},
		{langJA, "terminal T0001 not responding / 統合端末 T0001 が応答しません", "統合端末 T0001 が応答しません"},
		{langEN, "terminal T0001 not responding / 統合端末 T0001 が応答しません", "terminal T0001 not responding"},
		{langEN, "second clerk: applicant's intent", "second clerk: applicant's intent"},
		{langJA, "clerk1: touch panel", "clerk1: タッチパネルでの暗証番号の入力"},
	} {
		if got := waitingText(c.lang, c.in); got != c.want {
			t.Errorf("%s %q: %q, want %q", c.lang, c.in, got, c.want)
		}
	}
}

// TestRowsOfAList: a list of structs (a correction request's items) is a
// field of rows: the form posts each row's fields under its index, as many
// rows as it says; a row button adds a row (focused) or removes one, the
// rows after it moving up with what was typed; the request decodes into the
// start request's items; an error naming a row's field is put beside it.
func TestRowsOfAList(t *testing.T) {
	fields := fieldsOf(reflect.TypeOf(&workflows.StartInPersonCorrectionRequest{}), "inperson-correction-request", langJA)
	items := findField(fields, "items")
	if items == nil || items.Kind != kindRows || len(items.Rows) != 1 || items.Label != "訂正等を求める事項" {
		t.Fatalf("the items field: %+v", items)
	}
	var cols []string
	for _, c := range items.Rows[0].Fields {
		cols = append(cols, c.Path+":"+c.Kind)
	}
	if want := []string{"items.0.serial:text", "items.0.action:select", "items.0.field:select", "items.0.value:text", "items.0.statement:text"}; !reflect.DeepEqual(cols, want) {
		t.Fatalf("a row's fields %v, want %v", cols, want)
	}
	if items.Rows[0].Removable || items.Rows[0].Fields[0].ID != "f-items-0-serial" || items.Rows[0].Legend != "1件目" {
		t.Errorf("the only row: %+v", items.Rows[0])
	}

	form := url.Values{"residentCode": {"12345678901"}, "delivery": {"mail"}, "disclosureCase": {"jlis-131016-20261201-000001"}, "items._rows": {"3"},
		"items.0.serial": {"aa01"}, "items.0.action": {"correct"}, "items.0.field": {"municipality"}, "items.0.value": {"131024"}, "items.0.statement": {"違う"},
		"items.1.serial": {"bb02"}, "items.1.action": {"add"}, "items.1.field": {"counterpart"}, "items.1.value": {"cc03"}, "items.1.statement": {"ない"},
		"items.2.serial": {"dd04"}, "items.2.action": {"delete"}, "items.2.field": {"record"}, "items.2.statement": {"不要"}}
	fill(fields, form)
	if editRows(fields, form) {
		t.Fatal("no row button was pressed, yet the rows changed")
	}
	b, _ := json.Marshal(body(fields, form))
	var got workflows.StartInPersonCorrectionRequest
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Items) != 3 || got.Items[1].Serial != "bb02" || got.Items[1].Value != "cc03" || got.Items[2].Action != "delete" || got.DisclosureCase != "jlis-131016-20261201-000001" {
		t.Fatalf("posted %s, read back %+v", b, got)
	}

	// Remove the middle row: the third moves up, with what was typed.
	rm := url.Values{}
	for k, v := range form {
		rm[k] = v
	}
	rm.Set(removeRowField, "items.1")
	fields = fieldsOf(reflect.TypeOf(&workflows.StartInPersonCorrectionRequest{}), "inperson-correction-request", langJA)
	fill(fields, rm)
	if !editRows(fields, rm) {
		t.Fatal("the remove button did nothing")
	}
	items = findField(fields, "items")
	if len(items.Rows) != 2 || items.Rows[1].Fields[0].Path != "items.1.serial" || items.Rows[1].Fields[0].Value != "dd04" ||
		!items.Rows[1].Fields[2].Options[3].Selected || items.Rows[0].Fields[0].Value != "aa01" || !items.Rows[1].Removable {
		t.Errorf("after removing row 2: %+v", items.Rows)
	}

	// Add one: an empty row, focused; at most 20.
	add := url.Values{"items._rows": {"2"}, addRowField: {"items"}, "items.1.serial": {"kept"}}
	fields = fieldsOf(reflect.TypeOf(&workflows.StartInPersonCorrectionRequest{}), "inperson-correction-request", langJA)
	fill(fields, add)
	editRows(fields, add)
	items = findField(fields, "items")
	if len(items.Rows) != 3 || !items.Rows[2].Fields[0].Autofocus || items.Rows[2].Fields[0].Value != "" || items.Rows[1].Fields[0].Value != "kept" {
		t.Errorf("after adding a row: %+v", items.Rows)
	}
	add.Set("items._rows", "20")
	fields = fieldsOf(reflect.TypeOf(&workflows.StartInPersonCorrectionRequest{}), "inperson-correction-request", langJA)
	fill(fields, add)
	editRows(fields, add)
	if items := findField(fields, "items"); len(items.Rows) != maxRows || items.MoreRows() {
		t.Errorf("a 21st row was added, or may be: %d", len(items.Rows))
	}

	// An error about a row's field, beside it.
	if !placeError(fields, "missing_statement", "items.1.statement", "2件目: 理由") || findField(fields, "items.1.statement").Error != "2件目: 理由" {
		t.Error("the row's error is not beside its field")
	}
}
