package cardagent

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/activities/terminal"
	"github.com/madoguchi/madoguchi/contract"
)

// collecting runs Collect as the waiting activity does and returns the
// panel's pending request once it shows, and a channel with the outcome.
func collecting(t *testing.T, srv *httptest.Server, p *Panel, req terminal.PINRequest) (PendingResult, <-chan map[string][]byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	out := make(chan map[string][]byte, 1)
	go func() {
		pins, err := p.Collect(ctx, req)
		if err != nil {
			pins = nil
		}
		out <- pins
	}()
	for {
		var pr PendingResult
		resp, err := http.Get(srv.URL + "/api/pending")
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&pr)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if pr.Pending {
			return pr, out
		}
		select {
		case <-ctx.Done():
			t.Fatal("the panel never showed the request")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func post(t *testing.T, srv *httptest.Server, body map[string]string) int {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(srv.URL+"/api/pin", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestPanelModes: GET /api/pending names the mode; a verify request takes
// one entry without confirmation (a confirmation sent is ignored), still
// refuses a PIN that breaks the format rule (so it costs no try on the
// card) and a kind not asked for; setting PINs still needs the two
// entries to match.
func TestPanelModes(t *testing.T) {
	auth := contract.KindUserAuth
	for _, tc := range []struct {
		name    string
		verify  bool
		entries []map[string]string // "id" is filled in
		codes   []int
		want    string // the PIN handed over; "" when none is
	}{
		{"verify: one entry", true, []map[string]string{{"kind": auth, "pin": "1234"}}, []int{204}, "1234"},
		{"verify: a confirmation is ignored", true, []map[string]string{{"kind": auth, "pin": "1234", "confirm": "9999"}}, []int{204}, "1234"},
		{"verify: the format rule holds", true, []map[string]string{
			{"kind": auth, "pin": "123"}, {"kind": auth, "pin": "12a4"}, {"kind": auth, "pin": "4321"}}, []int{422, 422, 204}, "4321"},
		{"verify: another kind", true, []map[string]string{
			{"kind": contract.KindSigning, "pin": "SIGN2026"}, {"kind": auth, "pin": "1234"}}, []int{400, 204}, "1234"},
		{"set: confirmation required", false, []map[string]string{
			{"kind": auth, "pin": "1234"}, {"kind": auth, "pin": "1234", "confirm": "1243"}, {"kind": auth, "pin": "1234", "confirm": "1234"}}, []int{422, 422, 204}, "1234"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPanel()
			srv := httptest.NewServer(p.Handler())
			defer srv.Close()
			wantMode := ModeSet
			if tc.verify {
				wantMode = ModeVerify
			}
			pr, out := collecting(t, srv, p, terminal.PINRequest{CaseNumber: "C-1", Kinds: []string{auth}, Mode: wantMode})
			if pr.Mode != wantMode || pr.CaseNumber != "C-1" || !slices.Equal(pr.Kinds, []string{auth}) {
				t.Fatalf("pending = %+v, want mode %q for C-1 asking [auth]", pr, wantMode)
			}
			for i, e := range tc.entries {
				e["id"] = pr.ID
				if code := post(t, srv, e); code != tc.codes[i] {
					t.Fatalf("entry %d: HTTP %d, want %d", i, code, tc.codes[i])
				}
			}
			pins := <-out
			if len(pins) != 1 || string(pins[auth]) != tc.want {
				t.Fatalf("handed over %d PINs (auth right: %v), want the one typed last", len(pins), string(pins[auth]) == tc.want)
			}
		})
	}
}

// TestPanelIdleHasNoMode: with nothing asked, the panel names no mode.
func TestPanelIdleHasNoMode(t *testing.T) {
	srv := httptest.NewServer(NewPanel().Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/pending")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if raw["pending"] != false || raw["mode"] != nil {
		t.Fatalf("idle panel says %v", raw)
	}
}

// pending reads GET /api/pending.
func pending(t *testing.T, srv *httptest.Server) PendingResult {
	t.Helper()
	resp, err := http.Get(srv.URL + "/api/pending")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var pr PendingResult
	if err := json.NewDecoder(resp.Body).Decode(&pr); err != nil {
		t.Fatal(err)
	}
	return pr
}

// TestPanelChangeAndResetModes: the change mode shows the tries left and
// the clerk typing, takes the current PIN and the new one twice, each held
// to the format rule, and hands over both; the reset mode takes each new
// PIN twice, kind by kind, and no current one.
func TestPanelChangeAndResetModes(t *testing.T) {
	auth, sign := contract.KindUserAuth, contract.KindSigning
	for _, tc := range []struct {
		name    string
		req     terminal.PINRequest
		entries []map[string]string // "id" is filled in
		codes   []int
		want    map[string]string // what is handed over
	}{
		{"change", terminal.PINRequest{CaseNumber: "C-2", Kinds: []string{auth}, Mode: terminal.ModeChange, TriesLeft: 2, EnteredBy: "clerk1"},
			[]map[string]string{
				{"kind": auth, "pin": "5678", "confirm": "5678"},                                // no current PIN
				{"kind": auth, "current": "12a4", "pin": "5678", "confirm": "5678"},             // current breaks the format
				{"kind": auth, "current": "1234", "pin": "567", "confirm": "567"},               // new breaks the format
				{"kind": auth, "current": "1234", "pin": "5678", "confirm": "5687"},             // the two entries differ
				{"kind": sign, "current": "SIGN2026", "pin": "NEWSIGN1", "confirm": "NEWSIGN1"}, // not asked
				{"kind": auth, "current": "1234", "pin": "5678", "confirm": "5678"},
			}, []int{422, 422, 422, 422, 400, 204},
			map[string]string{auth: "5678", terminal.CurrentPINKey(auth): "1234"}},
		{"reset both", terminal.PINRequest{CaseNumber: "C-3", Kinds: []string{sign, auth}, Mode: terminal.ModeReset},
			[]map[string]string{
				{"kind": sign, "pin": "NEWSIGN1"},
				{"kind": sign, "pin": "NEWSIGN1", "confirm": "NEWSIGN1"},
				{"kind": auth, "pin": "2468", "confirm": "2468", "current": "1234"}, // a current PIN is not taken
			}, []int{422, 204, 204},
			map[string]string{sign: "NEWSIGN1", auth: "2468"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPanel()
			srv := httptest.NewServer(p.Handler())
			defer srv.Close()
			pr, out := collecting(t, srv, p, tc.req)
			if pr.Mode != tc.req.Mode || pr.TriesLeft != tc.req.TriesLeft || pr.EnteredBy != tc.req.EnteredBy || !slices.Equal(pr.Kinds, tc.req.Kinds) {
				t.Fatalf("pending = %+v, want %+v shown", pr, tc.req)
			}
			for i, e := range tc.entries {
				e["id"] = pr.ID
				if code := post(t, srv, e); code != tc.codes[i] {
					t.Fatalf("entry %d: HTTP %d, want %d", i, code, tc.codes[i])
				}
				if i == 1 && tc.req.Mode == terminal.ModeReset {
					if now := pending(t, srv); !now.Pending || !slices.Equal(now.Entered, []string{sign}) {
						t.Fatalf("after the first kind: %+v, want still pending with sign entered", now)
					}
				}
			}
			pins := <-out
			if len(pins) != len(tc.want) {
				t.Fatalf("handed over %d entries, want %d", len(pins), len(tc.want))
			}
			for k, v := range tc.want {
				if string(pins[k]) != v {
					t.Fatalf("entry %q is not the one typed", k)
				}
			}
		})
	}
}
