//go:build 386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm

package media

import "unsafe"

// putPCM16 stores samples as little-endian 16-bit PCM at b, which holds
// 2*len(s) bytes. On a little-endian machine that is their memory image: one
// copy.
func putPCM16(b []byte, s []int16) {
	if len(s) == 0 {
		return
	}
	copy(b, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), 2*len(s)))
}
