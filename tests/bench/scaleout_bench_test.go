package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/madoguchi/madoguchi/internal/temporalclient"
	"github.com/madoguchi/madoguchi/workflows"
)

// BenchmarkInPersonIssuanceScaleOut is issuance at 20 concurrent with one
// municipal worker and one CA worker, then with two of each (the second pair
// on a Temporal client, so a connection, of its own), on the same server in
// the same run: the throughput of two of each against one of each.
func BenchmarkInPersonIssuanceScaleOut(b *testing.B) {
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("server=%s/workers=%d/concurrent=20", serverName(), n), func(b *testing.B) {
			s := getStack(b)
			if n == 2 {
				stop := s.secondPair(b)
				defer stop()
			}
			runConcurrent(b, 20, workflows.InPersonIssuance, workflows.ProcedureInPersonIssuance)
		})
	}
}

// secondPair starts another municipal worker and CA worker and returns what
// stops them.
func (s *stack) secondPair(b *testing.B) func() {
	tc, err := temporalclient.Dial(s.cfg)
	if err != nil {
		b.Fatal(err)
	}
	ws, err := s.municipalAndCA(context.Background(), tc)
	if err != nil {
		b.Fatal(err)
	}
	for _, w := range ws {
		if err := w.Start(); err != nil {
			b.Fatal(err)
		}
	}
	return func() {
		for _, w := range ws {
			w.Stop()
		}
		tc.Close()
	}
}
