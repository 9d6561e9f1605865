package media

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

var fuzzAddrs = [4]netip.AddrPort{
	netip.MustParseAddrPort("192.168.1.10:16386"),
	netip.MustParseAddrPort("192.168.1.20:40000"),
	netip.MustParseAddrPort("192.168.1.10:5000"),
	netip.MustParseAddrPort("192.168.1.20:16388"),
}

// fuzzPackets decodes fuzz input as records [sel][dt][len][payload]:
// sel picks source and destination, dt advances the capture clock in ms.
func fuzzPackets(data []byte) []Packet {
	var out []Packet
	now := t0
	for len(data) >= 3 {
		sel, dt, n := data[0], data[1], int(data[2])
		data = data[3:]
		n = min(n, len(data))
		now = now.Add(time.Duration(dt) * time.Millisecond)
		if sel&0x80 != 0 {
			now = now.Add(-time.Duration(dt) * 3 * time.Millisecond) // capture clock going backwards
		}
		out = append(out, Packet{Time: now, Src: fuzzAddrs[sel&3], Dst: fuzzAddrs[(sel>>2)&3], Payload: data[:n]})
		data = data[n:]
	}
	return out
}

func fuzzRecord(sel, dt byte, payload []byte) []byte {
	return append([]byte{sel, dt, byte(len(payload))}, payload...)
}

type countSink struct{ frames int64 }

func (c *countSink) WriteFrames(f []int16) error {
	c.frames += int64(len(f) / 2)
	return nil
}

// fuzzSeed is a two-sided call with SIP, wraps, CN, an event and a jump.
func fuzzSeed(f testing.TB) []byte {
	var seed []byte
	msg := sip("m=audio 1 RTP/AVP 97 101\r\na=rtpmap:97 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n")
	seed = append(seed, fuzzRecord(0x4, 0, msg[:min(len(msg), 255)])...)
	for k := range 20 {
		seed = append(seed, fuzzRecord(0x4, 20, rtpBytes(f, uint16(65530+k), uint32(160*k), 1, 8, false, make([]byte, 160)))...)
		seed = append(seed, fuzzRecord(0x7, 0, rtpBytes(f, uint16(k), uint32(1<<32-400+int64(160*k)), 2, 9, false, make([]byte, 80)))...)
	}
	seed = append(seed, fuzzRecord(0x4, 20, rtpBytes(f, 14, 3200, 1, 13, false, []byte{40}))...)
	seed = append(seed, fuzzRecord(0x4, 200, rtpBytes(f, 15, 9000, 1, 101, true, []byte{1, 2, 3, 4}))...)
	seed = append(seed, fuzzRecord(0x4, 20, rtpBytes(f, 17, 1<<31, 1, 97, false, make([]byte, 160)))...)
	return seed
}

func FuzzAnalyzeRender(f *testing.F) {
	seed := fuzzSeed(f)
	f.Add(seed)
	f.Add(fuzzRecord(0, 0, []byte{0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}))
	f.Add(fuzzRecord(0, 0, []byte{0xa0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff}))
	opt := wideOpt()
	// Two seconds hold every case the timeline has (wraps, gaps, SSRC
	// changes, the duration cap itself); a longer cap only makes each
	// input with a far-off timestamp render seconds of concealment.
	opt.MaxDuration = 2 * time.Second
	f.Fuzz(func(t *testing.T, data []byte) {
		pkts := fuzzPackets(data)
		a, err := Analyze(&fakeSource{pkts: pkts}, opt)
		if err != nil {
			if !errors.Is(err, ErrNoRTP) && !errors.Is(err, ErrUnsupportedCodec) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if a.Samples < 0 || a.Samples > int64(opt.MaxDuration.Seconds())*int64(a.SampleRate) {
			t.Fatalf("Samples %d at %d Hz", a.Samples, a.SampleRate)
		}
		var c countSink
		if err := a.Render(&fakeSource{pkts: pkts}, &c); err != nil {
			t.Fatalf("Render: %v", err)
		}
		if c.frames != a.Samples {
			t.Fatalf("rendered %d frames, want %d", c.frames, a.Samples)
		}
	})
}

func FuzzSDP(f *testing.F) {
	f.Add(sip("v=0\r\nm=audio 16386 RTP/AVP 97 101\r\na=rtpmap:97 PCMA/8000\r\na=rtpmap:101 telephone-event/8000/1\r\n"))
	f.Add([]byte("SIP/2.0 200 OK\nl: 40\n\nm=audio 1 RTP/AVP 96\na=rtpmap:96 G722/8000\n"))
	f.Add([]byte("SIP/2.0 200 OK\r\n\r\nm=video 1 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"))
	f.Fuzz(func(t *testing.T, p []byte) {
		if !isSIP(p) {
			return
		}
		var tab ptTable
		parseSDP(sipBody(p), func(m rtpmap) {
			if m.pt > 127 || m.name == "" || m.clock <= 0 || m.clock > 1000000 {
				t.Fatalf("bad rtpmap %+v", m)
			}
			tab.add(m)
		})
		for pt := range 128 {
			if name, clock, ok := tab.lookup(uint8(pt)); ok && (name == "" || clock <= 0) {
				t.Fatalf("lookup(%d) = %q, %d", pt, name, clock)
			}
		}
	})
}

// TestFuzzSeedRenders makes sure the main seed exercises the whole pipeline.
func TestFuzzSeedRenders(t *testing.T) {
	pkts := fuzzPackets(fuzzSeed(t))
	a, err := Analyze(&fakeSource{pkts: pkts}, wideOpt())
	if err != nil {
		t.Fatal(err)
	}
	if a.SampleRate != 16000 || len(a.Streams) != 2 || !a.Streams[0].Rendered || !a.Streams[1].Rendered || a.SIP != 1 {
		t.Fatalf("seed analysis: rate %d streams %+v", a.SampleRate, a.Streams)
	}
	got := render(t, a, &fakeSource{pkts: pkts})
	if len(got[0]) == 0 {
		t.Fatal("empty render")
	}
}
