//go:build !(386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm)

package media

import "encoding/binary"

// putPCM16 stores samples as little-endian 16-bit PCM at b, which holds
// 2*len(s) bytes.
func putPCM16(b []byte, s []int16) {
	b = b[:2*len(s)]
	k := 0
	for ; k+4 <= len(s); k += 4 { // four samples per store
		x := s[k : k+4 : k+4]
		binary.LittleEndian.PutUint64(b[2*k:], uint64(uint16(x[0]))|uint64(uint16(x[1]))<<16|
			uint64(uint16(x[2]))<<32|uint64(uint16(x[3]))<<48)
	}
	for ; k < len(s); k++ {
		binary.LittleEndian.PutUint16(b[2*k:], uint16(s[k]))
	}
}
