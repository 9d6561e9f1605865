package pcap

import "strconv"

// LinkType is a pcap link-layer header type (LINKTYPE_/DLT_ value).
type LinkType uint32

// Link types understood by DecodeUDP.
const (
	LinkNull      LinkType = 0   // BSD loopback, 4-byte address family in the capturing host's byte order
	LinkEthernet  LinkType = 1   // IEEE 802.3 Ethernet
	LinkRaw12     LinkType = 12  // raw IPv4/IPv6 (DLT_RAW on some BSDs)
	LinkRaw14     LinkType = 14  // raw IPv4/IPv6 (DLT_RAW on other BSDs)
	LinkRaw       LinkType = 101 // raw IPv4/IPv6 (LINKTYPE_RAW)
	LinkLoop      LinkType = 108 // OpenBSD loopback, 4-byte address family in network byte order
	LinkLinuxSLL  LinkType = 113 // Linux cooked capture v1
	LinkIPv4      LinkType = 228 // raw IPv4
	LinkIPv6      LinkType = 229 // raw IPv6
	LinkLinuxSLL2 LinkType = 276 // Linux cooked capture v2
)

// String returns the LINKTYPE_ name of known link types and the number otherwise.
func (lt LinkType) String() string {
	switch lt {
	case LinkNull:
		return "NULL"
	case LinkEthernet:
		return "ETHERNET"
	case LinkRaw12, LinkRaw14, LinkRaw:
		return "RAW"
	case LinkLoop:
		return "LOOP"
	case LinkLinuxSLL:
		return "LINUX_SLL"
	case LinkIPv4:
		return "IPV4"
	case LinkIPv6:
		return "IPV6"
	case LinkLinuxSLL2:
		return "LINUX_SLL2"
	}
	return "LINKTYPE(" + strconv.FormatUint(uint64(lt), 10) + ")"
}
