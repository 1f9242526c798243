package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"alliance/internal/app"
	"alliance/internal/config"
)

const (
	reporterExportSynopsis = "reporter export --db DSN --email ADDRESS"
	reporterEraseSynopsis  = "reporter erase --db DSN --email ADDRESS"
)

// reporter answers reporters' requests about their personal data: what
// the node holds about an e-mail (export) and its erasure (erase).
func (m *Main) reporter(ctx context.Context, args []string) error {
	verb := ""
	if len(args) > 0 {
		verb = args[0]
	}
	switch verb {
	case "export", "erase":
		synopsis := reporterExportSynopsis
		if verb == "erase" {
			synopsis = reporterEraseSynopsis
		}
		fs := m.flagSet("reporter "+verb, synopsis)
		cfg, err := m.loadConfig(fs, args[1:], config.Default(), "db")
		if err != nil {
			return err
		}
		email := fs.String("email", "", "the reporter's contact e-mail (required)")
		if err := parse(fs, args[1:], false); err != nil {
			return err
		}
		if err := m.required(fs, [2]string{"email", *email}); err != nil {
			return err
		}
		return m.asSystem(ctx, cfg, func(a *app.App, sctx context.Context) error {
			if verb == "erase" {
				n, err := a.EraseReporter(sctx, *email)
				if err != nil {
					return err
				}
				fmt.Fprintf(m.Stdout, "erased the contact from %d report(s); the reports stay, without it\n", n)
				return nil
			}
			d, err := a.ReporterData(sctx, *email)
			if err != nil {
				return err
			}
			return writeReporterData(m, d)
		})
	}
	fmt.Fprintf(m.Stderr, "Usage:\n  alliance %s\n  alliance %s\n", reporterExportSynopsis, reporterEraseSynopsis)
	if verb == "-h" || verb == "-help" || verb == "--help" || verb == "help" {
		return errHelp
	}
	return errUsage
}

// writeReporterData prints a subject-access export as JSON.
func writeReporterData(m *Main, d app.ReporterData) error {
	type report struct {
		Reference   string    `json:"reference"`
		Receiver    string    `json:"received_by"`
		Source      string    `json:"source"`
		Category    string    `json:"category"`
		Description string    `json:"description"`
		ReceivedAt  time.Time `json:"received_at"`
		PurgeAfter  time.Time `json:"contact_purged_after"`
		URLs        []string  `json:"urls"`
	}
	out := struct {
		Email      string    `json:"email"`
		ExportedAt time.Time `json:"exported_at"`
		Reports    []report  `json:"reports"`
	}{Email: d.Email, ExportedAt: time.Now().UTC().Truncate(time.Second), Reports: []report{}}
	for _, r := range d.Reports {
		out.Reports = append(out.Reports, report{r.Reference, r.OrgCode, r.Source, r.Category, r.Description,
			r.ReceivedAt.UTC(), r.PurgeAfter.UTC(), r.URLs})
	}
	enc := json.NewEncoder(m.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
