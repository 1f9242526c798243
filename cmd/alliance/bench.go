package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"alliance/internal/app"
	"alliance/internal/config"
	"alliance/internal/jobs"
	"alliance/internal/store"
	"alliance/internal/trace"
)

// Bounds on a bench run, so that a typo cannot load the machine for hours.
const (
	benchMaxClients  = 1024
	benchMaxDuration = 10 * time.Minute
	benchMaxReports  = 10_000_000
)

// The goals of issue 3, printed beside the figures.
const (
	goalReportsPerSec = 3000
	goalP99           = 50 * time.Millisecond
	goalItemsPerSec   = 2000
)

// benchHostCount is how many distinct host names the bench reports spread
// over: a trace batch resolves each distinct host once, so one name would
// flatter the trace.
const benchHostCount = 999

// benchHosts maps h0.bench.example.test … h998.bench.example.test to the
// Swedish, Dutch and Russian example addresses in turn: the bench's items
// route national, forward and no-hotline, and no DNS is queried.
var benchHosts = func() string {
	ips := []string{trace.ExampleSE, trace.ExampleNL, trace.ExampleRU}
	var b strings.Builder
	for i := range benchHostCount {
		fmt.Fprintf(&b, "%s h%d.bench.example.test\n", ips[i%len(ips)], i)
	}
	return b.String()
}()

// benchResult is what a bench run measured; --json prints it as is.
type benchResult struct {
	Database     string   `json:"database"` // sqlite or postgres
	Fresh        bool     `json:"fresh_database"`
	Clients      int      `json:"clients"`
	CPUs         int      `json:"cpus"`
	GoVersion    string   `json:"go_version"`
	Requests     int      `json:"requests"`
	Reports      int      `json:"reports"` // 201 responses
	Errors       int      `json:"errors"`
	ErrorSamples []string `json:"error_samples,omitempty"`
	Seconds      float64  `json:"seconds"`
	ReportsPerS  float64  `json:"reports_per_s"`
	LatencyMS    struct {
		P50 float64 `json:"p50"`
		P90 float64 `json:"p90"`
		P99 float64 `json:"p99"`
		Max float64 `json:"max"`
	} `json:"latency_ms"`
	// Pool is the database/sql connection pool during intake: waits for a
	// free connection, and connections closed because too many were idle
	// (each then reopened: costly on PostgreSQL).
	Pool struct {
		MaxOpen       int     `json:"max_open"`
		Waits         int64   `json:"waits"`
		WaitSeconds   float64 `json:"wait_seconds"`
		MaxIdleClosed int64   `json:"max_idle_closed"`
	} `json:"pool"`
	Trace struct {
		DuringIntake bool    `json:"during_intake"`
		BatchSize    int     `json:"batch_size"`
		Items        int64   `json:"items"`
		Seconds      float64 `json:"seconds"`
		ItemsPerS    float64 `json:"items_per_s"`
		WaitSeconds  float64 `json:"wait_seconds"` // from the end of intake (or the start, during intake) to the first batch
		AllRouted    bool    `json:"all_routed"`
	} `json:"trace"`
}

func (m *Main) bench(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "match" {
		return m.benchMatch(ctx, args[1:])
	}
	if len(args) > 0 && args[0] == "fetch" {
		return m.benchFetch(ctx, args[1:])
	}
	if len(args) > 0 && args[0] == "soak" {
		return m.benchSoak(ctx, args[1:])
	}
	if len(args) == 0 || args[0] != "intake" {
		fmt.Fprintf(m.Stderr, "Usage: alliance bench intake [--db DSN] [--clients N] [--duration D] [--reports N] [--json]\n")
		fmt.Fprintf(m.Stderr, "       alliance %s\n", benchMatchSynopsis)
		fmt.Fprintf(m.Stderr, "       alliance %s\n", benchFetchSynopsis)
		fmt.Fprintf(m.Stderr, "       alliance %s\n", benchSoakSynopsis)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			return errHelp
		}
		return errUsage
	}
	fs := m.flagSet("bench intake", "bench intake [--db DSN] [--clients N] [--duration D] [--reports N] [--json]")
	dsn := fs.String("db", "", "database to run on: empty for a fresh temporary SQLite file; a postgres://… database must be empty unless --force")
	force := fs.Bool("force", false, "run on a database that already has a schema (the bench adds a user, a token and its reports)")
	clients := fs.Int("clients", 32, fmt.Sprintf("concurrent HTTP clients, 1 to %d", benchMaxClients))
	duration := fs.Duration("duration", 10*time.Second, fmt.Sprintf("how long to submit reports, at most %v", benchMaxDuration))
	reports := fs.Int("reports", 0, "stop after this many reports (0: run for --duration)")
	during := fs.Bool("trace-during-intake", false, "trace while reports come in (by default tracing waits, so each figure is measured alone)")
	traceBatch := fs.Int("trace-batch", 0, fmt.Sprintf("items per trace batch, one write transaction each (0: the trace job's default, %d on SQLite, %d on PostgreSQL)",
		jobs.DefaultTraceBatchSizeSQLite, jobs.DefaultTraceBatchSize))
	traceWait := fs.Duration("trace-timeout", 2*time.Minute, "how long to wait for the trace of every report")
	asJSON := fs.Bool("json", false, "print the figures as JSON")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the intake phase (server and clients) to this file, for go tool pprof")
	if err := parse(fs, args[1:], false); err != nil {
		return err
	}
	switch {
	case *clients < 1 || *clients > benchMaxClients:
		return fmt.Errorf("--clients %d: want 1 to %d", *clients, benchMaxClients)
	case *duration <= 0 || *duration > benchMaxDuration:
		return fmt.Errorf("--duration %v: want more than 0 and at most %v", *duration, benchMaxDuration)
	case *reports < 0 || *reports > benchMaxReports:
		return fmt.Errorf("--reports %d: want 0 to %d", *reports, benchMaxReports)
	case *traceBatch < 0 || *traceBatch > app.MaxTraceBatch:
		return fmt.Errorf("--trace-batch %d: want 0 to %d", *traceBatch, app.MaxTraceBatch)
	case *traceWait <= 0 || *traceWait > benchMaxDuration:
		return fmt.Errorf("--trace-timeout %v: want more than 0 and at most %v", *traceWait, benchMaxDuration)
	}

	res := benchResult{Clients: *clients, CPUs: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(), Fresh: *dsn == ""}
	res.Trace.DuringIntake, res.Trace.BatchSize = *during, *traceBatch
	gate := &traceGate{}
	if *during {
		gate.open(time.Now())
	}
	bn, err := m.startBenchNode(ctx, *dsn, *force, node{
		wrapTrace:      gate.wrap,
		traceBatchSize: *traceBatch,
	}, nil)
	if err != nil {
		return err
	}
	defer bn.close()
	db, base, tok, runID, done, stop := bn.db, bn.base, bn.token, bn.runID, bn.done, bn.stop
	runCtx := bn.ctx
	res.Database = string(db.Dialect())
	if res.Trace.BatchSize == 0 {
		res.Trace.BatchSize = jobs.DefaultTraceBatchSize
		if db.Dialect() == store.SQLite {
			res.Trace.BatchSize = jobs.DefaultTraceBatchSizeSQLite
		}
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			stop()
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			stop()
			return fmt.Errorf("--cpuprofile: %w", err)
		}
	}
	before := db.SQL().Stats()
	load := driveIntake(runCtx, base, tok, runID, *clients, *duration, *reports)
	after := db.SQL().Stats()
	res.Pool.MaxOpen = after.MaxOpenConnections
	res.Pool.Waits = after.WaitCount - before.WaitCount
	res.Pool.WaitSeconds = (after.WaitDuration - before.WaitDuration).Seconds()
	res.Pool.MaxIdleClosed = after.MaxIdleClosed - before.MaxIdleClosed
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	res.Requests, res.Reports, res.Errors, res.ErrorSamples = load.requests, load.created, load.errors, load.samples
	res.Seconds = load.elapsed.Seconds()
	if res.Seconds > 0 {
		res.ReportsPerS = float64(load.created) / res.Seconds
	}
	res.LatencyMS.P50 = ms(percentile(load.latencies, 0.50))
	res.LatencyMS.P90 = ms(percentile(load.latencies, 0.90))
	res.LatencyMS.P99 = ms(percentile(load.latencies, 0.99))
	res.LatencyMS.Max = ms(percentile(load.latencies, 1))

	// Trace: every report made one new item; wait until all are traced.
	intakeEnd := time.Now()
	if !*during {
		gate.open(intakeEnd)
	}
	deadline := time.Now().Add(*traceWait)
	for gate.traced.Load() < int64(load.created) && time.Now().Before(deadline) && runCtx.Err() == nil {
		select {
		case err := <-done:
			return fmt.Errorf("server stopped during the bench: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	first, last, opened := gate.times()
	res.Trace.Items = gate.traced.Load()
	if !first.IsZero() {
		res.Trace.WaitSeconds = first.Sub(opened).Seconds()
		res.Trace.Seconds = last.Sub(first).Seconds()
		if res.Trace.Seconds > 0 {
			res.Trace.ItemsPerS = float64(res.Trace.Items) / res.Trace.Seconds
		}
	}
	if res.Trace.Items >= int64(load.created) {
		res.Trace.AllRouted, err = noneWaiting(runCtx, base, tok)
		if err != nil {
			stop()
			return fmt.Errorf("check items: %w", err)
		}
	}
	if err := stop(); err != nil {
		return fmt.Errorf("server: %w", err)
	}

	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		m.printBench(res)
	}
	switch {
	case res.Errors > 0:
		return fmt.Errorf("%d of %d requests failed", res.Errors, res.Requests)
	case !res.Trace.AllRouted:
		return fmt.Errorf("not every item was traced and routed within --trace-timeout %v", *traceWait)
	}
	return nil
}

// benchNode is a node a bench runs in-process on loopback, over a fresh
// temporary SQLite database or an empty one given, with a user of the home
// hotline and an API token of theirs, as a platform would have.
type benchNode struct {
	ctx     context.Context // cancelled when the node stops
	db      *store.DB
	base    string // http://127.0.0.1:PORT
	token   string
	runID   string // random, to keep this run's URLs apart from others'
	done    <-chan error
	cancel  context.CancelFunc
	stopped bool
	cleanup func() // closes the database, removes a temporary one
}

// stop stops the node and returns how it ended.
func (b *benchNode) stop() error {
	if b.stopped {
		return nil
	}
	b.stopped = true
	b.cancel()
	return <-b.done
}

// close stops the node if it runs and cleans up after it.
func (b *benchNode) close() {
	if !b.stopped {
		b.stopped = true
		b.cancel()
		select {
		case <-b.done:
		case <-time.After(30 * time.Second):
		}
	}
	b.cleanup()
}

// startBenchNode starts a node for a bench on dsn ("" for a temporary
// SQLite file; another database must be empty unless force). n's tracer and
// banner are set here; the per-token report limit is lifted, since a bench
// measures the node, not the limit. seed, when not nil, adds data as the
// system before the node starts.
func (m *Main) startBenchNode(ctx context.Context, dsn string, force bool, n node, seed func(context.Context, *app.App) error) (*benchNode, error) {
	cfg := config.Default()
	cfg.DB, cfg.Addr, cfg.LogLevel, cfg.Jobs = dsn, "127.0.0.1:0", "warn", true
	var cleanup []func()
	closeAll := func() {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
	}
	if cfg.DB == "" {
		dir, err := os.MkdirTemp("", "alliance-bench-")
		if err != nil {
			return nil, err
		}
		cleanup = append(cleanup, func() { os.RemoveAll(dir) })
		cfg.DB = filepath.Join(dir, "bench.db")
	}
	fail := func(err error) (*benchNode, error) {
		closeAll()
		return nil, err
	}
	log, err := m.logger(&cfg)
	if err != nil {
		return fail(err)
	}
	db, err := m.openDB(ctx, &cfg, false)
	if err != nil {
		return fail(err)
	}
	cleanup = append(cleanup, func() { db.Close() })
	if v, err := db.SchemaVersion(ctx); err != nil {
		return fail(err)
	} else if v > 0 && !force {
		return fail(fmt.Errorf("the %s database is not empty (schema version %d): the bench adds users and reports; give an empty database or --force", db.Dialect(), v))
	}
	if err := migrateAll(ctx, db); err != nil {
		return fail(err)
	}
	runID := randomHex(4)
	a, sctx := systemApp(ctx, db, log, cfg.HomeOrg)
	email := "bench-" + runID + "@bench.example.org"
	if _, err := a.AddUser(sctx, app.NewUser{Email: email, Name: "Bench " + runID, OrgCode: cfg.HomeOrg, Role: "analyst"}); err != nil {
		return fail(fmt.Errorf("bench user: %w", err))
	}
	tok, err := a.CreateToken(sctx, email, "bench")
	if err != nil {
		return fail(fmt.Errorf("bench token: %w", err))
	}
	if seed != nil {
		if err := seed(sctx, a); err != nil {
			return fail(fmt.Errorf("bench data: %w", err))
		}
	}
	resolver, err := trace.NewHostsResolver(strings.NewReader(benchHosts), nil)
	if err != nil {
		return fail(err)
	}
	ipdb, err := trace.Default()
	if err != nil {
		return fail(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	urlc := make(chan string, 1)
	done := make(chan error, 1)
	n.tracer = trace.NewTracer(resolver, ipdb)
	n.banner = func(url string) { urlc <- url }
	n.userReportLimit = app.RateLimit{Events: 1 << 30, Per: time.Second, Burst: 1 << 30}
	go func() { done <- m.run(runCtx, &cfg, db, log, n) }()
	b := &benchNode{ctx: runCtx, db: db, token: tok.Secret, runID: runID, done: done, cancel: cancel, cleanup: closeAll}
	select {
	case b.base = <-urlc:
	case err := <-done:
		cancel()
		return fail(fmt.Errorf("server stopped before listening: %v", err))
	}
	return b, nil
}

// printBench prints res for a person, with the goals beside it.
func (m *Main) printBench(res benchResult) {
	w := m.Stdout
	db := res.Database
	if res.Fresh {
		db += " (fresh temporary database)"
	}
	fmt.Fprintf(w, "alliance bench intake: %s, %d clients, %d CPUs, %s\n", db, res.Clients, res.CPUs, res.GoVersion)
	fmt.Fprintf(w, "intake:  %d reports in %.1fs = %.0f reports/s, %d errors\n", res.Reports, res.Seconds, res.ReportsPerS, res.Errors)
	for _, s := range res.ErrorSamples {
		fmt.Fprintf(w, "         error: %s\n", s)
	}
	l := res.LatencyMS
	fmt.Fprintf(w, "latency: p50 %.1fms  p90 %.1fms  p99 %.1fms  max %.1fms\n", l.P50, l.P90, l.P99, l.Max)
	p := res.Pool
	fmt.Fprintf(w, "db pool: %d max open; %d waits for a connection (%.1fs in all); %d closed as surplus idle\n",
		p.MaxOpen, p.Waits, p.WaitSeconds, p.MaxIdleClosed)
	when := "after intake"
	if res.Trace.DuringIntake {
		when = "during intake"
	}
	fmt.Fprintf(w, "trace:   %d items in %.1fs = %.0f items/s (%s, batches of %d; first batch %.1fs after the gate opened), all routed: %v\n",
		res.Trace.Items, res.Trace.Seconds, res.Trace.ItemsPerS, when, res.Trace.BatchSize, res.Trace.WaitSeconds, res.Trace.AllRouted)
	met := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	fmt.Fprintf(w, "goals:   intake >= %d reports/s with p99 < %v: %s; trace >= %d items/s: %s\n",
		goalReportsPerSec, goalP99, met(res.ReportsPerS >= goalReportsPerSec && l.P99 < ms(goalP99)),
		goalItemsPerSec, met(res.Trace.ItemsPerS >= goalItemsPerSec))
}

// traceGate holds the trace job back until it is opened, and counts and
// times the items traced after that.
type traceGate struct {
	traced atomic.Int64
	isOpen atomic.Bool

	mu                  sync.Mutex
	opened, first, last time.Time
}

func (g *traceGate) open(at time.Time) {
	g.mu.Lock()
	g.opened = at
	g.mu.Unlock()
	g.isOpen.Store(true)
}

func (g *traceGate) times() (first, last, opened time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.first, g.last, g.opened
}

// wrap returns fn gated and counted.
func (g *traceGate) wrap(fn traceFunc) traceFunc {
	return func(ctx context.Context, limit int) (int, error) {
		if !g.isOpen.Load() {
			return 0, nil
		}
		start := time.Now()
		n, err := fn(ctx, limit)
		if n > 0 {
			end := time.Now()
			g.mu.Lock()
			if g.first.IsZero() {
				g.first = start
			}
			g.last = end
			g.mu.Unlock()
			g.traced.Add(int64(n))
		}
		return n, err
	}
}

// loadResult is what driveIntake measured.
type loadResult struct {
	requests, created, errors int
	samples                   []string // a few distinct errors
	elapsed                   time.Duration
	latencies                 []time.Duration // sorted
}

// driveIntake posts one-URL reports to base from clients concurrent
// keep-alive connections until duration has passed or limit reports (when
// limit > 0) have been sent.
func driveIntake(ctx context.Context, base, token, runID string, clients int, duration time.Duration, limit int) loadResult {
	transport := &http.Transport{
		Proxy:               nil, // loopback only, never through a proxy
		MaxIdleConns:        clients,
		MaxIdleConnsPerHost: clients,
		DisableCompression:  true,
		IdleConnTimeout:     time.Minute,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	endpoint := base + "/api/v1/reports"

	var (
		next    atomic.Int64
		mu      sync.Mutex
		res     loadResult
		perConn = make([][]time.Duration, clients)
		wg      sync.WaitGroup
	)
	fail := func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		res.errors++
		if len(res.samples) < 5 && !slices.Contains(res.samples, msg) {
			res.samples = append(res.samples, msg)
		}
	}
	start := time.Now()
	deadline := start.Add(duration)
	for c := range clients {
		wg.Go(func() {
			lat := make([]time.Duration, 0, 4096)
			created := 0
			for ctx.Err() == nil && time.Now().Before(deadline) {
				k := next.Add(1)
				if limit > 0 && k > int64(limit) {
					break
				}
				body := fmt.Sprintf(`{"urls":["https://h%d.bench.example.test/r/%s/%d"]}`, k%benchHostCount, runID, k)
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(body))
				if err != nil {
					fail(err.Error())
					continue
				}
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					fail(err.Error())
					continue
				}
				msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
				resp.Body.Close()
				lat = append(lat, time.Since(t0))
				if resp.StatusCode != http.StatusCreated {
					fail(fmt.Sprintf("%s: %.200s", resp.Status, strings.TrimSpace(string(msg))))
					continue
				}
				created++
			}
			perConn[c] = lat
			mu.Lock()
			res.created += created
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	for _, l := range perConn {
		res.latencies = append(res.latencies, l...)
	}
	slices.Sort(res.latencies)
	// Requests that failed before a response count, without a latency.
	res.requests = res.created + res.errors
	return res
}

// noneWaiting asks the API, as the bench user, whether any item still waits
// for its trace.
func noneWaiting(ctx context.Context, base, token string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/items?status=new&limit=1", nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("GET /api/v1/items: %s", resp.Status)
	}
	var page struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return false, fmt.Errorf("GET /api/v1/items: %w", err)
	}
	return len(page.Items) == 0, nil
}

// percentile returns the nearest-rank p-quantile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// ms converts d to milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
