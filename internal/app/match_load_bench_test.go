package app_test

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"alliance/internal/app"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// BenchmarkMatcherLoad measures how long a Matcher takes to load N active
// PDQ entries from each database under test (N from ALLIANCE_BENCH_MATCH_N,
// default 100,000), and the heap it holds afterwards. The entries are
// written with one INSERT … SELECT per million rows, bypassing the import,
// so that filling 10M rows takes minutes, not hours.
//
//	ALLIANCE_BENCH_MATCH_N=10000000 go test ./internal/app -run '^$' -bench MatcherLoad -benchtime 1x -timeout 60m
func BenchmarkMatcherLoad(b *testing.B) {
	n := 100_000
	if s := os.Getenv("ALLIANCE_BENCH_MATCH_N"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatalf("ALLIANCE_BENCH_MATCH_N: %v", err)
		}
	}
	for _, d := range testutil.DBs(b) {
		b.Run(fmt.Sprintf("%s/n=%d", d.Name, n), func(b *testing.B) {
			start := time.Now()
			fillPDQEntries(b, d.DB, n)
			b.Logf("filled %d entries in %v", n, time.Since(start).Round(time.Millisecond))
			a := app.New(app.Options{DB: d.DB, HomeOrg: "SE-HOTLINE"})
			var before runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			b.ResetTimer()
			for range b.N {
				if err := a.Matcher().Load(b.Context()); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			var after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&after)
			runtime.KeepAlive(a)
			b.ReportMetric((float64(after.HeapInuse)-float64(before.HeapInuse))/(1<<20), "heap-MiB")
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// fillPDQEntries adds n active PDQ entries with pseudo-random values to one
// new bank of SE-HOTLINE.
func fillPDQEntries(b *testing.B, db *store.DB, n int) {
	b.Helper()
	ctx := b.Context()
	const ts = "2026-01-01T00:00:00Z"
	sqlDB := db.SQL()
	if _, err := sqlDB.ExecContext(ctx, `INSERT INTO banks (name, owner_org_id, created_at)
		VALUES ('bench', (SELECT id FROM organisations WHERE code = 'SE-HOTLINE'), '`+ts+`')`); err != nil {
		b.Fatal(err)
	}
	const chunk = 1_000_000
	for lo := 0; lo < n; lo += chunk {
		hi := min(n, lo+chunk)
		var q string
		if db.Dialect() == store.Postgres {
			// md5 of two counters: 32 distinct bytes per row.
			q = fmt.Sprintf(`INSERT INTO bank_entries (bank_id, algorithm, value, first_seen, last_seen)
				SELECT (SELECT id FROM banks WHERE name = 'bench'), 'pdq',
					decode(md5(i::text) || md5((-i)::text), 'hex'), '%[1]s', '%[1]s'
				FROM generate_series(%[2]d, %[3]d) AS i`, ts, lo+1, hi)
		} else {
			q = fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT %[2]d UNION ALL SELECT i + 1 FROM s WHERE i < %[3]d)
				INSERT INTO bank_entries (bank_id, algorithm, value, first_seen, last_seen)
				SELECT (SELECT id FROM banks WHERE name = 'bench'), 'pdq', randomblob(32), '%[1]s', '%[1]s' FROM s`, ts, lo+1, hi)
		}
		if _, err := sqlDB.ExecContext(ctx, q); err != nil {
			b.Fatalf("fill %d..%d: %v", lo, hi, err)
		}
	}
}
