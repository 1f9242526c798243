package pdqindex

import (
	"runtime"
	"sync/atomic"
	"unsafe"
)

// bigMin is the smallest array worth a mapping of its own: one huge page
// (a 1M index gains some 4% from mapping its 3 MB tables too).
const bigMin = 2 << 20

// mappedBytes is the memory bigMem holds outside the Go heap, for
// reports.
var mappedBytes atomic.Int64

// makeBig returns a zeroed slice of n elements, from m's mappings when it
// is large (see bigMem) and from the heap otherwise. T must hold no
// pointers.
func makeBig[T any](m *bigMem, n int) []T {
	var zero T
	size := uintptr(n) * unsafe.Sizeof(zero)
	if m != nil && size >= bigMin {
		if p := m.bigAlloc(size); p != nil {
			return unsafe.Slice((*T)(p), n)
		}
	}
	return make([]T, n)
}

// releaseWith arranges for m's mappings to be unmapped once owner, which
// holds every slice allocated from m, is unreachable.
func releaseWith[T any](owner *T, m *bigMem) {
	runtime.AddCleanup(owner, func(m *bigMem) { m.free() }, m)
}
