// Package temporalclient is the one place that builds a Temporal client. It
// always installs the payload-encryption codec and encrypts failure messages,
// so no process can talk to Temporal with personal data in the clear. The
// converters are bound by the SDK to the workflow of each payload, so each
// is encrypted under its municipality's key (see package codec); the keyring
// is read from the key file and followed when it is rotated. The file is the
// master keyring, or for a card agent and the CA worker a scoped one
// (`codeckey export`), with which the client works only those scopes.
package temporalclient

import (
	"fmt"
	"log/slog"
	"os"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"

	"github.com/madoguchi/madoguchi/internal/codec"
	"github.com/madoguchi/madoguchi/internal/config"
	"github.com/madoguchi/madoguchi/internal/logs"
	"github.com/madoguchi/madoguchi/internal/metrics"
)

// Options returns client options with the codec installed, and mTLS when
// the configuration names a client certificate (the cluster profile).
func Options(cfg config.Config) (client.Options, error) {
	c, err := codec.Load(cfg.CodecKeyFile)
	if err != nil {
		return client.Options{}, err
	}
	tlsConf, err := TLSConfig(cfg)
	if err != nil {
		return client.Options{}, err
	}
	opts := OptionsWith(cfg, c)
	opts.ConnectionOptions.TLS = tlsConf
	return opts, nil
}

// OptionsWith returns client options with the given codec installed, without
// TLS (Options adds it from the configuration).
func OptionsWith(cfg config.Config, c *codec.AESGCM) client.Options {
	return client.Options{
		HostPort:      cfg.TemporalAddr,
		Namespace:     cfg.TemporalNamespace,
		DataConverter: c.DataConverter(),
		// Error messages can carry what a rule saw; encrypt them too, under
		// the failing workflow's scope.
		FailureConverter: c.FailureConverter(),
		Logger:           log.NewStructuredLogger(logs.New(os.Stderr, slog.LevelWarn)),
		// No gRPC compression: the payloads are AES-GCM ciphertext, which
		// gzip cannot shrink, so compressing them only spends CPU on both
		// ends (the SDK's default is gzip).
		ConnectionOptions: client.ConnectionOptions{GrpcCompression: &client.GrpcCompressionNone{}},
		// The SDK's metrics (requests, task latencies, the kit's procedure
		// and step counts) go to the process's Prometheus registry.
		MetricsHandler: metrics.SDKHandler(),
	}
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
