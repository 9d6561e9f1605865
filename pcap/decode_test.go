package pcap_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"recordings/pcap"
	"recordings/pcap/pcaptest"
)

func TestDecodeUDP(t *testing.T) {
	payload := []byte("RTP-ish payload!")
	udp4 := pcaptest.UDP(v4a, v4b, payload)
	udp6 := pcaptest.UDP(v6a, v6b, payload)
	ip4 := pcaptest.RawIPv4UDP(v4a, v4b, payload)
	ip6 := pcaptest.RawIPv6UDP(v6a, v6b, payload)
	eth4 := pcaptest.EthernetIPv4UDP(v4a, v4b, payload)
	src4, dst4 := v4a.Addr(), v4b.Addr()
	src6, dst6 := v6a.Addr(), v6b.Addr()
	ext := func(next uint8, rest []byte) []byte { return pcaptest.IPv6Ext(next, 8, rest) }

	// set returns a copy of b with b[off:] overwritten by v.
	set := func(b []byte, off int, v ...byte) []byte {
		b = bytes.Clone(b)
		copy(b[off:], v)
		return b
	}
	be16 := func(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

	for _, tc := range []struct {
		name    string
		lt      pcap.LinkType
		data    []byte
		want    error  // nil: decodes to v4a→v4b or v6a→v6b with payload
		wantMsg string // substring of the error message
		v6      bool
		payload []byte // when not the default payload
	}{
		// Decodes.
		{name: "ethernet padded to 60 plus FCS", lt: pcap.LinkEthernet,
			data: append(pcaptest.Pad(pcaptest.EthernetIPv4UDP(v4a, v4b, []byte{7}), 60), 0xde, 0xad, 0xbe, 0xef), payload: []byte{7}},
		{name: "ipv6 trailing bytes ignored", lt: pcap.LinkRaw, data: append(bytes.Clone(ip6), 1, 2, 3, 4), v6: true},
		{name: "empty UDP payload", lt: pcap.LinkRaw, data: pcaptest.RawIPv4UDP(v4a, v4b, nil), payload: []byte{}},
		{name: "ipv4 options IHL 6", lt: pcap.LinkIPv4, data: pcaptest.IPv4Options(src4, dst4, 17, []byte{1, 1, 1, 0}, udp4)},
		{name: "ipv4 options IHL 15", lt: pcap.LinkIPv4, data: pcaptest.IPv4Options(src4, dst4, 17, make([]byte, 40), udp4)},
		{name: "ipv4 total length 0 (offload)", lt: pcap.LinkRaw, data: set(ip4, 2, 0, 0)},
		{name: "ipv4 total length 0 with padding", lt: pcap.LinkEthernet,
			data: set(pcaptest.Pad(pcaptest.EthernetIPv4UDP(v4a, v4b, []byte{9}), 60), 16, 0, 0), payload: []byte{9}},
		{name: "ipv4 DF set", lt: pcap.LinkIPv4, data: set(ip4, 6, 0x40, 0)},
		{name: "eight VLAN tags", lt: pcap.LinkEthernet, data: pcaptest.VLAN(eth4, 1, 2, 3, 4, 5, 6, 7, 8)},
		{name: "sll VLAN tag", lt: pcap.LinkLinuxSLL, data: pcaptest.SLL(pcaptest.EtherTypeVLAN, append([]byte{0, 5, 8, 0}, ip4...))},
		{name: "ipv6 hop-by-hop, routing, dstopts", lt: pcap.LinkIPv6, v6: true,
			data: pcaptest.IPv6(src6, dst6, 0, ext(43, pcaptest.IPv6Ext(60, 24, ext(17, udp6))))},
		{name: "ipv6 atomic fragment", lt: pcap.LinkIPv6, v6: true,
			data: pcaptest.IPv6(src6, dst6, 44, pcaptest.IPv6FragmentHeader(17, 0, false, udp6))},
		{name: "ipv6 AH", lt: pcap.LinkIPv6, v6: true,
			data: pcaptest.IPv6(src6, dst6, 51, append([]byte{17, 4, 0, 0}, append(make([]byte, 20), udp6...)...))},
		{name: "null family 24", lt: pcap.LinkNull, v6: true, data: pcaptest.Loopback(binary.LittleEndian, 24, ip6)},
		{name: "loop little-endian family", lt: pcap.LinkLoop, data: pcaptest.Loopback(binary.LittleEndian, 2, ip4)},

		// Not UDP.
		{name: "tcp", lt: pcap.LinkEthernet, data: pcaptest.Ethernet(0x0800, pcaptest.IPv4(src4, dst4, 6, make([]byte, 20))),
			want: pcap.ErrNotUDP, wantMsg: "IP protocol 6 (TCP)"},
		{name: "icmp", lt: pcap.LinkRaw, data: pcaptest.IPv4(src4, dst4, 1, make([]byte, 8)), want: pcap.ErrNotUDP, wantMsg: "ICMP"},
		{name: "icmpv6", lt: pcap.LinkRaw, data: pcaptest.IPv6(src6, dst6, 58, make([]byte, 8)), want: pcap.ErrNotUDP, wantMsg: "ICMPv6"},
		{name: "ipv6 hop-by-hop then tcp", lt: pcap.LinkRaw, data: pcaptest.IPv6(src6, dst6, 0, ext(6, make([]byte, 20))),
			want: pcap.ErrNotUDP, wantMsg: "TCP"},
		{name: "ipv6 no next header", lt: pcap.LinkRaw, data: pcaptest.IPv6(src6, dst6, 59, nil), want: pcap.ErrNotUDP},
		{name: "ipv6 no next header, empty", lt: pcap.LinkRaw, data: pcaptest.IPv6(src6, dst6, 0, ext(59, nil)), want: pcap.ErrNotUDP},
		{name: "ipv6 ESP", lt: pcap.LinkRaw, data: pcaptest.IPv6(src6, dst6, 50, make([]byte, 16)), want: pcap.ErrNotUDP, wantMsg: "ESP"},
		{name: "arp", lt: pcap.LinkEthernet, data: pcaptest.Ethernet(0x0806, make([]byte, 28)), want: pcap.ErrNotUDP, wantMsg: "ARP"},
		{name: "lldp", lt: pcap.LinkEthernet, data: pcaptest.Ethernet(0x88cc, make([]byte, 28)), want: pcap.ErrNotUDP, wantMsg: "ethertype"},
		{name: "802.3 LLC", lt: pcap.LinkEthernet, data: pcaptest.Ethernet(46, make([]byte, 46)), want: pcap.ErrNotUDP, wantMsg: "LLC"},
		{name: "vlan then arp", lt: pcap.LinkEthernet, data: pcaptest.VLAN(pcaptest.Ethernet(0x0806, make([]byte, 28)), 7), want: pcap.ErrNotUDP},
		{name: "ipv4 first fragment", lt: pcap.LinkRaw, data: pcaptest.IPv4Fragment(src4, dst4, 17, 0, true, udp4),
			want: pcap.ErrNotUDP, wantMsg: "first IP fragment"},
		{name: "ipv4 non-first fragment", lt: pcap.LinkRaw, data: pcaptest.IPv4Fragment(src4, dst4, 17, 1480, false, payload),
			want: pcap.ErrNotUDP, wantMsg: "non-first"},
		{name: "ipv4 middle fragment", lt: pcap.LinkRaw, data: pcaptest.IPv4Fragment(src4, dst4, 17, 8, true, payload),
			want: pcap.ErrNotUDP, wantMsg: "non-first"},
		{name: "ipv6 first fragment", lt: pcap.LinkRaw, data: pcaptest.IPv6(src6, dst6, 44, pcaptest.IPv6FragmentHeader(17, 0, true, udp6)),
			want: pcap.ErrNotUDP, wantMsg: "first IP fragment"},
		{name: "ipv6 last fragment", lt: pcap.LinkRaw, data: pcaptest.IPv6(src6, dst6, 0, ext(44, pcaptest.IPv6FragmentHeader(17, 16, false, payload))),
			want: pcap.ErrNotUDP, wantMsg: "non-first"},
		{name: "raw version 5", lt: pcap.LinkRaw, data: set(ip4, 0, 0x55), want: pcap.ErrNotUDP},
		{name: "null family 7", lt: pcap.LinkNull, data: pcaptest.Loopback(binary.LittleEndian, 7, ip4), want: pcap.ErrNotUDP},

		// Unsupported link types.
		{name: "link 147", lt: 147, data: eth4, want: pcap.ErrUnsupportedLink},
		{name: "link 9 (PPP)", lt: 9, data: eth4, want: pcap.ErrUnsupportedLink},

		// Malformed.
		{name: "empty ethernet", lt: pcap.LinkEthernet, data: nil, want: pcap.ErrMalformedPacket},
		{name: "short ethernet", lt: pcap.LinkEthernet, data: eth4[:13], want: pcap.ErrMalformedPacket},
		{name: "ethernet without IP", lt: pcap.LinkEthernet, data: eth4[:14], want: pcap.ErrMalformedPacket},
		{name: "nine VLAN tags", lt: pcap.LinkEthernet, data: pcaptest.VLAN(eth4, 1, 2, 3, 4, 5, 6, 7, 8, 9), want: pcap.ErrMalformedPacket},
		{name: "VLAN tag cut", lt: pcap.LinkEthernet, data: pcaptest.VLAN(eth4, 5)[:16], want: pcap.ErrMalformedPacket},
		{name: "short sll", lt: pcap.LinkLinuxSLL, data: make([]byte, 15), want: pcap.ErrMalformedPacket},
		{name: "short sll2", lt: pcap.LinkLinuxSLL2, data: make([]byte, 19), want: pcap.ErrMalformedPacket},
		{name: "short null", lt: pcap.LinkNull, data: []byte{2, 0, 0}, want: pcap.ErrMalformedPacket},
		{name: "short loop", lt: pcap.LinkLoop, data: nil, want: pcap.ErrMalformedPacket},
		{name: "empty raw", lt: pcap.LinkRaw, data: nil, want: pcap.ErrMalformedPacket},
		{name: "empty ipv4", lt: pcap.LinkIPv4, data: nil, want: pcap.ErrMalformedPacket},
		{name: "empty ipv6", lt: pcap.LinkIPv6, data: nil, want: pcap.ErrMalformedPacket},
		{name: "ipv6 on LinkIPv4", lt: pcap.LinkIPv4, data: ip6, want: pcap.ErrMalformedPacket, wantMsg: "version"},
		{name: "ipv4 on LinkIPv6", lt: pcap.LinkIPv6, data: append(bytes.Clone(ip4), make([]byte, 40)...), want: pcap.ErrMalformedPacket},
		{name: "ipv6 in IPv4 ethertype", lt: pcap.LinkEthernet, data: pcaptest.Ethernet(0x0800, ip6), want: pcap.ErrMalformedPacket},
		{name: "ipv4 IHL 4", lt: pcap.LinkRaw, data: set(ip4, 0, 0x44), want: pcap.ErrMalformedPacket},
		{name: "ipv4 IHL beyond data", lt: pcap.LinkRaw, data: set(ip4[:30], 0, 0x4f), want: pcap.ErrMalformedPacket},
		{name: "ipv4 total length < IHL", lt: pcap.LinkRaw, data: set(ip4, 2, be16(19)...), want: pcap.ErrMalformedPacket},
		{name: "ipv4 cut by snaplen", lt: pcap.LinkRaw, data: ip4[:len(ip4)-1], want: pcap.ErrMalformedPacket, wantMsg: "cut short"},
		{name: "ipv4 header only", lt: pcap.LinkRaw, data: set(ip4[:20], 2, be16(20)...), want: pcap.ErrMalformedPacket},
		{name: "udp length 7", lt: pcap.LinkRaw, data: set(ip4, 24, be16(7)...), want: pcap.ErrMalformedPacket, wantMsg: "below 8"},
		{name: "udp length beyond IP", lt: pcap.LinkRaw, data: set(ip4, 24, be16(uint16(len(udp4)+1))...), want: pcap.ErrMalformedPacket},
		{name: "udp length beyond IP, ethernet padding present", lt: pcap.LinkEthernet,
			data: set(pcaptest.Pad(pcaptest.EthernetIPv4UDP(v4a, v4b, []byte{1}), 60), 38, be16(20)...), want: pcap.ErrMalformedPacket},
		{name: "ipv6 cut by snaplen", lt: pcap.LinkRaw, data: ip6[:len(ip6)-1], want: pcap.ErrMalformedPacket},
		{name: "ipv6 jumbo", lt: pcap.LinkRaw, data: set(pcaptest.IPv6(src6, dst6, 0, ext(17, udp6)), 4, 0, 0), want: pcap.ErrMalformedPacket, wantMsg: "jumbo"},
		{name: "ipv6 short", lt: pcap.LinkRaw, data: ip6[:39], want: pcap.ErrMalformedPacket},
		{name: "ipv6 ext header overrun", lt: pcap.LinkRaw, data: pcaptest.IPv6(src6, dst6, 0, set(ext(17, udp6), 1, 9)),
			want: pcap.ErrMalformedPacket, wantMsg: "extension"},
		{name: "ipv6 ext header cut", lt: pcap.LinkRaw, data: pcaptest.IPv6(src6, dst6, 60, []byte{17, 0, 0, 0}),
			want: pcap.ErrMalformedPacket},
		{name: "ipv6 udp header cut", lt: pcap.LinkRaw, data: pcaptest.IPv6(src6, dst6, 17, udp6[:7]), want: pcap.ErrMalformedPacket},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var u pcap.UDP
			err := pcap.DecodeUDP(tc.lt, tc.data, &u)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("error %v, want %v", err, tc.want)
				}
				if !strings.Contains(err.Error(), tc.wantMsg) {
					t.Errorf("error %q lacks %q", err, tc.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeUDP: %v", err)
			}
			src, dst := v4a, v4b
			if tc.v6 {
				src, dst = v6a, v6b
			}
			want := payload
			if tc.payload != nil {
				want = tc.payload
			}
			if u.Src != src || u.Dst != dst || !bytes.Equal(u.Payload, want) {
				t.Fatalf("got %v→%v %q, want %v→%v %q", u.Src, u.Dst, u.Payload, src, dst, want)
			}
			if len(u.Payload) > 0 && &u.Payload[0] != &tc.data[len(tc.data)-len(u.Payload)-tailLen(tc.data, u.Payload)] {
				t.Error("payload is not a sub-slice of the packet data")
			}
		})
	}
}

// tailLen returns how many bytes of data follow payload (payload must be a
// sub-slice of data found by content).
func tailLen(data, payload []byte) int {
	i := bytes.LastIndex(data, payload)
	return len(data) - i - len(payload)
}

func TestDecodeUDPAllocs(t *testing.T) {
	ok := pcaptest.VLAN(pcaptest.EthernetIPv6UDP(v6a, v6b, make([]byte, 160)), 1, 2)
	tcp := pcaptest.Ethernet(0x0800, pcaptest.IPv4(v4a.Addr(), v4b.Addr(), 6, make([]byte, 20)))
	bad := ok[:40]
	var u pcap.UDP
	for name, data := range map[string][]byte{"udp": ok, "tcp": tcp, "malformed": bad} {
		var err error
		allocs := testing.AllocsPerRun(200, func() {
			err = pcap.DecodeUDP(pcap.LinkEthernet, data, &u)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per DecodeUDP (err %v)", name, allocs, err)
		}
	}
	if allocs := testing.AllocsPerRun(200, func() { _ = pcap.DecodeUDP(1234, ok, &u) }); allocs != 0 {
		t.Errorf("unsupported link: %v allocations", allocs)
	}
}

func TestLinkTypeString(t *testing.T) {
	for lt, want := range map[pcap.LinkType]string{
		pcap.LinkEthernet: "ETHERNET", pcap.LinkLinuxSLL2: "LINUX_SLL2", pcap.LinkRaw12: "RAW", 999: "LINKTYPE(999)",
	} {
		if got := lt.String(); got != want {
			t.Errorf("%d: %q, want %q", uint32(lt), got, want)
		}
	}
}
