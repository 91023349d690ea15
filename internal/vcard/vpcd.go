package vcard

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"
)

// vpcd control bytes (a frame of length 1).
const (
	vpcdPowerOff byte = 0
	vpcdPowerOn  byte = 1
	vpcdReset    byte = 2
	vpcdGetATR   byte = 4
)

// DefaultVPCDPort is the TCP port of vpcd's first reader ("Virtual PCD 00 00");
// the second reader listens on the next port.
const DefaultVPCDPort = 35963

// Connector attaches an Applet to pcscd's vsmartcard-vpcd driver. The virtual
// card is the TCP client: it dials vpcd, which then sends it power and ATR
// controls and command APDUs, each frame a 2-byte big-endian length and the
// payload. While connected the card is "inserted" in the reader.
type Connector struct {
	// Addr is vpcd's address, e.g. "127.0.0.1:35963".
	Addr string
	// Applet answers the commands.
	Applet *Applet
	// Logger receives connection events; nil logs nothing.
	Logger *slog.Logger
	// MinBackoff and MaxBackoff bound the wait between connection attempts
	// while pcscd is not up; zero means 100 ms and 2 s.
	MinBackoff, MaxBackoff time.Duration
	// OnConnect, if set, is called after each successful connection (tests use it).
	OnConnect func()
}

// Run keeps the card connected to vpcd until ctx is done, reconnecting with
// exponential backoff whenever pcscd is not reachable or drops the connection.
// It returns nil when ctx ends.
func (c *Connector) Run(ctx context.Context) error {
	if c.Applet == nil {
		return errors.New("vcard: connector without applet")
	}
	minB, maxB := c.MinBackoff, c.MaxBackoff
	if minB <= 0 {
		minB = 100 * time.Millisecond
	}
	if maxB < minB {
		maxB = max(minB, 2*time.Second)
	}
	backoff := minB
	var lastErr string
	for ctx.Err() == nil {
		d := net.Dialer{Timeout: 2 * time.Second}
		conn, err := d.DialContext(ctx, "tcp", c.Addr)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			// Log a failure once, not every retry, so a missing pcscd does not flood the log.
			if msg := err.Error(); msg != lastErr {
				c.log(slog.LevelWarn, "vpcd not reachable, retrying", "addr", c.Addr, "err", err)
				lastErr = msg
			}
			if !sleep(ctx, backoff) {
				break
			}
			backoff = min(2*backoff, maxB)
			continue
		}
		lastErr = ""
		backoff = minB
		c.log(slog.LevelInfo, "connected to vpcd", "addr", c.Addr)
		if c.OnConnect != nil {
			c.OnConnect()
		}
		err = c.serve(ctx, conn)
		conn.Close()
		// Losing the reader is losing power.
		c.Applet.PowerOff()
		if ctx.Err() != nil {
			break
		}
		c.log(slog.LevelWarn, "vpcd connection lost", "addr", c.Addr, "err", err)
		if !sleep(ctx, backoff) {
			break
		}
	}
	c.log(slog.LevelInfo, "card removed from vpcd", "addr", c.Addr)
	return nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (c *Connector) log(level slog.Level, msg string, attrs ...any) {
	if c.Logger != nil {
		c.Logger.Log(context.Background(), level, msg, attrs...)
	}
}

// serve answers vpcd frames until the connection fails or ctx ends.
func (c *Connector) serve(ctx context.Context, conn net.Conn) error {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	var hdr [2]byte
	buf := make([]byte, 0, 512)
	for {
		if _, err := io.ReadFull(conn, hdr[:]); err != nil {
			return fmt.Errorf("vcard: read frame header: %w", err)
		}
		n := int(binary.BigEndian.Uint16(hdr[:]))
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(conn, buf); err != nil {
			return fmt.Errorf("vcard: read frame: %w", err)
		}
		var out []byte
		switch n {
		case 0:
			continue
		case 1:
			switch buf[0] {
			case vpcdPowerOff:
				c.Applet.PowerOff()
			case vpcdPowerOn:
				c.Applet.PowerOn()
			case vpcdReset:
				c.Applet.Reset()
			case vpcdGetATR:
				out = c.Applet.ATR() // polled by pcscd several times a second: not logged
			default:
				c.log(slog.LevelWarn, "unknown vpcd control", "code", buf[0])
			}
			if out == nil {
				continue
			}
		default:
			out = c.Applet.Process(buf)
			clear(buf) // the command may have carried a PIN
		}
		frame := make([]byte, 2+len(out))
		binary.BigEndian.PutUint16(frame, uint16(len(out)))
		copy(frame[2:], out)
		if _, err := conn.Write(frame); err != nil {
			return fmt.Errorf("vcard: write frame: %w", err)
		}
	}
}
