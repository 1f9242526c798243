package pdqindex

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math/bits"
	"slices"
)

// Widths of the exact hashes banks hold.
const (
	MD5Size    = 16
	SHA1Size   = 20
	SHA256Size = 32
)

// ErrWidth is returned for a hash of the wrong length for its set.
var ErrWidth = errors.New("pdqindex: wrong hash length")

// HashSet is a set of exact hashes of one width (MD5, SHA-1, SHA-256),
// each with the caller's id. Hashes are stored end to end in sorted
// order, width bytes each plus four (or eight) for the id, and found by
// interpolation search, which takes one or two cache misses on
// cryptographic hashes since they are uniformly distributed.
//
// Updates and concurrency are as for Index: adds go to a small buffer
// sealed into segments merged in the background, Remove takes effect at
// once, queries never block.
type HashSet struct {
	width int
	l     *lsm[*setSegment]
}

// setBuffer is the write buffer of a HashSet: smaller than an Index's,
// since a lookup otherwise costs a microsecond or two.
const setBuffer = 1024

// NewHashSet returns an empty set of hashes of width bytes (1 to 32).
func NewHashSet(width int) (*HashSet, error) {
	if width < 1 || width > 32 {
		return nil, fmt.Errorf("%w: set width %d, want 1..32", ErrWidth, width)
	}
	s := &HashSet{width: width}
	s.l = newLSM(func(ids []uint64, keys []key) *setSegment { return buildSet(width, ids, keys) })
	s.l.bufMax = setBuffer
	return s, nil
}

// BuildHashSet returns a set of the (id, hash) pairs of seq, built in
// bulk; sizeHint is as for BuildSeq.
func BuildHashSet(width, sizeHint int, seq iter.Seq2[uint64, []byte]) (*HashSet, error) {
	s, err := NewHashSet(width)
	if err != nil {
		return nil, err
	}
	ids := make([]uint64, 0, max(0, sizeHint))
	keys := make([]key, 0, max(0, sizeHint))
	for id, h := range seq {
		k, err := s.key(h)
		if err != nil {
			return nil, fmt.Errorf("entry %d (id %d): %w", len(keys)+1, id, err)
		}
		ids = append(ids, id)
		keys = append(keys, k)
	}
	s.l.bulk(ids, keys)
	return s, nil
}

// Width is the length of the set's hashes in bytes.
func (s *HashSet) Width() int { return s.width }

func (s *HashSet) key(h []byte) (key, error) {
	var k key
	if len(h) != s.width {
		return k, fmt.Errorf("%w: %d bytes, want %d", ErrWidth, len(h), s.width)
	}
	copy(k[:], h)
	return k, nil
}

// Add adds a hash with its id.
func (s *HashSet) Add(id uint64, h []byte) error {
	k, err := s.key(h)
	if err != nil {
		return err
	}
	s.l.add([]uint64{id}, []key{k})
	return nil
}

// AddBatch adds hashes[i] with ids[i], all or none.
func (s *HashSet) AddBatch(ids []uint64, hashes [][]byte) error {
	if len(ids) != len(hashes) {
		return fmt.Errorf("pdqindex: %d ids for %d hashes", len(ids), len(hashes))
	}
	keys := make([]key, len(hashes))
	for i, h := range hashes {
		var err error
		if keys[i], err = s.key(h); err != nil {
			return fmt.Errorf("hash %d: %w", i+1, err)
		}
	}
	s.l.add(slices.Clone(ids), keys)
	return nil
}

// Remove removes every entry added so far with one of ids, at once.
func (s *HashSet) Remove(ids ...uint64) { s.l.remove(ids) }

// Lookup returns the ids of the entries with hash h, in ascending order;
// none when it is not in the set.
func (s *HashSet) Lookup(h []byte) ([]uint64, error) { return s.AppendLookup(nil, h) }

// AppendLookup is Lookup appending to dst.
func (s *HashSet) AppendLookup(dst []uint64, h []byte) ([]uint64, error) {
	if len(h) != s.width {
		return dst, fmt.Errorf("%w: %d bytes, want %d", ErrWidth, len(h), s.width)
	}
	snap := s.l.load()
	n := len(dst)
	for _, sg := range snap.segs {
		lo, hi := sg.seg.find(h)
		for i := lo; i < hi; i++ {
			if id := sg.seg.ids.at(uint32(i)); !snap.tombs.dead(id, sg.seq) {
				dst = append(dst, id)
			}
		}
	}
	var pre uint64
	if s.width >= 8 {
		pre = binary.LittleEndian.Uint64(h)
	}
	for i := range snap.buf {
		r := &snap.buf[i]
		if (s.width < 8 || binary.LittleEndian.Uint64(r.k[:8]) == pre) &&
			bytes.Equal(r.k[:s.width], h) && !snap.tombs.dead(r.id, r.seq) {
			dst = append(dst, r.id)
		}
	}
	slices.Sort(dst[n:])
	return dst, nil
}

// Contains reports whether h is in the set; false for a wrong length.
func (s *HashSet) Contains(h []byte) bool {
	var buf [4]uint64
	ids, _ := s.AppendLookup(buf[:0], h)
	return len(ids) > 0
}

// Compact merges everything into one segment; see Index.Compact.
func (s *HashSet) Compact() { s.l.compact() }

// Wait blocks until background merges have finished.
func (s *HashSet) Wait() { s.l.wait() }

// Stats returns the set's current statistics.
func (s *HashSet) Stats() Stats {
	var st Stats
	st.Entries, st.Segments, st.Buffered, st.Tombstones, st.Bytes = s.l.counts()
	return st
}

// setSegment is an immutable run of exact hashes, sorted.
type setSegment struct {
	width int
	keys  []byte // width bytes each
	ids   idList
}

// buildSet sorts the entries by hash (then id) and packs them.
func buildSet(width int, ids []uint64, keys []key) *setSegment {
	n := len(keys)
	if n < 1<<12 {
		// Small (a sealed buffer): a plain sort beats four radix passes.
		order := make([]uint32, n)
		for i := range order {
			order[i] = uint32(i)
		}
		slices.SortFunc(order, func(x, y uint32) int {
			return cmp.Or(bytes.Compare(keys[x][:width], keys[y][:width]), cmp.Compare(ids[x], ids[y]))
		})
		return packSet(width, ids, keys, order)
	}
	// Sort (prefix, index) records by the hashes' first eight bytes, by
	// radix in four passes, then sort runs of equal prefixes in full.
	type rec struct {
		pre uint64
		i   uint32
	}
	a := make([]rec, n)
	for i := range keys {
		a[i] = rec{binary.BigEndian.Uint64(keys[i][:8]), uint32(i)}
	}
	b := make([]rec, n)
	counts := make([]int, 1<<16)
	for shift := uint(0); shift < 64; shift += 16 {
		clear(counts)
		for _, r := range a {
			counts[r.pre>>shift&0xffff]++
		}
		off := 0
		for d, c := range counts {
			counts[d] = off
			off += c
		}
		for _, r := range a {
			d := r.pre >> shift & 0xffff
			b[counts[d]] = r
			counts[d]++
		}
		a, b = b, a
	}
	b = nil
	cmpRec := func(x, y rec) int {
		return cmp.Or(bytes.Compare(keys[x.i][:width], keys[y.i][:width]), cmp.Compare(ids[x.i], ids[y.i]))
	}
	// Equal prefixes (duplicates, or widths under 8) are sorted in full.
	for i := 0; i < n; {
		j := i + 1
		for j < n && a[j].pre == a[i].pre {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(a[i:j], cmpRec)
		}
		i = j
	}
	order := make([]uint32, n)
	for i, r := range a {
		order[i] = r.i
	}
	return packSet(width, ids, keys, order)
}

// packSet stores the entries in the given order.
func packSet(width int, ids []uint64, keys []key, order []uint32) *setSegment {
	s := &setSegment{width: width, keys: make([]byte, len(order)*width)}
	for i, j := range order {
		copy(s.keys[i*width:], keys[j][:width])
	}
	s.ids = newIDList(ids, order, nil)
	return s
}

func (s *setSegment) size() int { return len(s.keys) / s.width }

func (s *setSegment) entry(i int) (uint64, key) {
	var k key
	copy(k[:], s.keys[i*s.width:(i+1)*s.width])
	return s.ids.at(uint32(i)), k
}

func (s *setSegment) bytes() int { return len(s.keys) + s.ids.bytes() }

func (s *setSegment) at(i int) []byte { return s.keys[i*s.width : (i+1)*s.width] }

// prefix is the first 8 bytes of h as a big-endian number (zero-padded),
// which orders like h.
func prefix(h []byte) uint64 {
	var b [8]byte
	copy(b[:], h)
	return binary.BigEndian.Uint64(b[:])
}

// find returns the range of entries equal to h. It alternates an
// interpolation step, which on uniform hashes lands within a few entries,
// with a bisection step, which bounds the worst case at twice binary
// search's on skewed data.
func (s *setSegment) find(h []byte) (int, int) {
	lo, hi := 0, s.size() // the first entry ≥ h is in [lo, hi]
	x := prefix(h)
	for step := 0; hi-lo > 8; step++ {
		var mid int
		if step%2 == 0 {
			a, b := prefix(s.at(lo)), prefix(s.at(hi-1))
			if x <= a {
				mid = lo
			} else if x >= b {
				mid = hi - 1
			} else {
				// (x-a)/(b-a) of the way, in 64-bit fixed point.
				f, _ := bits.Div64(x-a, 0, b-a)
				hi64, _ := bits.Mul64(f, uint64(hi-1-lo))
				mid = lo + int(hi64)
			}
		} else {
			mid = int(uint(lo+hi) / 2)
		}
		if bytes.Compare(s.at(mid), h) < 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	for lo < hi && bytes.Compare(s.at(lo), h) < 0 {
		lo++
	}
	end := lo
	for end < s.size() && bytes.Equal(s.at(end), h) {
		end++
	}
	return lo, end
}
