// Package temporalclient is the one place that builds a Temporal client. It
// always installs the payload-encryption codec and encrypts failure messages,
// so no process can talk to Temporal with personal data in the clear.
package temporalclient

import (
	"fmt"
	"log/slog"
	"os"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"

	"github.com/madoguchi/madoguchi/internal/codec"
	"github.com/madoguchi/madoguchi/internal/config"
)

// Options returns client options with the codec installed.
func Options(cfg config.Config) (client.Options, error) {
	c, err := codec.Load(cfg.CodecKeyFile)
	if err != nil {
		return client.Options{}, err
	}
	return client.Options{
		HostPort:      cfg.TemporalAddr,
		Namespace:     cfg.TemporalNamespace,
		DataConverter: c.DataConverter(),
		// Error messages can carry what a rule saw; encrypt them too.
		FailureConverter: temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
			DataConverter:          c.DataConverter(),
			EncodeCommonAttributes: true,
		}),
		Logger: log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))),
	}, nil
}

// Dial connects to Temporal with the codec installed.
func Dial(cfg config.Config) (client.Client, error) {
	opts, err := Options(cfg)
	if err != nil {
		return nil, err
	}
	c, err := client.Dial(opts)
	if err != nil {
		return nil, fmt.Errorf("temporal: dial %s: %w", cfg.TemporalAddr, err)
	}
	return c, nil
}
