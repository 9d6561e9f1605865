// Package pcaptest builds packets and capture files for tests: frames for
// every link type DecodeUDP understands, and hand-assembled classic pcap and
// pcapng files in either byte order (including blocks package pcap's writers
// never produce).
package pcaptest

import (
	"encoding/binary"
	"net/netip"
)

// MAC addresses used by the Ethernet and Linux cooked builders: source
// 02:00:00:00:00:01, destination 02:00:00:00:00:02 (locally administered).
// Constant tables, never modified.
var (
	srcMAC = [6]byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	dstMAC = [6]byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}
)

// Ethertypes and IP protocol numbers for the builders.
const (
	EtherTypeIPv4 = 0x0800
	EtherTypeARP  = 0x0806
	EtherTypeIPv6 = 0x86dd
	EtherTypeVLAN = 0x8100
	EtherTypeQinQ = 0x88a8
	ProtoTCP      = 6
	ProtoUDP      = 17
	ProtoICMP     = 1
)

// UDP returns a UDP header and payload with a correct checksum for the given
// endpoints (IPv4 or IPv6, both of the same family).
func UDP(src, dst netip.AddrPort, payload []byte) []byte {
	b := make([]byte, 8+len(payload))
	binary.BigEndian.PutUint16(b[0:], src.Port())
	binary.BigEndian.PutUint16(b[2:], dst.Port())
	binary.BigEndian.PutUint16(b[4:], uint16(len(b)))
	copy(b[8:], payload)
	sum := pseudoHeaderSum(src.Addr(), dst.Addr(), ProtoUDP, len(b))
	c := ^fold(sum + onesSum(b))
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(b[6:], c)
	return b
}

// IPv4 returns an IPv4 packet (20-byte header with checksum, TTL 64, DF
// clear) carrying payload with protocol proto.
func IPv4(src, dst netip.Addr, proto uint8, payload []byte) []byte {
	return IPv4Options(src, dst, proto, nil, payload)
}

// IPv4Options is IPv4 with header options; len(options) must be a multiple of
// 4 and at most 40.
func IPv4Options(src, dst netip.Addr, proto uint8, options, payload []byte) []byte {
	hl := 20 + len(options)
	b := make([]byte, hl+len(payload))
	b[0] = 0x40 | byte(hl/4)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[4:], 0x1234) // identification
	b[8] = 64
	b[9] = proto
	s, d := src.As4(), dst.As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	copy(b[20:], options)
	binary.BigEndian.PutUint16(b[10:], ^fold(onesSum(b[:hl])))
	copy(b[hl:], payload)
	return b
}

// IPv4Fragment returns one IPv4 fragment (header checksum included): offset
// in bytes (a multiple of 8), more sets the MF flag.
func IPv4Fragment(src, dst netip.Addr, proto uint8, offset int, more bool, payload []byte) []byte {
	b := IPv4(src, dst, proto, payload)
	f := uint16(offset/8) & 0x1fff
	if more {
		f |= 0x2000
	}
	binary.BigEndian.PutUint16(b[6:], f)
	binary.BigEndian.PutUint16(b[10:], 0)
	binary.BigEndian.PutUint16(b[10:], ^fold(onesSum(b[:20])))
	return b
}

// IPv6 returns an IPv6 packet with next header next and hop limit 64.
func IPv6(src, dst netip.Addr, next uint8, payload []byte) []byte {
	b := make([]byte, 40+len(payload))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)))
	b[6] = next
	b[7] = 64
	s, d := src.As16(), dst.As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	copy(b[40:], payload)
	return b
}

// IPv6Ext returns an IPv6 extension header of type-generic layout (hop-by-hop,
// routing, destination options): next header, length in 8-octet units beyond
// the first, then padding to size bytes (size a multiple of 8, at least 8).
func IPv6Ext(next uint8, size int, rest []byte) []byte {
	b := make([]byte, size+len(rest))
	b[0] = next
	b[1] = byte(size/8 - 1)
	// Fill the option area with one PadN option so the header is valid.
	if size > 2 {
		b[2] = 1
		b[3] = byte(size - 4)
	}
	copy(b[size:], rest)
	return b
}

// IPv6FragmentHeader returns an IPv6 fragment extension header followed by
// rest: offset in bytes (multiple of 8), more sets the M flag.
func IPv6FragmentHeader(next uint8, offset int, more bool, rest []byte) []byte {
	b := make([]byte, 8+len(rest))
	b[0] = next
	f := uint16(offset/8) << 3
	if more {
		f |= 1
	}
	binary.BigEndian.PutUint16(b[2:], f)
	binary.BigEndian.PutUint32(b[4:], 0xcafe)
	copy(b[8:], rest)
	return b
}

// Ethernet returns an Ethernet II frame (no FCS, no padding).
func Ethernet(etherType uint16, payload []byte) []byte {
	b := make([]byte, 14+len(payload))
	copy(b[0:], dstMAC[:])
	copy(b[6:], srcMAC[:])
	binary.BigEndian.PutUint16(b[12:], etherType)
	copy(b[14:], payload)
	return b
}

// Pad appends zero bytes to frame up to n bytes (e.g. 60, Ethernet's minimum
// without FCS) and returns the result.
func Pad(frame []byte, n int) []byte {
	for len(frame) < n {
		frame = append(frame, 0)
	}
	return frame
}

// RawIPv4UDP returns an IPv4/UDP packet (link types RAW, IPV4).
func RawIPv4UDP(src, dst netip.AddrPort, payload []byte) []byte {
	return IPv4(src.Addr(), dst.Addr(), ProtoUDP, UDP(src, dst, payload))
}

// RawIPv6UDP returns an IPv6/UDP packet (link types RAW, IPV6).
func RawIPv6UDP(src, dst netip.AddrPort, payload []byte) []byte {
	return IPv6(src.Addr(), dst.Addr(), ProtoUDP, UDP(src, dst, payload))
}

// EthernetIPv4UDP returns an Ethernet/IPv4/UDP frame.
func EthernetIPv4UDP(src, dst netip.AddrPort, payload []byte) []byte {
	return Ethernet(EtherTypeIPv4, RawIPv4UDP(src, dst, payload))
}

// EthernetIPv6UDP returns an Ethernet/IPv6/UDP frame.
func EthernetIPv6UDP(src, dst netip.AddrPort, payload []byte) []byte {
	return Ethernet(EtherTypeIPv6, RawIPv6UDP(src, dst, payload))
}

// VLAN inserts VLAN tags after the MAC addresses of an Ethernet frame, outer
// tag first. With one tag it is an 802.1Q tag; with several, the outermost is
// an 802.1ad service tag and the others 802.1Q tags. It panics if frame is
// shorter than an Ethernet header (a bug in the calling test).
func VLAN(frame []byte, vids ...uint16) []byte {
	if len(frame) < 14 {
		panic("pcaptest.VLAN: frame shorter than an Ethernet header")
	}
	b := make([]byte, 0, len(frame)+4*len(vids))
	b = append(b, frame[:12]...)
	for i, vid := range vids {
		tpid := uint16(EtherTypeVLAN)
		if i == 0 && len(vids) > 1 {
			tpid = EtherTypeQinQ
		}
		b = binary.BigEndian.AppendUint16(b, tpid)
		b = binary.BigEndian.AppendUint16(b, vid&0x0fff)
	}
	return append(b, frame[12:]...)
}

// SLL returns a Linux cooked capture (v1) header for an incoming unicast
// Ethernet packet of the given protocol, followed by payload.
func SLL(protocol uint16, payload []byte) []byte {
	b := make([]byte, 16+len(payload))
	binary.BigEndian.PutUint16(b[0:], 0) // packet type: to us
	binary.BigEndian.PutUint16(b[2:], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(b[4:], 6) // address length
	copy(b[6:], srcMAC[:])
	binary.BigEndian.PutUint16(b[14:], protocol)
	copy(b[16:], payload)
	return b
}

// SLL2 returns a Linux cooked capture v2 header (interface index 2) followed
// by payload.
func SLL2(protocol uint16, payload []byte) []byte {
	b := make([]byte, 20+len(payload))
	binary.BigEndian.PutUint16(b[0:], protocol)
	binary.BigEndian.PutUint32(b[4:], 2) // interface index
	binary.BigEndian.PutUint16(b[8:], 1) // ARPHRD_ETHER
	b[10] = 0                            // packet type: to us
	b[11] = 6                            // address length
	copy(b[12:], srcMAC[:])
	copy(b[20:], payload)
	return b
}

// SLLIPv4UDP returns a Linux cooked (v1) IPv4/UDP packet.
func SLLIPv4UDP(src, dst netip.AddrPort, payload []byte) []byte {
	return SLL(EtherTypeIPv4, RawIPv4UDP(src, dst, payload))
}

// SLLIPv6UDP returns a Linux cooked (v1) IPv6/UDP packet.
func SLLIPv6UDP(src, dst netip.AddrPort, payload []byte) []byte {
	return SLL(EtherTypeIPv6, RawIPv6UDP(src, dst, payload))
}

// SLL2IPv4UDP returns a Linux cooked v2 IPv4/UDP packet.
func SLL2IPv4UDP(src, dst netip.AddrPort, payload []byte) []byte {
	return SLL2(EtherTypeIPv4, RawIPv4UDP(src, dst, payload))
}

// SLL2IPv6UDP returns a Linux cooked v2 IPv6/UDP packet.
func SLL2IPv6UDP(src, dst netip.AddrPort, payload []byte) []byte {
	return SLL2(EtherTypeIPv6, RawIPv6UDP(src, dst, payload))
}

// Loopback returns a BSD loopback header (4-byte address family in the given
// byte order) followed by payload. LINKTYPE_NULL uses the capturing host's
// order, LINKTYPE_LOOP network order.
func Loopback(order binary.ByteOrder, family uint32, payload []byte) []byte {
	b := make([]byte, 4+len(payload))
	order.PutUint32(b, family)
	copy(b[4:], payload)
	return b
}

// NullIPv4UDP returns a LINKTYPE_NULL IPv4/UDP packet as captured on a
// little-endian host (family AF_INET = 2).
func NullIPv4UDP(src, dst netip.AddrPort, payload []byte) []byte {
	return Loopback(binary.LittleEndian, 2, RawIPv4UDP(src, dst, payload))
}

// NullIPv6UDP returns a LINKTYPE_NULL IPv6/UDP packet as captured on a
// little-endian macOS host (family AF_INET6 = 30).
func NullIPv6UDP(src, dst netip.AddrPort, payload []byte) []byte {
	return Loopback(binary.LittleEndian, 30, RawIPv6UDP(src, dst, payload))
}

// LoopIPv4UDP returns a LINKTYPE_LOOP IPv4/UDP packet (network byte order family).
func LoopIPv4UDP(src, dst netip.AddrPort, payload []byte) []byte {
	return Loopback(binary.BigEndian, 2, RawIPv4UDP(src, dst, payload))
}

// LoopIPv6UDP returns a LINKTYPE_LOOP IPv6/UDP packet (OpenBSD AF_INET6 = 24).
func LoopIPv6UDP(src, dst netip.AddrPort, payload []byte) []byte {
	return Loopback(binary.BigEndian, 24, RawIPv6UDP(src, dst, payload))
}

// onesSum returns the 32-bit ones'-complement accumulation of b.
func onesSum(b []byte) uint32 {
	var s uint32
	for len(b) >= 2 {
		s += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

func fold(s uint32) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

func pseudoHeaderSum(src, dst netip.Addr, proto uint8, length int) uint32 {
	s := onesSum(src.AsSlice()) + onesSum(dst.AsSlice())
	return s + uint32(proto) + uint32(length)
}

// RTP returns an RTP packet (RFC 3550 fixed header, version 2, no CSRCs,
// no extension) with the given payload type, sequence number, timestamp,
// SSRC and marker bit.
func RTP(pt uint8, seq uint16, ts, ssrc uint32, marker bool, payload []byte) []byte {
	b := make([]byte, 12+len(payload))
	b[0] = 0x80
	b[1] = pt & 0x7f
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	copy(b[12:], payload)
	return b
}
