package pcap

import (
	"encoding/binary"
	"net/netip"
)

const (
	protoHopByHop = 0
	protoUDP      = 17
	protoRouting  = 43
	protoFragment = 44
	protoAH       = 51
	protoDstOpts  = 60
	protoMobility = 135
	protoHIP      = 139
	protoShim6    = 140
)

// decodeIPv4 decodes an IPv4 packet that must carry UDP. The total length
// field bounds the payload (link-layer padding is ignored); a total length of
// 0 (offloaded, not yet filled in) means the captured length.
func decodeIPv4(p []byte, out *UDP) error {
	if len(p) < 20 {
		return errShortIPv4
	}
	if p[0]>>4 != 4 {
		return errIPVersion
	}
	ihl := int(p[0]&0x0f) * 4
	if ihl < 20 {
		return errIPv4IHL
	}
	if len(p) < ihl {
		return errShortIPv4
	}
	total := int(binary.BigEndian.Uint16(p[2:]))
	if total == 0 {
		// Captured on the sending host with segmentation offload, the
		// length is filled in later by the NIC: use the captured length.
		total = len(p)
	}
	if total < ihl {
		return errIPv4TotalLen
	}
	if total > len(p) {
		return errIPv4Cut
	}
	frag := binary.BigEndian.Uint16(p[6:])
	if frag&0x1fff != 0 {
		return errFragment
	}
	if proto := p[9]; proto != protoUDP {
		return protoError(proto)
	}
	if frag&0x2000 != 0 { // more fragments
		return errFirstFragment
	}
	src := netip.AddrFrom4([4]byte(p[12:16]))
	dst := netip.AddrFrom4([4]byte(p[16:20]))
	return decodeUDPHeader(p[ihl:total], src, dst, out)
}

// decodeIPv6 decodes an IPv6 packet that must carry UDP, skipping extension
// headers.
func decodeIPv6(p []byte, out *UDP) error {
	if len(p) < 40 {
		return errShortIPv6
	}
	if p[0]>>4 != 6 {
		return errIPVersion
	}
	plen := int(binary.BigEndian.Uint16(p[4:]))
	if plen == 0 && p[6] == protoHopByHop {
		// A jumbogram: the real length is in a hop-by-hop option.
		return errIPv6Jumbo
	}
	end := 40 + plen
	if end > len(p) {
		return errIPv6Cut
	}
	next := p[6]
	off := 40
	for {
		var n int
		switch next {
		case protoUDP:
			src := netip.AddrFrom16([16]byte(p[8:24]))
			dst := netip.AddrFrom16([16]byte(p[24:40]))
			return decodeUDPHeader(p[off:end], src, dst, out)
		case protoHopByHop, protoRouting, protoDstOpts, protoMobility, protoHIP, protoShim6:
			if end-off < 8 {
				return errIPv6ExtHeader
			}
			n = (int(p[off+1]) + 1) * 8
		case protoAH:
			if end-off < 8 {
				return errIPv6ExtHeader
			}
			n = (int(p[off+1]) + 2) * 4
		case protoFragment:
			if end-off < 8 {
				return errIPv6ExtHeader
			}
			fo := binary.BigEndian.Uint16(p[off+2:])
			if fo&0xfff8 != 0 {
				return errFragment
			}
			if fo&1 != 0 {
				return errFirstFragment
			}
			n = 8 // atomic fragment: the whole datagram follows
		default:
			return protoError(next)
		}
		if n > end-off {
			return errIPv6ExtHeader
		}
		next = p[off]
		off += n
	}
}

// decodeUDPHeader decodes the UDP header at the start of p (the IP payload).
func decodeUDPHeader(p []byte, src, dst netip.Addr, out *UDP) error {
	if len(p) < 8 {
		return errShortUDP
	}
	ulen := int(binary.BigEndian.Uint16(p[4:]))
	if ulen < 8 {
		return errUDPLength
	}
	if ulen > len(p) {
		return errUDPCut
	}
	out.Src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(p[0:]))
	out.Dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(p[2:]))
	out.Payload = p[8:ulen]
	return nil
}
