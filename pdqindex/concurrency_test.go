package pdqindex

import (
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"alliance/pdq"
)

// Readers query while a writer adds, removes, re-adds and compacts, with a
// buffer small enough that seals and background merges happen throughout.
// Run under -race. Entries of the base set are never removed, so every
// reader must always find them; every answer must be within the threshold
// with the right distance. At the end the index must equal the model.
func TestConcurrentReadersAndWriter(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	base := entriesOf(clustered(r, 4000, 0.3, 10, 30), 1)
	x := Build(base)
	x.l.bufMax = 64
	m := &model{slices.Clone(base)}

	var done atomic.Bool
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Go(func() {
			rr := rand.New(rand.NewPCG(7, uint64(g)))
			var dst []Match
			for n := 0; !done.Load() || n < 50; n++ {
				e := base[rr.IntN(len(base))]
				th := thresholds[rr.IntN(len(thresholds))]
				q := nearby(rr, e.Hash, rr.IntN(th+1))
				var err error
				if dst, err = x.AppendQuery(dst[:0], q, th); err != nil {
					t.Error(err)
					return
				}
				found := false
				for _, mt := range dst {
					if d := mt.Hash.Distance(q); d != mt.Distance || d > th {
						t.Errorf("match %v of %v at threshold %d: real distance %d", mt, q, th, d)
						return
					}
					found = found || mt.ID == e.ID && mt.Hash == e.Hash
				}
				if !found {
					t.Errorf("base entry %d not found by a query %d bits away (threshold %d)", e.ID, e.Hash.Distance(q), th)
					return
				}
			}
		})
	}

	next := uint64(1 << 20)
	var added []uint64
	for i := range 1500 {
		switch {
		case i%7 == 3 && len(added) > 0:
			id := added[r.IntN(len(added))]
			x.Remove(id)
			m.remove(id)
		case i%11 == 5 && len(added) > 0:
			id := added[r.IntN(len(added))] // a re-add, or a second entry with the id
			h := nearby(r, base[r.IntN(len(base))].Hash, r.IntN(40))
			x.Add(id, h)
			m.add(Entry{id, h})
		case i == 700:
			x.Compact()
		default:
			h := nearby(r, base[r.IntN(len(base))].Hash, r.IntN(40))
			x.Add(next, h)
			m.add(Entry{next, h})
			added = append(added, next)
			next++
		}
	}
	done.Store(true)
	wg.Wait()
	x.Wait()
	var qs []pdq.Hash
	for _, e := range m.entries[len(m.entries)-200:] {
		qs = append(qs, e.Hash)
	}
	check(t, x, m, append(qs, queriesFor(r, clustered(r, 100, 0, 1, 1), 20)...))
}

func TestConcurrentHashSet(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	s, err := NewHashSet(SHA256Size)
	if err != nil {
		t.Fatal(err)
	}
	s.l.bufMax = 32
	var base [][]byte
	for i := range 2000 {
		h := randomBytes(r, SHA256Size)
		base = append(base, h)
		if err := s.Add(uint64(i), h); err != nil {
			t.Fatal(err)
		}
	}
	var done atomic.Bool
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Go(func() {
			rr := rand.New(rand.NewPCG(9, uint64(g)))
			for n := 0; !done.Load() || n < 50; n++ {
				i := rr.IntN(len(base))
				ids, err := s.Lookup(base[i])
				if err != nil || !slices.Contains(ids, uint64(i)) {
					t.Errorf("base hash %d: %v, %v", i, ids, err)
					return
				}
			}
		})
	}
	m := setModel{}
	for i, h := range base {
		m.add(uint64(i), h)
	}
	for i := range 1500 {
		id := uint64(10000 + i)
		h := randomBytes(r, SHA256Size)
		if err := s.Add(id, h); err != nil {
			t.Fatal(err)
		}
		m.add(id, h)
		if i%5 == 0 {
			s.Remove(id - 3)
			m.remove(id - 3)
		}
	}
	done.Store(true)
	wg.Wait()
	s.Wait()
	checkSet(t, s, m, r)
}
