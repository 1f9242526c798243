// Command alliance is the one binary of an Alliance node: it serves the web UI
// and the API, runs the background jobs, and carries the operator's commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"alliance"
	"alliance/internal/config"
	"alliance/internal/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	os.Exit(m.Run(ctx, os.Args[1:]))
}

// Main runs the alliance command. Tests construct it with their own streams
// and environment and call Run, the same way main does.
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// Listening, when set, is called with the server's address once it
	// listens, so tests can serve on :0 and learn the port.
	Listening func(addr string)
}

// exit statuses
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// errUsage marks a command-line mistake: the usage has been printed, exit 2.
var errUsage = errors.New("usage")

// errHelp marks a request for help: the usage has been printed, exit 0.
var errHelp = flag.ErrHelp

type command struct {
	name    string
	summary string
	run     func(m *Main, ctx context.Context, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the server until SIGINT/SIGTERM", (*Main).serve},
		{"demo", "migrate, add demo users and synthetic data, and serve", (*Main).demo},
		{"migrate", "create or upgrade the schema and load reference data", (*Main).migrate},
		{"user", "manage users: user add, disable, enable", (*Main).user},
		{"token", "manage API tokens: token create, list, revoke", (*Main).token},
		{"audit", "check the audit log: audit verify, checkpoint", (*Main).audit},
		{"backup", "copy a SQLite database while it runs (PostgreSQL: pg_dump)", (*Main).backup},
		{"bench", "measure intake (bench intake) or the PDQ index (bench match)", (*Main).bench},
		{"hash", "print exact and PDQ hashes of files and directories", (*Main).hash},
		{"match", "match hashes or files against a bank file, offline", (*Main).match},
		{"bank", "manage hash banks: bank create, share, import, export, list", (*Main).bank},
		{"contact", "manage where takedown notices go: contact add, list", (*Main).contact},
		{"reporter", "answer a reporter's data request: reporter export, erase", (*Main).reporter},
		{"node", "print this node's id and public key (made at first use)", (*Main).node},
		{"peer", "manage the nodes this one exchanges with: peer add, list", (*Main).peer},
	}
}

func (m *Main) usage() {
	fmt.Fprintf(m.Stderr, "Usage: alliance COMMAND [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(m.Stderr, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(m.Stderr, "\nRun 'alliance COMMAND --help' for the flags of a command.\n")
}

// Run runs the command line args (without the program name) and returns the
// exit status: 0 on success, 1 on failure, 2 on a usage error.
func (m *Main) Run(ctx context.Context, args []string) int {
	if m.Getenv == nil {
		m.Getenv = func(string) string { return "" }
	}
	if m.Stdin == nil {
		m.Stdin = strings.NewReader("")
	}
	if len(args) == 0 {
		m.usage()
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		m.usage()
		return exitOK
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(m, ctx, args[1:])
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, flag.ErrHelp):
			return exitOK
		case errors.Is(err, errUsage):
			return exitUsage
		default:
			fmt.Fprintf(m.Stderr, "alliance %s: %s\n", c.name, describe(err))
			return exitFail
		}
	}
	fmt.Fprintf(m.Stderr, "alliance: unknown command %q\n\n", args[0])
	m.usage()
	return exitUsage
}

// describe turns an error into the one line an operator sees: the safe
// message of an alliance error, or the wrapped chain of anything else (the
// operator runs the node, so the detail is theirs to see).
func describe(err error) string {
	var e *alliance.Error
	if errors.As(err, &e) {
		if e.Field != "" {
			return fmt.Sprintf("%s (%s)", e.Message, e.Field)
		}
		return e.Message
	}
	return err.Error()
}

// flagSet returns a FlagSet that prints its usage to m.Stderr and returns
// errors instead of exiting.
func (m *Main) flagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("alliance "+name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(m.Stderr, "Usage: alliance %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args with fs, mapping flag errors to errUsage and rejecting
// positional arguments unless allowArgs.
func parse(fs *flag.FlagSet, args []string, allowArgs bool) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if !allowArgs && fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	return nil
}

// loadConfig builds the configuration for a command: defaults, then the file
// named by --config (or ALLIANCE_CONFIG), then the environment; the caller's
// flags are registered on fs last and override all of it when parsed.
func (m *Main) loadConfig(fs *flag.FlagSet, args []string, base config.Config, flags ...string) (*config.Config, error) {
	cfg := base
	path := m.Getenv("ALLIANCE_CONFIG")
	for i, a := range args {
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "config" {
			continue
		}
		if hasVal {
			path = val
		} else if i+1 < len(args) {
			path = args[i+1]
		}
	}
	if path != "" {
		if err := cfg.LoadFile(path); err != nil {
			return nil, err
		}
	}
	if err := cfg.LoadEnv(m.Getenv); err != nil {
		return nil, err
	}
	fs.String("config", path, "optional JSON configuration file (env ALLIANCE_CONFIG)")
	cfg.Flags(fs, flags...)
	return &cfg, nil
}

// logger returns the process logger for cfg, writing to m.Stderr.
func (m *Main) logger(cfg *config.Config) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return nil, fmt.Errorf("log-level: %w", err)
	}
	return server.NewLogger(m.Stderr, cfg.LogFormat, level)
}
