package convert

import (
	"bytes"
	"context"

	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/rtp"

	"recordings/media"
	"recordings/pcap"
	"recordings/pcap/pcaptest"
)

// seekCall describes a generated two-way call for the seek tests and
// benchmarks: 20 ms packets per direction, codecs switching every
// switchEvery, random payloads, loss, DTX and reordering.
type seekCall struct {
	dur         time.Duration
	codecs      [2][]string
	switchEvery time.Duration
	loss        float64
	reorder     float64
	dtx         bool
	ssrcChange  bool
	ng          bool // pcapng instead of classic pcap
	seed        uint64
}

var seekCodecs = map[string]struct {
	pt, cnPT uint8
	bytes    int
	cn       []byte
}{
	"PCMU": {0, 13, 160, []byte{60}},
	"PCMA": {8, 13, 160, []byte{50}},
	"G722": {9, 13, 160, []byte{55}},
	"G729": {18, 18, 20, []byte{0x5a, 0x3c}},
}

// write writes the call as a capture. Packets of both directions
// interleave in time order; reordered packets swap places.
func (c seekCall) write(w io.Writer) error {
	type writer interface {
		write(ts time.Time, frame []byte) error
	}
	var out func(ts time.Time, frame []byte) error
	if c.ng {
		nw, err := pcap.NewNGWriter(w, pcap.LinkEthernet)
		if err != nil {
			return err
		}
		out = func(ts time.Time, f []byte) error { return nw.WritePacket(0, ts, f) }
	} else {
		pw, err := pcap.NewWriter(w, pcap.LinkEthernet)
		if err != nil {
			return err
		}
		out = pw.WritePacket
	}
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	phone, far := netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("192.0.2.20")
	sip := []byte("INVITE sip:remote@192.0.2.20 SIP/2.0\r\nContent-Type: application/sdp\r\n\r\n" +
		"v=0\r\nm=audio 16386 RTP/AVP 0 8 9 18 13\r\n")
	if err := out(start.Add(-time.Millisecond), pcaptest.EthernetIPv4UDP(netip.AddrPortFrom(phone, 5060), netip.AddrPortFrom(far, 5060), sip)); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(c.seed, 11))
	type dirState struct {
		ssrc     uint32
		seq      uint16
		ts       uint32
		silent   int
		src, dst netip.AddrPort
		held     []byte // a packet held back to swap with the next
	}
	dirs := [2]*dirState{
		{ssrc: 0x1000, seq: uint16(rng.Uint32()), ts: rng.Uint32(), src: netip.AddrPortFrom(phone, 16386), dst: netip.AddrPortFrom(far, 30000)},
		{ssrc: 0x2000, seq: uint16(rng.Uint32()), ts: rng.Uint32(), src: netip.AddrPortFrom(far, 30000), dst: netip.AddrPortFrom(phone, 16388)},
	}
	n := int(c.dur / (20 * time.Millisecond))
	payload := make([]byte, 160)
	var pkt []byte
	for i := range n {
		at := start.Add(time.Duration(i) * 20 * time.Millisecond)
		for dir, d := range dirs {
			k := 0
			if c.switchEvery > 0 {
				k = int(time.Duration(i) * 20 * time.Millisecond / c.switchEvery)
				if c.ssrcChange && i > 0 && int(time.Duration(i-1)*20*time.Millisecond/c.switchEvery) != k {
					d.ssrc += 0x100
					d.seq, d.ts = uint16(rng.Uint32()), rng.Uint32()
				}
			}
			cd := seekCodecs[c.codecs[dir][k%len(c.codecs[dir])]]
			d.seq++
			d.ts += 160
			if i < d.silent || rng.Float64() < c.loss {
				continue
			}
			pt, p := cd.pt, payload[:cd.bytes]
			if c.dtx && i > 0 && rng.IntN(500) == 0 {
				d.silent = i + 50 + rng.IntN(150)
				pt, p = cd.cnPT, cd.cn
			} else {
				for j := range p {
					p[j] = byte(rng.Uint32())
				}
			}
			var err error
			pkt, err = (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: d.seq,
				Timestamp: d.ts, SSRC: d.ssrc}, Payload: p}).Marshal()
			if err != nil {
				return err
			}
			frame := pcaptest.EthernetIPv4UDP(d.src, d.dst, pkt)
			ts := at.Add(time.Duration(dir) * 3 * time.Millisecond)
			if d.held == nil && rng.Float64() < c.reorder {
				d.held = frame
				continue
			}
			if err := out(ts, frame); err != nil {
				return err
			}
			if d.held != nil {
				if err := out(ts, d.held); err != nil {
					return err
				}
				d.held = nil
			}
		}
	}
	return nil
}

func (c seekCall) bytes(tb testing.TB) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := c.write(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// seekOpener opens data as a seekable capture.
func seekOpener(data []byte) Opener {
	return func() (io.ReadCloser, error) { return nopSeekCloser{bytes.NewReader(data)}, nil }
}

type nopSeekCloser struct{ *bytes.Reader }

func (nopSeekCloser) Close() error { return nil }

// TestWAVRangesFromCheckpoints checks, for generated calls in every codec
// (mixed, codec changes, SSRC changes, loss, DTX, reordering, pcapng) and
// the captures in pcap/testdata, that WAV ranges started from
// render checkpoints are byte for byte the same range of the whole WAV.
func TestWAVRangesFromCheckpoints(t *testing.T) {
	t.Parallel()
	type capture struct {
		name  string
		data  []byte
		every time.Duration
	}
	var caps []capture
	for _, c := range []struct {
		name string
		call seekCall
	}{
		{"PCMA", seekCall{dur: 90 * time.Second, codecs: [2][]string{{"PCMA"}, {"PCMA"}}, loss: 0.01, dtx: true, seed: 1}},
		{"PCMU pcapng", seekCall{dur: 90 * time.Second, codecs: [2][]string{{"PCMU"}, {"PCMU"}}, loss: 0.01, reorder: 0.01, ng: true, seed: 2}},
		{"G722", seekCall{dur: 90 * time.Second, codecs: [2][]string{{"G722"}, {"G722"}}, loss: 0.01, dtx: true, reorder: 0.01, seed: 3}},
		{"G729", seekCall{dur: 90 * time.Second, codecs: [2][]string{{"G729"}, {"G729"}}, loss: 0.02, dtx: true, reorder: 0.01, seed: 4}},
		{"mixed, codec and SSRC changes", seekCall{dur: 2 * time.Minute, codecs: [2][]string{{"G729", "PCMA", "G722"}, {"PCMU", "G722", "G729"}},
			switchEvery: 23 * time.Second, ssrcChange: true, loss: 0.03, dtx: true, reorder: 0.03, seed: 5}},
	} {
		caps = append(caps, capture{c.name, c.call.bytes(t), 2 * time.Second})
	}
	files, _ := filepath.Glob("../pcap/testdata/*.pcap*")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		caps = append(caps, capture{filepath.Base(f), data, 300 * time.Millisecond})
	}
	for _, c := range caps {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			open := seekOpener(c.data)
			a, err := Analyze(open, media.Options{})
			if err != nil {
				t.Skipf("no audio: %v", err)
			}
			var pcm bytes.Buffer
			pcm.Write(media.WAVHeader(a.SampleRate, 2, a.Samples))
			sink := media.NewWAVSink(&pcm)
			cps, err := RenderCheckpoints(context.Background(), a, open, sink, c.every)
			if err != nil {
				t.Fatal(err)
			}
			sink.Flush()
			var whole bytes.Buffer
			if err := WriteWAV(a, open, &whole); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(whole.Bytes(), pcm.Bytes()) {
				t.Fatal("recording checkpoints changed the WAV")
			}
			full := whole.Bytes()
			size := int64(len(full))
			rng := rand.New(rand.NewPCG(uint64(size), 1))
			type rg struct{ off, n int64 }
			ranges := []rg{{0, size}, {size - 1, 1}, {44, min(4096, size-44)}}
			for range 25 {
				off := rng.Int64N(size)
				ranges = append(ranges, rg{off, min(size-off, 1+rng.Int64N(64<<10))})
			}
			for _, cp := range cps.List {
				off := 44 + cp.Sample*4 + int64(rng.IntN(3))
				if off < size {
					ranges = append(ranges, rg{off, min(size-off, 8<<10)})
				}
			}
			for _, r := range ranges {
				var got bytes.Buffer
				if err := WriteWAVRangeCheckpoints(context.Background(), a, cps, open, &got, r.off, r.n); err != nil {
					t.Fatalf("range %d+%d: %v", r.off, r.n, err)
				}
				if !bytes.Equal(got.Bytes(), full[r.off:r.off+r.n]) {
					t.Fatalf("range %d+%d differs from the whole WAV (checkpoint %v)", r.off, r.n, cps.Find((r.off-44)/4) != nil)
				}
			}
			if len(cps.List) == 0 && a.DurationMS() > 5000 {
				t.Fatalf("no checkpoints in %d ms", a.DurationMS())
			}
			t.Logf("%d ms, %d checkpoints, %d bytes; %d ranges", a.DurationMS(), len(cps.List), cps.Size(), len(ranges))
		})
	}
}
