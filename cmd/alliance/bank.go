package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/bankfile"
	"alliance/internal/config"
)

// bankVerbs are the subcommands of "alliance bank", with their synopses.
var bankVerbs = []struct{ name, synopsis string }{
	{"create", "bank create --db DSN --org CODE --name NAME [--description D] [--pdq-threshold T]"},
	{"share", "bank share --db DSN --bank ORG/NAME --org CODE"},
	{"import", "bank import --db DSN --bank ORG/NAME [--format vics|csv|hma] FILE|-"},
	{"export", "bank export --db DSN --bank ORG/NAME --format vics|csv|hma [--out FILE]"},
	{"list", "bank list --db DSN"},
	{"disable", "bank disable --db DSN --bank ORG/NAME --entry ID"},
	{"enable", "bank enable --db DSN --bank ORG/NAME --entry ID"},
}

// bank manages hash banks on the database, as the node itself: the
// operator names any bank as ORG-CODE/name.
func (m *Main) bank(ctx context.Context, args []string) error {
	verb := ""
	if len(args) > 0 {
		verb = args[0]
	}
	for _, v := range bankVerbs {
		if v.name != verb {
			continue
		}
		rest := args[1:]
		switch verb {
		case "create":
			return m.bankCreate(ctx, v.synopsis, rest)
		case "share":
			return m.bankShare(ctx, v.synopsis, rest)
		case "import":
			return m.bankImport(ctx, v.synopsis, rest)
		case "export":
			return m.bankExport(ctx, v.synopsis, rest)
		case "disable", "enable":
			return m.bankSetActive(ctx, v.synopsis, rest, verb == "enable")
		default:
			return m.bankList(ctx, v.synopsis, rest)
		}
	}
	fmt.Fprintf(m.Stderr, "Usage:\n")
	for _, v := range bankVerbs {
		fmt.Fprintf(m.Stderr, "  alliance %s\n", v.synopsis)
	}
	switch verb {
	case "-h", "-help", "--help", "help":
		return errHelp
	}
	return errUsage
}

// required prints a usage error unless every named flag has a value.
func (m *Main) required(fs *flag.FlagSet, flags ...[2]string) error {
	for _, f := range flags {
		if strings.TrimSpace(f[1]) == "" {
			fmt.Fprintf(m.Stderr, "--%s is required\n", f[0])
			fs.Usage()
			return errUsage
		}
	}
	return nil
}

// notFoundBank names the bank when the app says it does not exist, so the
// operator sees which name was wrong.
func notFoundBank(err error, ref string) error {
	if alliance.ErrorCode(err) == alliance.ENOTFOUND {
		return fmt.Errorf("no bank %q (give ORG-CODE/name; see alliance bank list)", ref)
	}
	return err
}

func (m *Main) bankCreate(ctx context.Context, synopsis string, args []string) error {
	fs := m.flagSet("bank create", synopsis)
	cfg, err := m.loadConfig(fs, args, config.Default(), "db")
	if err != nil {
		return err
	}
	org := fs.String("org", "", "code of the owning organisation, e.g. SE-HOTLINE (required)")
	name := fs.String("name", "", "name of the bank, unique within the organisation (required)")
	desc := fs.String("description", "", "what the bank holds")
	var threshold *int
	fs.Func("pdq-threshold", fmt.Sprintf("cap on the threshold of PDQ queries against the bank, 0 to %d (default %d)",
		alliance.MaxPDQThreshold, alliance.MaxPDQThreshold), func(s string) error {
		n, err := strconv.Atoi(s)
		threshold = &n
		return err
	})
	if err := parse(fs, args, false); err != nil {
		return err
	}
	if err := m.required(fs, [2]string{"org", *org}, [2]string{"name", *name}); err != nil {
		return err
	}
	code := strings.ToUpper(strings.TrimSpace(*org))
	return m.asSystem(ctx, cfg, func(a *app.App, sctx context.Context) error {
		// The system actor acts for the organisation it names.
		sctx = alliance.NewContextWithActor(sctx, alliance.Actor{System: true, OrgCode: code})
		b, err := a.CreateBank(sctx, app.BankInput{Name: *name, Description: *desc, PDQThreshold: threshold})
		if alliance.ErrorCode(err) == alliance.ENOTFOUND {
			return fmt.Errorf("unknown organisation %q", code)
		} else if alliance.ErrorCode(err) == alliance.ECONFLICT {
			return fmt.Errorf("%s already has a bank named %q", code, strings.TrimSpace(*name))
		} else if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "created bank %s/%s (PDQ threshold %d)\n", b.OwnerOrg, b.Name, b.PDQThreshold)
		return nil
	})
}

func (m *Main) bankShare(ctx context.Context, synopsis string, args []string) error {
	fs := m.flagSet("bank share", synopsis)
	cfg, err := m.loadConfig(fs, args, config.Default(), "db")
	if err != nil {
		return err
	}
	ref := fs.String("bank", "", "the bank, as ORG-CODE/name (required)")
	org := fs.String("org", "", "code of the organisation to share it with (required)")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	if err := m.required(fs, [2]string{"bank", *ref}, [2]string{"org", *org}); err != nil {
		return err
	}
	code := strings.ToUpper(strings.TrimSpace(*org))
	return m.asSystem(ctx, cfg, func(a *app.App, sctx context.Context) error {
		if err := a.ShareBank(sctx, *ref, code); err != nil {
			return notFoundBank(err, *ref)
		}
		fmt.Fprintf(m.Stdout, "shared bank %s with %s\n", *ref, code)
		return nil
	})
}

// bankSetActive disables an entry (it stops matching) or enables it again.
func (m *Main) bankSetActive(ctx context.Context, synopsis string, args []string, active bool) error {
	verb := "disable"
	if active {
		verb = "enable"
	}
	fs := m.flagSet("bank "+verb, synopsis)
	cfg, err := m.loadConfig(fs, args, config.Default(), "db")
	if err != nil {
		return err
	}
	ref := fs.String("bank", "", "the bank, as ORG-CODE/name (required)")
	var id int64
	fs.Func("entry", "id of the entry, as lookups report it (entry_id) (required)", func(s string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("not an entry id: %q", s)
		}
		id = n
		return nil
	})
	if err := parse(fs, args, false); err != nil {
		return err
	}
	entry := ""
	if id > 0 {
		entry = strconv.FormatInt(id, 10)
	}
	if err := m.required(fs, [2]string{"bank", *ref}, [2]string{"entry", entry}); err != nil {
		return err
	}
	return m.asSystem(ctx, cfg, func(a *app.App, sctx context.Context) error {
		if err := a.SetEntryActive(sctx, *ref, id, active); alliance.ErrorCode(err) == alliance.ENOTFOUND {
			return fmt.Errorf("no entry %d in bank %q (give ORG-CODE/name; see alliance bank list)", id, *ref)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "%sd entry %d of bank %s\n", verb, id, *ref)
		return nil
	})
}

func (m *Main) bankImport(ctx context.Context, synopsis string, args []string) error {
	fs := m.flagSet("bank import", synopsis)
	cfg, err := m.loadConfig(fs, args, config.Default(), "db")
	if err != nil {
		return err
	}
	ref := fs.String("bank", "", "the bank, as ORG-CODE/name (required)")
	formatName := fs.String("format", "", "file format: vics, csv or hma (default: detected from the content)")
	if err := parse(fs, args, true); err != nil {
		return err
	}
	if err := m.required(fs, [2]string{"bank", *ref}); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(m.Stderr, "give one FILE to import, or - for standard input\n")
		fs.Usage()
		return errUsage
	}
	var format bankfile.Format
	if *formatName != "" {
		if format, err = bankfile.ParseFormat(*formatName); err != nil {
			fmt.Fprintf(m.Stderr, "--format: %v\n", err)
			fs.Usage()
			return errUsage
		}
	}
	path := fs.Arg(0)
	in, name := m.Stdin, "standard input"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		in, name = f, path
	}
	br := bufio.NewReaderSize(in, 1<<16)
	if format == "" {
		if format, err = bankfile.Detect(br); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	r, err := bankfile.NewReader(br, format)
	if err != nil {
		return err
	}
	return m.asSystem(ctx, cfg, func(a *app.App, sctx context.Context) error {
		var progress func(int64)
		drawn := false
		if isTerminal(m.Stderr) {
			start := time.Now()
			progress = func(read int64) {
				drawn = true
				secs := max(time.Since(start).Seconds(), 1e-3)
				fmt.Fprintf(m.Stderr, "\rimporting %s: %d records read, %.0f records/s ", format, read, float64(read)/secs)
			}
		}
		res, err := a.ImportEntries(sctx, *ref, app.FileEntries(r), progress)
		if drawn {
			fmt.Fprintln(m.Stderr)
		}
		if err != nil {
			return notFoundBank(err, *ref)
		}
		fmt.Fprintf(m.Stdout, "imported %s (%s) into %s: %d records read, %d added, %d already present\n",
			name, format, *ref, res.Read, res.Added, res.Existing)
		return nil
	})
}

func (m *Main) bankExport(ctx context.Context, synopsis string, args []string) error {
	fs := m.flagSet("bank export", synopsis)
	cfg, err := m.loadConfig(fs, args, config.Default(), "db")
	if err != nil {
		return err
	}
	ref := fs.String("bank", "", "the bank, as ORG-CODE/name (required)")
	formatName := fs.String("format", "", "file format: vics, csv or hma (required)")
	out := fs.String("out", "", "file to write (default: standard output)")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	if err := m.required(fs, [2]string{"bank", *ref}, [2]string{"format", *formatName}); err != nil {
		return err
	}
	format, err := bankfile.ParseFormat(*formatName)
	if err != nil {
		fmt.Fprintf(m.Stderr, "--format: %v\n", err)
		fs.Usage()
		return errUsage
	}
	return m.asSystem(ctx, cfg, func(a *app.App, sctx context.Context) (rerr error) {
		dst := m.Stdout
		if *out != "" {
			// Written beside the target and renamed into place, so that a
			// failed export leaves no partial file under the name.
			f, err := os.CreateTemp(filepath.Dir(*out), ".alliance-export-*")
			if err != nil {
				return err
			}
			defer func() {
				f.Close()
				if rerr != nil {
					os.Remove(f.Name())
				}
			}()
			dst = f
		}
		bw := bufio.NewWriterSize(dst, 1<<16)
		w, err := bankfile.NewWriter(bw, format)
		if err != nil {
			return err
		}
		n := 0
		err = a.ExportEntries(sctx, *ref, func(e alliance.HashEntry) error {
			n++
			return w.Write(app.FileEntry(e))
		})
		if err != nil {
			return notFoundBank(err, *ref)
		}
		if err := w.Close(); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		if f, ok := dst.(*os.File); ok && *out != "" {
			if err := f.Close(); err != nil {
				return err
			}
			if err := os.Rename(f.Name(), *out); err != nil {
				return err
			}
			fmt.Fprintf(m.Stderr, "exported %d entries of %s to %s\n", n, *ref, *out)
		}
		return nil
	})
}

func (m *Main) bankList(ctx context.Context, synopsis string, args []string) error {
	fs := m.flagSet("bank list", synopsis)
	cfg, err := m.loadConfig(fs, args, config.Default(), "db")
	if err != nil {
		return err
	}
	if err := parse(fs, args, false); err != nil {
		return err
	}
	return m.asSystem(ctx, cfg, func(a *app.App, sctx context.Context) error {
		banks, err := a.Banks(sctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(w, "BANK\tENTRIES\tPDQ THRESHOLD\tSHARED WITH\tDESCRIPTION\n")
		for _, b := range banks {
			shared := strings.Join(b.SharedWith, ",")
			if shared == "" {
				shared = "-"
			}
			fmt.Fprintf(w, "%s/%s\t%d\t%d\t%s\t%s\n", b.OwnerOrg, b.Name, b.Entries, b.PDQThreshold, shared, b.Description)
		}
		return w.Flush()
	})
}
