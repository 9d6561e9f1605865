//go:build !unix

package convert

func processCPU() int64 { return -1 }
