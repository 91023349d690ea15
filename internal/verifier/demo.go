package verifier

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Demo registrations: one verifier of each type, plus one registered both as
// a signature and a user-authentication verifier (counterpart mapping).
var Demo = []Registration{
	{Name: "demo-signature-verifier", Category: CategoryAccreditedCA, Roles: []Role{RoleSignature}},
	{Name: "demo-user-auth-verifier", Category: CategoryMinisterApproved, Roles: []Role{RoleUserAuth}},
	{Name: "demo-group-signature-verifier", Category: CategoryGroupProxy, Roles: []Role{RoleGroupSignature}},
	{Name: "demo-signature-and-user-auth-verifier", Category: CategoryAdministrative, Roles: []Role{RoleSignature, RoleUserAuth}},
}

// DemoResult is one demo registration; Key is empty when the verifier was
// already registered (its key was shown then; rotate it to get a new one).
type DemoResult struct {
	Verifier *Verifier
	Key      string
}

// RegisterDemo registers the Demo verifiers that are not registered yet.
func RegisterDemo(ctx context.Context, pool *pgxpool.Pool) ([]DemoResult, error) {
	var out []DemoResult
	for _, reg := range Demo {
		v, key, err := Register(ctx, pool, reg)
		if errors.Is(err, ErrNameTaken) {
			v, err = ByName(ctx, pool, reg.Name)
			key = ""
		}
		if err != nil {
			return out, err
		}
		out = append(out, DemoResult{Verifier: v, Key: key})
	}
	return out, nil
}
