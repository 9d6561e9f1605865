package g729

import (
	"errors"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
)

func TestDecoderInfo(t *testing.T) {
	t.Parallel()
	d := NewDecoder()
	if d.Name() != "G729" || d.SampleRate() != 8000 || d.ClockRate() != 8000 || d.FrameSamples() != 80 {
		t.Fatalf("info: %s %d %d %d", d.Name(), d.SampleRate(), d.ClockRate(), d.FrameSamples())
	}
}

func TestPayloadLengths(t *testing.T) {
	t.Parallel()
	cases := []struct {
		n       int
		samples int
		err     error
	}{
		{0, 0, ErrPayload},
		{1, 0, ErrPayload},
		{2, 80, nil},
		{3, 0, ErrPayload},
		{9, 0, ErrPayload},
		{10, 80, nil},
		{11, 0, ErrPayload},
		{12, 160, nil},
		{13, 0, ErrPayload},
		{20, 160, nil},
		{22, 240, nil},
		{30, 240, nil},
		{31, 0, ErrPayload},
	}
	for _, c := range cases {
		d := NewDecoder()
		if got := d.MaxSamples(c.n); got != c.samples {
			t.Errorf("MaxSamples(%d) = %d, want %d", c.n, got, c.samples)
		}
		payload := make([]byte, c.n)
		for i := range payload {
			payload[i] = byte(i * 37)
		}
		dst := make([]int16, 400)
		n, err := d.Decode(dst, payload)
		if !errors.Is(err, c.err) {
			t.Errorf("Decode(%d bytes): err %v, want %v", c.n, err, c.err)
		}
		if n != c.samples {
			t.Errorf("Decode(%d bytes) = %d samples, want %d", c.n, n, c.samples)
		}
		if c.samples > 0 {
			_, err := d.Decode(dst[:c.samples-1], payload)
			if !errors.Is(err, ErrShortBuffer) {
				t.Errorf("Decode(%d bytes) into %d samples: err %v, want ErrShortBuffer", c.n, c.samples-1, err)
			}
		}
	}
	d := NewDecoder()
	if _, err := d.Conceal(make([]int16, 79)); !errors.Is(err, ErrShortBuffer) {
		t.Errorf("Conceal short buffer: err %v", err)
	}
}

// Several frames in one payload decode like the same frames one by one.
func TestMultiFramePayload(t *testing.T) {
	t.Parallel()
	frames := readFrameFile(t, filepath.Join("testdata", "rtp", "mix_vad.frames"))
	want := decodeFrames(t, NewDecoder(), frames)

	d := NewDecoder()
	var got []int16
	buf := make([]int16, 4*FrameSamples)
	var pending []byte
	flush := func() {
		if len(pending) == 0 {
			return
		}
		n, err := d.Decode(buf, pending)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
		pending = pending[:0]
	}
	for _, f := range frames {
		switch len(f) {
		case 0:
			flush()
			n, err := d.Conceal(buf)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, buf[:n]...)
		case SIDBytes:
			pending = append(pending, f...)
			flush() // a SID frame ends a payload
		default:
			pending = append(pending, f...)
			if len(pending) == 3*SpeechBytes {
				flush()
			}
		}
	}
	flush()
	compareFrames(t, got, want)
}

func TestReset(t *testing.T) {
	t.Parallel()
	frames := readFrameFile(t, filepath.Join("testdata", "rtp", "mix_loss.frames"))[:300]
	d := NewDecoder()
	first := decodeFrames(t, d, frames)
	d.Reset()
	second := decodeFrames(t, d, frames)
	if !slices.Equal(first, second) {
		t.Fatal("output after Reset differs from a fresh decoder")
	}
}

func TestDecodeAllocs(t *testing.T) {
	frames := readFrameFile(t, filepath.Join("testdata", "rtp", "mix_vad.frames"))
	d := NewDecoder()
	dst := make([]int16, FrameSamples)
	i := 0
	allocs := testing.AllocsPerRun(2000, func() {
		f := frames[i%len(frames)]
		i++
		var err error
		if len(f) == 0 {
			_, err = d.Conceal(dst)
		} else {
			_, err = d.Decode(dst, f)
		}
		if err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per frame, want 0", allocs)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, 10))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe})
	f.Add([]byte{0x7a, 0x41, 0x9c, 0x33, 0x01, 0xe0, 0x55, 0xaa, 0x12, 0x34})
	f.Add([]byte{0x80, 0x3f})
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, payload []byte) {
		d := NewDecoder()
		dst := make([]int16, d.MaxSamples(len(payload))+FrameSamples)
		for round := 0; round < 3; round++ {
			n, err := d.Decode(dst, payload)
			valid := len(payload) > 0 && (len(payload)%10 == 0 || len(payload)%10 == 2)
			if valid != (err == nil) {
				t.Fatalf("%d bytes: err %v", len(payload), err)
			}
			if err == nil && n != d.MaxSamples(len(payload)) {
				t.Fatalf("%d bytes: %d samples, want %d", len(payload), n, d.MaxSamples(len(payload)))
			}
			if n, err := d.Conceal(dst); err != nil || n != FrameSamples {
				t.Fatalf("Conceal: %d, %v", n, err)
			}
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	benchmarkFrames(b, "mix.frames")
}

// BenchmarkDTXStream runs over a stream with SID frames, comfort noise and
// untransmitted frames.
func BenchmarkDTXStream(b *testing.B) {
	benchmarkFrames(b, "mix_vad.frames")
}

func benchmarkFrames(b *testing.B, name string) {
	frames := readFrameFile(b, filepath.Join("testdata", "rtp", name))
	d := NewDecoder()
	dst := make([]int16, FrameSamples)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		for _, f := range frames {
			var err error
			if len(f) == 0 {
				_, err = d.Conceal(dst)
			} else {
				_, err = d.Decode(dst, f)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		n += len(frames)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/frame")
}

func TestUnpackSpeech(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 8))
	for iter := 0; iter < 10000; iter++ {
		var f [SpeechBytes]byte
		for i := range f {
			f[i] = byte(r.IntN(256))
		}
		var got, want [11]int16
		unpackSpeech(f[:], &got)
		br := bitReader{b: f[:]}
		for i, n := range speechBits {
			want[i] = br.read(n)
		}
		if got != want {
			t.Fatalf("%x: got %v, want %v", f, got, want)
		}
	}
}

func TestFrameLevelAPI(t *testing.T) {
	t.Parallel()
	d := NewDecoder()
	dst := make([]int16, FrameSamples)
	if _, err := d.DecodeSpeech(dst, make([]byte, 9)); !errors.Is(err, ErrPayload) {
		t.Errorf("DecodeSpeech(9 bytes): %v", err)
	}
	if _, err := d.DecodeSID(dst, make([]byte, 3)); !errors.Is(err, ErrPayload) {
		t.Errorf("DecodeSID(3 bytes): %v", err)
	}
	if _, err := d.DecodeSpeech(dst[:79], make([]byte, 10)); !errors.Is(err, ErrShortBuffer) {
		t.Errorf("DecodeSpeech short dst: %v", err)
	}
	if _, err := d.DecodeUntransmitted(dst[:10]); !errors.Is(err, ErrShortBuffer) {
		t.Errorf("DecodeUntransmitted short dst: %v", err)
	}
	if _, err := d.DecodeParams(dst, &[11]int16{}, false, 3); !errors.Is(err, ErrPayload) {
		t.Errorf("DecodeParams(ftyp 3): %v", err)
	}
	// Out-of-range parameters are reduced to their field widths.
	wild := [11]int16{-1, 32767, 1000, 5, -300, 99, 1 << 14, 400, -1, -1, -1}
	if n, err := d.DecodeParams(dst, &wild, false, 1); n != FrameSamples || err != nil {
		t.Errorf("DecodeParams(wild): %d, %v", n, err)
	}

	// DecodeSpeech equals Decode of the same 10 bytes.
	frames := readFrameFile(t, filepath.Join("testdata", "rtp", "mix_vad.frames"))
	d1, d2 := NewDecoder(), NewDecoder()
	a, b := make([]int16, FrameSamples), make([]int16, FrameSamples)
	sawSID := false
	for i, f := range frames {
		switch len(f) {
		case SpeechBytes:
			d1.DecodeSpeech(a, f)
			d2.Decode(b, f)
		case SIDBytes:
			d1.DecodeSID(a, f)
			d2.Decode(b, f)
			sawSID = true
		default:
			// After a SID frame, a frame known to be untransmitted and a
			// lost frame give the same comfort noise.
			if sawSID {
				c := *d1
				u := make([]int16, FrameSamples)
				c.DecodeUntransmitted(u)
				d1.Conceal(a)
				if !slices.Equal(u, a) {
					t.Fatalf("frame %d: DecodeUntransmitted differs from Conceal after SID", i)
				}
			} else {
				d1.Conceal(a)
			}
			d2.Conceal(b)
		}
		if !slices.Equal(a, b) {
			t.Fatalf("frame %d: frame-level API differs from Decode", i)
		}
	}
}

func TestZeroValueDecoder(t *testing.T) {
	t.Parallel()
	frames := readFrameFile(t, filepath.Join("testdata", "rtp", "mix_loss.frames"))[:200]
	var d Decoder
	got := decodeFrames(t, &d, frames)
	want := decodeFrames(t, NewDecoder(), frames)
	if !slices.Equal(got, want) {
		t.Fatal("zero-value Decoder differs from NewDecoder")
	}
	var z Decoder
	dst := make([]int16, FrameSamples)
	if n, err := z.Conceal(dst); n != FrameSamples || err != nil {
		t.Fatalf("zero-value Conceal: %d, %v", n, err)
	}
}
