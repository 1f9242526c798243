package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"alliance/internal/app"
	"alliance/internal/config"
	"alliance/internal/store"
)

const (
	contactAddSynopsis  = "contact add --db DSN --scope domain|asn|country --key KEY (--email ADDRESS | --webhook URL --secret-stdin)"
	contactListSynopsis = "contact list --db DSN"
)

// contact manages where takedown notices go: the abuse contacts of hosts,
// networks and countries.
func (m *Main) contact(ctx context.Context, args []string) error {
	verb := ""
	if len(args) > 0 {
		verb = args[0]
	}
	switch verb {
	case "add":
		return m.contactAdd(ctx, args[1:])
	case "list":
		return m.contactList(ctx, args[1:])
	}
	fmt.Fprintf(m.Stderr, "Usage:\n  alliance %s\n  alliance %s\n", contactAddSynopsis, contactListSynopsis)
	if verb == "-h" || verb == "-help" || verb == "--help" || verb == "help" {
		return errHelp
	}
	return errUsage
}

func (m *Main) contactAdd(ctx context.Context, args []string) error {
	fs := m.flagSet("contact add", contactAddSynopsis)
	cfg, err := m.loadConfig(fs, args, config.Default(), "db")
	if err != nil {
		return err
	}
	scope := fs.String("scope", "", "what the contact is for: domain (a host name or its domain), asn (a network) or country (required)")
	key := fs.String("key", "", "the host name or domain, AS number or ISO country code (required)")
	email := fs.String("email", "", "send notices by e-mail to this address")
	webhook := fs.String("webhook", "", "post notices as signed JSON to this https URL")
	secretStdin := fs.Bool("secret-stdin", false, "read the webhook's signing secret (16 to 256 bytes) from the first line of stdin")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	if err := m.required(fs, [2]string{"scope", *scope}, [2]string{"key", *key}); err != nil {
		return err
	}
	in := app.AbuseContactInput{Scope: *scope, Key: *key}
	switch {
	case *email != "" && *webhook == "":
		in.Channel, in.Address = "email", *email
	case *webhook != "" && *email == "":
		in.Channel, in.Address = "webhook", *webhook
		if !*secretStdin {
			fmt.Fprintf(m.Stderr, "a webhook needs --secret-stdin: notices are signed with the secret\n")
			fs.Usage()
			return errUsage
		}
		line, err := readLine(m.Stdin, 1024)
		if err != nil {
			return fmt.Errorf("read the secret from stdin: %w", err)
		}
		in.Secret = []byte(line)
	default:
		fmt.Fprintf(m.Stderr, "give exactly one of --email or --webhook\n")
		fs.Usage()
		return errUsage
	}
	return m.asSystem(ctx, cfg, func(a *app.App, sctx context.Context) error {
		if err := a.PutAbuseContact(sctx, in); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "notices for %s %s go by %s to %s\n", in.Scope, strings.ToLower(in.Key), in.Channel, in.Address)
		return nil
	})
}

func (m *Main) contactList(ctx context.Context, args []string) error {
	fs := m.flagSet("contact list", contactListSynopsis)
	cfg, err := m.loadConfig(fs, args, config.Default(), "db")
	if err != nil {
		return err
	}
	if err := parse(fs, args, false); err != nil {
		return err
	}
	db, err := m.openDB(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer db.Close()
	var list []store.AbuseContact
	if err := db.InReadTx(ctx, func(tx *store.Tx) error {
		var err error
		list, err = tx.AbuseContacts(ctx)
		return err
	}); err != nil {
		return err
	}
	w := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "SCOPE\tKEY\tCHANNEL\tADDRESS\n")
	for _, c := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", c.Scope, c.Key, c.Channel, c.Address)
	}
	return w.Flush()
}

// readLine reads the first line of r, at most max bytes, without its end.
func readLine(r io.Reader, max int) (string, error) {
	buf := make([]byte, max+1)
	n, err := io.ReadFull(r, buf)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return "", err
	}
	line, _, _ := strings.Cut(string(buf[:n]), "\n")
	line = strings.TrimRight(line, "\r")
	if len(line) > max {
		return "", fmt.Errorf("the line is longer than %d bytes", max)
	}
	return line, nil
}
