package recheck

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"alliance/internal/fetch"
)

// BenchmarkCheck re-checks image targets spread over 1000 host names
// (h0..h999.recheck.test, all resolving to one loopback server) with 64
// checks in flight and per-host politeness on: at most 2 requests in
// flight per host and 10 ms between two requests to one host. Each check
// is a HEAD and a GET of a generated PNG; in "sha" the bytes are the
// recorded ones (SHA-256 match), in "pdq" the same pixels re-encoded, so
// every check decodes the image and computes its PDQ hash. The figure is
// checks/s.
func BenchmarkCheck(b *testing.B) {
	b.Run("sha", func(b *testing.B) { benchCheck(b, imgA, ReasonOK) })
	b.Run("pdq", func(b *testing.B) { benchCheck(b, reencoded, ReasonOKPDQ) })
}

func benchCheck(b *testing.B, body []byte, wantReason string) {
	const hosts, workers = 1000, 64
	var requests atomic.Int64
	// The server checks the politeness: requests in flight per host, and
	// the time from the first to the last request to each host.
	var mu sync.Mutex
	inflight, peak := map[string]int{}, 0
	first, last, count := map[string]time.Time{}, map[string]time.Time{}, map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		now := time.Now()
		mu.Lock()
		if _, ok := first[r.Host]; !ok {
			first[r.Host] = now
		}
		last[r.Host] = now
		count[r.Host]++
		inflight[r.Host]++
		peak = max(peak, inflight[r.Host])
		mu.Unlock()
		defer func() {
			mu.Lock()
			inflight[r.Host]--
			mu.Unlock()
		}()
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	ap := netip.MustParseAddrPort(u.Host)
	loop := []netip.Addr{ap.Addr()}
	f := fetch.New(fetch.Options{
		Timeout:         5 * time.Second,
		PerHostInterval: 10 * time.Millisecond,
		MaxPerHost:      2,
		AllowAddrs:      []netip.AddrPort{ap},
		Resolver: func(ctx context.Context, host string) ([]netip.Addr, error) {
			if strings.HasSuffix(host, ".recheck.test") {
				return loop, nil
			}
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		},
	})
	defer f.Close()
	c := New(f, Options{})
	shaA, pdqA := hashesOf(b, imgA)
	targets := make([]Target, hosts)
	for i := range targets {
		item := fmt.Sprintf("http://h%d.recheck.test:%d/item/%d.png", i, ap.Port(), i)
		targets[i] = Target{URL: item, Media: []Medium{{URL: item, SHA256: shaA, PDQ: pdqA}}}
	}
	var next, bad atomic.Int64
	var firstBad atomic.Value
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				if r := c.Check(context.Background(), targets[i%hosts]); r.Outcome != StillUp || r.Reason != wantReason {
					bad.Add(1)
					firstBad.CompareAndSwap(nil, r)
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if n := bad.Load(); n > 0 {
		b.Fatalf("%d of %d checks not still_up/%s, first: %+v", n, b.N, wantReason, firstBad.Load())
	}
	if got := requests.Load(); got != 2*int64(b.N) {
		b.Fatalf("%d requests for %d checks, want a HEAD and a GET each", got, b.N)
	}
	// n requests to one host are released at least n-1 intervals apart;
	// at the server one gap can look shorter (a new connection's dial
	// delays a request's arrival more than a reused one's), so one
	// interval is allowed for that.
	if peak > 2 {
		b.Fatalf("politeness broken: %d requests in flight to one host", peak)
	}
	for h, n := range count {
		if span := last[h].Sub(first[h]); span < time.Duration(n-2)*10*time.Millisecond {
			b.Fatalf("politeness broken: %d requests to %s within %v", n, h, span)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
}
