// Package config reads the process configuration from the environment.
//
// Every binary reads the same variables, written by scripts/lib.sh into the
// state folder's env file, so a newcomer never has to pass flags by hand.
package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the union of the settings the processes need; each process uses
// only its part (the municipal worker never reads the jlis DSN, for example).
type Config struct {
	State             string
	DBDSN             string
	JLISDSN           string
	TemporalAddr      string
	TemporalNamespace string
	CodecKeyFile      string
	GatewayAddr       string
	TemporalUI        string // the Temporal UI's address; the codec endpoint answers only its origin with CORS
	RepositoryURL     string
	PKCS11Module      string
	PKCS11Token       string
	PKCS11PIN         string
	Bin               string
	// InquiryReplyWindow and InquiryEarliestReply replace the proxy
	// inquiry's legal deadline and next-Tokyo-day rule with durations. They
	// weaken a rule, so only a binary built with the madoguchi_faults tag
	// (the tests') reads them; production builds leave them 0
	// (earliest_reply.go).
	InquiryReplyWindow time.Duration
	// InquiryReplyDays is the municipality's reply period in days (0: the
	// embedded default of internal/deadline).
	InquiryReplyDays     int
	InquiryEarliestReply time.Duration
	// MetricsAddr is where the process serves its Prometheus metrics
	// (/metrics; MADOGUCHI_METRICS_ADDR, a loopback address); "" serves none.
	MetricsAddr string
	// TemporalTLS is the client certificate this process shows the Temporal
	// frontend, and the CA it trusts there: set by the cluster profile
	// (docs/CLUSTER.md), empty for the dev server, which takes plain gRPC.
	TemporalTLS TemporalTLS
}

// TemporalTLS is mTLS to the Temporal frontend. Its files are PEM; the
// certificate's common name is the identity the cluster's authorizer reads.
type TemporalTLS struct {
	CertFile   string // MADOGUCHI_TEMPORAL_TLS_CERT
	KeyFile    string // MADOGUCHI_TEMPORAL_TLS_KEY
	CAFile     string // MADOGUCHI_TEMPORAL_TLS_CA
	ServerName string // MADOGUCHI_TEMPORAL_TLS_SERVER_NAME; default the address's host
}

// Enabled tells whether any of the TLS settings is given.
func (t TemporalTLS) Enabled() bool {
	return t.CertFile != "" || t.KeyFile != "" || t.CAFile != "" || t.ServerName != ""
}

// FromEnv reads the configuration, applying the embedded defaults.
func FromEnv() Config {
	return Config{
		State:                env("MADOGUCHI_STATE", ".dev"),
		DBDSN:                os.Getenv("MADOGUCHI_DB_DSN"),
		JLISDSN:              os.Getenv("MADOGUCHI_JLIS_DSN"),
		TemporalAddr:         env("MADOGUCHI_TEMPORAL_ADDR", "127.0.0.1:7233"),
		TemporalNamespace:    env("MADOGUCHI_TEMPORAL_NAMESPACE", "default"),
		CodecKeyFile:         env("MADOGUCHI_CODEC_KEY_FILE", ".dev/codec.key"),
		GatewayAddr:          env("MADOGUCHI_GATEWAY_ADDR", "127.0.0.1:8080"),
		TemporalUI:           env("MADOGUCHI_TEMPORAL_UI", "http://127.0.0.1:8233"),
		RepositoryURL:        strings.TrimRight(env("MADOGUCHI_REPOSITORY_URL", "http://127.0.0.1:8090"), "/"),
		PKCS11Module:         env("MADOGUCHI_PKCS11_MODULE", "/usr/lib/softhsm/libsofthsm2.so"),
		PKCS11Token:          env("MADOGUCHI_PKCS11_TOKEN", "jlis"),
		PKCS11PIN:            os.Getenv("MADOGUCHI_PKCS11_PIN"),
		Bin:                  env("MADOGUCHI_BIN", ".dev/bin"),
		InquiryReplyWindow:   inquiryReplyWindow(),
		InquiryReplyDays:     days("MADOGUCHI_INQUIRY_REPLY_DAYS"),
		InquiryEarliestReply: inquiryEarliestReply(),
		MetricsAddr:          os.Getenv("MADOGUCHI_METRICS_ADDR"),
		TemporalTLS: TemporalTLS{
			CertFile:   os.Getenv("MADOGUCHI_TEMPORAL_TLS_CERT"),
			KeyFile:    os.Getenv("MADOGUCHI_TEMPORAL_TLS_KEY"),
			CAFile:     os.Getenv("MADOGUCHI_TEMPORAL_TLS_CA"),
			ServerName: os.Getenv("MADOGUCHI_TEMPORAL_TLS_SERVER_NAME"),
		},
	}
}

// days reads a whole number of days; unset or malformed is 0.
func days(name string) int {
	n, err := strconv.Atoi(os.Getenv(name))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// duration reads a Go duration ("720h"); unset or malformed is 0.
func duration(name string) time.Duration {
	d, _ := time.ParseDuration(os.Getenv(name))
	return d
}

// Require returns an error naming the first empty value among the given
// name/value pairs, so a process fails at start with a clear message.
func Require(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			return fmt.Errorf("config: %s is not set (source the state folder's env file, or run `make run`)", pairs[i])
		}
	}
	return nil
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
