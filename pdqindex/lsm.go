package pdqindex

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
)

// segment is an immutable, searchable run of entries: a PDQ segment or an
// exact-hash segment.
type segment interface {
	size() int
	entry(i int) (id uint64, k key)
	bytes() int
}

// record is an entry in the write buffer, stamped with the operation that
// added it.
type record struct {
	k   key
	id  uint64
	seq uint64
}

// sealed is a segment with the operation number it was sealed at: it holds
// every entry added up to seq that had not been removed by then.
type sealed[S segment] struct {
	seg S
	seq uint64
}

// snapshot is one immutable state of an index. Readers load the current
// snapshot with one atomic read and never lock; the writer publishes a new
// snapshot for every change. The buffer's backing array is shared between
// snapshots: the writer only appends past every published length.
type snapshot[S segment] struct {
	segs  []*sealed[S]
	buf   []record
	tombs *tombs
}

// Defaults for the write path.
const (
	// defaultBuffer is how many added entries are kept in the flat buffer
	// before they are sealed into a segment; scanning it costs a query
	// about 2.5 ns an entry.
	defaultBuffer = 4096
	// fanout is how many segments of one size tier are merged into one.
	fanout = 4
)

// lsm holds a log-structured set of segments: adds go to a small buffer,
// sealed into segments that merge in the background (size-tiered, by
// fanout), and removals are tombstones, applied at once by lookups and
// physically when segments merge. One writer at a time (mu); any number of
// readers, lock-free.
type lsm[S segment] struct {
	build  func(ids []uint64, keys []key) S
	bufMax int

	cur atomic.Pointer[snapshot[S]]

	mu      sync.Mutex // serialises writers
	seq     uint64     // number of the last operation
	merging map[*sealed[S]]bool
	running int
	idle    *sync.Cond // signalled when running drops
}

func newLSM[S segment](build func([]uint64, []key) S) *lsm[S] {
	l := &lsm[S]{build: build, bufMax: defaultBuffer, merging: map[*sealed[S]]bool{}}
	l.idle = sync.NewCond(&l.mu)
	l.cur.Store(&snapshot[S]{tombs: noTombs})
	return l
}

func (l *lsm[S]) load() *snapshot[S] { return l.cur.Load() }

// bulk sets the contents of a new, empty lsm to one segment.
func (l *lsm[S]) bulk(ids []uint64, keys []key) {
	if len(keys) == 0 {
		return
	}
	seg := l.build(ids, keys)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	l.cur.Store(&snapshot[S]{segs: []*sealed[S]{{seg, l.seq}}, tombs: noTombs})
}

// add appends entries to the buffer, sealing it whenever it fills.
func (l *lsm[S]) add(ids []uint64, keys []key) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur := l.load()
	next := *cur
	for i := range keys {
		l.seq++
		next.buf = append(next.buf, record{k: keys[i], id: ids[i], seq: l.seq})
		if len(next.buf) >= l.bufMax {
			l.seal(&next)
		}
	}
	l.cur.Store(&next)
	l.schedule()
}

// remove tombstones every entry with one of ids added so far.
func (l *lsm[S]) remove(ids []uint64) {
	if len(ids) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	add := make([]tomb, len(ids))
	for i, id := range ids {
		add[i] = tomb{id, l.seq}
	}
	slices.SortFunc(add, func(a, b tomb) int { return cmp.Compare(a.id, b.id) })
	add = slices.CompactFunc(add, func(a, b tomb) bool { return a.id == b.id })
	next := *l.load()
	next.tombs = next.tombs.with(add)
	l.cur.Store(&next)
	l.schedule()
}

// seal turns the buffer of next into a segment, leaving out removed
// entries. Called with mu held.
func (l *lsm[S]) seal(next *snapshot[S]) {
	var ids []uint64
	var keys []key
	for _, r := range next.buf {
		if !next.tombs.dead(r.id, r.seq) {
			ids = append(ids, r.id)
			keys = append(keys, r.k)
		}
	}
	next.buf = nil
	if len(keys) > 0 {
		next.segs = append(slices.Clip(next.segs), &sealed[S]{l.build(ids, keys), l.seq})
	}
	next.tombs = next.tombs.without(l.gcLimit(next))
}

// gcLimit is the operation number up to which tombstones can no longer
// hide anything: every segment was sealed or merged after it, with it
// applied, and the buffer holds nothing older. Called with mu held.
func (l *lsm[S]) gcLimit(s *snapshot[S]) uint64 {
	limit := l.seq
	for _, sg := range s.segs {
		limit = min(limit, sg.seq)
	}
	if len(s.buf) > 0 {
		limit = min(limit, s.buf[0].seq-1)
	}
	return limit
}

// tier is the size class of a segment: segments of one tier are merged
// together once there are fanout of them.
func (l *lsm[S]) tier(n int) int {
	t := 0
	for x := l.bufMax * fanout; n >= x && t < 40; x *= fanout {
		t++
	}
	return t
}

// schedule starts background merges: of fanout adjacent segments of one
// tier, or of everything when tombstones pile up. Called with mu held.
func (l *lsm[S]) schedule() {
	cur := l.load()
	total := 0
	for _, sg := range cur.segs {
		total += sg.seg.size()
	}
	if cur.tombs.n >= l.bufMax && cur.tombs.n*8 >= total && len(l.merging) == 0 {
		// Seal the buffer too, so that once the merge is in every
		// tombstone up to now can go.
		if len(cur.buf) > 0 {
			next := *cur
			l.seal(&next)
			l.cur.Store(&next)
			cur = &next
		}
		if len(cur.segs) > 0 {
			l.start(slices.Clone(cur.segs), cur.tombs)
			return
		}
	}
	for end := len(cur.segs); end > 0; {
		start := end - 1
		if l.merging[cur.segs[start]] {
			end = start
			continue
		}
		t := l.tier(cur.segs[start].seg.size())
		for start > 0 && !l.merging[cur.segs[start-1]] && l.tier(cur.segs[start-1].seg.size()) == t {
			start--
		}
		if end-start >= fanout {
			l.start(slices.Clone(cur.segs[start:end]), cur.tombs)
		}
		end = start
	}
}

// start merges inputs in a new goroutine. Called with mu held.
func (l *lsm[S]) start(inputs []*sealed[S], tb *tombs) {
	for _, in := range inputs {
		l.merging[in] = true
	}
	l.running++
	seq := l.seq
	go func() {
		out := l.merge(inputs, tb, seq)
		l.mu.Lock()
		defer l.mu.Unlock()
		l.swap(inputs, out)
		l.running--
		l.idle.Broadcast()
		l.schedule()
	}()
}

// merge builds one segment from the live entries of inputs, with the
// tombstones tb, all there were at operation seq, applied: the merged
// segment is sealed at seq.
func (l *lsm[S]) merge(inputs []*sealed[S], tb *tombs, seq uint64) *sealed[S] {
	n := 0
	for _, in := range inputs {
		n += in.seg.size()
	}
	ids := make([]uint64, 0, n)
	keys := make([]key, 0, n)
	for _, in := range inputs {
		for i := range in.seg.size() {
			id, k := in.seg.entry(i)
			if !tb.dead(id, in.seq) {
				ids = append(ids, id)
				keys = append(keys, k)
			}
		}
	}
	if len(keys) == 0 {
		return nil
	}
	return &sealed[S]{l.build(ids, keys), seq}
}

// swap replaces inputs, adjacent in the current list, by out (nil when
// nothing survived). Called with mu held.
func (l *lsm[S]) swap(inputs []*sealed[S], out *sealed[S]) {
	in := make(map[*sealed[S]]bool, len(inputs))
	for _, s := range inputs {
		in[s] = true
		delete(l.merging, s)
	}
	next := *l.load()
	segs := make([]*sealed[S], 0, len(next.segs))
	for _, s := range next.segs {
		if !in[s] {
			segs = append(segs, s)
		} else if out != nil {
			segs, out = append(segs, out), nil
		}
	}
	next.segs = segs
	next.tombs = next.tombs.without(l.gcLimit(&next))
	l.cur.Store(&next)
}

// wait blocks until no merge is running.
func (l *lsm[S]) wait() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.running > 0 {
		l.idle.Wait()
	}
}

// compact seals the buffer and merges everything into one segment, with
// every tombstone applied; it returns when done.
func (l *lsm[S]) compact() {
	l.mu.Lock()
	for l.running > 0 {
		l.idle.Wait()
	}
	next := *l.load()
	if len(next.buf) > 0 {
		l.seal(&next)
		l.cur.Store(&next)
	}
	inputs := slices.Clone(next.segs)
	if len(inputs) == 0 || len(inputs) == 1 && next.tombs.n == 0 {
		l.mu.Unlock()
		return
	}
	for _, in := range inputs {
		l.merging[in] = true
	}
	l.running++
	seq := l.seq
	l.mu.Unlock()
	out := l.merge(inputs, next.tombs, seq)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.swap(inputs, out)
	l.running--
	l.idle.Broadcast()
}

// counts returns the number of stored entries (tombstoned ones included
// until they are merged away), segments, buffered entries and tombstones.
func (l *lsm[S]) counts() (entries, segs, buffered, tombstones, bytes int) {
	s := l.load()
	for _, sg := range s.segs {
		entries += sg.seg.size()
		bytes += sg.seg.bytes()
	}
	bytes += len(s.buf) * int(recordSize)
	return entries + len(s.buf), len(s.segs), len(s.buf), s.tombs.n, bytes
}

const recordSize = 48
