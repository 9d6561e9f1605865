package pcap_test

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"recordings/pcap"
	"recordings/pcap/pcaptest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenCapture builds the golden capture: a short mixed call (SIP-ish
// signalling, RTP both ways on 16386/16388, IPv6, VLAN, ARP, TCP, a
// fragment, padding) on Ethernet, in pcapng with a second, raw-IP interface.
func goldenCapture(t *testing.T) []byte {
	var buf bytes.Buffer
	w, err := pcap.NewNGWriter(&buf, pcap.LinkEthernet)
	must(t, err)
	raw, err := w.AddInterface(pcap.LinkRaw, 6)
	must(t, err)
	phone := netip.MustParseAddr("192.0.2.10")
	pbx := netip.MustParseAddr("192.0.2.1")
	local := netip.AddrPortFrom(phone, 16386)
	remote := netip.AddrPortFrom(phone, 16388)
	peer := netip.MustParseAddrPort("198.51.100.7:30000")
	start := time.Date(2026, 3, 14, 9, 26, 53, 589_793_238, time.UTC)
	ts := start
	put := func(iface int, data []byte) {
		must(t, w.WritePacket(iface, ts, data))
		ts = ts.Add(10 * time.Millisecond)
	}
	put(0, pcaptest.EthernetIPv4UDP(netip.AddrPortFrom(phone, 5060), netip.AddrPortFrom(pbx, 5060),
		[]byte("INVITE sip:44@pbx SIP/2.0\r\n\r\n")))
	put(0, pcaptest.Ethernet(pcaptest.EtherTypeARP, make([]byte, 28)))
	for seq := range 6 {
		rtp := make([]byte, 12+160)
		rtp[0], rtp[1] = 0x80, 8
		binary.BigEndian.PutUint16(rtp[2:], uint16(1000+seq))
		binary.BigEndian.PutUint32(rtp[4:], uint32(seq*160))
		binary.BigEndian.PutUint32(rtp[8:], 0x11223344)
		for i := 12; i < len(rtp); i++ {
			rtp[i] = byte(seq + i)
		}
		if seq%2 == 0 {
			put(0, pcaptest.EthernetIPv4UDP(local, peer, rtp))
		} else {
			put(0, pcaptest.VLAN(pcaptest.EthernetIPv4UDP(peer, remote, rtp), 42))
		}
	}
	put(0, pcaptest.Ethernet(pcaptest.EtherTypeIPv4, pcaptest.IPv4(phone, pbx, pcaptest.ProtoTCP, make([]byte, 20))))
	put(0, pcaptest.Pad(pcaptest.EthernetIPv4UDP(netip.AddrPortFrom(pbx, 5060), netip.AddrPortFrom(phone, 5060),
		[]byte("ACK")), 60))
	put(raw, pcaptest.RawIPv6UDP(netip.MustParseAddrPort("[2001:db8::1]:16386"),
		netip.MustParseAddrPort("[2001:db8::2]:16388"), []byte("v6 payload")))
	put(raw, pcaptest.IPv4Fragment(phone, pbx, pcaptest.ProtoUDP, 1480, false, []byte("tail of a fragmented datagram")))
	return buf.Bytes()
}

// describe renders every packet of a capture and its decoding as text.
func describe(t *testing.T, b []byte) string {
	r, err := pcap.NewReader(bytes.NewReader(b))
	must(t, err)
	var sb strings.Builder
	var u pcap.UDP
	for i := 0; ; i++ {
		p, err := r.Next()
		if err != nil {
			fmt.Fprintf(&sb, "end: %v\n", err)
			break
		}
		fmt.Fprintf(&sb, "%d %s if=%d %s len=%d/%d ", i, p.Timestamp.Format(time.RFC3339Nano), p.Interface,
			p.LinkType, len(p.Data), p.OrigLen)
		if err := pcap.DecodeUDP(p.LinkType, p.Data, &u); err != nil {
			fmt.Fprintf(&sb, "error: %v\n", err)
			continue
		}
		fmt.Fprintf(&sb, "udp %s > %s payload=%d %x\n", u.Src, u.Dst, len(u.Payload), u.Payload[:min(8, len(u.Payload))])
	}
	for _, w := range r.Warnings() {
		fmt.Fprintf(&sb, "warning: %s\n", w)
	}
	return sb.String()
}

func TestGolden(t *testing.T) {
	const capFile, txtFile = "testdata/golden.pcapng", "testdata/golden.txt"
	built := goldenCapture(t)
	if *update {
		must(t, os.WriteFile(capFile, built, 0o644))
		must(t, os.WriteFile(txtFile, []byte(describe(t, built)), 0o644))
	}
	stored, err := os.ReadFile(capFile)
	must(t, err)
	if !bytes.Equal(stored, built) {
		t.Errorf("the writer's output differs from %s (run go test -update after checking why)", capFile)
	}
	want, err := os.ReadFile(txtFile)
	must(t, err)
	if got := describe(t, stored); got != string(want) {
		t.Errorf("decoding %s:\n got:\n%s\nwant:\n%s", capFile, got, want)
	}
}

// TestGoldenRealSample pins the decoding of a real capture.
func TestGoldenRealSample(t *testing.T) {
	b, err := os.ReadFile("testdata/innovaphone-s1.pcap")
	must(t, err)
	got := describe(t, b)
	if *update {
		must(t, os.WriteFile("testdata/innovaphone-s1.txt", []byte(got), 0o644))
	}
	want, err := os.ReadFile("testdata/innovaphone-s1.txt")
	must(t, err)
	if got != string(want) {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if !strings.HasSuffix(got, "end: EOF\n") {
		t.Errorf("real sample does not end cleanly")
	}
}
