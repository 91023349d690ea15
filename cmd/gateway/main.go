// Command gateway serves the staff API (see package gateway).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/madoguchi/madoguchi/gateway"
	"github.com/madoguchi/madoguchi/internal/codec"
	"github.com/madoguchi/madoguchi/internal/config"
	"github.com/madoguchi/madoguchi/internal/logs"
	"github.com/madoguchi/madoguchi/internal/metrics"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/internal/temporalclient"
	"github.com/madoguchi/madoguchi/workflows"
)

func main() {
	log := logs.Default()
	if err := run(log); err != nil {
		log.Error("gateway stopped", "err", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := config.FromEnv()
	if err := config.Require("MADOGUCHI_DB_DSN", cfg.DBDSN); err != nil {
		return err
	}
	db, err := storage.Open(ctx, cfg.DBDSN)
	if err != nil {
		return err
	}
	defer db.Close()
	// A production start never serves the demo's published password.
	if err := gateway.RefuseDemoAccounts(ctx, db, os.Getenv("MADOGUCHI_DEMO") == "1"); err != nil {
		return err
	}
	c, err := codec.Load(cfg.CodecKeyFile)
	if err != nil {
		return err
	}
	if err := metrics.Serve(ctx, cfg.MetricsAddr); err != nil {
		return fmt.Errorf("gateway: metrics: %w", err)
	}
	tc, err := temporalclient.Dial(cfg)
	if err != nil {
		return err
	}
	defer tc.Close()
	srv := &http.Server{Addr: cfg.GatewayAddr, Handler: gateway.New(db, tc, c, log, workflows.InquiryPolicy{
		ReplyDays: cfg.InquiryReplyDays, ReplyWindow: cfg.InquiryReplyWindow, EarliestReplyAfter: cfg.InquiryEarliestReply}).Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("gateway listening", "addr", cfg.GatewayAddr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
