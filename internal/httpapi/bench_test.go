package httpapi_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"alliance/internal/app"
	"alliance/internal/httpapi"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// benchClients is the number of concurrent clients of BenchmarkPostReport,
// as the target (≥ 3,000 reports/s, p99 < 50 ms) names.
const benchClients = 32

// benchRun keeps URLs unique across the benchmark's repeated runs.
var benchRun atomic.Int64

// BenchmarkPostReport measures intake through the HTTP API: 32 clients post
// reports of one URL each, every URL new, with a token, over a real TCP
// connection to an httptest server. It reports throughput (reports/s) and the
// 99th percentile of latency (p99-ms) on SQLite and, when
// ALLIANCE_TEST_POSTGRES is set, on PostgreSQL:
//
//	go test ./internal/httpapi -run '^$' -bench PostReport -benchtime 20000x
func BenchmarkPostReport(b *testing.B) {
	dbs := []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", testutil.NewSQLite}}
	if os.Getenv(testutil.PostgresEnv) != "" {
		dbs = append(dbs, struct {
			name string
			open func(testing.TB) *store.DB
		}{"postgres", testutil.NewPostgres})
	}
	for _, d := range dbs {
		b.Run(d.name, func(b *testing.B) {
			// A fresh database for each run of the function (b.N grows).
			// The token's own limit is far above the target; lift it further
			// so that a fast machine measures intake, not the limiter.
			in := newIntake(b, d.open(b), testHosts, httpapi.Options{}, func(o *app.Options) {
				o.UserReportLimit = app.RateLimit{Events: 1_000_000, Per: time.Second, Burst: 1_000_000}
			})
			srv := httptest.NewServer(in.h)
			b.Cleanup(srv.Close)
			client := &http.Client{Transport: &http.Transport{
				MaxIdleConns:        benchClients,
				MaxIdleConnsPerHost: benchClients,
			}}
			b.Cleanup(client.CloseIdleConnections)
			auth := in.tokens["SE-HOTLINE"]
			run := benchRun.Add(1)

			latencies := make([]time.Duration, b.N)
			var (
				next     atomic.Int64
				failOnce sync.Once
				failure  error
				wg       sync.WaitGroup
			)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for range benchClients {
				wg.Go(func() {
					var body bytes.Buffer
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						body.Reset()
						fmt.Fprintf(&body, `{"urls":["https://www.example.com/bench/%d/%d"],"source":"industry"}`, run, i)
						req, err := http.NewRequestWithContext(b.Context(), http.MethodPost, srv.URL+"/api/v1/reports", bytes.NewReader(body.Bytes()))
						if err != nil {
							failOnce.Do(func() { failure = err })
							return
						}
						req.Header.Set("Content-Type", "application/json")
						req.Header.Set("Authorization", auth)
						t0 := time.Now()
						resp, err := client.Do(req)
						if err == nil {
							_, _ = io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							if resp.StatusCode != http.StatusCreated {
								err = fmt.Errorf("status %d", resp.StatusCode)
							}
						}
						latencies[i] = time.Since(t0)
						if err != nil {
							failOnce.Do(func() { failure = err })
							return
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if failure != nil {
				b.Fatalf("POST report: %v", failure)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "reports/s")
			b.ReportMetric(float64(percentile(latencies, 0.99))/float64(time.Millisecond), "p99-ms")
		})
	}
}

// percentile returns the p-th quantile (0 < p ≤ 1) of ds by the nearest-rank
// method; it sorts ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	rank := int(float64(len(ds))*p+0.999999) - 1
	return ds[min(max(rank, 0), len(ds)-1)]
}
