package media

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/netip"
	"testing"
	"time"

	"recordings/codec"
	"recordings/pcap"
	"recordings/pcap/pcaptest"
)

// workCount counts the work of the decoders made by its factory.
type workCount struct {
	decodes, conceals, decoded, concealed int64
}

type countingDecoder struct {
	codec.Decoder
	w *workCount
}

func (d countingDecoder) Decode(dst []int16, p []byte) (int, error) {
	n, err := d.Decoder.Decode(dst, p)
	d.w.decodes++
	d.w.decoded += int64(n)
	return n, err
}

func (d countingDecoder) Conceal(dst []int16) (int, error) {
	n, err := d.Decoder.Conceal(dst)
	d.w.conceals++
	d.w.concealed += int64(n)
	return n, err
}

func (w *workCount) options() Options {
	return Options{newDecoder: func(name string) (codec.Decoder, error) {
		d, err := codec.New(name)
		if err != nil {
			return nil, err
		}
		return countingDecoder{d, w}, nil
	}}
}

// capPacket is one RTP packet of a generated capture.
type capPacket struct {
	at       time.Duration
	src, dst netip.AddrPort
	pt       uint8
	seq      uint16
	ts, ssrc uint32
	payload  int // bytes of zero payload
}

// pcapPackets writes pkts as a classic Ethernet pcap with the test
// generators and reads it back as Packets, the way convert walks a capture.
func pcapPackets(tb testing.TB, pkts []capPacket) ([]Packet, int) {
	tb.Helper()
	var buf bytes.Buffer
	w, err := pcap.NewWriter(&buf, pcap.LinkEthernet)
	if err != nil {
		tb.Fatal(err)
	}
	for _, p := range pkts {
		frame := pcaptest.EthernetIPv4UDP(p.src, p.dst, pcaptest.RTP(p.pt, p.seq, p.ts, p.ssrc, false, make([]byte, p.payload)))
		if err := w.WritePacket(t0.Add(p.at), frame); err != nil {
			tb.Fatal(err)
		}
	}
	size := buf.Len()
	r, err := pcap.NewReader(&buf)
	if err != nil {
		tb.Fatal(err)
	}
	var out []Packet
	var udp pcap.UDP
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		if err := pcap.DecodeUDP(p.LinkType, p.Data, &udp); err != nil {
			tb.Fatal(err)
		}
		out = append(out, Packet{Time: p.Timestamp, Src: udp.Src, Dst: udp.Dst, Payload: bytes.Clone(udp.Payload)})
	}
	return out, size
}

// jumpStream is a stream of 4 packets of 20 ms: two at off, two jump
// later. capJump: the capture times jump too (else only the RTP timestamps).
func jumpStream(i int, pt uint8, off, jump time.Duration, capJump bool) []capPacket {
	size := map[uint8]int{0: 160, 8: 160, 9: 160, 18: 20}[pt]
	src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i / 2), 1}), uint16(16386+2*(i%2)))
	dst := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i / 2), 1}), uint16(30000+i))
	var out []capPacket
	for k := range 4 {
		at, ts := off+time.Duration(k)*20*ms, uint32(1000*i+160*k)
		if k >= 2 {
			ts += uint32(jump / time.Second * 8000)
			if capJump {
				at += jump
			}
		}
		out = append(out, capPacket{at: at, src: src, dst: dst, pt: pt, seq: uint16(k), ts: ts, ssrc: uint32(0x100 + i), payload: size})
	}
	return out
}

// TestWorkBoundedByInput: captures that claim hours of silence cost work in
// proportion to their packets, not to the time they claim. The budgets count
// work (decoder calls, samples decoded or concealed, frames rendered), so the
// test does not depend on the machine's speed or load.
func TestWorkBoundedByInput(t *testing.T) {
	codecs := []uint8{18, 9, 8, 0} // G.729, G.722, PCMA, PCMU
	const h12 = 12 * time.Hour
	for _, c := range []struct {
		name    string
		streams int
		jump    time.Duration
		capJump bool
		// budgets
		maxSeconds  float64 // timeline length
		maxConceals int64   // decoder Conceal calls
	}{
		{"RTP timestamps jump 12 h", 1, h12, false, 0.2, 0},
		{"RTP and capture times jump 12 h", 1, h12, true, 61, 0},
		{"64 streams jump 12 h", 64, h12, true, 61, 0},
		{"64 streams, RTP timestamps jump 12 h", 64, h12, false, 0.5, 0},
		// A gap shorter than MaxIdle is kept and concealed, but only its
		// first 2 s cost decoder work (200 frames of 10 ms, every codec).
		{"G.729 loses 50 s", 1, 50 * time.Second, true, 51, 200},
		{"64 streams lose 50 s", 64, 50 * time.Second, true, 51, 64 * 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			var pkts []capPacket
			for i := range c.streams {
				pkts = append(pkts, jumpStream(i, codecs[i%len(codecs)], time.Duration(i)*ms, c.jump, c.capJump)...)
			}
			slicesSortByTime(pkts)
			packets, size := pcapPackets(t, pkts)
			var w workCount
			opt := w.options()
			a, err := Analyze(&fakeSource{pkts: packets}, opt)
			if err != nil {
				t.Fatal(err)
			}
			if w != (workCount{}) {
				t.Fatalf("analysis decoded: %+v", w)
			}
			var k countSink
			if err := a.Render(&fakeSource{pkts: packets}, &k); err != nil {
				t.Fatal(err)
			}
			secs := float64(a.Samples) / float64(a.SampleRate)
			t.Logf("%d-byte capture, %d packets: timeline %.2f s at %d Hz; %+v; %d warnings",
				size, len(packets), secs, a.SampleRate, w, len(a.Warnings))
			if k.frames != a.Samples {
				t.Errorf("rendered %d frames, want %d", k.frames, a.Samples)
			}
			if secs > c.maxSeconds {
				t.Errorf("timeline %.1f s, budget %.1f s", secs, c.maxSeconds)
			}
			if w.decodes != int64(len(packets)) {
				t.Errorf("%d decode calls for %d packets", w.decodes, len(packets))
			}
			if w.conceals > c.maxConceals {
				t.Errorf("%d Conceal calls, budget %d", w.conceals, c.maxConceals)
			}
			if c.capJump && c.jump > time.Hour {
				for i, s := range a.Streams {
					if s.Discontinuities != 1 || s.GapMS != 0 {
						t.Errorf("stream %d: %+v", i, s)
					}
				}
			}
		})
	}
}

func slicesSortByTime(p []capPacket) {
	for i := 1; i < len(p); i++ { // insertion sort, stable
		for j := i; j > 0 && p[j].at < p[j-1].at; j-- {
			p[j], p[j-1] = p[j-1], p[j]
		}
	}
}

// cancellingSource cancels its context after after packets and counts the
// packets read.
type cancellingSource struct {
	fakeSource
	after  int
	cancel func()
}

func (c *cancellingSource) Next() (Packet, error) {
	if c.i == c.after {
		c.cancel()
	}
	return c.fakeSource.Next()
}

// TestRenderStopsWhenCancelled: a render whose context is done stops within
// ctxCheckPackets packets, also while nothing reaches the sink.
func TestRenderStopsWhenCancelled(t *testing.T) {
	pkts := callPackets(t, time.Minute, false) // 6000 packets
	a, err := Analyze(&fakeSource{pkts: pkts}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, after := range []int{0, 1000, 4321} {
		ctx, cancel := context.WithCancel(context.Background())
		src := &cancellingSource{fakeSource: fakeSource{pkts: pkts}, after: after, cancel: cancel}
		var k countSink
		err := a.RenderContext(ctx, src, &k)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("after %d packets: err %v", after, err)
		}
		if src.i > after+ctxCheckPackets+1 {
			t.Errorf("cancelled after %d packets, read %d", after, src.i)
		}
		if k.frames >= a.Samples {
			t.Errorf("cancelled after %d packets, rendered everything", after)
		}
	}
}
