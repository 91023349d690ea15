// Package cardproto holds what both sides of the JPKI card protocol share: the
// application identifier, file identifiers, instruction codes, status words,
// APDU encoding and decoding, the PIN rules the card enforces and the layout of
// the proprietary card-information file. The reading side follows the real JPKI
// card application (as OpenSC's jpki driver speaks it); the issuance commands
// are this project's own and are documented in docs/CARD.md.
package cardproto

import (
	"errors"
	"fmt"
)

// Limits of short and extended APDUs (ISO/IEC 7816-4 §5.1).
const (
	// MaxShortNc is the largest command data field of a short APDU.
	MaxShortNc = 255
	// MaxShortNe is the largest response data length a short APDU can ask for (Le = 00).
	MaxShortNe = 256
	// MaxExtendedNc is the largest command data field of an extended APDU.
	MaxExtendedNc = 65535
	// MaxExtendedNe is the largest response data length an extended APDU can ask for (Le = 00 00).
	MaxExtendedNe = 65536
)

// ErrMalformedAPDU reports bytes that are not a well-formed command or response APDU.
var ErrMalformedAPDU = errors.New("cardproto: malformed APDU")

// Command is a decoded command APDU.
type Command struct {
	CLA, INS, P1, P2 byte
	// Data is the command data field (Nc = len(Data)); nil when absent.
	Data []byte
	// Ne is the number of response bytes expected; 0 when Le is absent.
	// A short Le of 00 decodes to 256 and an extended Le of 00 00 to 65536.
	Ne int
	// HasLe tells an absent Le from Le present (Ne is never 0 when HasLe).
	HasLe bool
	// Extended is true when the APDU used (or must use) the extended length encoding.
	Extended bool
}

// ParseCommand decodes a command APDU in any of the ISO 7816-4 cases 1, 2S, 3S,
// 4S, 2E, 3E and 4E. The returned Data aliases b.
func ParseCommand(b []byte) (Command, error) {
	if len(b) < 4 {
		return Command{}, fmt.Errorf("%w: %d bytes, need at least 4", ErrMalformedAPDU, len(b))
	}
	c := Command{CLA: b[0], INS: b[1], P1: b[2], P2: b[3]}
	body := b[4:]
	switch {
	case len(body) == 0: // case 1
		return c, nil
	case len(body) == 1: // case 2S
		c.HasLe, c.Ne = true, shortNe(body[0])
		return c, nil
	case body[0] != 0: // case 3S or 4S
		nc := int(body[0])
		switch len(body) {
		case 1 + nc:
			c.Data = body[1:]
		case 2 + nc:
			c.Data = body[1 : 1+nc]
			c.HasLe, c.Ne = true, shortNe(body[1+nc])
		default:
			return Command{}, fmt.Errorf("%w: Lc %d does not match %d body bytes", ErrMalformedAPDU, nc, len(body))
		}
		return c, nil
	}
	// body[0] == 0 and more than one byte: extended length.
	c.Extended = true
	if len(body) < 3 {
		return Command{}, fmt.Errorf("%w: truncated extended length", ErrMalformedAPDU)
	}
	n := int(body[1])<<8 | int(body[2])
	if len(body) == 3 { // case 2E
		c.HasLe, c.Ne = true, extendedNe(n)
		return c, nil
	}
	if n == 0 {
		return Command{}, fmt.Errorf("%w: extended Lc of zero", ErrMalformedAPDU)
	}
	switch len(body) {
	case 3 + n: // case 3E
		c.Data = body[3:]
	case 5 + n: // case 4E
		c.Data = body[3 : 3+n]
		c.HasLe, c.Ne = true, extendedNe(int(body[3+n])<<8|int(body[4+n]))
	default:
		return Command{}, fmt.Errorf("%w: extended Lc %d does not match %d body bytes", ErrMalformedAPDU, n, len(body))
	}
	return c, nil
}

func shortNe(le byte) int {
	if le == 0 {
		return MaxShortNe
	}
	return int(le)
}

func extendedNe(le int) int {
	if le == 0 {
		return MaxExtendedNe
	}
	return le
}

// Bytes encodes the command. It uses the short encoding unless the data or Ne
// do not fit it or Extended is set; Ne is honoured only when HasLe is set.
func (c Command) Bytes() ([]byte, error) {
	nc := len(c.Data)
	if nc > MaxExtendedNc {
		return nil, fmt.Errorf("%w: %d data bytes exceed %d", ErrMalformedAPDU, nc, MaxExtendedNc)
	}
	if c.HasLe && (c.Ne < 1 || c.Ne > MaxExtendedNe) {
		return nil, fmt.Errorf("%w: Ne %d out of range", ErrMalformedAPDU, c.Ne)
	}
	ext := c.Extended || nc > MaxShortNc || (c.HasLe && c.Ne > MaxShortNe)
	out := make([]byte, 0, 4+3+nc+2)
	out = append(out, c.CLA, c.INS, c.P1, c.P2)
	if !ext {
		if nc > 0 {
			out = append(out, byte(nc))
			out = append(out, c.Data...)
		}
		if c.HasLe {
			out = append(out, byte(c.Ne)) // 256 wraps to 00, as the standard wants
		}
		return out, nil
	}
	if nc > 0 {
		out = append(out, 0, byte(nc>>8), byte(nc))
		out = append(out, c.Data...)
		if c.HasLe {
			out = append(out, byte(c.Ne>>8), byte(c.Ne)) // 65536 wraps to 00 00
		}
		return out, nil
	}
	if c.HasLe {
		out = append(out, 0, byte(c.Ne>>8), byte(c.Ne))
	}
	return out, nil
}

// Response is a decoded response APDU.
type Response struct {
	// Data is the response data field; it aliases the parsed bytes.
	Data []byte
	SW   StatusWord
}

// ParseResponse splits a response APDU into data and status word.
func ParseResponse(b []byte) (Response, error) {
	if len(b) < 2 {
		return Response{}, fmt.Errorf("%w: response of %d bytes has no status word", ErrMalformedAPDU, len(b))
	}
	n := len(b) - 2
	return Response{Data: b[:n], SW: StatusWord(b[n])<<8 | StatusWord(b[n+1])}, nil
}

// Bytes encodes the response as data followed by SW1 SW2.
func (r Response) Bytes() []byte {
	out := make([]byte, 0, len(r.Data)+2)
	out = append(out, r.Data...)
	return append(out, byte(r.SW>>8), byte(r.SW))
}
