// Command vcard serves a virtual JPKI card to pcscd through vsmartcard-vpcd,
// as if the card sat in the reader "Virtual PCD 00 00" (port 35963) or
// "Virtual PCD 00 01" (port 35964):
//
//	vcard -state card.json -port 35963 [-serial S -expiry YYYYMMDD] [-terminal-authority authority.pub]
//
// The state file is created as a blank card (no keys, certificates or PINs)
// when missing, and is rewritten atomically after every change. The card stays
// inserted until SIGINT/SIGTERM; it reconnects by itself when pcscd restarts.
// -terminal-authority provisions the card with the public key of the
// terminal authority whose terminals may reset its PINs (docs/CARD.md §5a),
// as a card manufacturer does; without it the card keeps what it trusts.
// Only non-sensitive events are logged: never APDU data, so never a PIN.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/madoguchi/madoguchi/internal/cardproto"
	"github.com/madoguchi/madoguchi/internal/logs"
	"github.com/madoguchi/madoguchi/internal/terminalauth"
	"github.com/madoguchi/madoguchi/internal/vcard"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "vcard:", err)
		os.Exit(1)
	}
}

func run() error {
	statePath := flag.String("state", "", "card state file (JSON); created as a blank card if missing")
	host := flag.String("host", "127.0.0.1", "address of pcscd's vpcd driver")
	port := flag.Int("port", vcard.DefaultVPCDPort, "vpcd port: 35963 for reader 0, 35964 for reader 1")
	serial := flag.String("serial", "", "serial number of a new card (default: random)")
	expiry := flag.String("expiry", "", "expiry date YYYYMMDD of a new card (default: 10 years from today)")
	quiet := flag.Bool("quiet", false, "do not log each command name (only connection and power events)")
	authority := flag.String("terminal-authority", os.Getenv("MADOGUCHI_TERMINAL_AUTHORITY"),
		"public key file (PEM) of the terminal authority the card trusts to reset PINs (env MADOGUCHI_TERMINAL_AUTHORITY)")
	flag.Parse()
	if *statePath == "" {
		flag.Usage()
		return fmt.Errorf("-state is required")
	}
	if *port <= 0 || *port > 65535 {
		return fmt.Errorf("-port %d out of range", *port)
	}

	logger := logs.Default()

	newSerial, newExpiry := *serial, *expiry
	if newSerial == "" {
		s, err := randomSerial()
		if err != nil {
			return err
		}
		newSerial = s
	}
	if newExpiry == "" {
		newExpiry = time.Now().AddDate(10, 0, 0).Format(cardproto.ExpiryLayout)
	}
	st, created, err := vcard.LoadOrCreate(*statePath, newSerial, newExpiry)
	if err != nil {
		return err
	}
	if created {
		logger.Info("created blank card", "state", *statePath, "serial", st.Serial, "expiry", st.Expiry)
	} else {
		logger.Info("loaded card", "state", *statePath, "serial", st.Serial, "expiry", st.Expiry)
		if (*serial != "" && *serial != st.Serial) || (*expiry != "" && *expiry != st.Expiry) {
			logger.Warn("-serial/-expiry ignored: they only apply when the card file is created")
		}
	}

	if *authority != "" {
		if err := provision(*statePath, st, *authority, logger); err != nil {
			return err
		}
	}

	// The applet logs command names and status words, never command data.
	appletLogger := logger
	if *quiet {
		appletLogger = slog.New(commandLevel{logger.Handler()})
	}
	applet, err := vcard.NewApplet(st, vcard.Options{
		Store:  vcard.FileStore{Path: *statePath},
		Logger: appletLogger,
	})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	conn := &vcard.Connector{
		Addr:   net.JoinHostPort(*host, strconv.Itoa(*port)),
		Applet: applet,
		Logger: logger,
	}
	logger.Info("serving card to vpcd", "addr", conn.Addr)
	return conn.Run(ctx)
}

// provision makes the card trust the terminal authority in file, saving the
// state when that changes it.
func provision(statePath string, st *vcard.State, file string, logger *slog.Logger) error {
	der, err := terminalauth.LoadAuthority(file)
	if err != nil {
		return fmt.Errorf("terminal authority: %w", err)
	}
	if bytes.Equal(st.TerminalAuthority, der) {
		return nil
	}
	replaced := len(st.TerminalAuthority) > 0
	st.TerminalAuthority = der
	if err := vcard.SaveState(statePath, st); err != nil {
		return err
	}
	logger.Info("card provisioned with the terminal authority", "file", file, "replaced", replaced)
	return nil
}

// commandLevel lowers the applet's per-command records to debug (-quiet);
// power and error events keep their level.
type commandLevel struct{ slog.Handler }

func (h commandLevel) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "command" {
		r.Level = slog.LevelDebug
	}
	if !h.Handler.Enabled(ctx, r.Level) {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h commandLevel) Enabled(context.Context, slog.Level) bool { return true }

func (h commandLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return commandLevel{h.Handler.WithAttrs(attrs)}
}

func (h commandLevel) WithGroup(name string) slog.Handler {
	return commandLevel{h.Handler.WithGroup(name)}
}

// randomSerial makes a serial like "VC3F9A1C07B2E4": VC for virtual card.
func randomSerial() (string, error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random serial: %w", err)
	}
	return fmt.Sprintf("VC%X", b), nil
}
