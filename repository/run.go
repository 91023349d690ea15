package repository

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/config"
	"github.com/madoguchi/madoguchi/internal/metrics"
	"github.com/madoguchi/madoguchi/internal/ocsp"
	"github.com/madoguchi/madoguchi/internal/verifier"
)

// ListenAddr returns the host:port of a repository base URL
// (MADOGUCHI_REPOSITORY_URL), port 80 when none is given.
func ListenAddr(repositoryURL string) (string, error) {
	u, err := url.Parse(repositoryURL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return "", fmt.Errorf("repository: %q is not an http:// URL", repositoryURL)
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "80"), nil
	}
	return u.Host, nil
}

// NewHTTPServer wraps a handler with the timeouts a public server needs:
// slow clients cannot hold connections open forever.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
}

// Run serves the repository on addr (empty: the host:port of
// cfg.RepositoryURL) until ctx ends. It needs the jlis database (migrated,
// the CA bootstrapped: run setup first) and the HSM, where it finds or makes
// the delegated OCSP keys and certificates. CRLs and daily files come from
// NewCRLSource.
func Run(ctx context.Context, cfg config.Config, addr string, logger *slog.Logger) error {
	if err := config.Require("MADOGUCHI_JLIS_DSN", cfg.JLISDSN, "MADOGUCHI_PKCS11_PIN", cfg.PKCS11PIN); err != nil {
		return err
	}
	if logger == nil {
		logger = slog.Default()
	}
	if addr == "" {
		var err error
		if addr, err = ListenAddr(cfg.RepositoryURL); err != nil {
			return err
		}
	}
	if err := metrics.Serve(ctx, cfg.MetricsAddr); err != nil {
		return fmt.Errorf("repository: metrics: %w", err)
	}
	conn, err := ca.Connect(ctx, cfg.JLISDSN)
	if err != nil {
		return fmt.Errorf("repository: %w", err)
	}
	defer conn.Close()
	pool, h := conn.Pool, conn.HSM
	authority, err := conn.Load(ctx, ca.Options{RepositoryURL: cfg.RepositoryURL, Logger: logger})
	if err != nil {
		return fmt.Errorf("repository: load the CA (run setup first): %w", err)
	}
	responder, err := ocsp.New(ctx, pool, h, authority, ocsp.Options{Logger: logger})
	if err != nil {
		return err
	}
	registry, err := verifier.NewRegistry(ctx, pool, logger)
	if err != nil {
		return fmt.Errorf("repository: verifiers (run setup first): %w", err)
	}
	srv, err := New(Config{Pool: pool, OCSP: responder, Verifiers: registry, CRLs: NewCRLSource(pool), Logger: logger})
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = responder.Run(runCtx) }()
	go func() { _ = registry.Run(runCtx) }()

	hs := NewHTTPServer(addr, srv)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("repository: %w", err)
	}
	logger.Info("repository: serving", "addr", ln.Addr().String(), "ocsp", "/ocsp", "crl", "/crl/{sign|auth}/{partition|full}.crl")
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("repository: %w", err)
	case <-ctx.Done():
	}
	shutdown, done := context.WithTimeout(context.Background(), 10*time.Second)
	defer done()
	if err := hs.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("repository: shutdown: %w", err)
	}
	return nil
}
