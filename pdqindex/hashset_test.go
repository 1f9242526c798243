package pdqindex

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

// setModel is the reference for HashSet: ids by hash.
type setModel map[string][]uint64

func (m setModel) add(id uint64, h []byte) { m[string(h)] = append(m[string(h)], id) }

func (m setModel) remove(ids ...uint64) {
	for k, v := range m {
		v = slices.DeleteFunc(v, func(id uint64) bool { return slices.Contains(ids, id) })
		if len(v) == 0 {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
}

func (m setModel) lookup(h []byte) []uint64 {
	v := slices.Clone(m[string(h)])
	slices.Sort(v)
	return v
}

// checkSet looks up every hash of the model, and as many that are not in
// it, including near misses that share a long prefix with a member.
func checkSet(t *testing.T, s *HashSet, m setModel, r *rand.Rand) {
	t.Helper()
	var probes [][]byte
	for k := range m {
		probes = append(probes, []byte(k))
		miss := []byte(k)
		miss[len(miss)-1] ^= 1
		probes = append(probes, miss)
	}
	for range 200 {
		probes = append(probes, randomBytes(r, s.Width()))
	}
	for _, h := range probes {
		got, err := s.Lookup(h)
		if err != nil {
			t.Fatal(err)
		}
		if want := m.lookup(h); !slices.Equal(got, want) {
			t.Fatalf("Lookup(%x) = %v, want %v", h, got, want)
		}
		if s.Contains(h) != (len(m[string(h)]) > 0) {
			t.Fatalf("Contains(%x) disagrees with Lookup", h)
		}
	}
}

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestHashSet(t *testing.T) {
	for _, tc := range []struct {
		name  string
		width int
		skew  bool // hashes share a long zero prefix: interpolation's worst case
	}{
		{"MD5", MD5Size, false},
		{"SHA-1", SHA1Size, false},
		{"SHA-256", SHA256Size, false},
		{"SHA-256/skewed", SHA256Size, true},
		{"4 bytes (prefix ties)", 4, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(5, uint64(tc.width)))
			gen := func() []byte {
				h := randomBytes(r, tc.width)
				if tc.skew {
					clear(h[:tc.width-5])
					if r.IntN(4) == 0 {
						h[0] = 0xff // a few far away
					}
				}
				return h
			}
			m := setModel{}
			var hs [][]byte
			for i := range 20000 {
				h := gen()
				if i%10 == 0 && len(hs) > 0 {
					h = hs[r.IntN(len(hs))] // the same hash under another id
				}
				hs = append(hs, h)
				m.add(uint64(i), h)
			}
			s, err := BuildHashSet(tc.width, len(hs), func(yield func(uint64, []byte) bool) {
				for i, h := range hs {
					if !yield(uint64(i), h) {
						return
					}
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			s.l.bufMax = 100 // seal and merge often
			checkSet(t, s, m, r)

			next := uint64(1 << 33) // eight-byte ids from here on
			for range 1500 {
				h := gen()
				if r.IntN(3) == 0 {
					h = hs[r.IntN(len(hs))]
				}
				if err := s.Add(next, h); err != nil {
					t.Fatal(err)
				}
				m.add(next, h)
				next++
			}
			batch := [][]byte{gen(), gen(), hs[0]}
			if err := s.AddBatch([]uint64{next, next + 1, next + 2}, batch); err != nil {
				t.Fatal(err)
			}
			for i, h := range batch {
				m.add(next+uint64(i), h)
			}
			checkSet(t, s, m, r)

			var gone []uint64
			for i := uint64(0); i < 20000; i += 7 {
				gone = append(gone, i)
			}
			gone = append(gone, next-1, next+2)
			s.Remove(gone...)
			m.remove(gone...)
			checkSet(t, s, m, r)

			// Re-adding removed ids with new hashes.
			for _, id := range gone[:100] {
				h := gen()
				if err := s.Add(id, h); err != nil {
					t.Fatal(err)
				}
				m.add(id, h)
			}
			checkSet(t, s, m, r)

			s.Wait()
			s.Compact()
			if st := s.Stats(); st.Segments != 1 || st.Tombstones != 0 {
				t.Fatalf("after Compact: %+v", st)
			}
			checkSet(t, s, m, r)
		})
	}
}

func TestHashSetErrors(t *testing.T) {
	for _, w := range []int{0, -1, 33} {
		if _, err := NewHashSet(w); !errors.Is(err, ErrWidth) {
			t.Errorf("NewHashSet(%d): %v, want ErrWidth", w, err)
		}
	}
	s, err := NewHashSet(SHA1Size)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Lookup(make([]byte, SHA1Size)); err != nil || len(got) != 0 {
		t.Fatalf("empty set: %v, %v", got, err)
	}
	if err := s.Add(1, make([]byte, MD5Size)); !errors.Is(err, ErrWidth) {
		t.Errorf("Add of an MD5 to a SHA-1 set: %v", err)
	}
	if _, err := s.Lookup(make([]byte, SHA256Size)); !errors.Is(err, ErrWidth) {
		t.Errorf("Lookup of a SHA-256 in a SHA-1 set: %v", err)
	}
	if s.Contains(nil) {
		t.Error("Contains(nil) is true")
	}
	if err := s.AddBatch([]uint64{1, 2}, [][]byte{make([]byte, SHA1Size), {1}}); !errors.Is(err, ErrWidth) {
		t.Errorf("AddBatch with a short hash: %v", err)
	}
	if err := s.AddBatch([]uint64{1}, nil); err == nil {
		t.Error("AddBatch with more ids than hashes accepted")
	}
	if st := s.Stats(); st.Entries != 0 {
		t.Errorf("failed adds left %d entries", st.Entries)
	}
	_, err = BuildHashSet(MD5Size, 0, func(yield func(uint64, []byte) bool) {
		yield(1, make([]byte, MD5Size))
		yield(2, make([]byte, 15))
	})
	if !errors.Is(err, ErrWidth) {
		t.Errorf("BuildHashSet with a short hash: %v", err)
	}
}
