package store

import "syscall"

// rusageThread is Linux's RUSAGE_THREAD: the calling thread's usage only.
const rusageThread = 1

// threadCPU returns the CPU time (user + system) the calling OS thread has
// used; the caller locks its goroutine to the thread. A query through the
// modernc driver runs on the calling goroutine, so the difference around
// one call is that call's own CPU time, whatever else the machine is doing.
func threadCPU() (int64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, false
	}
	return syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime), true
}
