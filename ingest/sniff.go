package ingest

import "encoding/binary"

// magicLen is how many leading bytes identify a capture file.
const magicLen = 4

// looksLikeCapture reports whether b starts with a classic pcap magic
// number (micro- or nanosecond, either byte order, or the "modified" pcap
// variant) or a pcapng section header block type.
func looksLikeCapture(b []byte) bool {
	if len(b) < magicLen {
		return false
	}
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4, 0xd4c3b2a1, // microseconds
		0xa1b23c4d, 0x4d3cb2a1, // nanoseconds
		0xa1b2cd34, 0x34cdb2a1, // modified pcap
		0x0a0d0d0a: // pcapng section header block (a palindrome)
		return true
	}
	return false
}
