package pdqindex

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"alliance/pdq"
)

// Benchmarks at 1M entries; PDQINDEX_BENCH_N=10000000 adds that size
// (about 2 GB of memory while building).
//
//	go test -run '^$' -bench 'Query|HashSet|Add' -benchtime 2000x ./pdqindex
//	go test -run '^$' -bench Build -benchtime 5x ./pdqindex
//	PDQINDEX_BENCH_N=10000000 go test -run '^$' -bench Query -benchtime 2000x ./pdqindex
//
// PDQINDEX_BENCH_REPORT=N makes TestBenchReport print Bench(N, 2000, 31, 1),
// the figures in docs/benchmarks.md.

func benchSizes() []int {
	sizes := []int{1_000_000}
	if s := os.Getenv("PDQINDEX_BENCH_N"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			panic("PDQINDEX_BENCH_N: want a positive number of entries, got " + s)
		}
		sizes = append(sizes, n)
	}
	return sizes
}

func benchData(n int) ([]pdq.Hash, []pdq.Hash) {
	r := rand.New(rand.NewPCG(1, uint64(n)))
	data := clustered(r, n, 0.1, 20, 40)
	return data, queriesFor(r, data, 4096)
}

func BenchmarkQuery(b *testing.B) {
	for _, n := range benchSizes() {
		data, qs := benchData(n)
		x := Build(entriesOf(data, 0))
		data = nil
		for _, th := range []int{0, 16, 31} {
			b.Run(fmt.Sprintf("n=%d/t=%d", n, th), func(b *testing.B) {
				var dst []Match
				i := 0
				for b.Loop() {
					dst, _ = x.AppendQuery(dst[:0], qs[i%len(qs)], th)
					i++
				}
			})
		}
	}
}

func BenchmarkBuild(b *testing.B) {
	for _, n := range benchSizes() {
		data, _ := benchData(n)
		es := entriesOf(data, 0)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for b.Loop() {
				Build(es)
			}
		})
	}
}

func TestBenchReport(t *testing.T) {
	n := 20000
	if s := os.Getenv("PDQINDEX_BENCH_REPORT"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := Bench(n, 2000, 31, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", rep)
	if rep.Recall != 1 || rep.Extra != 0 || rep.Matches == 0 {
		t.Fatalf("recall %v, %d extra, %d matches: want exact answers", rep.Recall, rep.Extra, rep.Matches)
	}
	if _, err := Bench(10, 1, 32, 1); err == nil {
		t.Fatal("threshold 32 accepted")
	}
}

func BenchmarkHashSetLookup(b *testing.B) {
	for _, n := range benchSizes() {
		r := rand.New(rand.NewPCG(2, uint64(n)))
		hs := make([][]byte, n)
		for i := range hs {
			hs[i] = randomBytes(r, SHA256Size)
		}
		start := time.Now()
		s, err := BuildHashSet(SHA256Size, n, func(yield func(uint64, []byte) bool) {
			for i, h := range hs {
				if !yield(uint64(i), h) {
					return
				}
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("n=%d: built in %v, %.1f bytes/entry", n, time.Since(start), float64(s.Stats().Bytes)/float64(n))
		misses := make([][]byte, 4096)
		for i := range misses {
			misses[i] = randomBytes(r, SHA256Size)
		}
		for _, tc := range []struct {
			name string
			keys [][]byte
		}{{"hit", hs}, {"miss", misses}} {
			b.Run(fmt.Sprintf("n=%d/%s", n, tc.name), func(b *testing.B) {
				var dst []uint64
				i := 0
				for b.Loop() {
					dst, _ = s.AppendLookup(dst[:0], tc.keys[(i*7919)%len(tc.keys)])
					i++
				}
			})
		}
	}
}

func BenchmarkAdd(b *testing.B) {
	data, _ := benchData(1_000_000)
	x := Build(entriesOf(data, 0))
	r := rand.New(rand.NewPCG(3, 3))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		x.Add(uint64(2_000_000+i), randomHash(r))
	}
	b.StopTimer()
	x.Wait()
}
