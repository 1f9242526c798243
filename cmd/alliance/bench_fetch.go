package main

import (
	"context"
	"crypto/md5"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/config"
	"alliance/internal/demosite"
	"alliance/internal/fetch"
	"alliance/internal/media"
	"alliance/internal/store"
	"alliance/internal/trace"
)

const benchFetchSynopsis = "bench fetch [--db DSN] [--items N] [--concurrency C] [--batch B] [--json]"

// The goal of issue 11, printed beside the figure.
const goalFetchItemsPerSec = 200

// benchFetchMaxItems bounds a run.
const benchFetchMaxItems = 1_000_000

// benchFetchResult is what a fetch bench measured.
type benchFetchResult struct {
	Database    string  `json:"database"`
	CPUs        int     `json:"cpus"`
	GoVersion   string  `json:"go_version"`
	Items       int     `json:"items"`
	Concurrency int     `json:"concurrency"`
	Batch       int     `json:"batch"`
	Recorded    int     `json:"recorded"`
	Fetched     int     `json:"fetched"`
	Known       int     `json:"known"`
	Seconds     float64 `json:"seconds"`
	ItemsPerS   float64 `json:"items_per_s"`
	BankEntries int     `json:"bank_entries"`
}

// benchFetch measures the fetch job end to end: routed items whose URLs are
// generated images on a local site are fetched, hashed in memory, matched
// against a bank (every tenth image is in it) and recorded, batch after
// batch, as the fetch job does, on a fresh database.
func (m *Main) benchFetch(ctx context.Context, args []string) error {
	fs := m.flagSet("bench fetch", benchFetchSynopsis)
	dsn := fs.String("db", "", "database to run on: empty for a fresh temporary SQLite file; a postgres://… database must be empty")
	items := fs.Int("items", 2000, fmt.Sprintf("items (image URLs) to fetch, 1 to %d", benchFetchMaxItems))
	concurrency := fs.Int("concurrency", app.DefaultFetchConcurrency, "items fetched at once, 1 to 256")
	batch := fs.Int("batch", app.DefaultFetchBatch, fmt.Sprintf("items per batch (one write transaction each), 1 to %d", app.MaxFetchBatch))
	asJSON := fs.Bool("json", false, "print the figures as JSON")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	switch {
	case *items < 1 || *items > benchFetchMaxItems:
		return fmt.Errorf("--items %d: want 1 to %d", *items, benchFetchMaxItems)
	case *concurrency < 1 || *concurrency > 256:
		return fmt.Errorf("--concurrency %d: want 1 to 256", *concurrency)
	case *batch < 1 || *batch > app.MaxFetchBatch:
		return fmt.Errorf("--batch %d: want 1 to %d", *batch, app.MaxFetchBatch)
	}
	cfg := config.Default()
	cfg.DB, cfg.LogLevel = *dsn, "warn"
	if cfg.DB == "" {
		dir, err := os.MkdirTemp("", "alliance-bench-fetch-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.DB = filepath.Join(dir, "bench.db")
	}
	log, err := m.logger(&cfg)
	if err != nil {
		return err
	}
	db, err := m.openDB(ctx, &cfg, false)
	if err != nil {
		return err
	}
	defer db.Close()
	if v, err := db.SchemaVersion(ctx); err != nil {
		return err
	} else if v > 0 {
		return fmt.Errorf("the %s database is not empty (schema version %d): give an empty database", db.Dialect(), v)
	}
	if err := migrateAll(ctx, db); err != nil {
		return err
	}

	site, err := demosite.Start("127.0.0.1:0", nil)
	if err != nil {
		return err
	}
	defer site.Close()
	ap, err := netip.ParseAddrPort(site.Addr)
	if err != nil {
		return err
	}
	const host = "images.bench.example.test"
	hosts, err := trace.NewHostsResolver(strings.NewReader(trace.ExampleSE+" "+host+"\n"), nil)
	if err != nil {
		return err
	}
	ipdb, err := trace.Default()
	if err != nil {
		return err
	}
	f := fetch.New(fetch.Options{OnlyAddrs: []netip.AddrPort{ap}, PerHostInterval: -1, UserAgent: cfg.FetchUserAgent,
		Resolver: func(ctx context.Context, h string) ([]netip.Addr, error) {
			if h == host {
				return []netip.Addr{ap.Addr()}, nil
			}
			return hosts.LookupIP(ctx, h)
		}})
	defer f.Close()
	a := app.New(app.Options{DB: db, Logger: log, HomeOrg: cfg.HomeOrg, Tracer: trace.NewTracer(hosts, ipdb),
		Collector: media.NewCollector(f, media.Options{}), FetchConcurrency: *concurrency,
		UserReportLimit: app.RateLimit{Events: 1 << 30, Per: time.Second, Burst: 1 << 30}})
	sctx := alliance.NewContextWithActor(ctx, alliance.SystemActor)

	// A bank with the MD5 of every tenth image, so a tenth of the items
	// are known and every item is looked up.
	owner := alliance.NewContextWithActor(ctx, alliance.Actor{System: true, OrgCode: cfg.HomeOrg})
	if _, err := a.CreateBank(owner, app.BankInput{Name: "bench-known"}); err != nil {
		return fmt.Errorf("bench bank: %w", err)
	}
	var entries sliceEntries
	for i := 0; i < *items; i += 10 {
		sum := md5.Sum(demosite.NoisePNG(uint64(i)))
		entries = append(entries, alliance.HashEntry{Algorithm: alliance.HashMD5, Value: sum[:],
			Classification: alliance.Classification{Scheme: "bench", Category: "baseline"}})
	}
	res := benchFetchResult{Database: string(db.Dialect()), CPUs: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(),
		Items: *items, Concurrency: *concurrency, Batch: *batch, BankEntries: len(entries)}
	if _, err := a.ImportEntries(owner, cfg.HomeOrg+"/bench-known", &entries, nil); err != nil {
		return fmt.Errorf("bench bank: %w", err)
	}
	if err := a.Matcher().Load(ctx); err != nil {
		return err
	}

	// The items: reports of 500 image URLs each, traced and routed.
	email := "bench-fetch@bench.example.org"
	u, err := a.AddUser(sctx, app.NewUser{Email: email, Name: "Bench", OrgCode: cfg.HomeOrg, Role: "analyst"})
	if err != nil {
		return fmt.Errorf("bench user: %w", err)
	}
	uctx := alliance.NewContextWithActor(ctx, u.Actor())
	base := fmt.Sprintf("http://%s:%d", host, ap.Port())
	for start := 0; start < *items; start += alliance.MaxReportURLs / 2 {
		var urls []string
		for i := start; i < min(*items, start+alliance.MaxReportURLs/2); i++ {
			urls = append(urls, fmt.Sprintf("%s/noise/%d.png", base, i))
		}
		if _, err := a.SubmitReport(uctx, app.ReportInput{Category: "other", Source: "hotline", URLs: urls}); err != nil {
			return fmt.Errorf("bench report: %w", err)
		}
	}
	for {
		n, err := a.TraceBatch(sctx, app.MaxTraceBatch)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
	}
	fmt.Fprintf(m.Stderr, "fetching %d items (%d at a time, batches of %d) from %s …\n", *items, *concurrency, *batch, base)

	start := time.Now()
	for {
		n, err := a.FetchBatch(sctx, *batch)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		res.Recorded += n
	}
	res.Seconds = time.Since(start).Seconds()
	res.ItemsPerS = float64(res.Recorded) / res.Seconds
	err = db.InReadTx(ctx, func(tx *store.Tx) error {
		return tx.SQLTx().QueryRowContext(ctx, `SELECT
			COALESCE(SUM(CASE WHEN fetch_status = 'fetched' THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN known = 'known' THEN 1 ELSE 0 END), 0) FROM items`).Scan(&res.Fetched, &res.Known)
	})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return printBenchFetch(m.Stdout, res)
}

func printBenchFetch(w io.Writer, r benchFetchResult) error {
	verdict := "met"
	if r.ItemsPerS < goalFetchItemsPerSec {
		verdict = "NOT met"
	}
	lines := []string{
		fmt.Sprintf("database           %s (%d CPUs, %s)", r.Database, r.CPUs, r.GoVersion),
		fmt.Sprintf("items              %d image URLs on a local site, %d fetched, %d known (bank of %d MD5s)", r.Items, r.Fetched, r.Known, r.BankEntries),
		fmt.Sprintf("fetch, hash, match %d items in %.2f s: %.0f items/s (goal ≥ %d: %s)", r.Recorded, r.Seconds, r.ItemsPerS, goalFetchItemsPerSec, verdict),
		fmt.Sprintf("settings           %d at a time, batches of %d", r.Concurrency, r.Batch),
	}
	_, err := fmt.Fprintln(w, strings.Join(slices.Clip(lines), "\n"))
	return err
}
