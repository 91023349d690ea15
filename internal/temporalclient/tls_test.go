package temporalclient

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/config"
)

// writeCert writes a self-signed certificate and its key as PEM files.
func writeCert(t *testing.T, dir, stem string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: stem},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, stem+".pem"), filepath.Join(dir, stem+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestTLSConfig(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir, "terminal:T0001")
	ca, _ := writeCert(t, dir, "ca")
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		tls      config.TemporalTLS
		wantNil  bool
		wantErr  error
		wantName string
	}{
		{name: "dev server: none", wantNil: true},
		{name: "all three", tls: config.TemporalTLS{CertFile: cert, KeyFile: key, CAFile: ca}, wantName: "127.0.0.1"},
		{name: "server name given", tls: config.TemporalTLS{CertFile: cert, KeyFile: key, CAFile: ca, ServerName: "localhost"}, wantName: "localhost"},
		{name: "no CA", tls: config.TemporalTLS{CertFile: cert, KeyFile: key}, wantErr: ErrTLSIncomplete},
		{name: "no key", tls: config.TemporalTLS{CertFile: cert, CAFile: ca}, wantErr: ErrTLSIncomplete},
		{name: "server name only", tls: config.TemporalTLS{ServerName: "localhost"}, wantErr: ErrTLSIncomplete},
		{name: "CA not PEM", tls: config.TemporalTLS{CertFile: cert, KeyFile: key, CAFile: notPEM}, wantErr: ErrTLSIncomplete},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := TLSConfig(config.Config{TemporalAddr: "127.0.0.1:7280", TemporalTLS: tc.tls})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantNil {
				if got != nil {
					t.Fatal("TLS without settings")
				}
				return
			}
			if got == nil || len(got.Certificates) != 1 || got.RootCAs == nil || got.ServerName != tc.wantName {
				t.Fatalf("config %+v", got)
			}
		})
	}
	// Options carries it into the client options every process dials with.
	keyFile := filepath.Join(dir, "codec.key")
	if err := os.WriteFile(keyFile, []byte(hex.EncodeToString(make([]byte, 32))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := Options(config.Config{CodecKeyFile: keyFile, TemporalAddr: "127.0.0.1:7280",
		TemporalTLS: config.TemporalTLS{CertFile: cert, KeyFile: key, CAFile: ca}})
	if err != nil {
		t.Fatal(err)
	}
	if opts.ConnectionOptions.TLS == nil {
		t.Fatal("Options dropped the TLS configuration")
	}
}
