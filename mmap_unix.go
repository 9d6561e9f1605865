//go:build unix

package main

import (
	"fmt"
	"os"
	"syscall"
)

// mapFile maps size bytes of f read-only. The pages come from the page
// cache as they are touched (and are populated ahead), so the capture is not
// copied onto the heap. The caller unmaps with the returned function.
func mapFile(f *os.File, size int64) ([]byte, func(), error) {
	if size == 0 {
		return nil, func() {}, nil
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED|mapPopulate)
	if err != nil {
		return nil, nil, fmt.Errorf("map capture: %w", err)
	}
	return b, func() { _ = syscall.Munmap(b) }, nil
}
