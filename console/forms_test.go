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
