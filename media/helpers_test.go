package media

import (
	"fmt"
	"io"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"

	"recordings/codec"
)

var t0 = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

// fakeSource replays packets; it reuses one payload buffer so code that keeps
// a payload beyond Next is caught.
type fakeSource struct {
	pkts []Packet
	i    int
	err  error // returned instead of io.EOF at the end
	buf  []byte
}

func (f *fakeSource) Next() (Packet, error) {
	if f.i >= len(f.pkts) {
		if f.err != nil {
			return Packet{}, f.err
		}
		return Packet{}, io.EOF
	}
	p := f.pkts[f.i]
	f.i++
	for i := range f.buf {
		f.buf[i] = 0xA5 // scribble over the previous payload
	}
	f.buf = append(f.buf[:0], p.Payload...)
	p.Payload = f.buf
	return p, nil
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func rtpBytes(tb testing.TB, seq uint16, ts, ssrc uint32, pt uint8, marker bool, payload []byte) []byte {
	tb.Helper()
	b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, Marker: marker, PayloadType: pt,
		SequenceNumber: seq, Timestamp: ts, SSRC: ssrc}, Payload: payload}).Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// leg is one sender of 20 ms G.711 packets.
type leg struct {
	src, dst string
	ssrc     uint32
	pt       uint8
	seq0     uint16
	ts0      uint32
	id       int
}

func (l *leg) codes(k int) []byte {
	p := make([]byte, 160)
	for i := range p {
		p[i] = byte(k*7 + i*13 + l.id*101)
	}
	return p
}

// scen accumulates a capture and the expected output of its left/right channels.
type scen struct {
	tb    testing.TB
	pkts  []Packet
	exp   [2]map[int]int16
	noise []noiseRegion
	dec   codec.Decoder // expectation decoder (A-law by default)
	// firstWins keeps the first expectation for a sample (overlap tests).
	firstWins bool
}

type noiseRegion struct{ ch, from, to, amp int }

func newScen(tb testing.TB) *scen {
	return &scen{tb: tb, exp: [2]map[int]int16{{}, {}}, dec: codec.NewPCMA()}
}

func (sc *scen) add(at time.Duration, src, dst string, b []byte) {
	sc.pkts = append(sc.pkts, Packet{Time: t0.Add(at), Src: ap(src), Dst: ap(dst), Payload: b})
}

// audio sends packet k of l (seq0+k, ts0+160k plus tsOff) at capture offset
// at; pos >= 0 is the output sample where it must land on channel ch.
func (sc *scen) audio(l *leg, k int, tsOff uint32, at time.Duration, ch, pos int) {
	codes := l.codes(k)
	sc.add(at, l.src, l.dst, rtpBytes(sc.tb, l.seq0+uint16(k), l.ts0+uint32(160*k)+tsOff, l.ssrc, l.pt, false, codes))
	if pos >= 0 {
		sc.expect(ch, pos, codes)
	}
}

func (sc *scen) expect(ch, pos int, codes []byte) {
	pcm := make([]int16, len(codes))
	if _, err := sc.dec.Decode(pcm, codes); err != nil {
		sc.tb.Fatal(err)
	}
	for i, v := range pcm {
		if _, ok := sc.exp[ch][pos+i]; ok && sc.firstWins {
			continue
		}
		sc.exp[ch][pos+i] = v
	}
}

// source replays the capture in capture-time order (stable for equal times).
func (sc *scen) source() *fakeSource {
	slices.SortStableFunc(sc.pkts, func(a, b Packet) int { return a.Time.Compare(b.Time) })
	return &fakeSource{pkts: sc.pkts}
}

// sliceSink collects rendered frames.
type sliceSink struct{ s []int16 }

func (k *sliceSink) WriteFrames(f []int16) error {
	if len(f)%2 != 0 {
		return fmt.Errorf("odd frame slice %d", len(f))
	}
	k.s = append(k.s, f...)
	return nil
}

func render(tb testing.TB, a *Analysis, src Source) [2][]int16 {
	tb.Helper()
	var k sliceSink
	if err := a.Render(src, &k); err != nil {
		tb.Fatalf("Render: %v", err)
	}
	if int64(len(k.s)) != 2*a.Samples {
		tb.Fatalf("Render wrote %d frames, want %d", len(k.s)/2, a.Samples)
	}
	var ch [2][]int16
	for c := range 2 {
		ch[c] = make([]int16, a.Samples)
		for i := range ch[c] {
			ch[c][i] = k.s[2*i+c]
		}
	}
	return ch
}

// alawEncode is a test-only A-law encoder: the code whose expansion is
// nearest to v.
func alawEncode(v int16) byte {
	d := codec.NewPCMA()
	var all [256]byte
	for i := range all {
		all[i] = byte(i)
	}
	var pcm [256]int16
	if _, err := d.Decode(pcm[:], all[:]); err != nil {
		panic(err)
	}
	best, bestD := 0, int32(1<<30)
	for i, p := range pcm {
		dd := int32(p) - int32(v)
		if dd < 0 {
			dd = -dd
		}
		if dd < bestD {
			best, bestD = i, dd
		}
	}
	return byte(best)
}

func sip(sdp string) []byte {
	body := sdp
	return []byte("INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1\r\nContent-Type: application/sdp\r\n" +
		fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)) + body)
}

// wideOpt returns options whose decoder factory also knows the fake 16 kHz
// codec W16 (and maps G722 to it, which codec.New may not know yet).
func wideOpt() Options {
	return Options{newDecoder: func(name string) (codec.Decoder, error) {
		if name == "W16" || name == "G722" {
			return &wide16{}, nil
		}
		return codec.New(name)
	}}
}
