package media

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"testing"
)

func TestWAVHeaderGolden(t *testing.T) {
	for _, c := range []struct {
		name           string
		rate, channels int
		frames         int64
		hex            string
	}{
		{"wav_8k_stereo_8000.golden", 8000, 2, 8000,
			"52494646247d00005741564566" + "6d74201000000001000200401f0000007d0000040010006461746100" + "7d0000"},
		{"wav_16k_stereo_0.golden", 16000, 2, 0,
			"524946462400000057415645666d74201000000001000200803e000000fa000004001000646174610000" + "0000"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := WAVHeader(c.rate, c.channels, c.frames)
			want, err := hex.DecodeString(c.hex)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("header\n got %x\nwant %x", got, want)
			}
			golden, err := os.ReadFile("testdata/" + c.name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, golden) {
				t.Fatalf("header differs from testdata/%s", c.name)
			}
		})
	}
	// 12 h at 48 kHz stereo overflows the 32-bit sizes: clamped.
	h := WAVHeader(48000, 2, 12*3600*48000)
	if !bytes.Equal(h[4:8], []byte{0xff, 0xff, 0xff, 0xff}) || !bytes.Equal(h[40:44], []byte{0xff, 0xff, 0xff, 0xff}) {
		t.Fatalf("oversized header %x", h)
	}
}

func TestWAVSink(t *testing.T) {
	var b bytes.Buffer
	s := NewWAVSink(&b)
	in := make([]int16, 10000)
	for i := range in {
		in[i] = int16(i*7 - 30000)
	}
	if err := s.WriteFrames(in); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteFrames([]int16{-1, 258}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	out := b.Bytes()
	if len(out) != 2*10002 {
		t.Fatalf("%d bytes", len(out))
	}
	for i, v := range in {
		if got := int16(uint16(out[2*i]) | uint16(out[2*i+1])<<8); got != v {
			t.Fatalf("sample %d: %d want %d", i, got, v)
		}
	}
	if !bytes.Equal(out[20000:], []byte{0xff, 0xff, 0x02, 0x01}) {
		t.Fatalf("tail %x", out[20000:])
	}
}

type failSink struct{ n int }

func (f *failSink) WriteFrames([]int16) error {
	f.n++
	return errors.New("disk full")
}

func TestEnvelopeAndMultiSink(t *testing.T) {
	env := Envelope(4, 8)
	var rec sliceSink
	m := MultiSink(&rec, env)
	// 8 frames: left peaks 100, -300 | 0 | 32767 ; right constant -32768
	frames := []int16{100, -32768, -300, -32768, 0, -32768, 0, -32768, 5, -32768, 1, -32768, 32767, -32768, 2, -32768}
	if err := m.WriteFrames(frames[:6]); err != nil {
		t.Fatal(err)
	}
	if err := m.WriteFrames(frames[6:]); err != nil {
		t.Fatal(err)
	}
	want := []byte{3, 255, 0, 255, 1, 255, 255, 255}
	if got := env.Bytes(); !bytes.Equal(got, want) {
		t.Fatalf("envelope %v want %v", got, want)
	}
	if len(rec.s) != 16 {
		t.Fatalf("multisink passed %d samples", len(rec.s))
	}
	f := &failSink{}
	if err := MultiSink(f, &rec).WriteFrames(frames); err == nil || len(rec.s) != 16 {
		t.Fatalf("error not propagated / later sink called: %v", err)
	}
}

func TestRenderSinkError(t *testing.T) {
	sc := newScen(t)
	l := newLeg(1, true)
	for k := range 500 {
		sc.audio(l, k, 0, 0, 0, -1)
	}
	a, err := Analyze(sc.source(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := &failSink{}
	if err := a.Render(sc.source(), f); err == nil || f.n != 1 {
		t.Fatalf("err %v after %d writes", err, f.n)
	}
}
