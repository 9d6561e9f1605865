package convert

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/pion/rtp"

	"recordings/media"
	"recordings/pcap"
	"recordings/pcap/pcaptest"
)

// These tests push the codecs' conformance streams through the whole
// conversion path (pcap → RTP timeline → decoder → WAV) and require the
// local channel to equal the ITU-T reference decoder's output sample for
// sample: lost and untransmitted frames must reach the decoder's concealment
// and comfort-noise generation exactly where the reference applied them.

type rtpFrame struct {
	payload []byte // nil: no packet for this frame
	lost    bool   // true: the sequence number is skipped (loss); false: DTX
}

// captureOf writes one RTP stream (local side, port 16386) as pcap: one
// packet per frame, tsStep RTP ticks and 10 ms of capture time per frame.
func captureOf(t *testing.T, pt uint8, frames []rtpFrame, tsStep uint32) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := pcap.NewWriter(&buf, pcap.LinkEthernet)
	if err != nil {
		t.Fatal(err)
	}
	src := netip.MustParseAddrPort("192.0.2.10:16386")
	dst := netip.MustParseAddrPort("192.0.2.20:16386")
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	seq := uint16(40000)
	for i, f := range frames {
		if f.payload == nil {
			if f.lost {
				seq++
			}
			continue
		}
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: 1234 + uint32(i)*tsStep, SSRC: 0xabc}, Payload: f.payload}
		b, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WritePacket(start.Add(time.Duration(i)*10*time.Millisecond), pcaptest.EthernetIPv4UDP(src, dst, b)); err != nil {
			t.Fatal(err)
		}
		seq++
	}
	return buf.Bytes()
}

// g729Frames reads the frame-file format: [1 byte length][payload] per 10 ms.
func g729Frames(t *testing.T, path string, lost bool) []rtpFrame {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []rtpFrame
	for len(b) > 0 {
		n := int(b[0])
		if 1+n > len(b) {
			t.Fatalf("%s: truncated record", path)
		}
		f := rtpFrame{lost: lost}
		if n > 0 {
			f.payload = b[1 : 1+n]
		}
		out = append(out, f)
		b = b[1+n:]
	}
	return out
}

func readRef(t *testing.T, path string) []int16 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int16, len(b)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return out
}

// convertLeft converts a capture and returns the WAV's left channel and rate.
func convertLeft(t *testing.T, capture []byte) ([]int16, int) {
	t.Helper()
	open := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(capture)), nil }
	a, err := Analyze(open, media.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var wav bytes.Buffer
	if err := WriteWAV(a, open, &wav); err != nil {
		t.Fatal(err)
	}
	b := wav.Bytes()[44:]
	left := make([]int16, len(b)/4)
	for i := range left {
		left[i] = int16(binary.LittleEndian.Uint16(b[4*i:]))
	}
	return left, a.SampleRate
}

func compare(t *testing.T, got, want []int16) {
	t.Helper()
	if len(got) < len(want) {
		t.Fatalf("converted %d samples, reference has %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("sample %d (frame %d): got %d, want %d", i, i/80, got[i], want[i])
		}
	}
}

func TestConformanceThroughPipeline(t *testing.T) {
	const g729 = "../codec/g729/testdata/rtp/"
	for _, tc := range []struct {
		name, frames, ref string
		lost              bool
	}{
		{"G729 speech", g729 + "mix.frames", g729 + "mix.ref.pcm", false},
		{"G729 VAD/DTX with SID", g729 + "mix_vad.frames", g729 + "mix_vad.ref.pcm", false},
		{"G729 7% loss", g729 + "mix_loss.frames", g729 + "mix_loss.ref.pcm", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frames := g729Frames(t, tc.frames, tc.lost)
			// The timeline can only conceal frames between packets: trailing
			// missing frames have no packet to end the gap.
			for len(frames) > 0 && frames[len(frames)-1].payload == nil {
				frames = frames[:len(frames)-1]
			}
			left, rate := convertLeft(t, captureOf(t, 18, frames, 80))
			if rate != 8000 {
				t.Fatalf("rate %d", rate)
			}
			compare(t, left, readRef(t, tc.ref)[:80*len(frames)])
		})
	}
	t.Run("G722", func(t *testing.T) {
		data, err := os.ReadFile("../codec/g722/testdata/mix.g722")
		if err != nil {
			t.Fatal(err)
		}
		var frames []rtpFrame
		for off := 0; off+80 <= len(data); off += 80 { // 10 ms = 80 bytes at 64 kbit/s
			frames = append(frames, rtpFrame{payload: data[off : off+80]})
		}
		left, rate := convertLeft(t, captureOf(t, 9, frames, 80)) // RTP clock 8000 for G.722
		if rate != 16000 {
			t.Fatalf("rate %d", rate)
		}
		compare(t, left, readRef(t, "../codec/g722/testdata/mix.ref.pcm")[:160*len(frames)])
	})
}
