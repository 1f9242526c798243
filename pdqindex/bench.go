package pdqindex

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"alliance/pdq"
)

// Report is what Bench measured.
type Report struct {
	N         int // entries indexed
	Queries   int // queries timed
	Threshold int

	Build time.Duration // bulk build, all cores
	// HeapBytes is the memory the index holds once built: the Go heap in
	// use after a collection, less what the generated input held, plus
	// the large arrays mapped outside the heap (see bigMem).
	HeapBytes     uint64
	BytesPerEntry float64
	Layout        string

	// Latencies of single queries on one goroutine.
	P50, P99, Max time.Duration
	QPS           float64 // queries per second on one goroutine
	Matches       int     // total matches over the timed queries

	// Recall against brute force on the first RecallQueries queries: the
	// share of brute-force matches the index returned, and whether it
	// returned anything brute force did not (Extra).
	RecallQueries int
	Recall        float64
	Extra         int
}

// String formats the report as the lines `alliance bench match` prints.
func (r Report) String() string {
	return fmt.Sprintf("entries      %d (%s)\n"+
		"build        %v\n"+
		"memory       %.1f MiB (%.1f bytes/entry; raw hashes %.1f MiB)\n"+
		"queries      %d at threshold %d, one goroutine: p50 %v, p99 %v, max %v, %.0f/s, %d matches\n"+
		"recall       %.4f on %d queries against brute force, %d extra",
		r.N, r.Layout, r.Build.Round(time.Millisecond),
		float64(r.HeapBytes)/(1<<20), r.BytesPerEntry, float64(32*r.N)/(1<<20),
		r.Queries, r.Threshold, r.P50.Round(100*time.Nanosecond), r.P99.Round(100*time.Nanosecond),
		r.Max.Round(time.Microsecond), r.QPS, r.Matches,
		r.Recall, r.RecallQueries, r.Extra)
}

// Bench builds an index of n generated hashes (90% random, 10% in
// clusters of up to 20 near-duplicates 0..40 bits from a centre), times
// queries (a third near an entry, a third 8..31 bits from one, a third
// random) at threshold, and checks recall against brute force on a sample
// of them. Everything is generated from seed. It is what `alliance bench
// match` runs.
//
// Memory: the input (32 bytes an entry), the index and, while building,
// transient arrays of about the index's size are live together; n = 100M
// needs about 12 GB.
func Bench(n, queries, threshold int, seed uint64) (Report, error) {
	if n < 0 || queries < 1 {
		return Report{}, fmt.Errorf("pdqindex: bench: want n ≥ 0 and queries ≥ 1, got %d and %d", n, queries)
	}
	if threshold < 0 || threshold > MaxThreshold {
		return Report{}, fmt.Errorf("%w: %d, want 0..%d", ErrThreshold, threshold, MaxThreshold)
	}
	rep := Report{N: n, Queries: queries, Threshold: threshold}
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	data := clustered(r, n, 0.1, 20, 40)
	qs := queriesFor(r, data, queries)

	before := heapInUse()
	start := time.Now()
	x := BuildSeq(n, func(yield func(uint64, pdq.Hash) bool) {
		for i := range data {
			if !yield(uint64(i), data[i]) {
				return
			}
		}
	})
	rep.Build = time.Since(start)
	rep.HeapBytes = heapInUse() - before
	if n > 0 {
		rep.BytesPerEntry = float64(rep.HeapBytes) / float64(n)
	}
	rep.Layout = x.Stats().Layout

	// Warm up, then time each query on this goroutine.
	var dst []Match
	for _, q := range qs[:min(len(qs), 100)] {
		dst, _ = x.AppendQuery(dst[:0], q, threshold)
	}
	lat := make([]time.Duration, len(qs))
	found := make([][]Match, len(qs))
	recallQueries := min(len(qs), max(10, int(2e9/float64(max(n, 1)))))
	total := time.Now()
	for i, q := range qs {
		t0 := time.Now()
		var err error
		dst, err = x.AppendQuery(dst[:0], q, threshold)
		lat[i] = time.Since(t0)
		if err != nil {
			return rep, err
		}
		rep.Matches += len(dst)
		if i < recallQueries {
			found[i] = slices.Clone(dst)
		}
	}
	rep.QPS = float64(len(qs)) / time.Since(total).Seconds()
	slices.Sort(lat)
	rep.P50, rep.P99, rep.Max = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]

	// Brute force on all cores, since it is the slow part.
	rep.RecallQueries = recallQueries
	want, got := 0, 0
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				truth := map[uint64]int{}
				for id, h := range data {
					if d := h.Distance(qs[i]); d <= threshold {
						truth[uint64(id)] = d
					}
				}
				hit, extra := 0, 0
				for _, m := range found[i] {
					if d, ok := truth[m.ID]; ok && d == m.Distance {
						hit++
					} else {
						extra++
					}
				}
				mu.Lock()
				want += len(truth)
				got += hit
				rep.Extra += extra
				mu.Unlock()
			}
		})
	}
	for i := range recallQueries {
		next <- i
	}
	close(next)
	wg.Wait()
	rep.Recall = 1
	if want > 0 {
		rep.Recall = float64(got) / float64(want)
	}
	runtime.KeepAlive(x)
	return rep, nil
}

// heapInUse is the live heap after a full collection, plus the arrays
// mapped outside it.
func heapInUse() uint64 {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc + uint64(mappedBytes.Load())
}
