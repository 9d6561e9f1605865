package pcap_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"testing"
	"time"

	"recordings/pcap"
	"recordings/pcap/pcaptest"
)

// rtpCapture returns a capture of n RTP packets (172-byte payload: 12-byte
// header + 160 bytes of G.711) on Ethernet/IPv4/UDP, alternating direction.
func rtpCapture(b testing.TB, ng bool, n int) []byte {
	var buf bytes.Buffer
	var write func(ts time.Time, data []byte) error
	if ng {
		w, err := pcap.NewNGWriter(&buf, pcap.LinkEthernet)
		must(b, err)
		write = func(ts time.Time, data []byte) error { return w.WritePacket(0, ts, data) }
	} else {
		w, err := pcap.NewWriter(&buf, pcap.LinkEthernet)
		must(b, err)
		write = w.WritePacket
	}
	a := netip.MustParseAddrPort("192.0.2.10:16386")
	c := netip.MustParseAddrPort("192.0.2.20:16388")
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rtp := make([]byte, 172)
	rtp[0], rtp[1] = 0x80, 8
	for i := range n {
		binary.BigEndian.PutUint16(rtp[2:], uint16(i))
		src, dst := a, c
		if i%2 == 1 {
			src, dst = c, a
		}
		must(b, write(start.Add(time.Duration(i/2)*20*time.Millisecond), pcaptest.EthernetIPv4UDP(src, dst, rtp)))
	}
	return buf.Bytes()
}

func BenchmarkReader(b *testing.B) {
	for _, ng := range []bool{false, true} {
		name := "pcap"
		if ng {
			name = "pcapng"
		}
		b.Run(name, func(b *testing.B) {
			const packets = 10_000
			file := rtpCapture(b, ng, packets)
			src := bytes.NewReader(file)
			r, err := pcap.NewReader(src)
			must(b, err)
			var u pcap.UDP
			b.SetBytes(int64(len(file)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				src.Reset(file)
				if err := r.Reset(src); err != nil {
					b.Fatal(err)
				}
				got := 0
				for {
					p, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					if err := pcap.DecodeUDP(p.LinkType, p.Data, &u); err != nil {
						b.Fatal(err)
					}
					got += len(u.Payload)
				}
				if got != packets*172 {
					b.Fatalf("decoded %d payload bytes", got)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*packets), "ns/packet")
		})
	}
}

func BenchmarkDecodeUDP(b *testing.B) {
	payload := make([]byte, 172)
	for _, bc := range []struct {
		name string
		lt   pcap.LinkType
		data []byte
	}{
		{"ethernet-ipv4", pcap.LinkEthernet, pcaptest.EthernetIPv4UDP(v4a, v4b, payload)},
		{"qinq-ipv6", pcap.LinkEthernet, pcaptest.VLAN(pcaptest.EthernetIPv6UDP(v6a, v6b, payload), 1, 2)},
		{"sll2-ipv4", pcap.LinkLinuxSLL2, pcaptest.SLL2IPv4UDP(v4a, v4b, payload)},
		{"ethernet-tcp", pcap.LinkEthernet, pcaptest.Ethernet(0x0800, pcaptest.IPv4(v4a.Addr(), v4b.Addr(), 6, payload))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var u pcap.UDP
			b.SetBytes(int64(len(bc.data)))
			b.ReportAllocs()
			for range b.N {
				_ = pcap.DecodeUDP(bc.lt, bc.data, &u)
			}
		})
	}
}

// TestReaderAllocs: once warmed up, reading a whole capture (Reset, Next,
// DecodeUDP) allocates nothing.
func TestReaderAllocs(t *testing.T) {
	for _, ng := range []bool{false, true} {
		file := rtpCapture(t, ng, 500)
		src := bytes.NewReader(file)
		r, err := pcap.NewReader(src)
		must(t, err)
		var u pcap.UDP
		n := 0
		allocs := testing.AllocsPerRun(5, func() {
			src.Reset(file)
			if err := r.Reset(src); err != nil {
				t.Fatal(err)
			}
			for {
				p, err := r.Next()
				if err != nil {
					break
				}
				if pcap.DecodeUDP(p.LinkType, p.Data, &u) == nil {
					n++
				}
			}
		})
		if allocs != 0 {
			t.Errorf("pcapng=%v: %v allocations per capture", ng, allocs)
		}
		if n != 6*500 {
			t.Errorf("pcapng=%v: decoded %d packets, want %d", ng, n, 6*500)
		}
	}
}
