package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/config"
	"alliance/internal/hashing"
	"alliance/internal/store"
	"alliance/internal/trace"
)

// demoPassword is the password of every demo user. The demo listens on
// loopback by default; it is not a deployment.
const demoPassword = "alliance-demo-2026"

// demoUsers are the logins the demo creates: one per role, in two countries,
// so that the separation between organisations can be seen.
var demoUsers = []app.NewUser{
	{Email: "admin@se-hotline.example.org", Name: "Demo admin (SE)", OrgCode: "SE-HOTLINE", Role: "admin"},
	{Email: "analyst@se-hotline.example.org", Name: "Demo analyst (SE)", OrgCode: "SE-HOTLINE", Role: "analyst"},
	{Email: "police@se-police.example.org", Name: "Demo police (SE)", OrgCode: "SE-POLICE", Role: "police"},
	{Email: "analyst@nl-hotline.example.org", Name: "Demo analyst (NL)", OrgCode: "NL-HOTLINE", Role: "analyst"},
	{Email: "secretariat@secretariat.example.org", Name: "Demo secretariat", OrgCode: "INT-SECRETARIAT", Role: "secretariat"},
	{Email: "auditor@se-hotline.example.org", Name: "Demo auditor (SE)", OrgCode: "SE-HOTLINE", Role: "auditor"},
}

func (m *Main) demo(ctx context.Context, args []string) error {
	base := config.Default()
	base.DB = "alliance-demo.db"
	// The demo is opened over plain http on loopback, where Secure cookies
	// cannot be relied on by every browser.
	base.SecureCookies = false
	fs := m.flagSet("demo", "demo [--db DSN] [--addr HOST:PORT] [--hosts FILE] [--ip-ranges FILE]")
	cfg, err := m.loadConfig(fs, args, base, serveFlags...)
	if err != nil {
		return err
	}
	tf := m.addTraceFlags(fs)
	if err := parse(fs, args, false); err != nil {
		return err
	}
	log, err := m.logger(cfg)
	if err != nil {
		return err
	}
	// The demo's names answer first. Other names reach real DNS only if the
	// operator gave a hosts file (which falls back to the system resolver,
	// as in serve); without one the demo never queries the network.
	var system trace.Resolver
	if tf.hosts != "" {
		system = trace.NewSystemResolver(trace.DefaultTimeout)
	}
	fallback, ipdb, err := tf.load(system, log)
	if err != nil {
		return err
	}
	resolver, err := trace.NewHostsResolver(strings.NewReader(demoHosts), fallback)
	if err != nil {
		return fmt.Errorf("demo hosts: %w", err)
	}
	tracer := trace.NewTracer(resolver, ipdb)
	db, err := m.openDB(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer db.Close()
	a, sctx := systemApp(ctx, db, log, cfg.HomeOrg)
	if err := seedDemo(sctx, a); err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	if err := seedDemoReports(ctx, db, a); err != nil {
		return fmt.Errorf("demo reports: %w", err)
	}
	return m.run(ctx, cfg, db, log, node{tracer: tracer, banner: func(url string) {
		w := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(w, "\nAlliance demo is running: open %s\n\nDemo logins (password %q):\n", url, demoPassword)
		for _, u := range demoUsers {
			fmt.Fprintf(w, "  %s\t%s\t%s\n", u.Email, u.Role, u.OrgCode)
		}
		fmt.Fprintf(w, "\nDemo reports (synthetic URLs on reserved names; traced and routed within seconds):\n")
		for _, r := range demoReports {
			fmt.Fprintf(w, "  %s\t%s\n", r.by, r.note)
		}
		fmt.Fprintf(w, "\nDemo host names (no DNS is queried for them):\n")
		for _, h := range demoHostList {
			fmt.Fprintf(w, "  %s\t%s\n", h.name, h.note)
		}
		if tf.hosts == "" {
			fmt.Fprintf(w, "Other names resolve to nothing (nxdomain): the demo queries no DNS. Give --hosts FILE to add names and use the system resolver for the rest.\n")
		}
		fmt.Fprintf(w, "\nHash bank %s/%s: %d entries (hashes of generated gradients), shared with NL-HOTLINE; try POST /api/v1/match\n",
			demoBankOwner, demoBankName, 2*demoBankImages)
		fmt.Fprintf(w, "\nDatabase: %s. Stop with Ctrl-C.\n", cfg.DB)
		w.Flush()
	}})
}

// seedDemo adds the demo users, the synthetic demo data and the demo bank. It is idempotent:
// running the demo again on the same database keeps what is there.
func seedDemo(ctx context.Context, a *app.App) error {
	for _, u := range demoUsers {
		u.Password = demoPassword
		if _, err := a.AddUser(ctx, u); err != nil {
			if alliance.ErrorCode(err) == alliance.ECONFLICT && strings.Contains(alliance.ErrorField(err), "email") {
				continue
			}
			return err
		}
	}
	return seedDemoBank(ctx, a)
}

// demoHostList names the hosts of the demo reports: reserved names (RFC
// 2606/6761) mapped to example addresses on national networks, so that the
// trace and the routes can be seen without real sites or DNS.
var demoHostList = []struct{ name, ip, note string }{
	{"shop.se.example.test", trace.ExampleSE, "a Swedish network (SE, SUNET)"},
	{"files.nl.example.test", trace.ExampleNL, "a Dutch network (NL, RIPE NCC)"},
	{"cdn.ru.example.test", trace.ExampleRU, "a Russian network (RU, no member hotline)"},
	{"gone.example.invalid", "", "does not resolve: nxdomain, retried with backoff, then routed no-hotline"},
}

// demoHosts is demoHostList in hosts-file form.
var demoHosts = func() string {
	var b strings.Builder
	for _, h := range demoHostList {
		if h.ip != "" {
			fmt.Fprintf(&b, "%s %s\n", h.ip, h.name)
		}
	}
	return b.String()
}()

// demoReport is one synthetic report the demo submits. by is "public" for
// the anonymous form, or the e-mail of the demo user who submits it.
type demoReport struct {
	key  string // idempotency key: a second run of the demo adds nothing
	by   string
	in   app.ReportInput
	note string
}

// demoReports are submitted through the same use case as the form and the
// API. Received by SE-HOTLINE (the default home organisation) they route
// national, forward and no-hotline, and one URL is a duplicate of another.
var demoReports = []demoReport{
	{key: "alliance-demo-1", by: "public", note: "public report to the home hotline: SE national, NL forward, RU and an unresolvable host no-hotline",
		in: app.ReportInput{Category: "other", Description: "Demo report with synthetic URLs.", URLs: []string{
			"https://shop.se.example.test/listing/1",
			"https://files.nl.example.test/f/2",
			"https://cdn.ru.example.test/a/3",
			"https://gone.example.invalid/x/4",
		}}},
	{key: "alliance-demo-2", by: "public", note: "public report: a duplicate of the first URL, and an IP literal on the Swedish network",
		in: app.ReportInput{Category: "other", Description: "Demo report: the same page again, spelt differently.", URLs: []string{
			"HTTPS://Shop.SE.example.test:443/listing/1#top",
			"http://" + trace.ExampleSE + "/demo/5",
		}}},
	{key: "alliance-demo-3", by: "analyst@nl-hotline.example.org", note: "industry report received by NL-HOTLINE: NL national, SE forward",
		in: app.ReportInput{Category: "other", Source: "industry", Description: "Demo industry report.", URLs: []string{
			"https://files.nl.example.test/f/6",
			"https://shop.se.example.test/listing/7",
		}}},
}

// seedDemoReports submits demoReports, each as its sender, with its
// idempotency key, so running the demo again on the same database adds
// nothing.
func seedDemoReports(ctx context.Context, db *store.DB, a *app.App) error {
	for _, r := range demoReports {
		rctx := ctx // the anonymous public
		if r.by != "public" {
			var u alliance.User
			err := db.InReadTx(ctx, func(tx *store.Tx) error {
				var err error
				u, err = tx.UserByEmail(ctx, r.by)
				return err
			})
			if err != nil {
				return fmt.Errorf("demo user %s: %w", r.by, err)
			}
			rctx = alliance.NewContextWithActor(ctx, u.Actor())
		}
		in := r.in
		in.IdempotencyKey, in.Client = r.key, "demo"
		if _, err := a.SubmitReport(rctx, in); err != nil {
			return fmt.Errorf("%s: %w", r.key, err)
		}
	}
	return nil
}

// The demo bank: a few hashes of generated gradient images, owned by the
// home hotline and shared with NL-HOTLINE, so that matching can be tried
// with no real material anywhere.
const (
	demoBankOwner  = "SE-HOTLINE"
	demoBankName   = "demo-known"
	demoBankImages = 6
)

// demoBankEntries hashes demoBankImages generated gradients: each gives a
// PDQ and an MD5 entry (of its PNG encoding).
func demoBankEntries() ([]alliance.HashEntry, error) {
	var out []alliance.HashEntry
	for i := range demoBankImages {
		img := image.NewNRGBA(image.Rect(0, 0, 128, 128))
		for y := range 128 {
			for x := range 128 {
				img.Set(x, y, color.NRGBA{R: uint8(x*2 + i*40), G: uint8(y*2 + i*25), B: uint8((x + y) * (i + 1)), A: 255})
			}
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			return nil, err
		}
		res, err := hashing.HashBytes(buf.Bytes(), hashing.Options{})
		if err != nil {
			return nil, err
		}
		if res.PDQ == nil {
			return nil, fmt.Errorf("demo image %d has no PDQ hash", i)
		}
		md5, err := hex.DecodeString(res.MD5)
		if err != nil {
			return nil, err
		}
		meta := alliance.HashEntry{Series: fmt.Sprintf("demo-gradient-%d", i+1), Source: "alliance demo (generated gradient)"}
		p, m := meta, meta
		p.Algorithm, p.Value, p.Profile = alliance.HashPDQ, res.PDQ[:], string(res.Profile)
		m.Algorithm, m.Value = alliance.HashMD5, md5
		out = append(out, p, m)
	}
	return out, nil
}

// sliceEntries is an app.EntrySource over a slice.
type sliceEntries []alliance.HashEntry

func (s *sliceEntries) Next() (alliance.HashEntry, error) {
	if len(*s) == 0 {
		return alliance.HashEntry{}, io.EOF
	}
	e := (*s)[0]
	*s = (*s)[1:]
	return e, nil
}

// seedDemoBank creates the demo bank unless it is there already, filled
// and shared.
func seedDemoBank(ctx context.Context, a *app.App) error {
	ctx = alliance.NewContextWithActor(ctx, alliance.Actor{System: true, OrgCode: demoBankOwner})
	banks, err := a.Banks(ctx)
	if err != nil {
		return err
	}
	for _, b := range banks {
		if b.OwnerOrg == demoBankOwner && b.Name == demoBankName && b.Entries > 0 && slices.Contains(b.SharedWith, "NL-HOTLINE") {
			return nil
		}
	}
	_, err = a.CreateBank(ctx, app.BankInput{Name: demoBankName, Description: "Demo: hashes of generated gradient images"})
	if err != nil && alliance.ErrorCode(err) != alliance.ECONFLICT {
		return err
	}
	entries, err := demoBankEntries()
	if err != nil {
		return err
	}
	src := sliceEntries(entries)
	ref := demoBankOwner + "/" + demoBankName
	if _, err := a.ImportEntries(ctx, ref, &src, nil); err != nil {
		return err
	}
	return a.ShareBank(ctx, ref, "NL-HOTLINE")
}
