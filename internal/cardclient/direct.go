package cardclient

// Processor is anything that answers command APDUs in process, such as *vcard.Applet.
type Processor interface {
	Process(apdu []byte) []byte
}

// Direct is a Transmitter that hands APDUs straight to an in-process card,
// for unit tests and for benchmarks that attach many cards without PC/SC.
type Direct struct {
	p Processor
}

// NewDirect returns a Transmitter over p.
func NewDirect(p Processor) *Direct { return &Direct{p: p} }

// Transmit implements Transmitter.
func (d *Direct) Transmit(cmd []byte) ([]byte, error) {
	return d.p.Process(cmd), nil
}
