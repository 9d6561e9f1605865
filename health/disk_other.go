//go:build !linux

package health

import "errors"

// DiskSpace is only implemented on Linux, the appliance's system.
func DiskSpace(path string) (free, total uint64, err error) {
	return 0, 0, errors.New("disk space: not supported on this system")
}
