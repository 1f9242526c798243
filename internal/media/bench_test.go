package media

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"alliance/internal/fetch"
)

// BenchmarkCollect measures items per second end to end for image items
// on a local site: fetch over loopback HTTP, sniff, exact hashes and PDQ.
// Each item URL is distinct (the site serves the same small generated PNG
// under every path), about 32 run at once, and politeness is off for the
// test host.
func BenchmarkCollect(b *testing.B) {
	png := encodePNG(b, genImage(128, 96, 7))
	s := newSite(b)
	s.serve("/img/", "image/png", png)
	f := newFetcher(b, fetch.Options{AllowPrivate: true})
	c := NewCollector(f, Options{})
	var n atomic.Int64
	b.SetBytes(int64(len(png)))
	// RunParallel starts parallelism × GOMAXPROCS goroutines: about 32.
	b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := c.Collect(b.Context(), fmt.Sprintf("%s/img/%d.png", s.URL, n.Add(1)))
			if r.Outcome != OutcomeFetched || len(r.Media) != 1 || r.Media[0].PDQ == "" {
				b.Errorf("item: %+v", r)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkCollectPage measures a page of 10 images, fetched 4 at a time.
func BenchmarkCollectPage(b *testing.B) {
	png := encodePNG(b, genImage(128, 96, 8))
	s := newSite(b)
	s.serve("/img/", "image/png", png)
	page := "<html><body>"
	for i := range 10 {
		page += fmt.Sprintf(`<img src="/img/%d.png">`, i)
	}
	s.serve("/page", "text/html", []byte(page))
	c := NewCollector(newFetcher(b, fetch.Options{AllowPrivate: true}), Options{})
	b.ResetTimer()
	for b.Loop() {
		r := c.Collect(b.Context(), s.URL+"/page")
		if len(r.Media) != 10 || r.Media[9].Status != MediumHashed {
			b.Fatalf("page: %+v", r)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
}
