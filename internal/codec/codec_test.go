package codec

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// secret is personal data as a procedure carries it.
const secret = "山田太郎 東京都千代田区永田町1-7-1 19800101"

const (
	wfChiyoda  = "inperson-issuance/131016-20261201-000001"
	wfYokohama = "inperson-issuance/141003-20261201-000001"
)

func key(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func newCodec(t *testing.T, keys ...[]byte) *AESGCM {
	t.Helper()
	c, err := NewKeyring(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func plainPayload(t *testing.T) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(map[string]string{"name": secret})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// scoped is the codec as the SDK binds it for a workflow's payloads.
func scoped(c *AESGCM, workflowID string) converter.PayloadCodec {
	return c.WithSerializationContext(converter.WorkflowSerializationContext{Namespace: "default", WorkflowID: workflowID})
}

func encode1(t *testing.T, c converter.PayloadCodec, p *commonpb.Payload) *commonpb.Payload {
	t.Helper()
	out, err := c.Encode([]*commonpb.Payload{p})
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

func wire(t *testing.T, p *commonpb.Payload) []byte {
	t.Helper()
	b, err := proto.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// legacyEncode seals a payload exactly as the single-key codec did before
// keyrings and scopes: the whole payload, AES-256-GCM under the key itself,
// a random 12-byte nonce in front, metadata encoding and key id only.
func legacyEncode(t *testing.T, k []byte, p *commonpb.Payload) *commonpb.Payload {
	t.Helper()
	block, err := aes.NewCipher(k)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, 12)
	if _, err := rand.Read(nonce); err != nil {
		t.Fatal(err)
	}
	return &commonpb.Payload{
		Metadata: map[string][]byte{"encoding": []byte("binary/encrypted"), "encryption-key-id": []byte(KeyID(k))},
		Data:     aead.Seal(nonce, nonce, plain, nil),
	}
}

func TestEncodeHidesPlaintext(t *testing.T) {
	c := newCodec(t, key(t))
	p := plainPayload(t)
	for _, tc := range []struct {
		name  string
		codec converter.PayloadCodec
		scope string
	}{
		{"unbound", c, ScopeSystem},
		{"workflow", scoped(c, wfChiyoda), "131016"},
		{"restricted", c.ForScope("141003"), "141003"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc := encode1(t, tc.codec, p)
			b := wire(t, enc)
			for _, clear := range [][]byte{[]byte(secret), []byte("山田太郎"), []byte("json/plain"), p.GetData()} {
				if bytes.Contains(b, clear) {
					t.Fatalf("the encoded payload holds %q in clear", clear)
				}
			}
			if !Encrypted(enc) {
				t.Fatalf("encoding %q, want %q", enc.GetMetadata()["encoding"], Encoding)
			}
			if s, ok := PayloadScope(enc); !ok || s != tc.scope {
				t.Fatalf("scope %q (%v), want %q", s, ok, tc.scope)
			}
			dec, err := c.Decode([]*commonpb.Payload{enc})
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(dec[0], p) {
				t.Fatalf("round trip changed the payload: %v", dec[0])
			}
		})
	}
}

func TestKeyIDRoundTrip(t *testing.T) {
	k := key(t)
	c := newCodec(t, k)
	sum := KeyID(k)
	if len(sum) != 8 {
		t.Fatalf("key id %q: want 8 hex digits", sum)
	}
	if c.KeyID() != sum {
		t.Fatalf("codec key id %q, want %q", c.KeyID(), sum)
	}
	enc := encode1(t, scoped(c, wfChiyoda), plainPayload(t))
	if got := string(enc.GetMetadata()[MetadataKeyID]); got != sum {
		t.Fatalf("payload key id %q, want %q", got, sum)
	}
	// Two encodings of one payload differ (random nonce).
	if bytes.Equal(enc.GetData(), encode1(t, scoped(c, wfChiyoda), plainPayload(t)).GetData()) {
		t.Fatal("two encodings are identical: the nonce is not random")
	}
}

func TestLegacyPayloadsStillDecode(t *testing.T) {
	k := key(t)
	path := filepath.Join(t.TempDir(), "codec.key")
	// The file scripts/lib.sh writes: one hex key and a newline.
	if err := os.WriteFile(path, []byte(hex.EncodeToString(k)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := plainPayload(t)
	old := legacyEncode(t, k, p)
	if _, err := Rotate(path); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.KeyID() == KeyID(k) {
		t.Fatal("after rotation the old key still encrypts")
	}
	for _, tc := range []struct {
		name  string
		codec converter.PayloadCodec
	}{{"direct", c}, {"workflow-bound", scoped(c, wfChiyoda)}} {
		t.Run(tc.name, func(t *testing.T) {
			dec, err := tc.codec.Decode([]*commonpb.Payload{old})
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(dec[0], p) {
				t.Fatalf("legacy payload decoded to %v", dec[0])
			}
		})
	}
	// Whose a legacy payload is cannot be told: the endpoint's codec refuses it.
	if _, err := c.ForScope("131016").Decode([]*commonpb.Payload{old}); !errors.Is(err, ErrUnscoped) {
		t.Fatalf("restricted decode of a legacy payload: %v, want ErrUnscoped", err)
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "codec.key")
	k1 := key(t)
	if err := os.WriteFile(path, []byte(hex.EncodeToString(k1)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	running, err := Load(path) // a process started before the rotation
	if err != nil {
		t.Fatal(err)
	}
	p := plainPayload(t)
	before := encode1(t, scoped(running, wfChiyoda), p)

	id2, err := Rotate(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(leftovers) > 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}
	keys, err := ReadKeyFile(path)
	if err != nil || len(keys) != 2 || KeyID(keys[0]) != KeyID(k1) || KeyID(keys[1]) != id2 {
		t.Fatalf("keyring after rotation: %d keys, %v", len(keys), err)
	}

	restarted, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	after := encode1(t, scoped(restarted, wfChiyoda), p)
	if got := string(after.GetMetadata()[MetadataKeyID]); got != id2 {
		t.Fatalf("after rotation encrypted with %q, want the new key %q", got, id2)
	}
	// The old key still decodes what it encrypted.
	if dec, err := restarted.Decode([]*commonpb.Payload{before}); err != nil || !proto.Equal(dec[0], p) {
		t.Fatalf("old payload after rotation: %v", err)
	}
	// The running process meets the new key id and reads the file again.
	running.checked.Store(0)
	if dec, err := running.Decode([]*commonpb.Payload{after}); err != nil || !proto.Equal(dec[0], p) {
		t.Fatalf("running process decoding the new key: %v", err)
	}
	if running.KeyID() != id2 {
		t.Fatalf("running process encrypts with %q after reload, want %q", running.KeyID(), id2)
	}

	// Retiring: never the current key; an old one, then its payloads are gone.
	if err := Retire(path, id2); !errors.Is(err, ErrCurrentKey) {
		t.Fatalf("retire the current key: %v, want ErrCurrentKey", err)
	}
	if err := Retire(path, KeyID(k1)); err != nil {
		t.Fatal(err)
	}
	retired, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := retired.Decode([]*commonpb.Payload{before}); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("payload of a retired key: %v, want ErrUnknownKey", err)
	}
}

func TestWrongOrUnknownKeyFails(t *testing.T) {
	k1, k2 := key(t), key(t)
	a, b := newCodec(t, k1), newCodec(t, k2)
	enc := encode1(t, scoped(a, wfChiyoda), plainPayload(t))

	tamperedData := proto.Clone(enc).(*commonpb.Payload)
	tamperedData.Data[len(tamperedData.Data)-1] ^= 1
	// A payload claiming b's key id, but sealed with a's key.
	wrongKey := proto.Clone(enc).(*commonpb.Payload)
	wrongKey.Metadata[MetadataKeyID] = []byte(KeyID(k2))
	short := proto.Clone(enc).(*commonpb.Payload)
	short.Data = short.Data[:10]

	for _, tc := range []struct {
		name  string
		codec *AESGCM
		p     *commonpb.Payload
		want  error
	}{
		{"unknown key id", b, enc, ErrUnknownKey},
		{"wrong key under a known id", b, wrongKey, ErrDecrypt},
		{"tampered ciphertext", a, tamperedData, ErrDecrypt},
		{"truncated", a, short, ErrDecrypt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tc.codec.Decode([]*commonpb.Payload{tc.p})
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if out != nil {
				t.Fatal("payloads returned with the error")
			}
		})
	}
}

func TestScopeSeparatesMunicipalities(t *testing.T) {
	c := newCodec(t, key(t))
	p := plainPayload(t)
	chiyoda := encode1(t, scoped(c, wfChiyoda), p)
	if s, _ := PayloadScope(chiyoda); s != "131016" {
		t.Fatalf("scope %q, want 131016", s)
	}
	// Forged: Chiyoda's payload relabelled as Yokohama's.
	forged := proto.Clone(chiyoda).(*commonpb.Payload)
	forged.Metadata[MetadataScope] = []byte("141003")
	stripped := proto.Clone(chiyoda).(*commonpb.Payload)
	delete(stripped.Metadata, MetadataScope)

	for _, tc := range []struct {
		name  string
		scope string
		p     *commonpb.Payload
		want  error
	}{
		{"own municipality", "131016", chiyoda, nil},
		{"another municipality", "141003", chiyoda, ErrScopeMismatch},
		{"the Organization", ScopeOrganization, chiyoda, ErrScopeMismatch},
		{"forged scope", "141003", forged, ErrDecrypt},
		{"scope stripped", "131016", stripped, ErrUnscoped},
		{"empty scope", "", chiyoda, ErrInvalidScope},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.ForScope(tc.scope).Decode([]*commonpb.Payload{tc.p})
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if tc.want == nil && !proto.Equal(out[0], p) {
				t.Fatalf("decoded %v", out[0])
			}
		})
	}
	// Even the processes holding the key file cannot open a forged or
	// stripped one: the derived key (and the associated data) differ.
	for _, bad := range []*commonpb.Payload{forged, stripped} {
		if _, err := c.Decode([]*commonpb.Payload{bad}); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("unrestricted decode of a relabelled payload: %v, want ErrDecrypt", err)
		}
	}
}

func TestScopeOfWorkflowID(t *testing.T) {
	for _, tc := range []struct{ id, want string }{
		{wfChiyoda, "131016"},
		{"proxy-issuance/141003-20261201-000042", "141003"},
		{"relay-forwarding/131016-20261201-000003", "131016"},
		{"relay-issuance/141003-R131016-20261201-000003", "141003"},
		{"publish-revocation-lists/daily", ScopeOrganization},
		{"publish-revocation-lists/daily-2026-12-01T15:00:00Z", ScopeOrganization},
		{"publish-revocation-lists/on-demand-urgent-1", ScopeOrganization},
		{"x/1310166-20261201-000001", ScopeOrganization},
		{"x/13101-20261201", ScopeOrganization},
		{"131016", "131016"},
		{"", ""},
	} {
		if got := ScopeOfWorkflowID(tc.id); got != tc.want {
			t.Errorf("ScopeOfWorkflowID(%q) = %q, want %q", tc.id, got, tc.want)
		}
	}
}

// TestDataConverterBinding drives the converter the way the SDK does: the
// serialization context names the workflow, the Go context may carry the
// gateway's scope.
func TestDataConverterBinding(t *testing.T) {
	c := newCodec(t, key(t))
	dc := c.DataConverter()
	gateway := WithScope(context.Background(), "131016")
	for _, tc := range []struct {
		name string
		dc   converter.DataConverter
		want string
		err  error
	}{
		{"no context", dc, ScopeSystem, nil},
		{"workflow", converter.WithDataConverterSerializationContext(dc,
			converter.WorkflowSerializationContext{WorkflowID: wfYokohama}), "141003", nil},
		{"activity of a workflow", converter.WithDataConverterSerializationContext(dc,
			converter.ActivitySerializationContext{WorkflowID: wfChiyoda, ActivityType: "LookUpRegister"}), "131016", nil},
		{"local activity", converter.WithDataConverterSerializationContext(dc,
			converter.ActivitySerializationContext{WorkflowID: wfChiyoda, IsLocal: true}), "131016", nil},
		{"standalone activity", converter.WithDataConverterSerializationContext(dc,
			converter.ActivitySerializationContext{ActivityType: "x"}), ScopeSystem, nil},
		{"organization workflow", converter.WithDataConverterSerializationContext(dc,
			converter.WorkflowSerializationContext{WorkflowID: "publish-revocation-lists/daily"}), ScopeOrganization, nil},
		{"gateway scope only", dc.(converter.ContextAware).WithContext(gateway), "131016", nil},
		{"gateway scope agrees", converter.WithDataConverterSerializationContext(
			dc.(converter.ContextAware).WithContext(gateway),
			converter.WorkflowSerializationContext{WorkflowID: wfChiyoda}), "131016", nil},
		{"gateway scope contradicts", converter.WithDataConverterSerializationContext(
			dc.(converter.ContextAware).WithContext(gateway),
			converter.WorkflowSerializationContext{WorkflowID: wfYokohama}), "", ErrScopeMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.dc.ToPayload(secret)
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if tc.err != nil {
				return
			}
			if bytes.Contains(wire(t, p), []byte(secret)) {
				t.Fatal("payload in clear")
			}
			if s, _ := PayloadScope(p); s != tc.want {
				t.Fatalf("scope %q, want %q", s, tc.want)
			}
			var back string
			if err := dc.FromPayload(p, &back); err != nil || back != secret {
				t.Fatalf("decoded %q, %v", back, err)
			}
			// The header codec the SDK finds is bound the same way.
			h, err := tc.dc.(converter.PayloadCodecProvider).Codec().Encode([]*commonpb.Payload{plainPayload(t)})
			if err != nil {
				t.Fatal(err)
			}
			if s, _ := PayloadScope(h[0]); s != tc.want {
				t.Fatalf("header codec scope %q, want %q", s, tc.want)
			}
		})
	}
}

func TestFailureMessagesAreEncrypted(t *testing.T) {
	c := newCodec(t, key(t))
	root := c.FailureConverter()
	for _, tc := range []struct {
		name  string
		fc    converter.FailureConverter
		scope string
	}{
		{"workflow", converter.WithFailureConverterSerializationContext(root,
			converter.WorkflowSerializationContext{WorkflowID: wfChiyoda}), "131016"},
		{"activity", converter.WithFailureConverterSerializationContext(root,
			converter.ActivitySerializationContext{WorkflowID: wfYokohama}), "141003"},
		{"no context", root, ScopeSystem},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cause := errors.New("register: " + secret + " is not a resident")
			err := temporal.NewApplicationErrorWithCause("refused: "+secret, "RegisterMismatch", cause, map[string]string{"who": secret})
			f := tc.fc.ErrorToFailure(err)
			b, merr := proto.Marshal(f)
			if merr != nil {
				t.Fatal(merr)
			}
			for _, clear := range []string{secret, "山田太郎", "not a resident"} {
				if bytes.Contains(b, []byte(clear)) {
					t.Fatalf("the failure sent to Temporal holds %q in clear", clear)
				}
			}
			if strings.Contains(f.GetMessage(), "refused") || f.GetStackTrace() != "" {
				t.Fatalf("message %q / stack trace left in clear", f.GetMessage())
			}
			if s, _ := PayloadScope(f.GetEncodedAttributes()); s != tc.scope {
				t.Fatalf("encoded attributes scope %q, want %q", s, tc.scope)
			}
			if s, _ := PayloadScope(f.GetApplicationFailureInfo().GetDetails().GetPayloads()[0]); s != tc.scope {
				t.Fatalf("details scope %q, want %q", s, tc.scope)
			}
			sent := proto.Clone(f)
			back := tc.fc.FailureToError(f)
			// Decoding must leave the failure as it was: the SDK sends the
			// very failure it decodes for a local activity's marker.
			if !proto.Equal(f, sent) {
				t.Fatalf("FailureToError decrypted the failure in place: message %q", f.GetMessage())
			}
			if !strings.Contains(back.Error(), "refused: "+secret) || !strings.Contains(back.Error(), "not a resident") {
				t.Fatalf("decoded failure %q lost its message", back.Error())
			}
		})
	}
}

func TestKeyFileFormat(t *testing.T) {
	dir := t.TempDir()
	k := key(t)
	for _, tc := range []struct {
		name, text string
		keys       int
		err        error
	}{
		{"lib.sh single key", hex.EncodeToString(k) + "\n", 1, nil},
		{"no newline", hex.EncodeToString(k), 1, nil},
		{"comments and two keys", "# a\n\n" + hex.EncodeToString(k) + "\n# b\n" + hex.EncodeToString(key(t)) + "\n", 2, nil},
		{"empty", "\n# nothing\n", 0, ErrKeyFile},
		{"not hex", "zz\n", 0, ErrKeyFile},
		{"short key", hex.EncodeToString(k[:16]) + "\n", 0, ErrKeyFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			if err := os.WriteFile(path, []byte(tc.text), 0o600); err != nil {
				t.Fatal(err)
			}
			keys, err := ReadKeyFile(path)
			if !errors.Is(err, tc.err) || len(keys) != tc.keys {
				t.Fatalf("%d keys, error %v; want %d, %v", len(keys), err, tc.keys, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), hex.EncodeToString(k[:16])) {
				t.Fatal("the error shows key material")
			}
		})
	}
	if _, err := Rotate(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("rotating a missing key file made a new keyring")
	}
}
