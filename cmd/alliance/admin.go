package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

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

const (
	userAddSynopsis     = "user add --db DSN --email E --org CODE --role ROLE [--name NAME] [--password-stdin]"
	userDisableSynopsis = "user disable|enable --db DSN --email E"
	tokenCreateSynopsis = "token create --db DSN --email E [--name N]"
	tokenListSynopsis   = "token list --db DSN --email E"
	tokenRevokeSynopsis = "token revoke --db DSN --email E --id N"
)

func (m *Main) user(ctx context.Context, args []string) error {
	verb, err := m.verbs(args, map[string]string{"add": userAddSynopsis, "disable": userDisableSynopsis, "enable": userDisableSynopsis})
	if err != nil {
		return err
	}
	if verb != "add" {
		return m.userSetDisabled(ctx, verb, args[1:])
	}
	fs := m.flagSet("user add", userAddSynopsis)
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

// userSetDisabled disables a user (sign-in, tokens and sessions stop) or
// enables it again.
func (m *Main) userSetDisabled(ctx context.Context, verb string, args []string) error {
	fs := m.flagSet("user "+verb, userDisableSynopsis)
	cfg, err := m.loadConfig(fs, args, config.Default(), "db")
	if err != nil {
		return err
	}
	email := fs.String("email", "", "e-mail address of the user (required)")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	if err := m.required(fs, [2]string{"email", *email}); err != nil {
		return err
	}
	return m.asSystem(ctx, cfg, func(a *app.App, sctx context.Context) error {
		if err := a.SetUserDisabled(sctx, *email, verb == "disable"); err != nil {
			return err
		}
		if verb == "disable" {
			// A running server trusts a token it checked for a few seconds more.
			fmt.Fprintf(m.Stdout, "disabled %s: sign-in and web sessions end now, API tokens within %v\n", *email, app.TokenCacheTTL)
		} else {
			fmt.Fprintf(m.Stdout, "enabled %s\n", *email)
		}
		return nil
	})
}

func (m *Main) token(ctx context.Context, args []string) error {
	verb, err := m.verbs(args, map[string]string{"create": tokenCreateSynopsis, "list": tokenListSynopsis, "revoke": tokenRevokeSynopsis})
	if err != nil {
		return err
	}
	switch verb {
	case "list":
		return m.tokenList(ctx, args[1:])
	case "revoke":
		return m.tokenRevoke(ctx, args[1:])
	}
	fs := m.flagSet("token create", tokenCreateSynopsis)
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

// tokenList prints a user's tokens: id, name, created, last used.
func (m *Main) tokenList(ctx context.Context, args []string) error {
	fs := m.flagSet("token list", tokenListSynopsis)
	cfg, err := m.loadConfig(fs, args, config.Default(), "db")
	if err != nil {
		return err
	}
	email := fs.String("email", "", "e-mail address of the tokens' user (required)")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	if err := m.required(fs, [2]string{"email", *email}); err != nil {
		return err
	}
	return m.asSystem(ctx, cfg, func(a *app.App, sctx context.Context) error {
		toks, err := a.ListTokens(sctx, *email)
		if err != nil {
			return err
		}
		if len(toks) == 0 {
			fmt.Fprintf(m.Stdout, "%s has no API tokens\n", *email)
			return nil
		}
		w := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tCREATED\tLAST USED")
		for _, t := range toks {
			used := "never"
			if t.LastUsedAt != nil {
				used = t.LastUsedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", t.ID, t.Name, t.CreatedAt.UTC().Format(time.RFC3339), used)
		}
		return w.Flush()
	})
}

// tokenRevoke deletes one of a user's tokens.
func (m *Main) tokenRevoke(ctx context.Context, args []string) error {
	fs := m.flagSet("token revoke", tokenRevokeSynopsis)
	cfg, err := m.loadConfig(fs, args, config.Default(), "db")
	if err != nil {
		return err
	}
	email := fs.String("email", "", "e-mail address of the token's user (required)")
	id := fs.Int64("id", 0, "the token's id, from token list (required)")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	if err := m.required(fs, [2]string{"email", *email}); err != nil {
		return err
	}
	if *id <= 0 {
		fmt.Fprintf(m.Stderr, "--id is required (a token id from: alliance token list --email %s)\n", *email)
		fs.Usage()
		return errUsage
	}
	return m.asSystem(ctx, cfg, func(a *app.App, sctx context.Context) error {
		if err := a.RevokeToken(sctx, *email, *id); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "revoked token %d of %s; a running server refuses it within %v\n", *id, *email, app.TokenCacheTTL)
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

// verbs returns the verb args start with, one of a command group's verbs
// (keys of synopses), printing every synopsis otherwise.
func (m *Main) verbs(args []string, synopses map[string]string) (string, error) {
	if len(args) > 0 {
		if _, ok := synopses[args[0]]; ok {
			return args[0], nil
		}
	}
	lines := slices.Sorted(maps.Values(synopses))
	lines = slices.Compact(lines)
	fmt.Fprintf(m.Stderr, "Usage:\n  alliance %s\n", strings.Join(lines, "\n  alliance "))
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		return "", errHelp
	}
	return "", errUsage
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
