// Command repository is the Organization's repository server for verifiers
// (OCSP, CRLs, past revocation-information files, counterpart serials) and
// the register of verifiers:
//
//	repository [serve] [-addr host:port]   serve (default: MADOGUCHI_REPOSITORY_URL's host:port)
//	repository responders                  make sure the delegated OCSP certificates exist; print them
//	repository verifier register -name N -category C -roles signature,user_auth,group_signature
//	repository verifier list
//	repository verifier rotate -id N      issue a new API key (shown once)
//	repository verifier disable -id N
//	repository verifier demo               register one demo verifier of each type, printing new keys once
//
// It reads the same environment as the other binaries (source the state
// folder's env file): MADOGUCHI_JLIS_DSN, the MADOGUCHI_PKCS11_* settings and
// MADOGUCHI_REPOSITORY_URL.
package main

import (
	"context"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/config"
	"github.com/madoguchi/madoguchi/internal/logs"
	"github.com/madoguchi/madoguchi/internal/ocsp"
	"github.com/madoguchi/madoguchi/internal/verifier"
	"github.com/madoguchi/madoguchi/repository"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		slog.Error("repository", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	cfg := config.FromEnv()
	switch cmd {
	case "serve":
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		addr := fs.String("addr", "", "listen address (default: the host:port of MADOGUCHI_REPOSITORY_URL)")
		if err := fs.Parse(args); err != nil {
			return err
		}
		logger := logs.Default()
		return repository.Run(ctx, cfg, *addr, logger)
	case "responders":
		return responders(ctx, cfg, out)
	case "verifier":
		return verifierCmd(ctx, cfg, args, out)
	}
	return fmt.Errorf("unknown command %q: use serve, responders or verifier", cmd)
}

func openPool(ctx context.Context, cfg config.Config) (*pgxpool.Pool, error) {
	if err := config.Require("MADOGUCHI_JLIS_DSN", cfg.JLISDSN); err != nil {
		return nil, err
	}
	pool, err := pgxpool.New(ctx, cfg.JLISDSN)
	if err != nil {
		return nil, err
	}
	// The register lives in the CA's database; migrations are idempotent.
	if err := ca.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// responders is the setup hook: it makes the delegated OCSP keys and
// certificates (idempotent) and prints the certificates.
func responders(ctx context.Context, cfg config.Config, out io.Writer) error {
	if err := config.Require("MADOGUCHI_PKCS11_PIN", cfg.PKCS11PIN); err != nil {
		return err
	}
	if err := config.Require("MADOGUCHI_JLIS_DSN", cfg.JLISDSN); err != nil {
		return err
	}
	conn, err := ca.Connect(ctx, cfg.JLISDSN)
	if err != nil {
		return err
	}
	defer conn.Close()
	pool, h := conn.Pool, conn.HSM
	authority, err := conn.Load(ctx, ca.Options{RepositoryURL: cfg.RepositoryURL})
	if err != nil {
		return fmt.Errorf("load the CA (run setup first): %w", err)
	}
	ds, err := ocsp.EnsureResponders(ctx, pool, h, authority, ocsp.DelegateOptions{})
	if err != nil {
		return err
	}
	for _, kind := range []ca.Kind{ca.KindSign, ca.KindAuth} {
		d := ds[kind]
		state := "in use"
		if d.Created {
			state = "issued now"
		}
		fmt.Fprintf(out, "# %s OCSP responder (%s), key %q, serial %s, valid until %s\n", kind, state, d.KeyLabel,
			ca.FormatSerial(d.Certificate.SerialNumber), d.Certificate.NotAfter.Format("2006-01-02T15:04:05Z"))
		if err := pem.Encode(out, &pem.Block{Type: "CERTIFICATE", Bytes: d.Certificate.Raw}); err != nil {
			return err
		}
	}
	return nil
}

func verifierCmd(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("verifier: use register, list, rotate, disable or demo")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("verifier "+sub, flag.ContinueOnError)
	name := fs.String("name", "", "registered name of the verifier")
	category := fs.String("category", "", "legal basis: "+categories())
	roles := fs.String("roles", "", "comma-separated: signature (署名検証者), user_auth (利用者証明検証者), group_signature (団体署名検証者)")
	id := fs.Int64("id", 0, "verifier id (see list)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pool, err := openPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	switch sub {
	case "register":
		reg := verifier.Registration{Name: *name, Category: verifier.Category(*category)}
		for _, r := range strings.Split(*roles, ",") {
			if r = strings.TrimSpace(r); r != "" {
				reg.Roles = append(reg.Roles, verifier.Role(r))
			}
		}
		v, key, err := verifier.Register(ctx, pool, reg)
		if err != nil {
			return err
		}
		printKey(out, v, key)
		return nil
	case "list":
		all, err := verifier.List(ctx, pool)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tCATEGORY\tROLES\tKEY ID\tSTATE")
		for _, v := range all {
			state := "active"
			if !v.Active() {
				state = "disabled " + v.DisabledAt.Format("2006-01-02")
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", v.ID, v.Name, v.Category, joinRoles(v.Roles()), v.KeyID, state)
		}
		return tw.Flush()
	case "rotate":
		key, err := verifier.RotateKey(ctx, pool, *id)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "verifier %d: new key (shown once; the old one no longer works):\n%s\n", *id, key)
		return nil
	case "disable":
		if err := verifier.Disable(ctx, pool, *id); err != nil {
			return err
		}
		fmt.Fprintf(out, "verifier %d disabled\n", *id)
		return nil
	case "demo":
		res, err := verifier.RegisterDemo(ctx, pool)
		for _, r := range res {
			if r.Key == "" {
				fmt.Fprintf(out, "%s: already registered (id %d); `repository verifier rotate -id %d` issues a new key\n",
					r.Verifier.Name, r.Verifier.ID, r.Verifier.ID)
				continue
			}
			printKey(out, r.Verifier, r.Key)
		}
		return err
	}
	return fmt.Errorf("verifier: unknown subcommand %q", sub)
}

func printKey(out io.Writer, v *verifier.Verifier, key string) {
	fmt.Fprintf(out, "registered %s — %s: send this key (shown once) in the %s header:\n%s\n",
		v, roleNames(v.Roles()), verifier.HeaderName, key)
}

func categories() string {
	s := make([]string, len(verifier.Categories))
	for i, c := range verifier.Categories {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

func joinRoles(rs []verifier.Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

func roleNames(rs []verifier.Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.Japanese()
	}
	return strings.Join(s, "・")
}
