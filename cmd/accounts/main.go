// Command accounts manages staff accounts from the server's shell, for any
// office (the gateway's /api/accounts does the same for a manager's own):
//
//	accounts list -office CODE
//	accounts create -office CODE -login L -name "表示名" -role clerk|manager|auditor|register|operator
//	accounts disable|enable|unlock|reset-password|revoke-sessions -office CODE -login L
//	accounts set-role -office CODE -login L -role R
//
// create and reset-password print a one-time password, once. Every change
// is recorded in account_events with the operating system user as actor.
// It reads MADOGUCHI_DB_DSN.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/user"
	"slices"
	"time"

	"github.com/madoguchi/madoguchi/internal/config"
	"github.com/madoguchi/madoguchi/internal/storage"
)

var roles = []string{"clerk", "manager", "auditor", "register", "operator"}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "accounts:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: accounts list|create|disable|enable|unlock|reset-password|revoke-sessions|set-role -office CODE [-login L] [-name N] [-role R]")
	}
	cmd := args[0]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	office := fs.String("office", "", "the office's code")
	login := fs.String("login", "", "the account's login")
	name := fs.String("name", "", "display name (create)")
	role := fs.String("role", "", "role (create, set-role)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *office == "" {
		return errors.New("-office is required")
	}
	cfg := config.FromEnv()
	if err := config.Require("MADOGUCHI_DB_DSN", cfg.DBDSN); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := storage.Open(ctx, cfg.DBDSN)
	if err != nil {
		return err
	}
	defer db.Close()
	actor := "cmd/accounts"
	if u, err := user.Current(); err == nil {
		actor += " (" + u.Username + ")"
	}
	ev := func(action, detail string) storage.AccountEvent {
		return storage.AccountEvent{Office: *office, Login: *login, Action: action, Detail: detail, Actor: actor, At: time.Now()}
	}
	if cmd == "list" {
		as, err := db.Accounts(ctx, *office)
		if err != nil {
			return err
		}
		for _, a := range as {
			fmt.Printf("%s\t%s\t%s\tdisabled=%t\tlocked=%t\tdemo=%t\n", a.Login, a.Role, a.DisplayName, a.Disabled, a.Locked, a.Demo)
		}
		return nil
	}
	if *login == "" {
		return errors.New("-login is required")
	}
	yes, no := true, false
	switch cmd {
	case "create":
		if !slices.Contains(roles, *role) || *name == "" {
			return fmt.Errorf("create needs -name and -role (one of %v)", roles)
		}
		password, hash, err := storage.NewOneTimePassword()
		if err != nil {
			return err
		}
		if err := db.CreateAccount(ctx, storage.Account{Login: *login, DisplayName: *name, Role: *role, Office: *office}, hash, ev("created", *role)); err != nil {
			return err
		}
		fmt.Printf("created %s (%s) at %s; one-time password: %s\n", *login, *role, *office, password)
		return nil
	case "reset-password":
		password, hash, err := storage.NewOneTimePassword()
		if err != nil {
			return err
		}
		if err := db.ChangeAccount(ctx, *office, *login, storage.AccountChange{PasswordHash: hash}, ev("password_reset", "")); err != nil {
			return err
		}
		fmt.Printf("password of %s reset; one-time password: %s\n", *login, password)
		return nil
	case "set-role":
		if !slices.Contains(roles, *role) {
			return fmt.Errorf("-role must be one of %v", roles)
		}
		return change(ctx, db, *office, *login, storage.AccountChange{Role: *role}, ev("role_set", *role))
	case "disable":
		return change(ctx, db, *office, *login, storage.AccountChange{Disabled: &yes}, ev("disabled", ""))
	case "enable":
		return change(ctx, db, *office, *login, storage.AccountChange{Disabled: &no}, ev("enabled", ""))
	case "unlock":
		return change(ctx, db, *office, *login, storage.AccountChange{Unlock: true}, ev("unlocked", ""))
	case "revoke-sessions":
		return change(ctx, db, *office, *login, storage.AccountChange{EndSessions: true}, ev("sessions_revoked", ""))
	}
	return fmt.Errorf("unknown command %q", cmd)
}

func change(ctx context.Context, db *storage.DB, office, login string, ch storage.AccountChange, e storage.AccountEvent) error {
	if err := db.ChangeAccount(ctx, office, login, ch, e); err != nil {
		return err
	}
	fmt.Printf("%s: %s\n", login, e.Action)
	return nil
}
