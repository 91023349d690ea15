//go:build madoguchi_faults

package ca

import (
	"context"
	"os"
)

// The crash test's switches, read only by a build with the madoguchi_faults
// tag.
const (
	// EnvFaultHold is the fault point at which Issue holds: "reserved" or
	// "signed".
	EnvFaultHold = "MADOGUCHI_FAULT_CA_HOLD"
	// EnvFaultKind, when set ("sign" or "auth"), holds only for requests of
	// that kind.
	EnvFaultKind = "MADOGUCHI_FAULT_CA_KIND"
	// EnvFaultMark is a file that holdAt writes (atomically) when it starts
	// holding, with the point and the request id, for the test to sync on.
	EnvFaultMark = "MADOGUCHI_FAULT_CA_MARK"
)

// holdAt holds Issue at point, for the request of row, until ctx ends, when
// the environment asks for it; the crash test then kills the process.
func (c *CA) holdAt(ctx context.Context, point faultPoint, row *certRow) {
	if os.Getenv(EnvFaultHold) != string(point) {
		return
	}
	if k := os.Getenv(EnvFaultKind); k != "" && k != string(row.Kind) {
		return
	}
	if point == faultReserved && row.CertDER != nil {
		return // a retry of a finished request: nothing lies between reservation and signing
	}
	c.opts.Logger.Warn("ca: fault injection: holding", "point", string(point), "request_id", row.RequestID, "serial", row.Serial)
	if mark := os.Getenv(EnvFaultMark); mark != "" {
		tmp := mark + ".tmp"
		if err := os.WriteFile(tmp, []byte(string(point)+" "+row.RequestID+" "+row.Serial+"\n"), 0o644); err == nil {
			_ = os.Rename(tmp, mark)
		}
	}
	<-ctx.Done()
}
