//go:build linux

package convert

import "syscall"

// threadCPU returns the calling thread's user+system CPU time in ns (lock
// the goroutine to its thread around the measurement), or -1.
func threadCPU() int64 {
	const rusageThread = 1 // RUSAGE_THREAD
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
