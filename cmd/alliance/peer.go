package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"alliance/internal/app"
	"alliance/internal/config"
	"alliance/internal/federation"
)

const (
	peerAddSynopsis  = "peer add --db DSN --url URL --key PUBKEY --country CC [--bank OWNER/NAME]... [--kind KIND]... [--forward CC]..."
	peerListSynopsis = "peer list --db DSN"
	nodeSynopsis     = "node --db DSN"
)

// listFlag collects a repeatable (or comma-separated) flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// peer records the nodes this one exchanges with.
func (m *Main) peer(ctx context.Context, args []string) error {
	verb := ""
	if len(args) > 0 {
		verb = args[0]
	}
	switch verb {
	case "add":
		return m.peerAdd(ctx, args[1:])
	case "list":
		return m.peerList(ctx, args[1:])
	}
	fmt.Fprintf(m.Stderr, "Usage:\n  alliance %s\n  alliance %s\n", peerAddSynopsis, peerListSynopsis)
	if verb == "-h" || verb == "-help" || verb == "--help" || verb == "help" {
		return errHelp
	}
	return errUsage
}

func (m *Main) peerAdd(ctx context.Context, args []string) error {
	fs := m.flagSet("peer add", peerAddSynopsis)
	cfg, err := m.loadConfig(fs, args, config.Default(), "db", "home-org")
	if err != nil {
		return err
	}
	url := fs.String("url", "", "the peer node's base URL, e.g. https://alliance.nl.example.org (required)")
	key := fs.String("key", "", "the peer's public key, ed25519:… as its `alliance node` prints it (required)")
	country := fs.String("country", "", "the peer's country, ISO 3166-1 alpha-2 (required)")
	var banks, kinds, forward listFlag
	fs.Var(&banks, "bank", "a bank of this node shared with the peer, OWNER/NAME (repeatable)")
	fs.Var(&kinds, "kind", fmt.Sprintf("an object kind exchanged (repeatable; default all: %s)", strings.Join(app.FederationKinds, ", ")))
	fs.Var(&forward, "forward", "a country whose items are forwarded to the peer (repeatable)")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	if err := m.required(fs, [2]string{"url", *url}, [2]string{"key", *key}, [2]string{"country", *country}); err != nil {
		return err
	}
	return m.asSystem(ctx, cfg, func(a *app.App, sctx context.Context) error {
		p, err := a.PutPeer(sctx, app.PeerInput{URL: *url, Key: *key, Country: *country, Kinds: kinds, Banks: banks, Countries: forward})
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "peer %s (%s) at %s: %s; banks shared: %s\n", p.NodeID, p.Country, p.URL,
			strings.Join(p.Kinds, ", "), orNone(p.Banks))
		return nil
	})
}

func orNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

func (m *Main) peerList(ctx context.Context, args []string) error {
	fs := m.flagSet("peer list", peerListSynopsis)
	cfg, err := m.loadConfig(fs, args, config.Default(), "db", "home-org")
	if err != nil {
		return err
	}
	if err := parse(fs, args, false); err != nil {
		return err
	}
	return m.asSystem(ctx, cfg, func(a *app.App, sctx context.Context) error {
		peers, err := a.Peers(sctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(w, "NODE\tCOUNTRY\tURL\tBANKS SHARED\tCURSOR\tLAST PULL\tERROR\n")
		for _, p := range peers {
			last := "never"
			if p.LastPull != nil {
				last = p.LastPull.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.NodeID, p.Country, p.URL, orNone(p.Banks), p.Cursor, last, p.LastError)
		}
		return w.Flush()
	})
}

// node prints this node's id and public key, making them at first use, for
// the operators of its peers.
func (m *Main) node(ctx context.Context, args []string) error {
	fs := m.flagSet("node", nodeSynopsis)
	cfg, err := m.loadConfig(fs, args, config.Default(), "db", "home-org")
	if err != nil {
		return err
	}
	if err := parse(fs, args, false); err != nil {
		return err
	}
	return m.asSystem(ctx, cfg, func(a *app.App, sctx context.Context) error {
		id, err := a.NodeIdentity(sctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "node %s (%s)\nkey %s\n", id.NodeID, id.Country, federation.EncodePublicKey(id.Public()))
		return nil
	})
}

var _ flag.Value = (*listFlag)(nil)
