package cardclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ebfe/scard"
)

// PCSCReader is a Transmitter over a PC/SC reader (pcscd), in shared mode so
// diagnostic tools can still look at the card; each Client operation runs in
// a PC/SC transaction.
type PCSCReader struct {
	mu     sync.Mutex
	sctx   *scard.Context
	card   *scard.Card
	reader string
}

// pollInterval bounds each wait for pcscd, a reader or a card, so that ctx is honoured promptly.
const pollInterval = 500 * time.Millisecond

// ListReaders returns the names of the readers pcscd knows.
func ListReaders() ([]string, error) {
	sctx, err := scard.EstablishContext()
	if err != nil {
		return nil, fmt.Errorf("cardclient: PC/SC: %w", err)
	}
	defer sctx.Release()
	names, err := sctx.ListReaders()
	if errors.Is(err, scard.ErrNoReadersAvailable) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cardclient: PC/SC: list readers: %w", err)
	}
	return names, nil
}

// OpenReader connects to the card in readerName (e.g. "Virtual PCD 00 00"),
// waiting until pcscd runs, the reader exists and a card is present, or until
// ctx ends. It negotiates whichever of T=0 and T=1 the card offers.
func OpenReader(ctx context.Context, readerName string) (*PCSCReader, error) {
	for {
		sctx, err := scard.EstablishContext()
		if err == nil {
			r, err := waitAndConnect(ctx, sctx, readerName)
			if err == nil {
				return r, nil
			}
			sctx.Release()
			if !errors.Is(err, scard.ErrNoService) && !errors.Is(err, scard.ErrServiceStopped) {
				return nil, err
			}
		} else if !errors.Is(err, scard.ErrNoService) && !errors.Is(err, scard.ErrServiceStopped) {
			return nil, fmt.Errorf("cardclient: PC/SC: %w", err)
		}
		// pcscd is not running (yet): try again shortly.
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("cardclient: waiting for pcscd: %w", ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

func waitAndConnect(ctx context.Context, sctx *scard.Context, readerName string) (*PCSCReader, error) {
	// Cancelling the PC/SC context interrupts a GetStatusChange in progress.
	stop := context.AfterFunc(ctx, func() { _ = sctx.Cancel() })
	defer stop()
	states := []scard.ReaderState{{Reader: readerName, CurrentState: scard.StateUnaware}}
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("cardclient: waiting for a card in %q: %w", readerName, err)
		}
		err := sctx.GetStatusChange(states, pollInterval)
		switch {
		case err == nil:
		case errors.Is(err, scard.ErrTimeout):
			continue
		case errors.Is(err, scard.ErrCancelled) && ctx.Err() != nil:
			return nil, fmt.Errorf("cardclient: waiting for a card in %q: %w", readerName, ctx.Err())
		case errors.Is(err, scard.ErrUnknownReader), errors.Is(err, scard.ErrReaderUnavailable):
			// The reader is not there (yet): pcscd may still be loading its drivers.
			sleepCtx(ctx, pollInterval)
			states[0].CurrentState = scard.StateUnaware
			continue
		default:
			return nil, fmt.Errorf("cardclient: PC/SC status of %q: %w", readerName, err)
		}
		ev := states[0].EventState
		states[0].CurrentState = ev &^ scard.StateChanged
		if ev&(scard.StateUnknown|scard.StateUnavailable) != 0 {
			sleepCtx(ctx, pollInterval)
			states[0].CurrentState = scard.StateUnaware
			continue
		}
		if ev&scard.StatePresent == 0 || ev&scard.StateMute != 0 {
			continue
		}
		card, err := sctx.Connect(readerName, scard.ShareShared, scard.ProtocolT0|scard.ProtocolT1)
		if err != nil {
			if isCardGone(err) {
				continue // removed again between the event and the connect
			}
			return nil, fmt.Errorf("cardclient: PC/SC connect to %q: %w", readerName, err)
		}
		return &PCSCReader{sctx: sctx, card: card, reader: readerName}, nil
	}
}

// sleepCtx waits d; it reports false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func isCardGone(err error) bool {
	return errors.Is(err, scard.ErrNoSmartcard) || errors.Is(err, scard.ErrRemovedCard) ||
		errors.Is(err, scard.ErrUnpoweredCard) || errors.Is(err, scard.ErrUnresponsiveCard) ||
		errors.Is(err, scard.ErrReaderUnavailable)
}

// mapErr turns PC/SC errors about the card's presence into ErrCardRemoved /
// ErrCardReset; after a reset the handle is reconnected so the next command works.
func (r *PCSCReader) mapErr(op string, err error) error {
	if errors.Is(err, scard.ErrResetCard) {
		if rerr := r.card.Reconnect(scard.ShareShared, scard.ProtocolT0|scard.ProtocolT1, scard.LeaveCard); rerr != nil {
			return fmt.Errorf("cardclient: PC/SC %s: %w (reconnect: %w)", op, ErrCardReset, rerr)
		}
		return fmt.Errorf("cardclient: PC/SC %s: %w", op, ErrCardReset)
	}
	if isCardGone(err) {
		return fmt.Errorf("cardclient: PC/SC %s: %w: %w", op, ErrCardRemoved, err)
	}
	// A card pulled mid-command often surfaces as a generic "transaction failed":
	// ask the reader whether the card is still there.
	if _, serr := r.card.Status(); serr != nil && isCardGone(serr) {
		return fmt.Errorf("cardclient: PC/SC %s: %w: %w", op, ErrCardRemoved, err)
	}
	return fmt.Errorf("cardclient: PC/SC %s: %w", op, err)
}

// WaitForCardRemoval waits until readerName holds no card (the clerk took it
// out), or until ctx ends.
func WaitForCardRemoval(ctx context.Context, readerName string) error {
	sctx, err := scard.EstablishContext()
	if err != nil {
		return fmt.Errorf("cardclient: PC/SC: %w", err)
	}
	defer sctx.Release()
	stop := context.AfterFunc(ctx, func() { _ = sctx.Cancel() })
	defer stop()
	states := []scard.ReaderState{{Reader: readerName, CurrentState: scard.StateUnaware}}
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("cardclient: waiting for card removal from %q: %w", readerName, err)
		}
		err := sctx.GetStatusChange(states, pollInterval)
		switch {
		case err == nil:
		case errors.Is(err, scard.ErrTimeout):
			continue
		case errors.Is(err, scard.ErrCancelled) && ctx.Err() != nil:
			return fmt.Errorf("cardclient: waiting for card removal from %q: %w", readerName, ctx.Err())
		case errors.Is(err, scard.ErrUnknownReader), errors.Is(err, scard.ErrReaderUnavailable):
			return nil // no reader, no card
		default:
			return fmt.Errorf("cardclient: PC/SC status of %q: %w", readerName, err)
		}
		ev := states[0].EventState
		if ev&(scard.StateEmpty|scard.StateUnknown|scard.StateUnavailable) != 0 {
			return nil
		}
		states[0].CurrentState = ev &^ scard.StateChanged
	}
}

// Transmit implements Transmitter.
func (r *PCSCReader) Transmit(cmd []byte) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.card == nil {
		return nil, fmt.Errorf("cardclient: PC/SC: reader closed: %w", ErrCardRemoved)
	}
	rsp, err := r.card.Transmit(cmd)
	if err != nil {
		return nil, r.mapErr("transmit", err)
	}
	return append([]byte(nil), rsp...), nil
}

// BeginTransaction implements Transactor.
func (r *PCSCReader) BeginTransaction() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.card == nil {
		return fmt.Errorf("cardclient: PC/SC: reader closed: %w", ErrCardRemoved)
	}
	if err := r.card.BeginTransaction(); err != nil {
		return r.mapErr("begin transaction", err)
	}
	return nil
}

// EndTransaction implements Transactor.
func (r *PCSCReader) EndTransaction() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.card == nil {
		return nil
	}
	if err := r.card.EndTransaction(scard.LeaveCard); err != nil {
		return r.mapErr("end transaction", err)
	}
	return nil
}

// Reader returns the reader's name.
func (r *PCSCReader) Reader() string { return r.reader }

// ATR returns the card's answer-to-reset.
func (r *PCSCReader) ATR() ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.card == nil {
		return nil, fmt.Errorf("cardclient: PC/SC: reader closed: %w", ErrCardRemoved)
	}
	st, err := r.card.Status()
	if err != nil {
		return nil, r.mapErr("status", err)
	}
	return append([]byte(nil), st.Atr...), nil
}

// Protocol returns "T=0" or "T=1", the protocol negotiated with the card.
func (r *PCSCReader) Protocol() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.card == nil {
		return ""
	}
	switch r.card.ActiveProtocol() {
	case scard.ProtocolT0:
		return "T=0"
	case scard.ProtocolT1:
		return "T=1"
	}
	return "unknown"
}

// Close disconnects from the card, leaving it powered for the next user, and
// releases the PC/SC context.
func (r *PCSCReader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	if r.card != nil {
		if err := r.card.Disconnect(scard.LeaveCard); err != nil && !isCardGone(err) {
			errs = append(errs, err)
		}
		r.card = nil
	}
	if r.sctx != nil {
		if err := r.sctx.Release(); err != nil {
			errs = append(errs, err)
		}
		r.sctx = nil
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cardclient: PC/SC close: %w", err)
	}
	return nil
}
