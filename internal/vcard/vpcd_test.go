package vcard

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/cardproto"
)

// fakeVPCD plays pcscd's vpcd side of the socket.
type fakeVPCD struct {
	t    *testing.T
	conn net.Conn
}

func (f *fakeVPCD) send(payload []byte) {
	f.t.Helper()
	frame := binary.BigEndian.AppendUint16(nil, uint16(len(payload)))
	if _, err := f.conn.Write(append(frame, payload...)); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fakeVPCD) recv() []byte {
	f.t.Helper()
	_ = f.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var hdr [2]byte
	if _, err := io.ReadFull(f.conn, hdr[:]); err != nil {
		f.t.Fatal(err)
	}
	b := make([]byte, binary.BigEndian.Uint16(hdr[:]))
	if _, err := io.ReadFull(f.conn, b); err != nil {
		f.t.Fatal(err)
	}
	return b
}

func (f *fakeVPCD) transmit(apdu []byte) cardproto.StatusWord {
	f.t.Helper()
	f.send(apdu)
	r, err := cardproto.ParseResponse(f.recv())
	if err != nil {
		f.t.Fatal(err)
	}
	return r.SW
}

func accept(t *testing.T, ln net.Listener) *fakeVPCD {
	t.Helper()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() { c, err := ln.Accept(); ch <- res{c, err} }()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatal(r.err)
		}
		t.Cleanup(func() { r.c.Close() })
		return &fakeVPCD{t: t, conn: r.c}
	case <-time.After(10 * time.Second):
		t.Fatal("virtual card did not connect")
		return nil
	}
}

func TestConnectorFramingAndReconnect(t *testing.T) {
	// Reserve a port, free it, and start the card before anything listens there:
	// the connector must keep retrying until "pcscd" comes up.
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := probe.Addr().String()
	probe.Close()

	c := newCard(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	conn := &Connector{Addr: addr, Applet: c.a, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}
	go func() { done <- conn.Run(ctx) }()
	time.Sleep(120 * time.Millisecond) // a few failed attempts

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s was taken meanwhile: %v", addr, err)
	}
	defer ln.Close()

	v := accept(t, ln)
	v.send([]byte{vpcdGetATR})
	if atr := v.recv(); !bytes.Equal(atr, cardproto.ATR) {
		t.Fatalf("ATR % X", atr)
	}
	v.send([]byte{vpcdPowerOn}) // no answer expected
	if sw := v.transmit(cardproto.SelectAP()); sw != cardproto.SWOK {
		t.Fatalf("select: %v", sw)
	}
	if sw := v.transmit(cardproto.SelectEF(cardproto.EFTokenInfo)); sw != cardproto.SWOK {
		t.Fatalf("select EF: %v", sw)
	}
	// A reset loses the selection, as on a real card.
	v.send([]byte{vpcdReset})
	rb, _ := cardproto.ReadBinary(0, 4)
	if sw := v.transmit(rb); sw != cardproto.SWNoCurrentEF {
		t.Fatalf("read after reset: %v", sw)
	}
	if sw := v.transmit(cardproto.SelectAP()); sw != cardproto.SWOK {
		t.Fatalf("select: %v", sw)
	}

	// pcscd restarts: the card connects again by itself, powered off meanwhile.
	v.conn.Close()
	v2 := accept(t, ln)
	v2.send([]byte{vpcdGetATR})
	if atr := v2.recv(); !bytes.Equal(atr, cardproto.ATR) {
		t.Fatalf("ATR after reconnect % X", atr)
	}
	if sw := v2.transmit(cardproto.SelectEF(cardproto.EFTokenInfo)); sw != cardproto.SWFileNotFound {
		t.Fatalf("application still selected after reconnect: %v", sw)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop on cancel")
	}
}
