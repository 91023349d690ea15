package storage_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/internal/storage/storagetest"
)

// TestAccountsAndSignIns: an account made in a fresh office signs in; its
// fifth failure in the window locks it (an unknown login locks nothing),
// twenty from one address throttle the address, not another; a manager's
// unlock clears the lock and the count; disabling ends its sessions and the
// session lookup refuses it; a password reset ends the sessions and clears
// the demo mark; every change is an account event; a taken login is
// ErrAccountExists; the demo's accounts are listed as such.
func TestAccountsAndSignIns(t *testing.T) {
	db := storagetest.Seeded(t)
	ctx := context.Background()
	office := storagetest.FreshOffice(t, db)
	login := fmt.Sprintf("acct%d", time.Now().UnixNano()%1e9)
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, storage.Tokyo)
	_, hash, err := storage.NewOneTimePassword()
	if err != nil {
		t.Fatal(err)
	}
	ev := func(action string) storage.AccountEvent {
		return storage.AccountEvent{Office: office, Login: login, Action: action, Actor: "manager-x", At: now}
	}
	if err := db.CreateAccount(ctx, storage.Account{Login: login, DisplayName: "試験 職員", Role: "clerk", Office: office}, hash, ev("created")); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateAccount(ctx, storage.Account{Login: login, DisplayName: "x", Role: "clerk", Office: office}, hash, ev("created")); !errors.Is(err, storage.ErrAccountExists) {
		t.Errorf("created twice: %v", err)
	}
	addr := fmt.Sprintf("198.51.100.%d", time.Now().UnixNano()%250)
	for i := 1; i <= storage.LoginAccountLimit; i++ {
		locked, err := db.LoginFailed(ctx, login, addr, now)
		if err != nil || locked != (i == storage.LoginAccountLimit) {
			t.Fatalf("failure %d: locked %v, %v", i, locked, err)
		}
	}
	if st, err := db.SignInCheck(ctx, login, addr, now); err != nil || !st.Locked || st.AddressThrottled || st.Disabled {
		t.Errorf("after five failures: %+v, %v", st, err)
	}
	for range storage.LoginAddressLimit - storage.LoginAccountLimit {
		if locked, err := db.LoginFailed(ctx, "nobody-"+login, addr, now); err != nil || locked {
			t.Fatalf("an unknown login: %v %v", locked, err)
		}
	}
	if st, _ := db.SignInCheck(ctx, login, addr, now); !st.AddressThrottled {
		t.Error("twenty failures did not throttle the address")
	}
	if st, _ := db.SignInCheck(ctx, login, addr+"1", now.Add(storage.LoginWindow)); st.AddressThrottled {
		t.Error("another address is throttled")
	}
	if err := db.ChangeAccount(ctx, office, login, storage.AccountChange{Unlock: true}, ev("unlocked")); err != nil {
		t.Fatal(err)
	}
	if st, _ := db.SignInCheck(ctx, login, "192.0.2.200", now); st.Locked {
		t.Error("still locked after the unlock")
	}
	// One failure after the unlock does not lock it again: the count was cleared.
	if locked, _ := db.LoginFailed(ctx, login, "192.0.2.200", now); locked {
		t.Error("locked again by one failure")
	}

	clerk, err := db.ClerkByLogin(ctx, login)
	if err != nil {
		t.Fatal(err)
	}
	token := []byte("token-" + login)
	if err := db.CreateSession(ctx, token, clerk.ID, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SessionClerk(ctx, token, now); err != nil {
		t.Fatalf("a live session: %v", err)
	}
	yes := true
	if err := db.ChangeAccount(ctx, office, login, storage.AccountChange{Disabled: &yes}, ev("disabled")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SessionClerk(ctx, token, now); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a disabled account's session: %v", err)
	}
	if st, _ := db.SignInCheck(ctx, login, "192.0.2.201", now); !st.Disabled {
		t.Error("not disabled")
	}
	if err := db.ChangeAccount(ctx, "another-office", login, storage.AccountChange{Unlock: true}, ev("unlocked")); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("another office's manager changed it: %v", err)
	}
	as, err := db.Accounts(ctx, office)
	if err != nil || len(as) != 1 || !as[0].Disabled || as[0].Locked || as[0].Demo {
		t.Errorf("accounts %+v, %v", as, err)
	}
	var events int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM account_events WHERE login = $1 AND office_code = $2 AND actor = 'manager-x'`, login, office).Scan(&events); err != nil || events != 3 {
		t.Errorf("account events %d, %v", events, err)
	}
	demo, err := db.DemoAccounts(ctx)
	if err != nil || len(demo) == 0 {
		t.Fatalf("demo accounts %v, %v", demo, err)
	}
	for _, l := range demo {
		if l == login {
			t.Error("a created account is listed as the demo's")
		}
	}
}
