package gateway

import (
	"testing"

	"github.com/madoguchi/madoguchi/workflows"
)

// TestEveryStartableProcedureHasARoute: a catalog entry that staff may
// start has a request reader, its own (Start) or, for the issuance family,
// one in the gateway; never both; and the gateway reads no procedure the
// catalog does not list as startable.
func TestEveryStartableProcedureHasARoute(t *testing.T) {
	starters := (&Server{}).starters()
	for _, p := range workflows.Catalog {
		_, own := starters[p.Name]
		if own && p.Start != nil {
			t.Errorf("%s: read both by the gateway and by its catalog entry", p.Name)
		}
		ok := own || p.Start != nil
		if (len(p.StartRoles) > 0) != ok {
			t.Errorf("%s: startable %v, request reader %v", p.Name, len(p.StartRoles) > 0, ok)
		}
	}
	for name := range starters {
		if p, ok := workflows.Lookup(name); !ok || len(p.StartRoles) == 0 {
			t.Errorf("the gateway starts %s, which the catalog does not list as startable", name)
		}
	}
}
