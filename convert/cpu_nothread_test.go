//go:build !linux

package convert

// threadCPU is not measured here.
func threadCPU() int64 { return 0 }
