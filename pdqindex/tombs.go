package pdqindex

import (
	"cmp"
	"slices"
)

// tomb records that id was removed by the operation numbered seq: entries
// with that id added before seq are dead, entries added after are not.
type tomb struct {
	id, seq uint64
}

// tombs is an immutable set of tombstones, shared by snapshots. It is a
// small log-structured set: runs sorted by id, each at most half the size
// of the one before, so adding one copies O(log n) entries amortised and a
// lookup is a binary search per run.
type tombs struct {
	runs [][]tomb
	n    int
}

var noTombs = &tombs{}

// dead reports whether an entry with id, stored by operation seq (or in a
// segment sealed at seq), has been removed since.
func (t *tombs) dead(id, seq uint64) bool {
	if t.n == 0 {
		return false
	}
	for _, run := range t.runs {
		if i, ok := slices.BinarySearchFunc(run, id, func(x tomb, id uint64) int {
			return cmp.Compare(x.id, id)
		}); ok && run[i].seq > seq {
			return true
		}
	}
	return false
}

// with returns the set plus add (sorted by id, one per id).
func (t *tombs) with(add []tomb) *tombs {
	if len(add) == 0 {
		return t
	}
	runs := append(slices.Clip(t.runs), add)
	for len(runs) >= 2 && len(runs[len(runs)-2]) <= 2*len(runs[len(runs)-1]) {
		a, b := runs[len(runs)-2], runs[len(runs)-1]
		runs = append(runs[:len(runs)-2], mergeTombs(a, b))
	}
	n := 0
	for _, r := range runs {
		n += len(r)
	}
	return &tombs{runs: runs, n: n}
}

// mergeTombs merges two runs, keeping the later removal of an id.
func mergeTombs(a, b []tomb) []tomb {
	out := make([]tomb, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		switch {
		case a[0].id < b[0].id:
			out, a = append(out, a[0]), a[1:]
		case a[0].id > b[0].id:
			out, b = append(out, b[0]), b[1:]
		default:
			out = append(out, tomb{a[0].id, max(a[0].seq, b[0].seq)})
			a, b = a[1:], b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// without drops the tombstones at or below seq: every entry they could hide
// has been dropped from the segments already.
func (t *tombs) without(seq uint64) *tombs {
	var keep []tomb
	drop := false
	for _, run := range t.runs {
		for _, x := range run {
			if x.seq > seq {
				keep = append(keep, x)
			} else {
				drop = true
			}
		}
	}
	if !drop {
		return t
	}
	if len(keep) == 0 {
		return noTombs
	}
	// By id, the latest removal first, which Compact keeps.
	slices.SortFunc(keep, func(a, b tomb) int {
		return cmp.Or(cmp.Compare(a.id, b.id), cmp.Compare(b.seq, a.seq))
	})
	keep = slices.CompactFunc(keep, func(a, b tomb) bool { return a.id == b.id })
	return &tombs{runs: [][]tomb{keep}, n: len(keep)}
}
