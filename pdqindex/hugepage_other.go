//go:build !linux

package pdqindex

import "unsafe"

// bigMem allocates on the Go heap where huge pages cannot be asked for.
type bigMem struct{}

func (m *bigMem) bigAlloc(size uintptr) unsafe.Pointer { return nil }

func (m *bigMem) free() {}
