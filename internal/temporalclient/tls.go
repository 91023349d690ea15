package temporalclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/madoguchi/madoguchi/internal/config"
)

// ErrTLSIncomplete is returned when some of the Temporal TLS settings are
// given but not all: a half-configured client would fall back to plain gRPC
// or fail late, so it is refused at start.
var ErrTLSIncomplete = errors.New("temporal TLS: MADOGUCHI_TEMPORAL_TLS_CERT, _KEY and _CA must be set together")

// TLSConfig returns the mTLS configuration for the Temporal frontend, or nil
// when none is configured (the dev server path, plain gRPC).
func TLSConfig(cfg config.Config) (*tls.Config, error) {
	t := cfg.TemporalTLS
	if !t.Enabled() {
		return nil, nil
	}
	if t.CertFile == "" || t.KeyFile == "" || t.CAFile == "" {
		return nil, ErrTLSIncomplete
	}
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("temporal TLS: client certificate: %w", err)
	}
	caPEM, err := os.ReadFile(t.CAFile)
	if err != nil {
		return nil, fmt.Errorf("temporal TLS: CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("temporal TLS: CA %s holds no PEM certificate: %w", t.CAFile, ErrTLSIncomplete)
	}
	name := t.ServerName
	if name == "" {
		if host, _, err := net.SplitHostPort(cfg.TemporalAddr); err == nil {
			name = host
		}
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,
		ServerName:   name,
		MinVersion:   tls.VersionTLS12,
	}, nil
}
