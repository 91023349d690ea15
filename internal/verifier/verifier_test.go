package verifier_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/ocsp/ocsptest"
	"github.com/madoguchi/madoguchi/internal/verifier"
)

func TestRegistrationRules(t *testing.T) {
	v := func(c verifier.Category, roles ...verifier.Role) verifier.Registration {
		return verifier.Registration{Name: "x", Category: c, Roles: roles}
	}
	tests := []struct {
		name string
		reg  verifier.Registration
		ok   bool
	}{
		{"エ① signature verifier", v(verifier.CategoryAdministrative, verifier.RoleSignature), true},
		{"エ② user-auth verifier", v(verifier.CategoryCourt, verifier.RoleUserAuth), true},
		{"エ④ both", v(verifier.CategoryAccreditedCA, verifier.RoleSignature, verifier.RoleUserAuth), true},
		{"カ① group", v(verifier.CategoryGroupProxy, verifier.RoleGroupSignature), true},
		{"カ② group", v(verifier.CategoryGroupProvider, verifier.RoleGroupSignature), true},
		{"group from エ", v(verifier.CategoryDesignated, verifier.RoleGroupSignature), false},
		{"カ as signature verifier", v(verifier.CategoryGroupProxy, verifier.RoleSignature), false},
		{"カ as user-auth verifier (オ admits only エ's bodies)", v(verifier.CategoryGroupProvider, verifier.RoleUserAuth), false},
		{"group plus user-auth", v(verifier.CategoryGroupProxy, verifier.RoleGroupSignature, verifier.RoleUserAuth), false},
		{"no role", v(verifier.CategoryCourt), false},
		{"unknown role", v(verifier.CategoryCourt, "auditor"), false},
		{"unknown category", v("company", verifier.RoleSignature), false},
		{"empty name", verifier.Registration{Category: verifier.CategoryCourt, Roles: []verifier.Role{verifier.RoleSignature}}, false},
		{"padded name", verifier.Registration{Name: " x", Category: verifier.CategoryCourt, Roles: []verifier.Role{verifier.RoleSignature}}, false},
		{"control in name", verifier.Registration{Name: "a\nb", Category: verifier.CategoryCourt, Roles: []verifier.Role{verifier.RoleSignature}}, false},
	}
	for _, tc := range tests {
		err := tc.reg.Validate()
		if tc.ok && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if !tc.ok && !errors.Is(err, verifier.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", tc.name, err)
		}
	}
}

func TestAccessRights(t *testing.T) {
	tests := []struct {
		name                  string
		v                     verifier.Verifier
		sign, auth, counterpt bool
	}{
		{"署名検証者", verifier.Verifier{Signature: true}, true, false, false},
		{"利用者証明検証者", verifier.Verifier{UserAuth: true}, false, true, false},
		{"団体署名検証者", verifier.Verifier{GroupSignature: true}, true, false, false},
		{"署名検証者かつ利用者証明検証者", verifier.Verifier{Signature: true, UserAuth: true}, true, true, true},
		{"disabled", verifier.Verifier{Signature: true, UserAuth: true, DisabledAt: time.Now()}, false, false, false},
	}
	for _, tc := range tests {
		v := tc.v
		if v.MayCheck(ca.KindSign) != tc.sign || v.MayCheck(ca.KindAuth) != tc.auth || v.MayMapCounterpart() != tc.counterpt {
			t.Errorf("%s: sign %v auth %v counterpart %v", tc.name, v.MayCheck(ca.KindSign), v.MayCheck(ca.KindAuth), v.MayMapCounterpart())
		}
		if v.MayCheck("other") {
			t.Errorf("%s: may check an unknown kind", tc.name)
		}
	}
	var none *verifier.Verifier
	if none.Active() {
		t.Error("nil verifier is active")
	}
}

func TestRegisterAuthenticateRotateDisable(t *testing.T) {
	pool := ocsptest.DB(t)
	ctx := context.Background()
	if err := ca.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	reg, err := verifier.NewRegistry(ctx, pool, ocsptest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = reg.Run(runCtx); close(done) }()
	defer func() { cancel(); <-done }()

	v, key, err := verifier.Register(ctx, pool, verifier.Registration{Name: "Example Bank", Category: verifier.CategoryMinisterApproved,
		Roles: []verifier.Role{verifier.RoleSignature, verifier.RoleUserAuth}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, verifier.KeyPrefix+v.KeyID+"_") || len(key) != len(verifier.KeyPrefix)+16+1+43 {
		t.Fatalf("key %q does not have the documented shape", key[:10])
	}
	if strings.Contains(v.String(), key) {
		t.Fatal("String shows the key")
	}
	// Only the hash is stored.
	var stored []byte
	if err := pool.QueryRow(ctx, "SELECT key_sha256 FROM repo_verifiers WHERE id = $1", v.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if sum := verifier.HashKey(key); string(stored) != string(sum[:]) {
		t.Fatal("stored hash is not SHA-256 of the key")
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM repo_verifiers WHERE position(convert_to($1, 'UTF8') in key_sha256) > 0 OR key_id = $1", key).Scan(&n); err != nil || n != 0 {
		t.Fatalf("key stored in clear: %d %v", n, err)
	}

	waitFor(t, "registration seen", func() bool { return reg.Authenticate(key) != nil })
	if got := reg.Authenticate(key); got.ID != v.ID || !got.MayMapCounterpart() {
		t.Fatalf("authenticated as %v", got)
	}
	for _, bad := range []string{"", key[:len(key)-1], key + "x", strings.ToUpper(key), "Bearer " + key} {
		if reg.Authenticate(bad) != nil {
			t.Fatalf("key variant %q authenticated", bad)
		}
	}

	if _, _, err := verifier.Register(ctx, pool, verifier.Registration{Name: "Example Bank", Category: verifier.CategoryCourt,
		Roles: []verifier.Role{verifier.RoleSignature}}); !errors.Is(err, verifier.ErrNameTaken) {
		t.Fatalf("duplicate name: %v", err)
	}

	newKey, err := verifier.RotateKey(ctx, pool, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "rotation seen", func() bool { return reg.Authenticate(key) == nil && reg.Authenticate(newKey) != nil })

	if err := verifier.Disable(ctx, pool, v.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "disable seen", func() bool { return reg.Authenticate(newKey) == nil })
	if err := verifier.Disable(ctx, pool, v.ID); !errors.Is(err, verifier.ErrNotFound) {
		t.Fatalf("second disable: %v", err)
	}
	if _, err := verifier.RotateKey(ctx, pool, v.ID); !errors.Is(err, verifier.ErrNotFound) {
		t.Fatalf("rotate a disabled verifier: %v", err)
	}
	all, err := verifier.List(ctx, pool)
	if err != nil || len(all) != 1 || all[0].Active() {
		t.Fatalf("list: %v %v", all, err)
	}

	// The database refuses what Validate refuses, too.
	if _, err := pool.Exec(ctx, `INSERT INTO repo_verifiers (name, category, signature, user_auth, group_signature, key_id, key_sha256)
		VALUES ('g', 'group_proxy', false, true, true, 'k', sha256('k'))`); err == nil {
		t.Fatal("the table accepted a group signature verifier that is also a user-authentication verifier")
	}
}

func TestRegisterDemo(t *testing.T) {
	pool := ocsptest.DB(t)
	ctx := context.Background()
	if err := ca.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	first, err := verifier.RegisterDemo(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[verifier.Role]bool{}
	for _, r := range first {
		if r.Key == "" {
			t.Fatalf("%s: no key on first registration", r.Verifier.Name)
		}
		for _, role := range r.Verifier.Roles() {
			seen[role] = true
		}
	}
	if len(first) != len(verifier.Demo) || !seen[verifier.RoleSignature] || !seen[verifier.RoleUserAuth] || !seen[verifier.RoleGroupSignature] {
		t.Fatalf("demo registered %d verifiers with roles %v", len(first), seen)
	}
	again, err := verifier.RegisterDemo(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range again {
		if r.Key != "" || r.Verifier.ID != first[i].Verifier.ID {
			t.Fatalf("second run must not issue keys or register again: %+v", r)
		}
	}
}

// waitFor polls cond until it holds. The deadline is generous on purpose:
// the tests wait on the condition (a change notification read), never on
// the clock.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
