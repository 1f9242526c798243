package pdqindex

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"iter"
	"slices"

	"alliance/pdq"
)

// ErrThreshold is returned for a query threshold outside 0..MaxThreshold.
var ErrThreshold = errors.New("pdqindex: threshold out of range")

// Entry is a hash with the caller's id for it (a bank entry's id, say).
type Entry struct {
	ID   uint64
	Hash pdq.Hash
}

// Match is an entry within the query's threshold.
type Match struct {
	ID       uint64
	Hash     pdq.Hash
	Distance int
}

// Index finds every PDQ hash within a Hamming distance of a query, exactly:
// each entry within the threshold is returned once with its distance, and
// nothing further away. See the package documentation for how.
//
// Ids are the caller's and need not be unique: Add of an id already present
// adds a second entry, and Remove removes every entry with the id. Any
// number of goroutines may query while one or more update (updates are
// serialised); queries never block.
type Index struct {
	l *lsm[*pdqSegment]
}

// New returns an empty index.
func New() *Index { return &Index{l: newLSM(buildPDQ)} }

// Build returns an index of entries, built in bulk on all cores.
func Build(entries []Entry) *Index {
	ids := make([]uint64, len(entries))
	keys := make([]key, len(entries))
	for i, e := range entries {
		ids[i], keys[i] = e.ID, key(e.Hash)
	}
	x := New()
	x.l.bulk(ids, keys)
	return x
}

// BuildSeq is Build from a sequence of (id, hash), as read from a database
// cursor, without an intermediate slice of entries. sizeHint, when it is
// the number of entries or more, saves growing the arrays (and the
// transient memory that costs); 0 means unknown.
func BuildSeq(sizeHint int, seq iter.Seq2[uint64, pdq.Hash]) *Index {
	ids := make([]uint64, 0, max(0, sizeHint))
	keys := make([]key, 0, max(0, sizeHint))
	for id, h := range seq {
		ids = append(ids, id)
		keys = append(keys, key(h))
	}
	x := New()
	x.l.bulk(slices.Clip(ids), slices.Clip(keys))
	return x
}

// Add adds one entry; it is found by queries that start after Add returns.
func (x *Index) Add(id uint64, h pdq.Hash) {
	x.l.add([]uint64{id}, []key{key(h)})
}

// AddBatch adds entries, publishing them together.
func (x *Index) AddBatch(entries []Entry) {
	ids := make([]uint64, len(entries))
	keys := make([]key, len(entries))
	for i, e := range entries {
		ids[i], keys[i] = e.ID, key(e.Hash)
	}
	x.l.add(ids, keys)
}

// Remove removes every entry added so far with one of ids; queries that
// start after Remove returns no longer see them. Entries added with the
// same id later are not affected.
func (x *Index) Remove(ids ...uint64) { x.l.remove(ids) }

// Query returns the entries within threshold of q, by distance then id.
func (x *Index) Query(q pdq.Hash, threshold int) ([]Match, error) {
	return x.AppendQuery(nil, q, threshold)
}

// AppendQuery is Query appending to dst; with a reused dst a query
// allocates nothing.
func (x *Index) AppendQuery(dst []Match, q pdq.Hash, threshold int) ([]Match, error) {
	if threshold < 0 || threshold > MaxThreshold {
		return dst, fmt.Errorf("%w: %d, want 0..%d", ErrThreshold, threshold, MaxThreshold)
	}
	snap := x.l.load()
	s := getSearcher(q, threshold, dst, snap.tombs)
	for _, sg := range snap.segs {
		s.search(sg.seg, sg.seq)
	}
	for i := range snap.buf {
		r := &snap.buf[i]
		if d := distance(&r.k, &s.qw); d <= threshold && !snap.tombs.dead(r.id, r.seq) {
			s.out = append(s.out, Match{ID: r.id, Hash: pdq.Hash(r.k), Distance: d})
		}
	}
	out := s.out
	putSearcher(s)
	slices.SortFunc(out[len(dst):], func(a, b Match) int {
		return cmp.Or(cmp.Compare(a.Distance, b.Distance), cmp.Compare(a.ID, b.ID), bytes.Compare(a.Hash[:], b.Hash[:]))
	})
	return out, nil
}

// Compact seals pending additions and merges everything into one segment
// with removals applied, for the fastest queries; it returns when done.
// Merges also happen on their own in the background.
func (x *Index) Compact() { x.l.compact() }

// Wait blocks until background merges have finished.
func (x *Index) Wait() { x.l.wait() }

// Stats describes an index's current state.
type Stats struct {
	// Entries stored, counting removed ones until merges drop them.
	Entries int
	// Segments searched by each query, and entries in the write buffer.
	Segments, Buffered int
	// Tombstones not yet applied by a merge.
	Tombstones int
	// Bytes held by the segments and the buffer.
	Bytes int
	// Layout of the largest segment.
	Layout string
}

// Stats returns the index's current statistics.
func (x *Index) Stats() Stats {
	var st Stats
	st.Entries, st.Segments, st.Buffered, st.Tombstones, st.Bytes = x.l.counts()
	var big *pdqSegment
	for _, sg := range x.l.load().segs {
		if big == nil || sg.seg.size() > big.size() {
			big = sg.seg
		}
	}
	if big != nil {
		st.Layout = big.lay.String()
	}
	return st
}
