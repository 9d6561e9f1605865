package pcap

import "strconv"

// decodeError is an allocation-free error of DecodeUDP: a small integer that
// indexes a constant table. Converting a one-byte value to an interface does
// not allocate.
type decodeError uint8

const (
	errUnsupportedLink decodeError = iota
	errShortEthernet
	errTooManyTags
	errShortVLAN
	errShortSLL
	errShortSLL2
	errShortNull
	errNullFamily
	errARP
	errLLC
	errEtherType
	errNoIP
	errIPVersion
	errShortIPv4
	errIPv4IHL
	errIPv4TotalLen
	errIPv4Cut
	errFragment
	errFirstFragment
	errShortIPv6
	errIPv6Jumbo
	errIPv6Cut
	errIPv6ExtHeader
	errShortUDP
	errUDPLength
	errUDPCut
)

var decodeErrors = [...]struct {
	msg     string
	notUDP  bool // else malformed
	badLink bool
}{
	errUnsupportedLink: {msg: "unsupported link type", badLink: true},
	errShortEthernet:   {msg: "Ethernet header cut short"},
	errTooManyTags:     {msg: "more than 8 VLAN tags"},
	errShortVLAN:       {msg: "VLAN tag cut short"},
	errShortSLL:        {msg: "Linux cooked (SLL) header cut short"},
	errShortSLL2:       {msg: "Linux cooked v2 (SLL2) header cut short"},
	errShortNull:       {msg: "loopback header cut short"},
	errNullFamily:      {msg: "loopback address family is not IPv4 or IPv6", notUDP: true},
	errARP:             {msg: "ARP", notUDP: true},
	errLLC:             {msg: "802.3 frame with LLC header", notUDP: true},
	errEtherType:       {msg: "ethertype is not IPv4 or IPv6", notUDP: true},
	errNoIP:            {msg: "raw packet is not IPv4 or IPv6", notUDP: true},
	errIPVersion:       {msg: "IP version does not match the link or ethertype"},
	errShortIPv4:       {msg: "IPv4 header cut short"},
	errIPv4IHL:         {msg: "IPv4 header length below 20"},
	errIPv4TotalLen:    {msg: "IPv4 total length smaller than its header"},
	errIPv4Cut:         {msg: "IPv4 packet cut short (total length exceeds captured data)"},
	errFragment:        {msg: "non-first IP fragment", notUDP: true},
	errFirstFragment:   {msg: "first IP fragment (fragments are not reassembled)", notUDP: true},
	errShortIPv6:       {msg: "IPv6 header cut short"},
	errIPv6Jumbo:       {msg: "IPv6 jumbogram (payload length 0) not supported"},
	errIPv6Cut:         {msg: "IPv6 packet cut short (payload length exceeds captured data)"},
	errIPv6ExtHeader:   {msg: "IPv6 extension header overruns the packet"},
	errShortUDP:        {msg: "UDP header cut short"},
	errUDPLength:       {msg: "UDP length below 8"},
	errUDPCut:          {msg: "UDP length exceeds the IP payload"},
}

func (e decodeError) Error() string {
	return e.Unwrap().Error() + ": " + decodeErrors[e].msg
}

func (e decodeError) Unwrap() error {
	d := decodeErrors[e]
	switch {
	case d.badLink:
		return ErrUnsupportedLink
	case d.notUDP:
		return ErrNotUDP
	}
	return ErrMalformedPacket
}

// protoError reports an IP packet whose transport protocol is not UDP.
type protoError uint8

func (e protoError) Error() string {
	s := ErrNotUDP.Error() + ": IP protocol " + strconv.Itoa(int(e))
	if name := protoName(uint8(e)); name != "" {
		s += " (" + name + ")"
	}
	return s
}

func (e protoError) Unwrap() error { return ErrNotUDP }

func protoName(p uint8) string {
	switch p {
	case 1:
		return "ICMP"
	case 2:
		return "IGMP"
	case 6:
		return "TCP"
	case 47:
		return "GRE"
	case 50:
		return "ESP"
	case 58:
		return "ICMPv6"
	case 59:
		return "no next header"
	case 132:
		return "SCTP"
	}
	return ""
}
