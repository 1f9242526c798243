package pdqindex

import (
	"math/bits"
	"sync"

	"alliance/pdq"
)

// probeBatch is how many bucket probes are collected, across tables,
// before they are looked up: a whole query at threshold 31 on 10M
// entries. Looking them up in tight loops of independent loads lets the
// CPU overlap the cache misses, which a probe-then-scan loop does not.
const probeBatch = 4096

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

	radii []int8
	qc    [maxChunks]uint64
	// A batch of probes: bucket, radius left for the low bits, and the
	// bucket's range once looked up; groups[g] is a run of probes of one
	// table.
	nprobes      int
	buckets      [probeBatch]uint64
	rems         [probeBatch]int8
	starts, ends [probeBatch]uint32
	groups       []group
	cands        []cand
	sink         uint64 // keeps the touching loads
}

type group struct {
	k, lo, hi int
}

// cand is an entry of table k whose chunk is within radius.
type cand struct {
	pos uint32
	k   uint8
}

var searchers = sync.Pool{New: func() any {
	return &searcher{
		cands:  make([]cand, 0, 1024),
		groups: make([]group, 0, maxChunks),
	}
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
	if cap(s.cands) > 1<<16 {
		s.cands = make([]cand, 0, 1024) // don't pin a huge one
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
	for k, c := range seg.lay.chunks {
		if s.radii[k] >= 0 {
			s.qc[k] = chunkAt(&s.qk, c.start, c.bits)
		}
	}
	for k := range seg.tables {
		if r := int(s.radii[k]); r >= 0 {
			s.probeTable(k, r)
		}
	}
	s.flush()
}

// probeTable enumerates the buckets within radius r of the query's chunk k
// (flipping up to r of its high bits) and searches them.
func (s *searcher) probeTable(k, r int) {
	c := s.seg.tables[k].c
	qh := s.qc[k] >> c.lo
	hb := int(c.hi())
	s.push(k, qh, r)
	if r >= 1 {
		for a := range hb {
			s.push(k, qh^1<<a, r-1)
		}
	}
	if r >= 2 {
		for a := range hb {
			for b := a + 1; b < hb; b++ {
				s.push(k, qh^(1<<a|1<<b), r-2)
			}
		}
	}
	if r >= 3 {
		for a := range hb {
			for b := a + 1; b < hb; b++ {
				for c := b + 1; c < hb; c++ {
					s.push(k, qh^(1<<a|1<<b|1<<c), r-3)
				}
			}
		}
	}
	for w := 4; w <= r && w <= hb; w++ {
		// Every combination of w of the hb bits, in lexicographic order.
		var idx [64]int
		for i := range w {
			idx[i] = i
		}
		for {
			var mask uint64
			for _, b := range idx[:w] {
				mask |= 1 << b
			}
			s.push(k, qh^mask, r-w)
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
}

func (s *searcher) push(k int, bucket uint64, rem int) {
	if g := len(s.groups) - 1; g < 0 || s.groups[g].k != k {
		s.groups = append(s.groups, group{k, s.nprobes, s.nprobes})
	}
	s.buckets[s.nprobes] = bucket
	s.rems[s.nprobes] = int8(rem)
	s.nprobes++
	s.groups[len(s.groups)-1].hi = s.nprobes
	if s.nprobes == probeBatch {
		s.flush()
	}
}

// flush looks up the collected probes, scans their buckets on the low bits
// of the chunk and verifies what passes. Each step is a loop of
// independent loads, and before each step that needs memory a loop that
// only touches it: a bare loop keeps many more cache misses in flight
// than one whose body branches on the data.
func (s *searcher) flush() {
	tables, hashes := s.seg.tables, s.seg.hashes
	var sink uint64
	for _, g := range s.groups {
		blocks := tables[g.k].dir.blocks
		for _, b := range s.buckets[g.lo:g.hi] {
			sink += uint64(blocks[b/dirSpan].base)
		}
	}
	for _, g := range s.groups {
		dir := &tables[g.k].dir
		starts, ends := s.starts[g.lo:g.hi], s.ends[g.lo:g.hi]
		for i, b := range s.buckets[g.lo:g.hi] {
			starts[i], ends[i] = dir.bucket(b)
		}
	}
	total := 0
	last := uint32(len(hashes) - 1)
	for _, g := range s.groups {
		starts, ends := s.starts[g.lo:g.hi], s.ends[g.lo:g.hi]
		if g.k == 0 {
			// Table 0's buckets are runs of the hashes themselves.
			for i, st := range starts {
				sink += uint64(hashes[min(st, last)][0]) + uint64(hashes[min(ends[i], last)][0])
			}
			continue
		}
		// The first and the last word a scan reads: a bucket crosses into
		// the next line about a third of the time.
		words, width := tables[g.k].post.words, tables[g.k].post.width
		for i, st := range starts {
			sink += words[uint(st)*width/64] + words[uint(ends[i])*width/64+1]
			total += int(ends[i] - st)
		}
	}
	if cap(s.cands) < total+1 {
		s.cands = make([]cand, 0, 2*total+1)
	}
	// Every posting is written, and kept only if it passes, without a
	// branch: which ones pass is random, and mispredictions would cost
	// more than the scan.
	cands := s.cands[:total+1]
	nc := 0
	pb, pmask := s.seg.pb, uint64(1)<<s.seg.pb-1
	for _, g := range s.groups {
		t := &tables[g.k]
		ql := s.qc[g.k] & (1<<t.c.lo - 1)
		starts, ends, rems := s.starts[g.lo:g.hi], s.ends[g.lo:g.hi], s.rems[g.lo:g.hi]
		if g.k == 0 {
			start, lo := t.c.start, t.c.lo
			for i, rem := range rems {
				for pos := starts[i]; pos < ends[i]; pos++ {
					h := &hashes[pos]
					if bits.OnesCount64(chunkAt(h, start, lo)^ql) > int(rem) {
						continue
					}
					if d := distance(h, &s.qw); d <= s.t {
						s.emit(pos, d)
					}
				}
			}
			continue
		}
		words, width, mask := t.post.words, t.post.width, t.post.mask
		k := uint8(g.k)
		for i, rem := range rems {
			r := int(rem)
			for off, end := uint(starts[i])*width, uint(ends[i])*width; off < end; off += width {
				w, sh := off/64, off%64
				// (x<<1)<<(63-sh) is x<<(64-sh), and 0 when sh is 0.
				v := (words[w]>>sh | words[w+1]<<1<<(63-sh)) & mask
				cands[nc] = cand{uint32(v & pmask), k}
				if bits.OnesCount64(v>>pb^ql) <= r {
					nc++
				}
			}
		}
	}
	s.nprobes = 0
	s.groups = s.groups[:0]
	cands = cands[:nc]
	for _, c := range cands {
		sink += uint64(hashes[c.pos][0])
	}
	s.sink = sink
	for _, c := range cands {
		h := &hashes[c.pos]
		if d := distance(h, &s.qw); d <= s.t && !s.seenBefore(int(c.k), h) {
			s.emit(c.pos, d)
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
