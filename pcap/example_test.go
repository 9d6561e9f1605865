package pcap_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"recordings/pcap"
	"recordings/pcap/pcaptest"
)

func ExampleNGWriter() {
	var buf bytes.Buffer
	w, _ := pcap.NewNGWriter(&buf, pcap.LinkEthernet) // interface 0: Ethernet, ns timestamps
	sll2, _ := w.AddInterface(pcap.LinkLinuxSLL2, 6)  // interface 1: Linux cooked v2, µs timestamps
	ts := time.Date(2026, 1, 1, 12, 0, 0, 123456789, time.UTC)
	a, b := netip.MustParseAddrPort("192.0.2.1:16386"), netip.MustParseAddrPort("192.0.2.2:16388")
	_ = w.WritePacket(0, ts, pcaptest.EthernetIPv4UDP(a, b, []byte("one")))
	_ = w.WritePacket(sll2, ts, pcaptest.SLL2IPv4UDP(b, a, []byte("two")))

	r, _ := pcap.NewReader(&buf)
	for {
		p, err := r.Next()
		if err != nil {
			break
		}
		fmt.Println(p.Interface, p.LinkType, p.Timestamp.Format(time.StampNano))
	}
	// Output:
	// 0 ETHERNET Jan  1 12:00:00.123456789
	// 1 LINUX_SLL2 Jan  1 12:00:00.123456000
}

func ExampleDecodeUDP() {
	src, dst := netip.MustParseAddrPort("[2001:db8::1]:16386"), netip.MustParseAddrPort("[2001:db8::2]:16388")
	frames := [][]byte{
		pcaptest.VLAN(pcaptest.EthernetIPv6UDP(src, dst, []byte("rtp")), 100),
		pcaptest.Ethernet(pcaptest.EtherTypeARP, make([]byte, 28)),
		pcaptest.EthernetIPv6UDP(src, dst, []byte("rtp"))[:50],
	}
	var u pcap.UDP // reused: DecodeUDP does not allocate
	for _, f := range frames {
		err := pcap.DecodeUDP(pcap.LinkEthernet, f, &u)
		switch {
		case err == nil:
			fmt.Printf("%v → %v %q\n", u.Src, u.Dst, u.Payload)
		case errors.Is(err, pcap.ErrNotUDP):
			fmt.Println("skip:", err)
		default:
			fmt.Println("bad:", err)
		}
	}
	// Output:
	// [2001:db8::1]:16386 → [2001:db8::2]:16388 "rtp"
	// skip: pcap: not a UDP packet: ARP
	// bad: pcap: malformed packet: IPv6 header cut short
}
