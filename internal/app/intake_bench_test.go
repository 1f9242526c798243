package app_test

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/testutil"
	"alliance/internal/trace"
)

// BenchmarkSubmitReport measures intake through the use case, without HTTP:
// 32 concurrent submitters, one token, one new URL per report, on each
// database under test. It reports reports/s; ns/op is the time per report
// with all 32 running.
//
//	go test ./internal/app -run '^$' -bench SubmitReport -benchtime 20000x
func BenchmarkSubmitReport(b *testing.B) {
	for _, d := range testutil.DBs(b) {
		// The rate limit is not what is measured.
		a := app.New(app.Options{DB: d.DB, HomeOrg: "SE-HOTLINE",
			UserReportLimit: app.RateLimit{Events: 1 << 30, Per: time.Second, Burst: 1 << 30}})
		u := testutil.CreateUser(b, d.DB, "SE-HOTLINE", "bench@se.example.org", alliance.RoleAnalyst)
		actor := u.Actor()
		actor.TokenID = 1
		ctx := alliance.NewContextWithActor(b.Context(), actor)
		var seq atomic.Int64 // URLs stay new across the benchmark's rounds
		b.Run(d.Name, func(b *testing.B) {
			b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := seq.Add(1)
					in := app.ReportInput{URLs: []string{fmt.Sprintf("http://bench.example.com/%d", n)}, Category: "csam"}
					if _, err := a.SubmitReport(ctx, in); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "reports/s")
		})
	}
}

// BenchmarkTraceBatch measures tracing and routing: batches of 500 items on
// hosts of the hosts file and IP literals, with the bundled IP data. It
// reports items/s; ns/op is per item.
//
//	go test ./internal/app -run '^$' -bench TraceBatch -benchtime 20000x
func BenchmarkTraceBatch(b *testing.B) {
	var round atomic.Int64 // URLs stay new across the benchmark's rounds
	for _, d := range testutil.DBs(b) {
		b.Run(d.Name, func(b *testing.B) {
			a := app.New(app.Options{DB: d.DB, HomeOrg: "SE-HOTLINE", Tracer: newTracer(b, testHosts)})
			run := round.Add(1)
			ctx := alliance.NewContextWithActor(b.Context(), alliance.SystemActor)
			hosts := []string{"se.example.test", "nl.example.test", "ru.example.test", trace.ExampleSE, trace.ExampleNL, "[" + trace.ExampleRU6 + "]"}
			urls := make([]string, 0, alliance.MaxReportURLs)
			for i := 0; i < b.N; i++ {
				urls = append(urls, fmt.Sprintf("http://%s/%d/%d", hosts[i%len(hosts)], run, i))
				if len(urls) == cap(urls) || i == b.N-1 {
					if _, err := a.SubmitReport(ctx, app.ReportInput{URLs: urls}); err != nil {
						b.Fatal(err)
					}
					urls = urls[:0]
				}
			}
			b.ResetTimer()
			start := time.Now()
			for done := 0; done < b.N; {
				n, err := a.TraceBatch(ctx, 500)
				if err != nil {
					b.Fatal(err)
				}
				if n == 0 {
					b.Fatalf("traced %d of %d", done, b.N)
				}
				done += n
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "items/s")
		})
	}
}
