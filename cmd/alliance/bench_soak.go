package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"alliance"
	"alliance/internal/app"
)

const benchSoakSynopsis = "bench soak [--db DSN] [--duration D] [--rate R] [--lookups R] [--queue-reads R] [--sample D] [--json] [--cpuprofile FILE]"

// Bounds on a soak.
const (
	soakMaxDuration = 24 * time.Hour
	soakMaxRate     = 100_000
	// soakMaxInFlight caps the requests of one kind waiting for an answer:
	// an open-loop generator must not pile up goroutines when the node
	// falls behind, or the soak would measure itself.
	soakMaxInFlight = 512
	soakMaxEntries  = 10_000_000
)

// randomEntries is an app.EntrySource of n random PDQ entries.
type randomEntries struct{ left int }

func (r *randomEntries) Next() (alliance.HashEntry, error) {
	if r.left == 0 {
		return alliance.HashEntry{}, io.EOF
	}
	r.left--
	v := make([]byte, 32)
	for i := range v {
		v[i] = byte(rand.Uint32())
	}
	return alliance.HashEntry{Algorithm: alliance.HashPDQ, Value: v, Source: "bench soak (random)"}, nil
}

// seedSoakBank fills a bank of the home hotline, which the bench user
// belongs to, with n random PDQ entries for the lookups to search.
func seedSoakBank(ctx context.Context, a *app.App, n int) error {
	if n == 0 {
		return nil
	}
	ctx = alliance.NewContextWithActor(ctx, alliance.Actor{System: true, OrgCode: a.HomeOrg()})
	b, err := a.CreateBank(ctx, app.BankInput{Name: "soak", Description: "bench soak: random PDQ hashes"})
	if err != nil {
		return err
	}
	_, err = a.ImportEntries(ctx, b.OwnerOrg+"/"+b.Name, &randomEntries{left: n}, nil)
	return err
}

// soakKind is one kind of traffic of a soak, at a set rate.
type soakKind struct {
	Name      string  `json:"name"`
	Rate      float64 `json:"rate_per_s"`
	Sent      int64   `json:"sent"`
	OK        int64   `json:"ok"`
	Errors    int64   `json:"errors"`
	Skipped   int64   `json:"skipped"` // not sent: soakMaxInFlight waiting
	LatencyMS struct {
		P50 float64 `json:"p50"`
		P90 float64 `json:"p90"`
		P99 float64 `json:"p99"`
		Max float64 `json:"max"`
	} `json:"latency_ms"`
	// P99Halves is the p99 of the first and the second half of the soak:
	// latency, like memory, must not creep up under constant load.
	P99Halves [2]float64 `json:"p99_ms_halves"`
	Samples   []string   `json:"error_samples,omitempty"`

	mu       sync.Mutex // guards Samples
	all      latencyHist
	halves   [2]latencyHist
	inFlight atomic.Int64
}

// soakSample is the node's state at one moment of a soak.
type soakSample struct {
	AtSeconds  float64 `json:"at_s"`
	HeapMB     float64 `json:"heap_mb"` // live heap after the last GC
	SysMB      float64 `json:"sys_mb"`  // memory obtained from the OS
	Goroutines int     `json:"goroutines"`
	DBInUse    int     `json:"db_in_use"` // pool connections in use
	Requests   int64   `json:"requests"`  // sent so far, all kinds
}

// soakResult is what a soak measured; --json prints it.
type soakResult struct {
	Database  string        `json:"database"`
	CPUs      int           `json:"cpus"`
	GoVersion string        `json:"go_version"`
	Seconds   float64       `json:"seconds"`
	Kinds     []*soakKind   `json:"kinds"`
	Samples   []soakSample  `json:"samples"`
	Flat      soakFlatCheck `json:"flat"`
}

// soakFlatCheck compares the second half of the soak with the first:
// memory and goroutines must not grow with time under constant load.
type soakFlatCheck struct {
	HeapFirstMB, HeapSecondMB float64 // medians of the halves
	GoroutinesFirst           int
	GoroutinesSecond          int
	OK                        bool
	Why                       string `json:",omitempty"`
}

// benchSoak drives mixed traffic at set rates against an in-process node
// for a duration: reports (intake), hash lookups and queue reads, sampling
// memory, goroutines and the database pool as it goes.
func (m *Main) benchSoak(ctx context.Context, args []string) error {
	fs := m.flagSet("bench soak", benchSoakSynopsis)
	dsn := fs.String("db", "", "database to run on: empty for a fresh temporary SQLite file; another must be empty unless --force")
	force := fs.Bool("force", false, "run on a database that already has a schema")
	duration := fs.Duration("duration", time.Minute, fmt.Sprintf("how long to drive traffic, at most %v", soakMaxDuration))
	rate := fs.Float64("rate", 200, "reports per second (one URL each)")
	lookups := fs.Float64("lookups", 200, "hash lookups (POST /api/v1/match) per second")
	queue := fs.Float64("queue-reads", 20, "queue reads (GET /api/v1/queue) per second")
	every := fs.Duration("sample", 10*time.Second, "how often to sample memory and goroutines")
	entries := fs.Int("bank-entries", 100_000, fmt.Sprintf("random PDQ entries in a bank the lookups search (0 to %d)", soakMaxEntries))
	asJSON := fs.Bool("json", false, "print the figures as JSON")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the soak (node and load generator) to this file, for go tool pprof")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	switch {
	case *duration <= 0 || *duration > soakMaxDuration:
		return fmt.Errorf("--duration %v: want more than 0 and at most %v", *duration, soakMaxDuration)
	case *every < time.Second || *every > *duration:
		return fmt.Errorf("--sample %v: want 1s to --duration", *every)
	}
	if *entries < 0 || *entries > soakMaxEntries {
		return fmt.Errorf("--bank-entries %d: want 0 to %d", *entries, soakMaxEntries)
	}
	for name, r := range map[string]float64{"rate": *rate, "lookups": *lookups, "queue-reads": *queue} {
		if r < 0 || r > soakMaxRate {
			return fmt.Errorf("--%s %v: want 0 to %d per second", name, r, soakMaxRate)
		}
	}
	bn, err := m.startBenchNode(ctx, *dsn, *force, node{}, func(ctx context.Context, a *app.App) error {
		return seedSoakBank(ctx, a, *entries)
	})
	if err != nil {
		return err
	}
	defer bn.close()

	transport := &http.Transport{Proxy: nil, MaxIdleConns: 3 * soakMaxInFlight, MaxIdleConnsPerHost: 3 * soakMaxInFlight,
		DisableCompression: true, IdleConnTimeout: time.Minute}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	var seq atomic.Int64
	kinds := []*soakKind{
		{Name: "intake", Rate: *rate},
		{Name: "lookup", Rate: *lookups},
		{Name: "queue", Rate: *queue},
	}
	requests := map[string]func() (*http.Request, int){
		"intake": func() (*http.Request, int) {
			k := seq.Add(1)
			body := fmt.Sprintf(`{"urls":["https://h%d.bench.example.test/soak/%s/%d"]}`, k%benchHostCount, bn.runID, k)
			req, _ := http.NewRequestWithContext(bn.ctx, http.MethodPost, bn.base+"/api/v1/reports", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			return req, http.StatusCreated
		},
		"lookup": func() (*http.Request, int) {
			var h [32]byte
			for i := range h {
				h[i] = byte(rand.Uint32())
			}
			body := fmt.Sprintf(`{"hashes":[{"algorithm":"pdq","value":"%s","threshold":31}]}`, hex.EncodeToString(h[:]))
			req, _ := http.NewRequestWithContext(bn.ctx, http.MethodPost, bn.base+"/api/v1/match", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			return req, http.StatusOK
		},
		"queue": func() (*http.Request, int) {
			req, _ := http.NewRequestWithContext(bn.ctx, http.MethodGet, bn.base+"/api/v1/queue?limit=50", nil)
			return req, http.StatusOK
		},
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	end := start.Add(*duration)
	var wg sync.WaitGroup
	for _, k := range kinds {
		if k.Rate == 0 {
			continue
		}
		wg.Go(func() { m.soakDrive(bn, client, k, requests[k.Name], start, end, &wg) })
	}
	res := soakResult{Database: string(bn.db.Dialect()), CPUs: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(), Kinds: kinds}
	sample := func() {
		runtime.GC() // the live heap, not what garbage happens to be waiting
		var mem runtime.MemStats
		runtime.ReadMemStats(&mem)
		var sent int64
		for _, k := range kinds {
			sent += atomic.LoadInt64(&k.Sent)
		}
		s := soakSample{AtSeconds: time.Since(start).Seconds(), HeapMB: float64(mem.HeapAlloc) / (1 << 20),
			SysMB: float64(mem.Sys) / (1 << 20), Goroutines: runtime.NumGoroutine(), DBInUse: bn.db.SQL().Stats().InUse, Requests: sent}
		res.Samples = append(res.Samples, s)
		if !*asJSON {
			fmt.Fprintf(m.Stderr, "%6.0fs  heap %6.1f MB  sys %6.1f MB  goroutines %5d  db in use %3d  requests %d\n",
				s.AtSeconds, s.HeapMB, s.SysMB, s.Goroutines, s.DBInUse, s.Requests)
		}
	}
	ticker := time.NewTicker(*every)
	for running := true; running; {
		select {
		case <-ticker.C:
			sample()
			running = time.Now().Before(end)
		case err := <-bn.done:
			ticker.Stop()
			return fmt.Errorf("the node stopped during the soak: %v", err)
		}
	}
	ticker.Stop()
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	if err := bn.stop(); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	for _, k := range kinds {
		k.LatencyMS.P50, k.LatencyMS.P90 = ms(k.all.quantile(0.5)), ms(k.all.quantile(0.9))
		k.LatencyMS.P99, k.LatencyMS.Max = ms(k.all.quantile(0.99)), ms(k.all.quantile(1))
		k.P99Halves = [2]float64{ms(k.halves[0].quantile(0.99)), ms(k.halves[1].quantile(0.99))}
	}
	res.Flat = flatCheck(res.Samples)
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		m.printSoak(res)
	}
	var errs int64
	for _, k := range kinds {
		errs += k.Errors
	}
	switch {
	case errs > 0:
		return fmt.Errorf("%d requests failed", errs)
	case !res.Flat.OK:
		return fmt.Errorf("not flat: %s", res.Flat.Why)
	}
	return nil
}

// soakDrive sends k's requests at its rate until end, open loop: a request
// is due every 1/rate whatever the answers' latency, so a slow node shows
// as latency and skipped requests, not as a lower rate.
func (m *Main) soakDrive(bn *benchNode, client *http.Client, k *soakKind, next func() (*http.Request, int), start, end time.Time, wg *sync.WaitGroup) {
	interval := time.Duration(float64(time.Second) / k.Rate)
	due := time.Now()
	for bn.ctx.Err() == nil && due.Before(end) {
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		due = due.Add(interval)
		if k.inFlight.Load() >= soakMaxInFlight {
			atomic.AddInt64(&k.Skipped, 1)
			continue
		}
		k.inFlight.Add(1)
		atomic.AddInt64(&k.Sent, 1)
		wg.Go(func() {
			defer k.inFlight.Add(-1)
			req, want := next()
			req.Header.Set("Authorization", "Bearer "+bn.token)
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				k.fail(err.Error())
				return
			}
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			lat := time.Since(t0)
			k.all.add(lat)
			k.halves[min(int(2*t0.Sub(start)/end.Sub(start)), 1)].add(lat)
			if resp.StatusCode != want {
				k.fail(fmt.Sprintf("%s: %.200s", resp.Status, strings.TrimSpace(string(msg))))
				return
			}
			atomic.AddInt64(&k.OK, 1)
		})
	}
}

// fail counts a failed request and keeps a few distinct messages.
func (k *soakKind) fail(msg string) {
	atomic.AddInt64(&k.Errors, 1)
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.Samples) < 5 && !slices.Contains(k.Samples, msg) {
		k.Samples = append(k.Samples, msg)
	}
}

// flatCheck compares the medians of the first and second halves of the
// samples (the first sample left out as warm-up): the live heap may grow
// by at most 50% plus 16 MB (caches filling), goroutines by at most 50
// plus 25%.
func flatCheck(samples []soakSample) soakFlatCheck {
	if len(samples) < 3 {
		return soakFlatCheck{OK: true, Why: "too few samples to judge"}
	}
	s := samples[1:]
	half := len(s) / 2
	median := func(xs []float64) float64 {
		slices.Sort(xs)
		return xs[len(xs)/2]
	}
	heap := func(ss []soakSample) float64 {
		var xs []float64
		for _, x := range ss {
			xs = append(xs, x.HeapMB)
		}
		return median(xs)
	}
	gor := func(ss []soakSample) int {
		var xs []float64
		for _, x := range ss {
			xs = append(xs, float64(x.Goroutines))
		}
		return int(median(xs))
	}
	f := soakFlatCheck{HeapFirstMB: heap(s[:half]), HeapSecondMB: heap(s[half:]), GoroutinesFirst: gor(s[:half]), GoroutinesSecond: gor(s[half:]), OK: true}
	if f.HeapSecondMB > f.HeapFirstMB*1.5+16 {
		f.OK, f.Why = false, fmt.Sprintf("live heap grew from %.1f MB to %.1f MB", f.HeapFirstMB, f.HeapSecondMB)
	}
	if float64(f.GoroutinesSecond) > float64(f.GoroutinesFirst)*1.25+50 {
		f.OK, f.Why = false, strings.TrimPrefix(f.Why+fmt.Sprintf("; goroutines grew from %d to %d", f.GoroutinesFirst, f.GoroutinesSecond), "; ")
	}
	return f
}

// printSoak prints a soak's figures for a person.
func (m *Main) printSoak(res soakResult) {
	w := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(m.Stdout, "\nsoak: %s, %d CPUs, %s, %.0f s\n\n", res.Database, res.CPUs, res.GoVersion, res.Seconds)
	fmt.Fprintf(w, "kind\trate/s\tsent\tok\terrors\tskipped\tp50 ms\tp90 ms\tp99 ms\tmax ms\tp99 1st/2nd half\t\n")
	for _, k := range res.Kinds {
		fmt.Fprintf(w, "%s\t%.0f\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f / %.1f\t\n", k.Name, k.Rate, k.Sent, k.OK, k.Errors, k.Skipped,
			k.LatencyMS.P50, k.LatencyMS.P90, k.LatencyMS.P99, k.LatencyMS.Max, k.P99Halves[0], k.P99Halves[1])
	}
	w.Flush()
	for _, k := range res.Kinds {
		for _, s := range k.Samples {
			fmt.Fprintf(m.Stdout, "  %s error: %s\n", k.Name, s)
		}
	}
	verdict := "flat"
	if !res.Flat.OK {
		verdict = "NOT flat: " + res.Flat.Why
	}
	fmt.Fprintf(m.Stdout, "\nlive heap (median) %.1f MB → %.1f MB, goroutines %d → %d (first half → second half): %s\n",
		res.Flat.HeapFirstMB, res.Flat.HeapSecondMB, res.Flat.GoroutinesFirst, res.Flat.GoroutinesSecond, verdict)
}
