//go:build linux

package health

import (
	"fmt"
	"syscall"
)

// DiskSpace returns the bytes available to unprivileged users and the total
// size of the file system holding path.
func DiskSpace(path string) (free, total uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, 0, fmt.Errorf("statfs %s: %w", path, err)
	}
	// Bsize is int32 on 32-bit ARM and int64 elsewhere.
	bs := uint64(st.Bsize)
	return uint64(st.Bavail) * bs, uint64(st.Blocks) * bs, nil
}
