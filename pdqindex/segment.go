package pdqindex

import (
	"fmt"
	"math"
	"runtime"
	"sync"
)

// idList holds a segment's external ids in four bytes each when they all
// fit, as database ids do, and in eight otherwise.
type idList struct {
	ids32 []uint32
	ids64 []uint64
}

func (l *idList) at(i uint32) uint64 {
	if l.ids64 != nil {
		return l.ids64[i]
	}
	return uint64(l.ids32[i])
}

func (l *idList) bytes() int { return 4*len(l.ids32) + 8*len(l.ids64) }

// table is the index of one chunk: a directory over the chunk's high bits
// and, in bucket order, postings position<<lo | low bits. Table 0 has no
// postings: the segment's hashes are themselves sorted by its buckets.
type table struct {
	c    chunk
	dir  directory
	post packed
}

// pdqSegment is an immutable, searchable set of entries.
type pdqSegment struct {
	lay    *layout
	pb     uint  // bits of a position
	hashes []key // in table 0's bucket order
	ids    idList
	tables []table
}

// buildPDQ indexes the entries. It takes ownership of both slices; the
// tables are built in parallel on all cores.
func buildPDQ(ids []uint64, keys []key) *pdqSegment {
	n := len(keys)
	if n >= wideFlag {
		// Offsets are 31 bits; that many entries would take 150 GB.
		panic(fmt.Sprintf("pdqindex: %d entries in one segment, at most %d", n, wideFlag-1))
	}
	s := &pdqSegment{lay: chooseLayout(n), pb: posBits(n)}
	if s.lay.flat {
		s.hashes = keys
		s.ids = newIDList(ids, nil, nil)
		return s
	}
	s.tables = make([]table, len(s.lay.chunks))
	// The big arrays are mapped with huge pages (see bigMem) and unmapped
	// once the segment is unreachable.
	mem := &bigMem{}

	// Order the entries by table 0's buckets, so that table 0 needs no
	// postings: its buckets are runs of the hashes themselves.
	c0 := s.lay.chunks[0]
	vals, _ := sortChunk(keys, c0, s.pb, nil, nil)
	s.tables[0] = table{c: c0, dir: newDirectory(bucketCounts(vals, c0, s.pb, nil), mem)}
	s.hashes = makeBig[key](mem, n)
	order := make([]uint32, n)
	pmask := uint64(1)<<s.pb - 1
	// On all cores: besides the copying, the first writes fault in the
	// fresh mapping's pages, which is most of the time.
	parallel(n, func(lo, hi int) {
		for i, v := range vals[lo:hi] {
			p := v & pmask
			s.hashes[lo+i] = keys[p] // independent loads: the misses overlap
			order[lo+i] = uint32(p)
		}
	})
	keys, vals = nil, nil
	s.ids = newIDList(ids, order, mem)
	ids, order = nil, nil

	// One worker per core, each with its own sort buffers.
	work := make(chan int, len(s.tables))
	for k := 1; k < len(s.tables); k++ {
		work <- k
	}
	close(work)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(s.tables)-1) {
		wg.Go(func() {
			var a, b []uint64
			var counts []uint32
			for k := range work {
				c := s.lay.chunks[k]
				sorted, spare := sortChunk(s.hashes, c, s.pb, a, b)
				counts = bucketCounts(sorted, c, s.pb, counts)
				t := table{c: c, dir: newDirectory(counts, mem)}
				// Postings are the sorted values less the bucket bits:
				// low chunk bits above the position.
				t.post = newPacked(n, s.pb+c.lo, mem)
				t.post.fill(sorted)
				s.tables[k] = t
				a, b = sorted, spare
			}
		})
	}
	wg.Wait()
	releaseWith(s, mem)
	return s
}

// newIDList keeps ids in the given order (nil: as they are), in four
// bytes each when they all fit; new arrays come from mem (nil: the heap).
func newIDList(ids []uint64, order []uint32, mem *bigMem) idList {
	at := func(i int) uint64 { return ids[i] }
	if order != nil {
		at = func(i int) uint64 { return ids[order[i]] }
	}
	fits := true
	for _, v := range ids {
		fits = fits && v <= math.MaxUint32
	}
	var l idList
	if fits {
		l.ids32 = makeBig[uint32](mem, len(ids))
		for i := range l.ids32 {
			l.ids32[i] = uint32(at(i))
		}
	} else if order == nil {
		l.ids64 = ids
	} else {
		l.ids64 = makeBig[uint64](mem, len(ids))
		for i := range l.ids64 {
			l.ids64[i] = at(i)
		}
	}
	return l
}

// sortChunk returns, for every entry i, chunk c of keys[i] above i (in pb
// bits), sorted by the chunk's high (bucket) bits and stably, so that
// positions ascend within a bucket. It is a least-significant-digit radix
// sort in passes of at most 11 bits: each pass streams through 2048
// write positions, which stay in cache, where one pass over 2²² buckets
// would miss on nearly every write. a and b are reused when big enough;
// the other buffer is returned as spare.
func sortChunk(keys []key, c chunk, pb uint, a, b []uint64) (sorted, spare []uint64) {
	n := len(keys)
	if cap(a) < n {
		a = make([]uint64, n)
	}
	if cap(b) < n {
		b = make([]uint64, n)
	}
	a, b = a[:n], b[:n]
	shift, width := pb+c.lo, c.hi()
	passes := (width + 10) / 11
	if passes > maxSortPasses {
		panic(fmt.Sprintf("pdqindex: a %d-bit bucket needs %d sort passes, at most %d", width, passes, maxSortPasses))
	}
	// The digits of every pass, counted in the one pass that extracts the
	// chunks, instead of a counting pass over the array before each.
	var shifts [maxSortPasses]uint
	var masks [maxSortPasses]uint64
	var counts [maxSortPasses][1 << 11]int
	for p := range passes {
		w := width / passes
		if p < width%passes {
			w++
		}
		shifts[p], masks[p] = shift, uint64(1)<<w-1
		shift += w
	}
	for i := range keys {
		v := chunkAt(&keys[i], c.start, c.bits)<<pb | uint64(i)
		a[i] = v
		for p := range passes {
			counts[p][v>>shifts[p]&masks[p]]++
		}
	}
	for p := range passes {
		sh, mask, cnt := shifts[p], masks[p], &counts[p]
		off := 0
		for d, c := range cnt[:mask+1] {
			cnt[d] = off
			off += c
		}
		for _, v := range a {
			d := v >> sh & mask
			b[cnt[d]] = v
			cnt[d]++
		}
		a, b = b, a
	}
	return a, b
}

// maxSortPasses bounds sortChunk's passes: 11 bits each, for buckets of up
// to 33 bits (8·10⁹ buckets, far more than a segment can hold).
const maxSortPasses = 3

// bucketCounts counts the entries of each bucket of chunk c in sorted.
func bucketCounts(sorted []uint64, c chunk, pb uint, counts []uint32) []uint32 {
	nb := 1 << c.hi()
	if cap(counts) < nb {
		counts = make([]uint32, nb)
	}
	counts = counts[:nb]
	clear(counts)
	for _, v := range sorted {
		counts[v>>(pb+c.lo)]++
	}
	return counts
}

func (s *pdqSegment) size() int { return len(s.hashes) }

func (s *pdqSegment) entry(i int) (uint64, key) { return s.ids.at(uint32(i)), s.hashes[i] }

// bytes is the memory the segment holds.
func (s *pdqSegment) bytes() int {
	n := 32*len(s.hashes) + s.ids.bytes()
	for i := range s.tables {
		n += s.tables[i].dir.bytes() + s.tables[i].post.bytes()
	}
	return n
}

// parallel calls f on consecutive ranges of [0, n), one per core, and
// waits for them.
func parallel(n int, f func(lo, hi int)) {
	w := min(runtime.GOMAXPROCS(0), max(1, n/(1<<16)))
	var wg sync.WaitGroup
	for j := range w {
		wg.Go(func() { f(j*n/w, (j+1)*n/w) })
	}
	wg.Wait()
}
