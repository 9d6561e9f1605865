package pcaptest_test

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"recordings/pcap/pcaptest"
)

// sum16 is the ones'-complement sum used by IP checksums.
func sum16(parts ...[]byte) uint16 {
	var s uint32
	for _, b := range parts {
		for i := 0; i+1 < len(b); i += 2 {
			s += uint32(binary.BigEndian.Uint16(b[i:]))
		}
		if len(b)%2 == 1 {
			s += uint32(b[len(b)-1]) << 8
		}
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

func pseudo(src, dst netip.Addr, length int) []byte {
	b := append(src.AsSlice(), dst.AsSlice()...)
	b = binary.BigEndian.AppendUint16(b, 17)
	return binary.BigEndian.AppendUint16(b, uint16(length))
}

func TestChecksums(t *testing.T) {
	for _, tc := range []struct{ src, dst netip.AddrPort }{
		{netip.MustParseAddrPort("192.0.2.1:16386"), netip.MustParseAddrPort("192.0.2.200:16388")},
		{netip.MustParseAddrPort("[2001:db8::1]:5060"), netip.MustParseAddrPort("[fe80::2]:5061")},
	} {
		for _, n := range []int{0, 1, 171, 172} {
			payload := bytes.Repeat([]byte{0xa5}, n)
			u := pcaptest.UDP(tc.src, tc.dst, payload)
			if got := sum16(pseudo(tc.src.Addr(), tc.dst.Addr(), len(u)), u); got != 0xffff {
				t.Errorf("%v len %d: UDP checksum does not verify (sum %#04x)", tc.src, n, got)
			}
			if tc.src.Addr().Is4() {
				ip := pcaptest.RawIPv4UDP(tc.src, tc.dst, payload)
				if got := sum16(ip[:20]); got != 0xffff {
					t.Errorf("IPv4 header checksum does not verify (%#04x)", got)
				}
				if int(binary.BigEndian.Uint16(ip[2:])) != len(ip) {
					t.Errorf("IPv4 total length wrong")
				}
			}
		}
	}
	opt := pcaptest.IPv4Options(netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), 17, []byte{1, 1, 1, 0}, nil)
	if opt[0] != 0x46 || sum16(opt[:24]) != 0xffff {
		t.Errorf("IPv4 with options: first byte %#x, checksum sum %#x", opt[0], sum16(opt[:24]))
	}
}

func TestVLAN(t *testing.T) {
	frame := pcaptest.EthernetIPv4UDP(netip.MustParseAddrPort("192.0.2.1:1"), netip.MustParseAddrPort("192.0.2.2:2"), nil)
	one := pcaptest.VLAN(frame, 0x123)
	if !bytes.Equal(one[12:18], []byte{0x81, 0x00, 0x01, 0x23, 0x08, 0x00}) || !bytes.Equal(one[18:], frame[14:]) {
		t.Errorf("802.1Q tag: % x", one[:18])
	}
	two := pcaptest.VLAN(frame, 10, 20)
	if !bytes.Equal(two[12:22], []byte{0x88, 0xa8, 0, 10, 0x81, 0x00, 0, 20, 0x08, 0x00}) {
		t.Errorf("QinQ tags: % x", two[12:22])
	}
	if !bytes.Equal(two[:12], frame[:12]) || len(two) != len(frame)+8 {
		t.Error("MAC addresses or length changed")
	}
}

func TestLinkHeaders(t *testing.T) {
	src, dst := netip.MustParseAddrPort("192.0.2.1:1"), netip.MustParseAddrPort("192.0.2.2:2")
	ip := pcaptest.RawIPv4UDP(src, dst, []byte("x"))
	for _, tc := range []struct {
		name   string
		frame  []byte
		header []byte
	}{
		{"sll", pcaptest.SLLIPv4UDP(src, dst, []byte("x")), []byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00}},
		{"sll2", pcaptest.SLL2IPv4UDP(src, dst, []byte("x")), []byte{0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0}},
		{"null", pcaptest.NullIPv4UDP(src, dst, []byte("x")), []byte{2, 0, 0, 0}},
		{"loop", pcaptest.LoopIPv4UDP(src, dst, []byte("x")), []byte{0, 0, 0, 2}},
		{"ethernet", pcaptest.EthernetIPv4UDP(src, dst, []byte("x")), []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00}},
	} {
		if !bytes.Equal(tc.frame, append(bytes.Clone(tc.header), ip...)) {
			t.Errorf("%s: % x", tc.name, tc.frame[:len(tc.header)])
		}
	}
	if p := pcaptest.Pad([]byte{1}, 4); !bytes.Equal(p, []byte{1, 0, 0, 0}) {
		t.Errorf("Pad: %v", p)
	}
}

func TestNGBlockLayout(t *testing.T) {
	o := binary.BigEndian
	b := pcaptest.NGBlock(o, 0x01020304, []byte{9, 9, 9, 9, 9})
	want := []byte{1, 2, 3, 4, 0, 0, 0, 20, 9, 9, 9, 9, 9, 0, 0, 0, 0, 0, 0, 20}
	if !bytes.Equal(b, want) {
		t.Errorf("block % x, want % x", b, want)
	}
	if opt := pcaptest.NGOption(o, 9, []byte{6}); !bytes.Equal(opt, []byte{0, 9, 0, 1, 6, 0, 0, 0}) {
		t.Errorf("option % x", opt)
	}
}

func TestRTP(t *testing.T) {
	p := pcaptest.RTP(8, 0x1234, 0xdeadbeef, 0x01020304, true, []byte{0xd5})
	want := []byte{0x80, 0x88, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 0xd5}
	if !bytes.Equal(p, want) {
		t.Errorf("% x, want % x", p, want)
	}
}
