// Command cardagent runs a counter terminal's card agent: a Temporal worker
// on the terminal's own task queue that drives the card reader over PC/SC,
// with the touch panel served on loopback.
package main

import (
	"context"
	"flag"
	"os"
	"os/signal"
	"syscall"

	"github.com/madoguchi/madoguchi/cardagent"
	"github.com/madoguchi/madoguchi/internal/config"
	"github.com/madoguchi/madoguchi/internal/logs"
)

func main() {
	var o cardagent.Options
	flag.StringVar(&o.TerminalID, "terminal", "T0001", "terminal id (its task queue is terminal.<id>)")
	flag.StringVar(&o.ReaderName, "reader", "Virtual PCD 00 00", "PC/SC reader name")
	flag.StringVar(&o.PanelAddr, "panel", "127.0.0.1:8181", "touch panel address (loopback only)")
	flag.StringVar(&o.SealingKeys, "sealing-keys", "", "folder of the municipality's sealing private keys (relay PIN notices)")
	flag.StringVar(&o.TerminalKey, "terminal-key", os.Getenv("MADOGUCHI_TERMINAL_KEY"),
		"the terminal's key file for the PIN reset (env MADOGUCHI_TERMINAL_KEY; empty: this terminal cannot reset PINs)")
	flag.Parse()
	// The tests' fault hooks: always off in production builds.
	o.HoldBeforeWrite, o.WriteDelay, o.FailWrite = holdBeforeWrite(), writeDelay(), failWrite()
	log := logs.Default()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cardagent.Run(ctx, config.FromEnv(), o, log); err != nil {
		log.Error("card agent stopped", "err", err)
		os.Exit(1)
	}
}
