package temporalclient

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"github.com/madoguchi/madoguchi/internal/codec"
	"github.com/madoguchi/madoguchi/internal/config"
)

const secret = "山田太郎 東京都千代田区永田町1-7-1"

// TestOptionsEncryptPayloadsAndFailures checks the client every process
// builds: payloads and failure messages leave it encrypted, under the scope
// of the workflow they belong to.
func TestOptionsEncryptPayloadsAndFailures(t *testing.T) {
	path := filepath.Join(t.TempDir(), "codec.key")
	if err := os.WriteFile(path, []byte(hex.EncodeToString(bytes.Repeat([]byte{7}, 32))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := Options(config.Config{CodecKeyFile: path, TemporalAddr: "127.0.0.1:1", TemporalNamespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	wf := converter.WorkflowSerializationContext{Namespace: "default", WorkflowID: "inperson-issuance/131016-20261201-000001"}

	p, err := converter.WithDataConverterSerializationContext(opts.DataConverter, wf).ToPayload(secret)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := proto.Marshal(p); bytes.Contains(b, []byte(secret)) {
		t.Fatal("the client's data converter sends payloads in clear")
	}
	if s, _ := codec.PayloadScope(p); s != "131016" {
		t.Fatalf("payload scope %q, want 131016", s)
	}

	for _, fc := range []converter.FailureConverter{
		opts.FailureConverter,
		converter.WithFailureConverterSerializationContext(opts.FailureConverter, wf),
	} {
		f := fc.ErrorToFailure(temporal.NewApplicationErrorWithCause("refused: "+secret, "X", errors.New(secret)))
		b, err := proto.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Fatal("the client's failure converter sends failure messages in clear")
		}
	}
	f := converter.WithFailureConverterSerializationContext(opts.FailureConverter, wf).ErrorToFailure(errors.New(secret))
	if s, _ := codec.PayloadScope(f.GetEncodedAttributes()); s != "131016" {
		t.Fatalf("failure scope %q, want 131016", s)
	}
}
