package media

import (
	"testing"
	"time"
)

// callPackets builds a two-sided call of the given length: 20 ms packets
// from each side, the remote side slightly jittered. wide uses the 16 kHz
// test codec on the local side (output at 16 kHz, remote interpolated).
func callPackets(tb testing.TB, d time.Duration, wide bool) []Packet {
	sc := newScen(tb)
	l, r := newLeg(1, true), newLeg(2, false)
	if wide {
		sc.add(0, "192.168.1.10:5060", "192.168.1.20:5060", sip("v=0\r\nm=audio 16386 RTP/AVP 96\r\na=rtpmap:96 W16/8000\r\n"))
		l.pt = 96
	}
	n := int(d / (20 * time.Millisecond))
	payload := make([]byte, 160)
	for k := range n {
		for i := range payload {
			payload[i] = byte(k + i)
		}
		at := time.Duration(k) * 20 * time.Millisecond
		sc.add(at, l.src, l.dst, rtpBytes(tb, l.seq0+uint16(k), l.ts0+uint32(160*k), l.ssrc, l.pt, false, payload))
		sc.add(at+time.Duration(k%7)*time.Millisecond, r.src, r.dst, rtpBytes(tb, r.seq0+uint16(k), r.ts0+uint32(160*k), r.ssrc, 8, false, payload))
	}
	return sc.pkts
}

func benchCall(b *testing.B, wide bool) {
	const secs = 60
	pkts := callPackets(b, secs*time.Second, wide)
	opt := wideOpt()
	b.ReportAllocs()
	for b.Loop() {
		a, err := Analyze(&fakeSource{pkts: pkts}, opt)
		if err != nil {
			b.Fatal(err)
		}
		var c countSink
		if err := a.Render(&fakeSource{pkts: pkts}, &c); err != nil {
			b.Fatal(err)
		}
		if c.frames != a.Samples || a.DurationMS() < secs*1000 {
			b.Fatalf("frames %d samples %d", c.frames, a.Samples)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*secs), "ns/output-s")
}

// BenchmarkCallG711 is Analyze+Render of a 60 s two-sided G.711 call.
func BenchmarkCallG711(b *testing.B) { benchCall(b, false) }

// BenchmarkCallMixedRate is the same with one 16 kHz side (interpolation of the other).
func BenchmarkCallMixedRate(b *testing.B) { benchCall(b, true) }
