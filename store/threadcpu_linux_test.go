package store

import (
	"syscall"
	"unsafe"
)

// clockThreadCPUTime is Linux's CLOCK_THREAD_CPUTIME_ID: the calling
// thread's CPU time, kept in nanoseconds by the scheduler (getrusage's
// per-thread times advance only by clock ticks, 4 ms here).
const clockThreadCPUTime = 3

// threadCPU returns the CPU time (user + system) the calling OS thread has
// used, in ns; the caller locks its goroutine to the thread. A query
// through the modernc driver runs on the calling goroutine, so the
// difference around one call is that call's own CPU time, whatever else
// the machine is doing.
func threadCPU() (int64, bool) {
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0, false
	}
	return ts.Nano(), true
}
