package cardagent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.temporal.io/sdk/interceptor"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/madoguchi/madoguchi/activities/terminal"
	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/config"
	"github.com/madoguchi/madoguchi/internal/metrics"
	"github.com/madoguchi/madoguchi/internal/sealing"
	"github.com/madoguchi/madoguchi/internal/temporalclient"
	"github.com/madoguchi/madoguchi/internal/terminalauth"
)

// Options configure a card agent.
type Options struct {
	TerminalID string
	ReaderName string
	PanelAddr  string // loopback address of the touch panel
	// HoldBeforeWrite is the crash test's fault hook (see terminal.Card).
	HoldBeforeWrite bool
	// WriteDelay and FailWrite are the kit tests' fault hooks (see terminal.Card).
	WriteDelay time.Duration
	FailWrite  bool
	// SealingKeys is the folder of the municipality's sealing private keys
	// (PIN notices of relay applications); empty on a terminal without.
	SealingKeys string
	// TerminalKey is the file of the terminal's key for the PIN reset
	// (terminalauth, docs/CARD.md §5a); empty on a terminal not authorised
	// to reset PINs.
	TerminalKey string
}

// keyringOpener opens notices with the keys in a folder, read afresh each
// time so that a rotated key is used without restarting the terminal.
type keyringOpener struct{ dir string }

func (k keyringOpener) Open(n sealing.Notice, caseNumber string) (map[string][]byte, error) {
	kr, err := sealing.LoadKeyring(k.dir)
	if err != nil {
		return nil, err
	}
	return kr.Open(n, caseNumber)
}

// Run serves the touch panel and polls the terminal's task queue until ctx ends.
func Run(ctx context.Context, cfg config.Config, o Options, log *slog.Logger) error {
	host, _, err := net.SplitHostPort(o.PanelAddr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("cardagent: the touch panel must listen on loopback, not %q", o.PanelAddr)
	}
	reader := Reader{Name: o.ReaderName}
	if o.TerminalKey != "" {
		if reader.Key, err = terminalauth.LoadKey(o.TerminalKey); err != nil {
			return fmt.Errorf("cardagent: terminal key: %w", err)
		}
	}
	panel := NewPanel()
	ln, err := net.Listen("tcp", o.PanelAddr)
	if err != nil {
		return fmt.Errorf("cardagent: touch panel: %w", err)
	}
	srv := &http.Server{Handler: panel.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("touch panel stopped", "err", err)
		}
	}()
	defer srv.Close()
	if err := metrics.Serve(ctx, cfg.MetricsAddr); err != nil {
		return fmt.Errorf("cardagent: metrics: %w", err)
	}

	tc, err := temporalclient.Dial(cfg)
	if err != nil {
		return err
	}
	defer tc.Close()
	w := sdkworker.New(tc, contract.TerminalTaskQueue(o.TerminalID), sdkworker.Options{
		Interceptors: []interceptor.WorkerInterceptor{terminal.Heartbeats()},
		// One card, one reader: card steps run one at a time.
		MaxConcurrentActivityExecutionSize: 1,
		// A terminal runs card steps only: no workflow poller, which the
		// cluster's authorizer would refuse a terminal anyway (cluster/authz).
		DisableWorkflowWorker: true,
	})
	cardActs := &terminal.Card{Reader: reader, Panel: panel, HoldBeforeWrite: o.HoldBeforeWrite, WriteDelay: o.WriteDelay, FailWrite: o.FailWrite}
	if o.SealingKeys != "" {
		cardActs.Notices = keyringOpener{dir: o.SealingKeys}
	}
	w.RegisterActivity(cardActs)
	if err := w.Start(); err != nil {
		return fmt.Errorf("cardagent: start worker: %w", err)
	}
	log.Info("card agent ready", "terminal", o.TerminalID, "reader", o.ReaderName, "panel", "http://"+o.PanelAddr, "pinReset", reader.Key != nil)
	<-ctx.Done()
	w.Stop()
	return nil
}
