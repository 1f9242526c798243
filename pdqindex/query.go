package pdqindex

import (
	"math/bits"
	"sync"

	"alliance/pdq"
)

// depth is how many tables a query has in flight at once: a table goes
// through four stages (enumerate its buckets and touch their directory
// lines; look the buckets up and touch their postings; scan the postings
// and touch the candidates' hashes; check the candidates), and at each
// step every table in flight advances one stage. The loads a stage
// touches are then used a step later, after the other stages' work, so
// the cache misses of one table overlap the computing of the others
// instead of stalling it.
const depth = 4

// stage is the scratch of one table in flight.
type stage struct {
	k            int
	buckets      []uint64 // buckets within radius, in the chunk's high bits
	rems         []int8   // radius left for the chunk's low bits
	starts, ends []uint32 // each bucket's range of postings
	total        int      // postings in all the buckets
	cands        []uint32 // positions whose chunk is within radius

	// Initial backing arrays, enough for a 10M segment at threshold 31,
	// so that a new searcher is one allocation.
	bbuf       [stageProbes]uint64
	rbuf       [stageProbes]int8
	sbuf, ebuf [stageProbes]uint32
	cbuf       [2 * stageProbes]uint32
}

// stageProbes is the bucket capacity a stage starts with.
const stageProbes = 512

// searcher is the scratch of one query, pooled so that a query allocates
// nothing but its results.
type searcher struct {
	qk  key
	qw  [4]uint64
	t   int
	out []Match

	// The segment being searched, its sequence number and the tombstones
	// that may hide its entries.
	seg   *pdqSegment
	seq   uint64
	tombs *tombs

	radii  []int8
	qc     [maxChunks]uint64
	stages [depth]stage
	sink   uint64 // keeps the touching loads
}

var searchers = sync.Pool{New: func() any {
	s := &searcher{}
	for i := range s.stages {
		st := &s.stages[i]
		st.buckets, st.rems = st.bbuf[:0], st.rbuf[:0]
		st.starts, st.ends, st.cands = st.sbuf[:0], st.ebuf[:0], st.cbuf[:0]
	}
	return s
}}

func getSearcher(q pdq.Hash, t int, dst []Match, tb *tombs) *searcher {
	s := searchers.Get().(*searcher)
	s.qk = key(q)
	s.qw = words(&s.qk)
	s.t = t
	s.out = dst
	s.tombs = tb
	return s
}

func putSearcher(s *searcher) {
	s.out, s.seg, s.tombs, s.radii = nil, nil, nil, nil
	for i := range s.stages {
		if st := &s.stages[i]; cap(st.cands) > 1<<16 {
			st.cands = st.cbuf[:0] // don't pin a huge one
		}
	}
	searchers.Put(s)
}

// emit reports the entry at pos of the current segment, unless a
// tombstone hides it.
func (s *searcher) emit(pos uint32, d int) {
	id := s.seg.ids.at(pos)
	if s.tombs.dead(id, s.seq) {
		return
	}
	s.out = append(s.out, Match{ID: id, Hash: pdq.Hash(s.seg.hashes[pos]), Distance: d})
}

// search finds every entry of seg within s.t of the query.
func (s *searcher) search(seg *pdqSegment, seq uint64) {
	s.seg, s.seq = seg, seq
	if seg.lay.flat {
		for i := range seg.hashes {
			if d := distance(&seg.hashes[i], &s.qw); d <= s.t {
				s.emit(uint32(i), d)
			}
		}
		return
	}
	s.radii = seg.lay.radii[s.t]
	var ks [maxChunks]int
	m := 0
	for k, c := range seg.lay.chunks {
		if s.radii[k] >= 0 {
			s.qc[k] = chunkAt(&s.qk, c.start, c.bits)
			ks[m] = k
			m++
		}
	}
	for step := range m + depth - 1 {
		// The latest stage first: it uses what the others touched a
		// step ago, while their new loads are in flight.
		if i := step - 3; i >= 0 && i < m {
			s.check(&s.stages[i%depth])
		}
		if i := step - 2; i >= 0 && i < m {
			s.scan(&s.stages[i%depth])
		}
		if i := step - 1; i >= 0 && i < m {
			s.lookup(&s.stages[i%depth])
		}
		if step < m {
			s.probe(&s.stages[step%depth], ks[step])
		}
	}
}

// probe enumerates the buckets of table k within its radius of the
// query's chunk (flipping up to r of its high bits) and touches their
// directory lines.
func (s *searcher) probe(st *stage, k int) {
	st.k = k
	r := int(s.radii[k])
	c := s.seg.tables[k].c
	qh := s.qc[k] >> c.lo
	hb := int(c.hi())
	b, rems := st.buckets[:0], st.rems[:0]
	b, rems = append(b, qh), append(rems, int8(r))
	if r >= 1 {
		for a := range hb {
			b, rems = append(b, qh^1<<a), append(rems, int8(r-1))
		}
	}
	if r >= 2 {
		for a := range hb {
			for c := a + 1; c < hb; c++ {
				b, rems = append(b, qh^(1<<a|1<<c)), append(rems, int8(r-2))
			}
		}
	}
	for w := 3; w <= r && w <= hb; w++ {
		// Every combination of w of the hb bits, in lexicographic order.
		var idx [64]int
		for i := range w {
			idx[i] = i
		}
		for {
			var mask uint64
			for _, x := range idx[:w] {
				mask |= 1 << x
			}
			b, rems = append(b, qh^mask), append(rems, int8(r-w))
			i := w - 1
			for i >= 0 && idx[i] == hb-w+i {
				i--
			}
			if i < 0 {
				break
			}
			idx[i]++
			for j := i + 1; j < w; j++ {
				idx[j] = idx[j-1] + 1
			}
		}
	}
	st.buckets, st.rems = b, rems
	blocks := s.seg.tables[k].dir.blocks
	var sink uint64
	for _, x := range b {
		sink += uint64(blocks[x/dirSpan].base)
	}
	s.sink += sink
}

// lookup finds the buckets' ranges and touches the first and last word
// each scan reads (a bucket crosses into the next line about a third of
// the time).
func (s *searcher) lookup(st *stage) {
	t := &s.seg.tables[st.k]
	n := len(st.buckets)
	if cap(st.starts) < n {
		st.starts, st.ends = make([]uint32, n, 2*n), make([]uint32, n, 2*n)
	}
	starts, ends := st.starts[:n], st.ends[:n]
	for i, b := range st.buckets {
		starts[i], ends[i] = t.dir.bucket(b)
	}
	st.starts, st.ends = starts, ends
	var sink uint64
	total := 0
	if st.k == 0 {
		// Table 0's buckets are runs of the hashes themselves.
		hashes := s.seg.hashes
		last := uint32(len(hashes) - 1)
		for i, p := range starts {
			sink += uint64(hashes[min(p, last)][0]) + uint64(hashes[min(ends[i], last)][0])
		}
	} else {
		words, width := t.post.words, t.post.width
		for i, p := range starts {
			sink += words[uint(p)*width/64] + words[uint(ends[i])*width/64+1]
			total += int(ends[i] - p)
		}
	}
	st.total = total
	s.sink += sink
}

// scan filters the buckets' postings on the low bits of the chunk and
// touches the hashes of those that pass. Table 0's postings are the
// hashes, checked at once.
func (s *searcher) scan(st *stage) {
	t := &s.seg.tables[st.k]
	ql := s.qc[st.k] & (1<<t.c.lo - 1)
	hashes := s.seg.hashes
	if st.k == 0 {
		start, lo := t.c.start, t.c.lo
		for i, rem := range st.rems {
			for pos := st.starts[i]; pos < st.ends[i]; pos++ {
				h := &hashes[pos]
				if bits.OnesCount64(chunkAt(h, start, lo)^ql) > int(rem) {
					continue
				}
				if d := distance(h, &s.qw); d <= s.t {
					s.emit(pos, d)
				}
			}
		}
		st.cands = st.cands[:0]
		return
	}
	if cap(st.cands) < st.total+1 {
		st.cands = make([]uint32, 0, 2*st.total+1)
	}
	// Every posting is written, and kept only if it passes, without a
	// branch: which ones pass is random, and mispredictions would cost
	// more than the scan.
	cands := st.cands[:st.total+1]
	nc := 0
	words, width, mask := t.post.words, t.post.width, t.post.mask
	pb, pmask := s.seg.pb, uint64(1)<<s.seg.pb-1
	starts, ends := st.starts, st.ends
	for i, rem := range st.rems {
		r := int(rem)
		for off, end := uint(starts[i])*width, uint(ends[i])*width; off < end; off += width {
			w, sh := off/64, off%64
			// (x<<1)<<(63-sh) is x<<(64-sh), and 0 when sh is 0.
			v := (words[w]>>sh | words[w+1]<<1<<(63-sh)) & mask
			cands[nc] = uint32(v & pmask)
			if bits.OnesCount64(v>>pb^ql) <= r {
				nc++
			}
		}
	}
	cands = cands[:nc]
	st.cands = cands
	var sink uint64
	for _, p := range cands {
		sink += uint64(hashes[p][0])
	}
	s.sink += sink
}

// check verifies the candidates on all 256 bits.
func (s *searcher) check(st *stage) {
	hashes := s.seg.hashes
	for _, p := range st.cands {
		h := &hashes[p]
		if d := distance(h, &s.qw); d <= s.t && !s.seenBefore(st.k, h) {
			s.emit(p, d)
		}
	}
}

// seenBefore reports whether h was already a candidate of a table probed
// before table k, and so was reported there. Reporting each match from the
// first table that finds it dedupes without a per-query "seen" array: it
// costs nothing per candidate, only a few popcounts per match.
func (s *searcher) seenBefore(k int, h *key) bool {
	for j := range k {
		r := int(s.radii[j])
		if r < 0 {
			continue
		}
		c := s.seg.lay.chunks[j]
		if bits.OnesCount64(chunkAt(h, c.start, c.bits)^s.qc[j]) <= r {
			return true
		}
	}
	return false
}
