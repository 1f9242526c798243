package pdqindex

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"alliance/pdq"
)

var thresholds = []int{0, 1, 8, 16, 24, 31}

// model is the brute-force reference: a plain list of live entries.
type model struct {
	entries []Entry
}

func (m *model) add(es ...Entry) { m.entries = append(m.entries, es...) }

func (m *model) remove(ids ...uint64) {
	m.entries = slices.DeleteFunc(m.entries, func(e Entry) bool { return slices.Contains(ids, e.ID) })
}

func (m *model) query(q pdq.Hash, t int) []Match {
	var out []Match
	for _, e := range m.entries {
		if d := e.Hash.Distance(q); d <= t {
			out = append(out, Match{e.ID, e.Hash, d})
		}
	}
	sortMatches(out)
	return out
}

func sortMatches(ms []Match) {
	slices.SortFunc(ms, func(a, b Match) int {
		return cmp.Or(cmp.Compare(a.Distance, b.Distance), cmp.Compare(a.ID, b.ID), bytes.Compare(a.Hash[:], b.Hash[:]))
	})
}

// check compares the index with the model on queries at every threshold.
func check(t *testing.T, x *Index, m *model, queries []pdq.Hash) {
	t.Helper()
	found := 0
	for _, th := range thresholds {
		for i, q := range queries {
			got, err := x.Query(q, th)
			if err != nil {
				t.Fatal(err)
			}
			want := m.query(q, th)
			found += len(want)
			if !slices.Equal(got, want) {
				t.Fatalf("threshold %d, query %d (%v): got %d matches, want %d\n got  %v\n want %v",
					th, i, q, len(got), len(want), brief(got), brief(want))
			}
		}
	}
	if found == 0 && len(m.entries) > 0 {
		t.Fatal("no query matched anything: the test would not notice a broken index")
	}
}

func brief(ms []Match) string {
	if len(ms) > 8 {
		return fmt.Sprintf("%v … (%d)", ms[:8], len(ms))
	}
	return fmt.Sprint(ms)
}

func entriesOf(hs []pdq.Hash, firstID uint64) []Entry {
	es := make([]Entry, len(hs))
	for i, h := range hs {
		es[i] = Entry{firstID + uint64(i), h}
	}
	return es
}

// withChunks forces the number of chunks for the test's duration.
func withChunks(t *testing.T, m int) {
	old := tableChunks
	tableChunks = m
	t.Cleanup(func() { tableChunks = old })
}

func TestQueryMatchesBruteForce(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n       int
		dup     float64
		chunks  int // 0: the cost model's choice
		queries int
	}{
		{"random", 20000, 0, 0, 150},
		{"clustered", 20000, 0.5, 0, 150},
		{"clustered/7 chunks (radius 4 and more)", 20000, 0.5, 7, 20},
		{"clustered/8 chunks", 6000, 0.5, 8, 150},
		{"clustered/11 chunks", 6000, 0.5, 11, 150},
		{"clustered/16 chunks", 6000, 0.5, 16, 150},
		{"clustered/32 chunks", 6000, 0.5, 32, 150},
		{"tiny (flat)", 50, 0.5, 0, 150},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.chunks != 0 {
				withChunks(t, tc.chunks)
			}
			r := rand.New(rand.NewPCG(1, uint64(tc.n)))
			data := clustered(r, tc.n, tc.dup, 30, 40)
			x := Build(entriesOf(data, 1))
			if st := x.Stats(); tc.chunks != 0 && st.Layout == "flat scan" {
				t.Fatalf("layout %q, want %d chunks", st.Layout, tc.chunks)
			}
			check(t, x, &model{entriesOf(data, 1)}, queriesFor(r, data, tc.queries))
		})
	}
}

func TestDuplicatesAndCrowdedBuckets(t *testing.T) {
	// 3000 copies of one hash overflow a directory block's byte counts
	// (more than 255 entries in 60 buckets), and ids repeat.
	r := rand.New(rand.NewPCG(2, 2))
	data := clustered(r, 20000, 0.3, 50, 10)
	h := randomHash(r)
	for i := range 3000 {
		data = append(data, nearby(r, h, i%3))
	}
	es := entriesOf(data, 1)
	es = append(es, Entry{ID: 7, Hash: nearby(r, h, 5)}) // a second entry with id 7
	x := Build(es)
	check(t, x, &model{es}, append(queriesFor(r, data, 60), h, nearby(r, h, 20)))
	if got, _ := x.Query(h, 0); len(got) != 1000 {
		t.Fatalf("exact copies: got %d, want 1000", len(got))
	}
}

func TestAddRemoveReAdd(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	base := entriesOf(clustered(r, 8000, 0.4, 20, 40), 1)
	x := Build(base)
	x.l.bufMax = 300 // seal and merge often
	m := &model{slices.Clone(base)}
	queries := func() []pdq.Hash {
		var hs []pdq.Hash
		for _, e := range m.entries {
			hs = append(hs, e.Hash)
		}
		return queriesFor(r, hs, 60)
	}

	// Adds, one at a time and in batches, including near-duplicates of
	// existing entries and of each other.
	next := uint64(100000)
	for i := range 2500 {
		h := randomHash(r)
		if i%2 == 0 {
			h = nearby(r, m.entries[r.IntN(len(m.entries))].Hash, r.IntN(35))
		}
		if i%5 == 0 {
			x.Add(next, h)
			m.add(Entry{next, h})
		} else {
			batch := []Entry{{next, h}, {next + 1, nearby(r, h, r.IntN(20))}}
			x.AddBatch(batch)
			m.add(batch...)
			next++
		}
		next++
	}
	t.Run("after adds", func(t *testing.T) { check(t, x, m, queries()) })

	// Removals take effect at once, from the base, sealed segments and the
	// buffer alike.
	var gone []uint64
	for i := 0; i < len(m.entries); i += 3 {
		gone = append(gone, m.entries[i].ID)
	}
	x.Remove(gone...)
	m.remove(gone...)
	x.Remove(1 << 40) // an id never added
	t.Run("after removes", func(t *testing.T) { check(t, x, m, queries()) })

	// Re-adding a removed id makes a live entry again; the old one stays
	// gone.
	for _, id := range gone[:500] {
		h := nearby(r, m.entries[r.IntN(len(m.entries))].Hash, r.IntN(31))
		x.Add(id, h)
		m.add(Entry{id, h})
	}
	t.Run("after re-adds", func(t *testing.T) { check(t, x, m, queries()) })

	x.Wait()
	t.Run("after background merges", func(t *testing.T) { check(t, x, m, queries()) })

	x.Compact()
	st := x.Stats()
	if st.Segments != 1 || st.Buffered != 0 || st.Tombstones != 0 || st.Entries != len(m.entries) {
		t.Fatalf("after Compact: %+v, want 1 segment of %d entries and no tombstones", st, len(m.entries))
	}
	t.Run("after compact", func(t *testing.T) { check(t, x, m, queries()) })

	// Removing an id again after the merge still works, and re-adding it.
	id := m.entries[0].ID
	x.Remove(id)
	m.remove(id)
	h := randomHash(r)
	x.Add(id, h)
	m.add(Entry{id, h})
	t.Run("after compact and remove", func(t *testing.T) { check(t, x, m, append(queries(), h)) })
}

func TestEmptyAndErrors(t *testing.T) {
	for _, x := range []*Index{New(), Build(nil), BuildSeq(0, func(func(uint64, pdq.Hash) bool) {})} {
		got, err := x.Query(pdq.Hash{}, MaxThreshold)
		if err != nil || len(got) != 0 {
			t.Fatalf("empty index: %v, %v", got, err)
		}
		x.Remove(1)
		x.Compact()
	}
	x := Build([]Entry{{1, pdq.Hash{}}})
	for _, th := range []int{-1, MaxThreshold + 1, 256} {
		if _, err := x.Query(pdq.Hash{}, th); !errors.Is(err, ErrThreshold) {
			t.Errorf("threshold %d: err %v, want ErrThreshold", th, err)
		}
	}
	if got, err := x.Query(pdq.Hash{}, 0); err != nil || len(got) != 1 || got[0].ID != 1 {
		t.Fatalf("one entry: %v, %v", got, err)
	}
}

func TestBuildSeqAndAppendQuery(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	data := clustered(r, 30000, 0.2, 10, 30)
	x := BuildSeq(10, func(yield func(uint64, pdq.Hash) bool) {
		for i, h := range data {
			// Ids past 2³² make the segment keep eight-byte ids.
			if !yield(uint64(i)<<33, h) {
				return
			}
		}
	})
	m := &model{}
	for i, h := range data {
		m.add(Entry{uint64(i) << 33, h})
	}
	check(t, x, m, queriesFor(r, data, 40))

	q := data[5]
	dst := make([]Match, 1, 64)
	got, err := x.AppendQuery(dst, q, 31)
	if err != nil || len(got) < 2 || got[1].Distance != 0 {
		t.Fatalf("AppendQuery: %v, %v", got, err)
	}
	allocs := testing.AllocsPerRun(50, func() { dst, _ = x.AppendQuery(dst[:0], q, 31) })
	if allocs > 0 {
		t.Errorf("AppendQuery with a reused slice: %v allocations, want 0", allocs)
	}
}

func TestRadiiCoverThreshold(t *testing.T) {
	// The pigeonhole argument needs Σ(r+1) ≥ t+1 over the probed chunks.
	for _, n := range []int{100, 5000, 1 << 20, 10_000_000, 100_000_000} {
		l := chooseLayout(n)
		if l.flat {
			continue
		}
		for th := range MaxThreshold + 1 {
			sum := 0
			for _, r := range l.radii[th] {
				sum += int(r) + 1
			}
			if sum < th+1 {
				t.Errorf("n=%d t=%d: radii %v cover %d, want ≥ %d", n, th, l.radii[th], sum, th+1)
			}
		}
		t.Logf("n=%d: %s, estimated %.0f µs", n, l, l.cost/1000)
	}
}

func TestTombstonesSettle(t *testing.T) {
	// Many removals (of ids never added) trigger a full merge; it must
	// apply and drop them, not trigger itself again forever, even with an
	// entry in the buffer older than the removals.
	r := rand.New(rand.NewPCG(9, 9))
	es := entriesOf(clustered(r, 100, 0, 1, 1), 1)
	x := Build(es)
	x.l.bufMax = 64
	h := randomHash(r)
	x.Add(500, h)
	var ids []uint64
	for i := range 5000 {
		ids = append(ids, uint64(10000+i))
	}
	x.Remove(ids...)
	done := make(chan struct{})
	go func() { x.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("background merges never settle")
	}
	if st := x.Stats(); st.Tombstones != 0 || st.Entries != 101 {
		t.Fatalf("after the merge: %+v, want 101 entries and no tombstones", st)
	}
	check(t, x, &model{append(es, Entry{500, h})}, []pdq.Hash{h, es[0].Hash})
}

// TestMappedArrays covers a segment big enough for its arrays to be mapped
// outside the heap (bigMin): exact answers, ids that need eight bytes, and
// the mappings given back once the index is unreachable.
func TestMappedArrays(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 300k-entry index")
	}
	before := mappedBytes.Load()
	r := rand.New(rand.NewPCG(9, 9))
	data := clustered(r, 300_000, 0.3, 20, 40)
	x := Build(entriesOf(data, 1<<40))
	if runtime.GOOS == "linux" && mappedBytes.Load() <= before {
		t.Fatalf("mapped bytes %d after the build, %d before: want the big arrays mapped", mappedBytes.Load(), before)
	}
	check(t, x, &model{entriesOf(data, 1<<40)}, queriesFor(r, data, 12))
	runtime.KeepAlive(x)
	x = nil
	deadline := time.Now().Add(10 * time.Second)
	for mappedBytes.Load() > before {
		if time.Now().After(deadline) {
			t.Fatalf("mapped bytes %d, %d before the build: the index's mappings were not released", mappedBytes.Load(), before)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPackedFill checks that fill, the build's sequential writer, leaves
// the same words as set for every width, and that get reads them back.
func TestPackedFill(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for width := uint(1); width <= 57; width++ {
		n := 1 + r.IntN(300)
		vs := make([]uint64, n)
		for i := range vs {
			vs[i] = r.Uint64() // fill masks: the high bits must not leak
		}
		a, b := newPacked(n, width, nil), newPacked(n, width, nil)
		for i, v := range vs {
			a.set(uint32(i), v&a.mask)
		}
		b.fill(vs)
		if !slices.Equal(a.words, b.words) {
			t.Fatalf("width %d, n %d: fill differs from set", width, n)
		}
		for i, v := range vs {
			if got := b.get(uint32(i)); got != v&b.mask {
				t.Fatalf("width %d: slot %d = %x, want %x", width, i, got, v&b.mask)
			}
		}
	}
}
