package pdqindex

import (
	"fmt"
	"math"
	"math/bits"
	"strings"
	"sync"
)

// MaxThreshold is the largest distance a query may ask for. PDQ's usual
// match threshold is 31 (of 256 bits); beyond it near-duplicate search
// stops being selective and the index degrades towards a scan.
const MaxThreshold = 31

// chunk is one slice of the hash that a table indexes: bits
// [start, start+bits). The table's buckets are the chunk's high bits-lo
// bits; each posting keeps the low lo bits, so a bucket scan filters on
// the whole chunk before touching any hash.
type chunk struct {
	start, bits, lo uint
}

func (c chunk) hi() uint { return c.bits - c.lo }

// layout is how a segment is indexed: by chunks (multi-index hashing) or,
// when small, not at all (flat scan). radii[t][k] is the search radius in
// chunk k for a query at threshold t, -1 where chunk k is not probed.
//
// Why radii work: if every probed chunk k differs from the query in more
// than radii[t][k] bits, the whole hash differs in at least
// Σ(radii[t][k]+1) bits, which the greedy allocation makes t+1. So any
// entry within t has some probed chunk within its radius (the pigeonhole
// principle of Norouzi et al., with unequal radii).
type layout struct {
	flat   bool
	chunks []chunk
	radii  [MaxThreshold + 1][]int8
	cost   float64 // estimated ns per query at MaxThreshold
}

// Cost model constants, in nanoseconds, fitted on the 2-core AMD EPYC
// this was written on: a directory probe is a cache miss, a posting scan
// a few instructions on a line already fetched, a candidate a cache miss
// on its hash, a flat scan a streaming read of 32 bytes.
const (
	costProbe = 40.0
	costScan  = 2.0
	costCand  = 22.0
	costFlat  = 1.5
	// bucketTarget is the mean number of entries per bucket the directory
	// aims at: fewer buckets save memory and probes, more save scanning.
	bucketTarget = 2
	maxLo        = 24
	maxChunks    = 40
)

var bucketTargetVar = float64(bucketTarget)

// tableChunks overrides the number of chunks chosen by the cost model when
// non-zero; for experiments and tests.
var tableChunks = 0

// chooseLayout picks the layout with the lowest estimated query time at
// MaxThreshold for a segment of n entries. Layouts are computed for n
// rounded to a quarter power of two and kept, since every sealed buffer
// and merge asks.
func chooseLayout(n int) *layout {
	q := 0
	if n > 1 {
		q = int(math.Round(4 * math.Log2(float64(n))))
	}
	k := layoutKey{q, tableChunks, bucketTargetVar}
	if l, ok := layouts.Load(k); ok {
		return l.(*layout)
	}
	l := computeLayout(int(math.Round(math.Exp2(float64(q) / 4))))
	if n <= 1 {
		l = &layout{flat: true}
	}
	layouts.Store(k, l)
	return l
}

type layoutKey struct {
	q, chunks int
	target    float64
}

var layouts sync.Map // layoutKey → *layout

func computeLayout(n int) *layout {
	best := &layout{flat: true, cost: costFlat * float64(n)}
	for m := 1; m <= maxChunks; m++ {
		if tableChunks != 0 && m != tableChunks {
			continue
		}
		l := chunkLayout(n, m)
		if l != nil && (l.cost < best.cost || tableChunks != 0) {
			best = l
		}
	}
	if best.flat {
		return best
	}
	for t := range best.radii {
		best.radii[t] = allocate(n, best.chunks, t)
	}
	return best
}

// chunkLayout splits the hash into m chunks and estimates the cost; nil
// when a chunk would be too wide to pack. It starts from equal chunks,
// allocates the radii for MaxThreshold, then moves bits between chunks
// while that lowers the cost: a chunk searched at a smaller radius is
// cheaper per bit, so it should get more of them.
func chunkLayout(n, m int) *layout {
	if n < 2 {
		return nil
	}
	target := max(1, int(math.Round(math.Log2(float64(n)/bucketTargetVar))))
	mk := func(sizes []uint) []chunk {
		cs := make([]chunk, len(sizes))
		var start uint
		for k, b := range sizes {
			p := min(b, uint(target))
			cs[k] = chunk{start: start, bits: b, lo: b - p}
			start += b
		}
		return cs
	}
	// A chunk is at most maxLo bits wider than the directory, which is
	// kept to about n/bucketTarget buckets, and fits beside a position in
	// the 64-bit words the build sorts.
	widest := min(48, uint(target)+maxLo, 63-posBits(n))
	sizes := make([]uint, m)
	for k := range sizes {
		sizes[k] = uint(256 / m)
		if k < 256%m {
			sizes[k]++
		}
		if sizes[k] > widest {
			return nil
		}
	}
	r := allocate(n, mk(sizes), MaxThreshold)
	one := func(k int, b uint) float64 {
		return chunkCost(n, mk([]uint{b})[0], int(r[k]))
	}
	costs := make([]float64, m)
	for k, b := range sizes {
		costs[k] = one(k, b)
	}
	for {
		bi, bj, bd := -1, -1, -1e-9
		var ci, cj float64
		for i := range sizes {
			if sizes[i] <= 1 {
				continue
			}
			a := one(i, sizes[i]-1)
			for j := range sizes {
				if i == j || sizes[j] >= widest {
					continue
				}
				b := one(j, sizes[j]+1)
				if d := a + b - costs[i] - costs[j]; d < bd {
					bi, bj, bd, ci, cj = i, j, d, a, b
				}
			}
		}
		if bi < 0 {
			break
		}
		sizes[bi]--
		sizes[bj]++
		costs[bi], costs[bj] = ci, cj
	}
	l := &layout{chunks: mk(sizes)}
	r = allocate(n, l.chunks, MaxThreshold)
	for k, c := range l.chunks {
		l.cost += chunkCost(n, c, int(r[k]))
	}
	return l
}

// chunkCost estimates the time to search chunk c at radius r over n
// uniformly random entries.
func chunkCost(n int, c chunk, r int) float64 {
	if r < 0 {
		return 0
	}
	var probes, near float64
	for i := 0; i <= r; i++ {
		probes += binom(int(c.hi()), i)
		near += binom(int(c.bits), i)
	}
	scan := probes * float64(n) / math.Exp2(float64(c.hi()))
	cand := near * float64(n) / math.Exp2(float64(c.bits))
	return costProbe*probes + costScan*scan + costCand*cand
}

// allocate hands out t+1 units of radius (a chunk at radius r uses r+1)
// greedily to the chunk whose next unit costs least. The marginal cost of
// a chunk grows with its radius, so greedy gives the cheapest allocation.
func allocate(n int, chunks []chunk, t int) []int8 {
	r := make([]int8, len(chunks))
	for k := range r {
		r[k] = -1
	}
	for range t + 1 {
		best, bestCost := -1, math.Inf(1)
		for k, c := range chunks {
			if int(r[k]) >= int(c.bits) {
				continue
			}
			d := chunkCost(n, c, int(r[k])+1) - chunkCost(n, c, int(r[k]))
			if d < bestCost {
				best, bestCost = k, d
			}
		}
		if best < 0 {
			break // every chunk at full radius: more than enough
		}
		r[best]++
	}
	return r
}

// posBits is the width of a position in a segment of n entries.
func posBits(n int) uint {
	return uint(max(1, bits.Len(uint(n-1))))
}

// String describes the layout, e.g. "11 chunks of 23–24 bits (radius 2)".
func (l *layout) String() string {
	if l.flat {
		return "flat scan"
	}
	lo, hi := l.chunks[0].bits, l.chunks[0].bits
	for _, c := range l.chunks {
		lo, hi = min(lo, c.bits), max(hi, c.bits)
	}
	var rs []string
	for _, r := range l.radii[MaxThreshold] {
		rs = append(rs, fmt.Sprint(r))
	}
	w := fmt.Sprint(lo)
	if hi != lo {
		w = fmt.Sprintf("%d–%d", lo, hi)
	}
	return fmt.Sprintf("%d chunks of %s bits, radii at t=%d: %s",
		len(l.chunks), w, MaxThreshold, strings.Join(rs, ","))
}
