package pdqindex

import (
	"sync"
	"syscall"
	"unsafe"
)

// hugePage is the size of a transparent huge page on the platforms Go
// supports; the kernel rounds the advice to what it really uses.
const hugePage = 2 << 20

// bigMem allocates a segment's large arrays outside the Go heap, in
// anonymous mappings advised to use transparent huge pages (madvise
// MADV_HUGEPAGE: no privilege needed, and a no-op where THP is "never").
// A query's loads land at random in arrays of hundreds of megabytes: with
// 4 KiB pages nearly every one also misses the TLB, and in a virtual
// machine a page walk is itself several cache misses; with 2 MiB pages the
// TLB covers a 10M index. The Go heap cannot be advised reliably: memory
// it reuses has already been faulted in with small pages when it is
// zeroed. The mappings are unmapped by a cleanup once the segment is
// unreachable. Only arrays without pointers are allocated here.
type bigMem struct {
	mu   sync.Mutex
	maps []mapping
}

type mapping struct {
	b    []byte
	size int // bytes in use, as counted in mappedBytes
}

// bigAlloc returns size zeroed bytes, 2 MiB aligned, or nil when a
// mapping fails (the caller then uses the heap).
func (m *bigMem) bigAlloc(size uintptr) unsafe.Pointer {
	// Map a huge page more than asked, to align the start. Only the whole
	// huge pages inside the array are advised: a huge page over its end
	// would hold up to 2 MiB that nothing uses, and the unused head and
	// tail of the mapping are never touched, so never resident.
	b, err := syscall.Mmap(-1, 0, int(size+hugePage), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	off := (hugePage - uintptr(p)%hugePage) % hugePage
	if whole := size &^ (hugePage - 1); whole > 0 {
		_ = syscall.Madvise(b[off:off+whole], syscall.MADV_HUGEPAGE) // advice only
	}
	m.mu.Lock()
	m.maps = append(m.maps, mapping{b, int(size)})
	m.mu.Unlock()
	mappedBytes.Add(int64(size))
	return unsafe.Add(p, off)
}

// free unmaps everything; called once nothing refers to the arrays.
func (m *bigMem) free() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, mp := range m.maps {
		mappedBytes.Add(-int64(mp.size))
		_ = syscall.Munmap(mp.b)
	}
	m.maps = nil
}
