package integration

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/madoguchi/madoguchi/internal/codec"
	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/workflows"
)

// TestScopedKeyringTerminal: 千代田区's card agent holds only 千代田区's
// scoped keyring (no master key), completes an issuance of 千代田区 with it,
// and that keyring cannot decode the payloads of another municipality's
// workflow, read from the real history through a client without the codec.
func TestScopedKeyringTerminal(t *testing.T) {
	beginTest(t)
	r := demo.Find(demo.ResidentScopedKeys)
	kill(t, "cardagent-T0001") // started again now, with the keyring checked below
	startTerminal(t, r.CardSerial, r.CardExpiry, false)

	path := filepath.Join(cfg.State, "codec-keys", "cardagent-T0001.key")
	term, err := codec.Load(path)
	if err != nil {
		t.Fatalf("the terminal's keyring: %v", err)
	}
	if s := term.Scopes(); len(s) != 1 || s[0] != demo.Chiyoda {
		t.Fatalf("the terminal holds scopes %v, want only %s", s, demo.Chiyoda)
	}
	text, _ := os.ReadFile(path)
	masters, err := codec.ReadKeyFile(cfg.CodecKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range masters {
		if strings.Contains(string(text), hex.EncodeToString(k)) {
			t.Fatal("the terminal's keyring holds a master key")
		}
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("the terminal's keyring has mode %v", st.Mode().Perm())
	}
	// The running card agent was given that file, and no other.
	procsMu.Lock()
	pid := procs["cardagent-T0001"].cmd.Process.Pid
	procsMu.Unlock()
	environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Fatal(err)
	}
	var given []string
	for _, kv := range strings.Split(string(environ), "\x00") {
		if v, ok := strings.CutPrefix(kv, "MADOGUCHI_CODEC_KEY_FILE="); ok {
			given = append(given, v)
		}
	}
	if len(given) != 1 || given[0] != path {
		t.Fatalf("the card agent runs with MADOGUCHI_CODEC_KEY_FILE %q, want only %s", given, path)
	}
	master, err := codec.Load(cfg.CodecKeyFile)
	if err != nil {
		t.Fatal(err)
	}

	// 千代田区's issuance, its card steps on that terminal.
	clerk := login(t, "clerk1")
	n, st := issue(t, clerk, application(demo.ResidentScopedKeys, true, true))
	if st["status"] != workflows.StatusCompleted {
		t.Fatalf("issuance at the scoped terminal did not complete: %v", st)
	}
	tc := dialTemporal(t) // no codec: payloads as stored
	own := historyPayloads(t, historyEvents(t, tc, workflows.WorkflowID(workflows.ProcedureInPersonIssuance, n)))
	if len(own) == 0 {
		t.Fatal("no encrypted payload in 千代田区's history")
	}
	for _, p := range own {
		if s, _ := codec.PayloadScope(p); s != demo.Chiyoda {
			continue // a signal to another workflow, say
		}
		if _, err := term.Decode([]*commonpb.Payload{p}); err != nil {
			t.Fatalf("the terminal cannot decode its own municipality's payload: %v", err)
		}
	}

	// 横浜市's case, opened by its clerk: its history's payloads are refused.
	yokohama := login(t, "yokohama1")
	var started struct{ CaseNumber string }
	if c := yokohama.do("POST", "/api/procedures/inperson-issuance", map[string]any{"terminalId": yokohamaT.id,
		"application": application(demo.ResidentYokohama, true, true)}, &started); c != http.StatusCreated {
		t.Fatalf("start 横浜市's case: HTTP %d", c)
	}
	yn := started.CaseNumber
	t.Cleanup(func() {
		yokohama.do("POST", "/api/cases/"+yn+"/cancel", map[string]any{"reason": "scoped keyring test"}, nil)
	})
	yokohama.waitStep(yn, time.Minute, workflows.StepIdentityCheck)
	other := historyPayloads(t, historyEvents(t, tc, workflows.WorkflowID(workflows.ProcedureInPersonIssuance, yn)))
	refused := 0
	for _, p := range other {
		s, _ := codec.PayloadScope(p)
		if s != demo.Yokohama {
			t.Fatalf("a payload of 横浜市's history has scope %q", s)
		}
		if _, err := master.Decode([]*commonpb.Payload{p}); err != nil {
			t.Fatalf("the master keyring does not decode 横浜市's payload: %v", err)
		}
		out, err := term.Decode([]*commonpb.Payload{p})
		if !errors.Is(err, codec.ErrScopeNotHeld) || out != nil {
			t.Fatalf("千代田区's keyring decoded 横浜市's payload (err %v)", err)
		}
		refused++
	}
	if refused == 0 {
		t.Fatal("no payload in 横浜市's history to try")
	}
	t.Logf("千代田区's terminal decoded %d payloads of %s and was refused all %d of %s", len(own), n, refused, yn)
}

// historyPayloads are the encrypted payloads anywhere in a history's events.
func historyPayloads(t *testing.T, evs []*historypb.HistoryEvent) []*commonpb.Payload {
	t.Helper()
	var out []*commonpb.Payload
	for _, ev := range evs {
		walkPayloads(ev.ProtoReflect(), func(p *commonpb.Payload) {
			if codec.Encrypted(p) {
				out = append(out, p)
			}
		})
	}
	return out
}

func walkPayloads(m protoreflect.Message, fn func(*commonpb.Payload)) {
	if p, ok := m.Interface().(*commonpb.Payload); ok {
		fn(p)
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool { walkPayloads(mv.Message(), fn); return true })
			}
		case fd.IsList():
			if fd.Message() != nil {
				for i, l := 0, v.List(); i < l.Len(); i++ {
					walkPayloads(l.Get(i).Message(), fn)
				}
			}
		case fd.Message() != nil:
			walkPayloads(v.Message(), fn)
		}
		return true
	})
}
