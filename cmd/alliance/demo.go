package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/config"
	"alliance/internal/demosite"
	"alliance/internal/federation"
	"alliance/internal/fetch"
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
	// Short takedown intervals, so the whole way from assessment to removal
	// can be watched in a few minutes.
	base.PoliceGrace, base.RecheckInterval = config.Duration(time.Minute), config.Duration(time.Minute)
	fs := m.flagSet("demo", "demo [--db DSN] [--addr HOST:PORT] [--hosts FILE] [--ip-ranges FILE] [--demo-site HOST:PORT]")
	cfg, err := m.loadConfig(fs, args, base, serveFlags...)
	if err != nil {
		return err
	}
	siteAddr := fs.String("demo-site", "127.0.0.1:8079", "loopback HOST:PORT of the demo's site of generated images, which the node fetches")
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
	// The demo's own site of generated images, on loopback. The node's
	// fetcher reaches that one address and nothing else: the demo's other
	// names and addresses stand for real networks and are never contacted.
	secret := make([]byte, 32)
	rand.Read(secret)
	site, err := demosite.Start(*siteAddr, secret)
	if err != nil {
		return fmt.Errorf("demo site: %w (give --demo-site 127.0.0.1:PORT with a free port)", err)
	}
	defer site.Close()
	siteAP, err := netip.ParseAddrPort(site.Addr)
	if err != nil {
		return fmt.Errorf("demo site address %s: %w", site.Addr, err)
	}
	siteBase := fmt.Sprintf("http://%s:%d", demoSiteHost, siteAP.Port())
	siteResolver, err := trace.NewHostsResolver(strings.NewReader(siteAP.Addr().String()+" "+demoSiteHost+"\n"), nil)
	if err != nil {
		return fmt.Errorf("demo site hosts: %w", err)
	}
	f := fetch.New(fetch.Options{
		UserAgent: cfg.FetchUserAgent, OnlyAddrs: []netip.AddrPort{siteAP}, PerHostInterval: -1,
		Resolver: func(ctx context.Context, host string) ([]netip.Addr, error) { return siteResolver.LookupIP(ctx, host) },
	})
	collector := newCollector(cfg, f)
	db, err := m.openDB(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer db.Close()
	a, sctx := systemApp(ctx, db, log, cfg.HomeOrg)
	if err := seedDemo(sctx, a); err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	// The demo site's abuse webhook takes the notices about it, and removes
	// what they name, as a host that complies would.
	if err := a.PutAbuseContact(sctx, app.AbuseContactInput{Scope: "domain", Key: demoSiteHost, Channel: "webhook",
		Address: siteBase + "/abuse", Secret: secret}); err != nil {
		return fmt.Errorf("demo abuse contact: %w", err)
	}
	reports := append(slices.Clone(demoReports), demoMediaReports(siteBase, siteAP.Port())...)
	if err := seedDemoReports(ctx, db, a, reports); err != nil {
		return fmt.Errorf("demo reports: %w", err)
	}
	return m.run(ctx, cfg, db, log, node{tracer: tracer, collector: collector, takedown: newTakedown(cfg, f, true), banner: func(url string) {
		w := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(w, "\nAlliance demo is running: open %s\n\nDemo logins (password %q):\n", url, demoPassword)
		for _, u := range demoUsers {
			fmt.Fprintf(w, "  %s\t%s\t%s\n", u.Email, u.Role, u.OrgCode)
		}
		fmt.Fprintf(w, "The admin adds, disables and enables SE-HOTLINE's users on the home page; everyone changes\n"+
			"their password at %s/account/password and makes API tokens at %s/account/tokens.\n", url, url)
		fmt.Fprintf(w, "\nDemo reports (synthetic URLs on reserved names; traced and routed within seconds):\n")
		for _, r := range reports {
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
		fmt.Fprintf(w, "Demo site of generated images: %s (on %s). The node fetches it, hashes the images in memory and\n"+
			"matches them: see the items on %s. It fetches nothing else.\n", siteBase, site.Addr, demoSiteHost)
		fmt.Fprintf(w, "Deconfliction: the demo bank's gradients belong to series demo-gradient-1 … %d (owned by SE-POLICE); series %d is\n"+
			"identified (stand down), the others are not, so the known demo image alerts SE-POLICE (see Alerts as the police user).\n",
			demoBankImages, demoIdentifiedSeries)
		fmt.Fprintf(w, "Takedown: assess an item of the demo site as analyst@se-hotline.example.org (Your queue); the police\n"+
			"(police@se-police.example.org) have %s to hold it, then a signed notice goes to the site's abuse webhook, the site\n"+
			"removes the image, and the re-check (every %s) records the removal.\n",
			time.Duration(cfg.PoliceGrace), time.Duration(cfg.RecheckInterval))
		if id, err := a.NodeIdentity(ctx); err == nil {
			fmt.Fprintf(w, "\nFederation: this node is %s, key %s.\nPeer it with another node (alliance peer add --url … --key … --country …)\n"+
				"to share banks: the other node's pull job replicates them into a mirror bank. The admin sees the\n"+
				"node's identity and its peers' pulls on %s/peers.\n", id.NodeID, federation.EncodePublicKey(id.Public()), url)
		}
		fmt.Fprintf(w, "\nReporting: every member has synthetic commitments, awareness actions and capability levels. The\n"+
			"secretariat sees the map and charts on %s/reporting; SE's users edit SE's at %s/reporting/SE/edit.\n", url, url)
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
	if err := seedDemoBank(ctx, a); err != nil {
		return err
	}
	return seedDemoReporting(ctx, a, time.Now())
}

// demoHostList names the hosts of the demo reports: reserved names (RFC
// 2606/6761) mapped to example addresses on national networks, so that the
// trace and the routes can be seen without real sites or DNS.
var demoHostList = []struct{ name, ip, note string }{
	{demoSiteHost, trace.ExampleSE, "the demo's site of generated images: traced as Swedish, fetched on loopback"},
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

// demoSiteHost is the name of the demo's site of generated images.
const demoSiteHost = "media.demo.test"

// demoMediaReports are reports of the demo site's pages and images, which
// the node fetches, hashes and matches against the demo bank: a page of
// three images, one of them in the bank (partially known), an image in the
// bank (known), one that is not (unmatched), and an address that answers
// 404 (not accessible). The site's port is part of the URLs, so it is part
// of the idempotency keys too.
func demoMediaReports(base string, port uint16) []demoReport {
	key := func(n int) string { return fmt.Sprintf("alliance-demo-media-%d@%d", n, port) }
	return []demoReport{
		{key: key(1), by: "public", note: "public report of the demo site: a page of three generated images (one in the demo bank) and a video",
			in: app.ReportInput{Category: "other", Description: "Demo report of a page on the demo site.", URLs: []string{
				base + "/page?img=/gradient/2.png&img=/noise/1.png&img=/noise/2.png&video=/clip.mp4",
			}}},
		{key: key(2), by: "analyst@se-hotline.example.org", note: "hotline report: an image in the demo bank (known), one that is not, and a 404",
			in: app.ReportInput{Category: "other", Source: "hotline", Description: "Demo report of images on the demo site.", URLs: []string{
				base + "/gradient/1.png",
				base + "/noise/3.png",
				base + "/missing.png",
			}}},
	}
}

// seedDemoReports submits reports, each as its sender, with its
// idempotency key, so running the demo again on the same database adds
// nothing.
func seedDemoReports(ctx context.Context, db *store.DB, a *app.App, reports []demoReport) error {
	for _, r := range reports {
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

// demoIdentifiedSeries is the demo series whose victim is identified (and
// which its owner asks not to duplicate): the demo page's gradient belongs
// to it, so that page's item answers "stand down". The other demo series
// stay unidentified, and the known demo image alerts their owner.
const demoIdentifiedSeries = 3

// demoClassification labels the demo bank's entries with a neutral verdict
// name, so that items matching them are known and inherit it.
var demoClassification = alliance.Classification{Scheme: "alliance-demo", Category: "baseline"}

// demoBankEntries hashes demoBankImages generated gradients: each gives a
// PDQ and an MD5 entry (of its PNG encoding).
func demoBankEntries() ([]alliance.HashEntry, error) {
	var out []alliance.HashEntry
	for i := range demoBankImages {
		png := demosite.GradientPNG(i)
		res, err := hashing.HashBytes(png, hashing.Options{})
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
		meta := alliance.HashEntry{Series: fmt.Sprintf("demo-gradient-%d", i+1), Source: "alliance demo (generated gradient)",
			Classification: demoClassification}
		if i+1 == demoIdentifiedSeries {
			identified := true
			meta.VictimIdentified = &identified
		}
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
	// The import created the demo series (owned by SE-POLICE); the
	// identified one asks not to be duplicated.
	if _, err := a.UpdateSeries(ctx, fmt.Sprintf("demo-gradient-%d", demoIdentifiedSeries), app.SeriesInput{
		DoNotDuplicate: true, Contact: "SE-POLICE victim identification desk", Refs: "demo"}); err != nil {
		return fmt.Errorf("demo series: %w", err)
	}
	return a.ShareBank(ctx, ref, "NL-HOTLINE")
}
