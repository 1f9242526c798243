package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/config"
	"alliance/internal/store"
)

// openDB opens and, when migrate is set, migrates the database of cfg.
func (m *Main) openDB(ctx context.Context, cfg *config.Config, migrate bool) (*store.DB, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	if migrate {
		if err := migrateAll(ctx, db); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

// systemApp returns the use cases acting as the node itself: CLI commands run
// by the operator on the database, outside any login.
func systemApp(ctx context.Context, db *store.DB, log *slog.Logger, homeOrg string) (*app.App, context.Context) {
	a := app.New(app.Options{DB: db, Logger: log, HomeOrg: homeOrg})
	return a, alliance.NewContextWithActor(ctx, alliance.SystemActor)
}

func (m *Main) migrate(ctx context.Context, args []string) error {
	fs := m.flagSet("migrate", "migrate [--db DSN]")
	cfg, err := m.loadConfig(fs, args, config.Default(), "db")
	if err != nil {
		return err
	}
	if err := parse(fs, args, false); err != nil {
		return err
	}
	db, err := m.openDB(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer db.Close()
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "database %s is at schema version %d with reference data loaded\n", db.Dialect(), v)
	return nil
}

func (m *Main) user(ctx context.Context, args []string) error {
	if err := m.verb(args, "add", "user add --db DSN --email E --org CODE --role ROLE [--password-stdin]"); err != nil {
		return err
	}
	fs := m.flagSet("user add", "user add --db DSN --email E --org CODE --role ROLE [--name NAME] [--password-stdin]")
	cfg, err := m.loadConfig(fs, args[1:], config.Default(), "db")
	if err != nil {
		return err
	}
	email := fs.String("email", "", "e-mail address of the user (required)")
	org := fs.String("org", "", "organisation code, e.g. SE-HOTLINE (required)")
	role := fs.String("role", "", "role: "+roleNames()+" (required)")
	name := fs.String("name", "", "display name")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input (otherwise the user has API tokens only)")
	if err := parse(fs, args[1:], false); err != nil {
		return err
	}
	for flagName, v := range map[string]string{"email": *email, "org": *org, "role": *role} {
		if v == "" {
			fmt.Fprintf(m.Stderr, "--%s is required\n", flagName)
			fs.Usage()
			return errUsage
		}
	}
	var password string
	if *pwStdin {
		line, err := bufio.NewReader(io.LimitReader(m.Stdin, app.MaxPasswordLength+2)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password from stdin: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
		if password == "" {
			return errors.New("--password-stdin: standard input held no password")
		}
	}
	return m.asSystem(ctx, cfg, func(a *app.App, sctx context.Context) error {
		u, err := a.AddUser(sctx, app.NewUser{Email: *email, Name: *name, OrgCode: *org, Role: *role, Password: password})
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "added user %s (id %d) to %s as %s\n", u.Email, u.ID, u.OrgCode, u.Role)
		return nil
	})
}

func (m *Main) token(ctx context.Context, args []string) error {
	if err := m.verb(args, "create", "token create --db DSN --email E [--name N]"); err != nil {
		return err
	}
	fs := m.flagSet("token create", "token create --db DSN --email E [--name N]")
	cfg, err := m.loadConfig(fs, args[1:], config.Default(), "db")
	if err != nil {
		return err
	}
	email := fs.String("email", "", "e-mail address of the token's user (required)")
	name := fs.String("name", "", "a name to recognise the token by (default \"api\")")
	if err := parse(fs, args[1:], false); err != nil {
		return err
	}
	if *email == "" {
		fmt.Fprintf(m.Stderr, "--email is required\n")
		fs.Usage()
		return errUsage
	}
	return m.asSystem(ctx, cfg, func(a *app.App, sctx context.Context) error {
		t, err := a.CreateToken(sctx, *email, *name)
		if err != nil {
			return err
		}
		// The secret goes alone on the last line so scripts can take it with tail -1.
		fmt.Fprintf(m.Stdout, "created token %q for %s; it is shown once, store it now:\n%s\n", t.Token.Name, t.User.Email, t.Secret)
		return nil
	})
}

func roleNames() string {
	names := make([]string, len(alliance.Roles))
	for i, r := range alliance.Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// verb checks that args start with the one verb a command group has (user
// add, token create, audit verify), printing the usage otherwise.
func (m *Main) verb(args []string, want, usage string) error {
	if len(args) > 0 && args[0] == want {
		return nil
	}
	fmt.Fprintf(m.Stderr, "Usage: alliance %s\n", usage)
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		return errHelp
	}
	return errUsage
}

// asSystem opens the database of cfg and runs fn with the use cases acting
// as the node itself, as the operator's commands do.
func (m *Main) asSystem(ctx context.Context, cfg *config.Config, fn func(a *app.App, ctx context.Context) error) error {
	db, err := m.openDB(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer db.Close()
	log, err := m.logger(cfg)
	if err != nil {
		return err
	}
	a, sctx := systemApp(ctx, db, log, cfg.HomeOrg)
	return fn(a, sctx)
}
