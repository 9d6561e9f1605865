package pcap

import (
	"encoding/binary"
	"net/netip"
)

// UDP is one decoded UDP datagram.
type UDP struct {
	Src, Dst netip.AddrPort
	Payload  []byte // sub-slice of the packet data, no copy
}

// Ethertypes and loopback address families.
const (
	etherTypeIPv4   = 0x0800
	etherTypeARP    = 0x0806
	etherTypeIPv6   = 0x86dd
	etherTypeVLAN   = 0x8100 // 802.1Q customer tag
	etherTypeQinQ   = 0x88a8 // 802.1ad service tag
	etherTypeQinQ91 = 0x9100 // pre-standard QinQ
	etherTypeQinQ92 = 0x9200
	etherTypeQinQ93 = 0x9300
	maxVLANTags     = 8

	familyInet       = 2
	familyInet6BSD   = 24 // NetBSD, OpenBSD
	familyInet6Free  = 28 // FreeBSD
	familyInet6Apple = 30 // macOS
)

// DecodeUDP walks link layer → IP → UDP and fills out. It does not allocate.
//
// It returns an error wrapping ErrNotUDP for valid packets that carry no
// complete UDP datagram (other IP protocols, other ethertypes, IP fragments),
// ErrUnsupportedLink for link types it does not know, and ErrMalformedPacket
// for invalid or cut-short headers. The UDP length field decides the payload
// length, so Ethernet padding and trailers are dropped. Checksums are not
// verified (senders' captures often carry offloaded, unfilled checksums).
func DecodeUDP(lt LinkType, data []byte, out *UDP) error {
	switch lt {
	case LinkEthernet:
		if len(data) < 14 {
			return errShortEthernet
		}
		return decodeEtherType(binary.BigEndian.Uint16(data[12:]), data[14:], out)
	case LinkLinuxSLL:
		if len(data) < 16 {
			return errShortSLL
		}
		return decodeEtherType(binary.BigEndian.Uint16(data[14:]), data[16:], out)
	case LinkLinuxSLL2:
		if len(data) < 20 {
			return errShortSLL2
		}
		return decodeEtherType(binary.BigEndian.Uint16(data[0:]), data[20:], out)
	case LinkNull, LinkLoop:
		if len(data) < 4 {
			return errShortNull
		}
		// LinkNull stores the family in the capturing host's byte order and
		// LinkLoop in network order; accept either for both, as all valid
		// families are below 256 and so cannot be confused.
		fam := binary.BigEndian.Uint32(data)
		if fam > 0xffff {
			fam = binary.LittleEndian.Uint32(data)
		}
		switch fam {
		case familyInet:
			return decodeIPv4(data[4:], out)
		case familyInet6BSD, familyInet6Free, familyInet6Apple:
			return decodeIPv6(data[4:], out)
		}
		return errNullFamily
	case LinkRaw, LinkRaw12, LinkRaw14:
		if len(data) == 0 {
			return errShortIPv4
		}
		switch data[0] >> 4 {
		case 4:
			return decodeIPv4(data, out)
		case 6:
			return decodeIPv6(data, out)
		}
		return errNoIP
	case LinkIPv4:
		return decodeIPv4(data, out)
	case LinkIPv6:
		return decodeIPv6(data, out)
	}
	return errUnsupportedLink
}

// decodeEtherType dispatches on an ethertype, skipping VLAN tags.
func decodeEtherType(et uint16, p []byte, out *UDP) error {
	for tags := 0; ; tags++ {
		switch et {
		case etherTypeIPv4:
			return decodeIPv4(p, out)
		case etherTypeIPv6:
			return decodeIPv6(p, out)
		case etherTypeVLAN, etherTypeQinQ, etherTypeQinQ91, etherTypeQinQ92, etherTypeQinQ93:
			if tags >= maxVLANTags {
				return errTooManyTags
			}
			if len(p) < 4 {
				return errShortVLAN
			}
			et = binary.BigEndian.Uint16(p[2:])
			p = p[4:]
		case etherTypeARP:
			return errARP
		default:
			if et < 0x0600 {
				return errLLC
			}
			return errEtherType
		}
	}
}
