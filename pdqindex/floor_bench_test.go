package pdqindex

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// benchSink keeps the benchmarks' loads from being optimised away.
var benchSink atomic.Uint64

// The two benchmarks here explain the query figures rather than make
// them: how many distinct cache lines a query touches at random (its
// footprint, by level), and how fast this machine serves random lines
// from a mapping of an index's size (with the index's huge pages). Their
// product is the floor a query's time cannot go below however well its
// loads overlap.
//
//	PDQINDEX_BENCH_N=10000000 go test -run '^$' -bench 'Footprint|RandomLines' ./pdqindex

// BenchmarkQueryFootprint reports, per query at threshold 31, the bucket
// probes and the distinct 64-byte lines a query reads at random:
// directory lines, postings lines, and hashes (table 0's buckets, which
// are runs of hashes, and the other tables' candidates).
func BenchmarkQueryFootprint(b *testing.B) {
	for _, n := range benchSizes() {
		data, qs := benchData(n)
		keys := make([]key, n)
		ids := make([]uint64, n)
		for i, h := range data {
			keys[i], ids[i] = key(h), uint64(i)
		}
		seg := buildPDQ(ids, keys)
		data, keys, ids = nil, nil, nil
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			var probes, dirLines, postLines, hashLines, queries float64
			i := 0
			for b.Loop() {
				p, d, pl, h := footprint(seg, qs[i%len(qs)])
				probes, dirLines, postLines, hashLines = probes+p, dirLines+d, postLines+pl, hashLines+h
				queries++
				i++
			}
			b.ReportMetric(probes/queries, "probes/op")
			b.ReportMetric(dirLines/queries, "dir-lines/op")
			b.ReportMetric(postLines/queries, "postings-lines/op")
			b.ReportMetric(hashLines/queries, "hash-lines/op")
			b.ReportMetric((dirLines+postLines+hashLines)/queries, "lines/op")
		})
	}
}

// footprint runs one query at threshold 31 table by table and counts what
// it touches.
func footprint(seg *pdqSegment, q [32]byte) (probes, dirLines, postLines, hashLines float64) {
	s := getSearcher(q, 31, nil, noTombs)
	defer putSearcher(s)
	s.seg, s.radii = seg, seg.lay.radii[31]
	for k, c := range seg.lay.chunks {
		if s.radii[k] < 0 {
			continue
		}
		s.qc[k] = chunkAt(&s.qk, c.start, c.bits)
		st := &s.stages[0]
		s.probe(st, k)
		s.lookup(st)
		probes += float64(len(st.buckets))
		dl, pl := map[uint64]bool{}, map[uint]bool{}
		for i, bk := range st.buckets {
			dl[bk/dirSpan] = true
			if st.ends[i] == st.starts[i] {
				continue
			}
			if k == 0 { // runs of hashes, two to a line
				for p := uint(st.starts[i]) / 2; p <= uint(st.ends[i]-1)/2; p++ {
					pl[p] = true
				}
				continue
			}
			w := seg.tables[k].post.width
			for l := uint(st.starts[i]) * w / 512; l <= (uint(st.ends[i])*w-1)/512; l++ {
				pl[l] = true
			}
		}
		dirLines += float64(len(dl))
		if k == 0 {
			hashLines += float64(len(pl))
		} else {
			postLines += float64(len(pl))
		}
		s.scan(st)
		hashLines += float64(len(st.cands)) // a hash is half a line: each candidate is a line of its own
	}
	return probes, dirLines, postLines, hashLines
}

// BenchmarkRandomLines measures how fast this machine serves 64-byte lines
// at random from a mapping the size of a 10M index (720 MB, huge pages
// where the index gets them): "batch" issues 256 independent loads at a
// time, as a query's stages do, and reports ns per line (the throughput
// its memory-level parallelism allows); "chain" makes each load depend on
// the last and reports the latency of one.
func BenchmarkRandomLines(b *testing.B) {
	const size = 720 << 20
	m := &bigMem{}
	lines := makeBig[[8]uint64](m, size/64)
	defer m.free()
	r := rand.New(rand.NewPCG(3, 3))
	for i := range lines {
		lines[i][0] = uint64(i)
	}
	b.Run("batch=256", func(b *testing.B) {
		// The indexes are read in order, which the prefetchers hide.
		idx := make([]uint32, 1<<20)
		for i := range idx {
			idx[i] = uint32(r.IntN(len(lines)))
		}
		var sum uint64
		off := 0
		for b.Loop() {
			for _, x := range idx[off : off+256] {
				sum += lines[x][0]
			}
			off = (off + 256) % len(idx)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*256), "ns/line")
		benchSink.Add(sum)
	})
	b.Run("chain", func(b *testing.B) {
		// A random cycle through 2^20 lines.
		perm := r.Perm(len(lines))[:1<<20]
		for i, x := range perm {
			lines[x][0] = uint64(perm[(i+1)%len(perm)])
		}
		p := uint64(perm[0])
		for b.Loop() {
			p = lines[p][0]
		}
		benchSink.Add(p)
	})
}
