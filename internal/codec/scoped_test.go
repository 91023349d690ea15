package codec

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

// writeMaster writes a master keyring and returns its path.
func writeMaster(t *testing.T, keys ...[]byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "codec.key")
	if err := WriteKeyFile(path, keys); err != nil {
		t.Fatal(err)
	}
	return path
}

// export writes the scoped keyring of scopes beside master and loads it.
func export(t *testing.T, master string, scopes ...string) (*AESGCM, string) {
	t.Helper()
	path := filepath.Join(filepath.Dir(master), "scoped-"+strings.Join(scopes, "-")+".key")
	if err := WriteScopedKeyFile(master, path, scopes); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return c, path
}

func TestScopedKeyringDecodesOnlyItsScope(t *testing.T) {
	master := writeMaster(t, key(t))
	full, err := Load(master)
	if err != nil {
		t.Fatal(err)
	}
	chiyoda, path := export(t, master, "131016")
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("scoped keyring mode %v, want 0600", st.Mode().Perm())
	}
	if got := chiyoda.Scopes(); len(got) != 1 || got[0] != "131016" {
		t.Fatalf("scopes %v", got)
	}
	fromMasterChiyoda := encode1(t, scoped(full, wfChiyoda), plainPayload(t))
	fromMasterYokohama := encode1(t, scoped(full, wfYokohama), plainPayload(t))
	fromMasterOrg := encode1(t, scoped(full, "publish-revocation-lists/daily"), plainPayload(t))
	fromMasterSystem := encode1(t, full, plainPayload(t))
	legacy := legacyEncode(t, full.ring.Load().current().raw, plainPayload(t))
	for _, tc := range []struct {
		name  string
		codec converter.PayloadCodec
		p     *commonpb.Payload
		want  error
	}{
		{"own scope, bound", scoped(chiyoda, wfChiyoda), fromMasterChiyoda, nil},
		{"own scope, unbound", chiyoda, fromMasterChiyoda, nil},
		{"another municipality", scoped(chiyoda, wfChiyoda), fromMasterYokohama, ErrScopeNotHeld},
		{"another municipality, unbound", chiyoda, fromMasterYokohama, ErrScopeNotHeld},
		{"the Organization's", chiyoda, fromMasterOrg, ErrScopeNotHeld},
		{"system", chiyoda, fromMasterSystem, ErrScopeNotHeld},
		{"before scopes", chiyoda, legacy, ErrUnscoped},
		{"ForScope of another", chiyoda.ForScope("141003"), fromMasterYokohama, ErrScopeNotHeld},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tc.codec.Decode([]*commonpb.Payload{tc.p})
			if !errors.Is(err, tc.want) {
				t.Fatalf("decode: %v, want %v", err, tc.want)
			}
			if err == nil && !bytes.Contains(out[0].GetData(), []byte(secret)) {
				t.Fatal("decoded payload lacks the plaintext")
			}
			if err != nil && out != nil {
				t.Fatal("a refused decode returned payloads")
			}
		})
	}

	// Encoding: its own scope only; the master reads what the terminal wrote.
	p := encode1(t, scoped(chiyoda, wfChiyoda), plainPayload(t))
	if s, _ := PayloadScope(p); s != "131016" {
		t.Fatalf("scope %q", s)
	}
	if out, err := full.Decode([]*commonpb.Payload{p}); err != nil || !bytes.Contains(out[0].GetData(), []byte(secret)) {
		t.Fatalf("the master does not read the terminal's payload: %v", err)
	}
	for name, pc := range map[string]converter.PayloadCodec{
		"another workflow": scoped(chiyoda, wfYokohama), "system": chiyoda, "ForScope": chiyoda.ForScope("141003"),
	} {
		if _, err := pc.Encode([]*commonpb.Payload{plainPayload(t)}); !errors.Is(err, ErrScopeNotHeld) {
			t.Errorf("encode %s: %v, want ErrScopeNotHeld", name, err)
		}
	}
	// A data converter bound to another municipality's workflow refuses too:
	// such a workflow can be neither started nor worked.
	dc := converter.WithDataConverterSerializationContext(chiyoda.DataConverter(),
		converter.WorkflowSerializationContext{Namespace: "default", WorkflowID: wfYokohama})
	if _, err := dc.ToPayloads("x"); !errors.Is(err, ErrScopeNotHeld) {
		t.Fatalf("ToPayloads for Yokohama's workflow: %v", err)
	}
}

func TestScopedKeyringSeveralScopes(t *testing.T) {
	master := writeMaster(t, key(t))
	full, _ := Load(master)
	// Yokohama's terminal also works for Kawasaki, which delegates to it.
	y, _ := export(t, master, "141003", "141305", "141003")
	if got := strings.Join(y.Scopes(), ","); got != "141003,141305" {
		t.Fatalf("scopes %s", got)
	}
	for _, wf := range []string{wfYokohama, "inperson-issuance/141305-20261201-000001"} {
		p := encode1(t, scoped(full, wf), plainPayload(t))
		if _, err := y.Decode([]*commonpb.Payload{p}); err != nil {
			t.Errorf("%s: %v", wf, err)
		}
	}
	if _, err := y.Decode([]*commonpb.Payload{encode1(t, scoped(full, wfChiyoda), plainPayload(t))}); !errors.Is(err, ErrScopeNotHeld) {
		t.Fatalf("Chiyoda's payload: %v", err)
	}
}

func TestExportIsDeterministic(t *testing.T) {
	k1, k2 := key(t), key(t)
	a, err := ExportScoped([][]byte{k1, k2}, []string{"131016", ScopeOrganization})
	if err != nil {
		t.Fatal(err)
	}
	b, err := ExportScoped([][]byte{k1}, []string{"131016"})
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 4 || len(b) != 1 {
		t.Fatalf("%d and %d keys", len(a), len(b))
	}
	// The same master key and scope give the same key, whatever else is
	// exported; another scope or master key gives another.
	if a[0].KeyID != KeyID(k1) || a[0].Scope != "131016" || !bytes.Equal(a[0].Key, b[0].Key) {
		t.Fatalf("export is not deterministic per key id: %+v / %+v", a[0], b[0])
	}
	seen := map[string]bool{}
	for _, sk := range a {
		if seen[string(sk.Key)] || bytes.Equal(sk.Key, k1) || bytes.Equal(sk.Key, k2) {
			t.Fatalf("key of %s/%s repeats another or a master key", sk.Scope, sk.KeyID)
		}
		seen[string(sk.Key)] = true
	}
	// The file is byte for byte the same when exported again.
	master := writeMaster(t, k1, k2)
	_, p1 := export(t, master, "131016")
	first, _ := os.ReadFile(p1)
	_, p2 := export(t, master, "131016")
	second, _ := os.ReadFile(p2)
	if !bytes.Equal(first, second) {
		t.Fatal("exporting twice wrote different files")
	}
	if bytes.Contains(first, []byte(hex.EncodeToString(k1))) || bytes.Contains(first, []byte(hex.EncodeToString(k2))) {
		t.Fatal("the scoped keyring holds a master key")
	}
	for _, tc := range []struct {
		name   string
		keys   [][]byte
		scopes []string
	}{
		{"no scope", [][]byte{k1}, nil},
		{"bad scope", [][]byte{k1}, []string{"13 10"}},
		{"no key", nil, []string{"131016"}},
	} {
		if _, err := ExportScoped(tc.keys, tc.scopes); err == nil {
			t.Errorf("%s: exported", tc.name)
		}
	}
}

func TestRotationThenReexport(t *testing.T) {
	master := writeMaster(t, key(t))
	full, _ := Load(master)
	term, path := export(t, master, "131016")
	before := encode1(t, scoped(term, wfChiyoda), plainPayload(t))
	oldID := term.KeyID()

	newID, err := Rotate(master)
	if err != nil {
		t.Fatal(err)
	}
	full, _ = Load(master)
	afterMaster := encode1(t, scoped(full, wfChiyoda), plainPayload(t))
	// Before the re-export the terminal lacks the new key: the master's new
	// payloads are unknown to it, while it keeps encrypting with the old key,
	// which every process still reads.
	stale, _ := Load(path)
	if _, err := stale.Decode([]*commonpb.Payload{afterMaster}); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("a stale scoped keyring decoded the new key's payload: %v", err)
	}
	if err := WriteScopedKeyFile(master, path, []string{"131016"}); err != nil {
		t.Fatal(err)
	}
	// The running terminal's codec picks the re-export up on the unknown id.
	term.checked.Store(0)
	for _, p := range []*commonpb.Payload{before, afterMaster} {
		if _, err := term.Decode([]*commonpb.Payload{p}); err != nil {
			t.Fatalf("after re-export: %v", err)
		}
	}
	if got := term.KeyIDs(); len(got) != 2 || got[0] != oldID || got[1] != newID {
		t.Fatalf("key ids %v, want [%s %s]", got, oldID, newID)
	}
	p := encode1(t, scoped(term, wfChiyoda), plainPayload(t))
	if id := string(p.GetMetadata()[MetadataKeyID]); id != newID {
		t.Fatalf("after re-export the terminal encrypts with %s, not the new %s", id, newID)
	}
	if _, err := full.Decode([]*commonpb.Payload{p, before}); err != nil {
		t.Fatal(err)
	}
}

func TestScopedKeyFileFormat(t *testing.T) {
	dir := t.TempDir()
	master := writeMaster(t, key(t))
	_, scopedPath := export(t, master, "131016")
	sc, _ := os.ReadFile(scopedPath)
	m, _ := os.ReadFile(master)
	for _, tc := range []struct {
		name, text string
		ok         bool
	}{
		{"scoped", string(sc), true},
		{"mixed", string(sc) + string(m), false},
		{"short line", "scoped 131016 1a2b3c4d\n", false},
		{"bad id", "scoped 131016 xyz " + strings.Repeat("00", 32) + "\n", false},
		{"bad key", "scoped 131016 1a2b3c4d 0011\n", false},
		{"bad scope", "scoped 13/016 1a2b3c4d " + strings.Repeat("00", 32) + "\n", false},
		{"twice", "scoped 131016 1a2b3c4d " + strings.Repeat("00", 32) + "\nscoped 131016 1a2b3c4d " + strings.Repeat("11", 32) + "\n", false},
	} {
		p := filepath.Join(dir, tc.name)
		if err := os.WriteFile(p, []byte(tc.text), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(p); (err == nil) != tc.ok {
			t.Errorf("%s: load error %v", tc.name, err)
		}
	}
	// Rotate, retire and export need the master.
	if _, err := Rotate(scopedPath); !errors.Is(err, ErrScopedKeyring) {
		t.Errorf("rotate a scoped keyring: %v", err)
	}
	if err := WriteScopedKeyFile(scopedPath, filepath.Join(dir, "x"), []string{"131016"}); !errors.Is(err, ErrScopedKeyring) {
		t.Errorf("export from a scoped keyring: %v", err)
	}
}

func TestScopedFailureConverterRefusesForeignScope(t *testing.T) {
	master := writeMaster(t, key(t))
	term, _ := export(t, master, "131016")
	fc := term.FailureConverter().(converter.FailureConverterWithSerializationContext)
	// Another municipality's activity: the SDK's converter would panic on the
	// encode error; the codec reports a fixed refusal without the message.
	foreign := fc.WithSerializationContext(converter.ActivitySerializationContext{WorkflowID: wfYokohama})
	f := foreign.ErrorToFailure(errors.New(secret))
	if f.GetApplicationFailureInfo().GetType() != FailureTypeScopeRefused || !f.GetApplicationFailureInfo().GetNonRetryable() {
		t.Fatalf("failure %v", f)
	}
	if strings.Contains(f.String(), "山田") {
		t.Fatal("the refusal carries the error's text")
	}
	own := fc.WithSerializationContext(converter.ActivitySerializationContext{WorkflowID: wfChiyoda}).ErrorToFailure(errors.New(secret))
	if own.GetEncodedAttributes() == nil || strings.Contains(own.String(), "山田") {
		t.Fatalf("own scope's failure is not encrypted: %v", own)
	}
}
