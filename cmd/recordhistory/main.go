// Command recordhistory writes a finished procedure's history, with its
// payloads decoded, into workflows/testdata for the replay tests. Use it only
// on demo data (it is fictitious); real histories hold personal data.
//
//	source .dev/env; go run ./cmd/recordhistory -id inperson-issuance/<case> -out workflows/testdata/<name>.history.json
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"go.temporal.io/sdk/client"

	"github.com/madoguchi/madoguchi/internal/codec"
	"github.com/madoguchi/madoguchi/internal/config"
	"github.com/madoguchi/madoguchi/internal/historyrec"
)

func main() {
	id := flag.String("id", "", "workflow id")
	out := flag.String("out", "", "output file")
	flag.Parse()
	if err := run(*id, *out); err != nil {
		fmt.Fprintln(os.Stderr, "recordhistory:", err)
		os.Exit(1)
	}
}

func run(id, out string) error {
	if id == "" || out == "" {
		return fmt.Errorf("-id and -out are required")
	}
	cfg := config.FromEnv()
	c, err := codec.Load(cfg.CodecKeyFile)
	if err != nil {
		return err
	}
	// A client without the codec: the history comes back as stored.
	tc, err := client.Dial(client.Options{HostPort: cfg.TemporalAddr, Namespace: cfg.TemporalNamespace})
	if err != nil {
		return err
	}
	defer tc.Close()
	b, err := historyrec.Record(context.Background(), tc, c, id)
	if err != nil {
		return err
	}
	return os.WriteFile(out, b, 0o644)
}
