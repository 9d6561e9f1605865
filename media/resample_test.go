package media

import (
	"math"
	"slices"
	"testing"
)

// tone runs an n-sample sine of frequency hz at rate through a fresh ×l
// interpolator in chunks and returns the output.
func interpolate(in []int16, l, chunk int) []int16 {
	f := newInterp(l)
	var out []int16
	buf := make([]int16, chunk*l+int(f.delay)+l)
	for len(in) > 0 {
		c := in[:min(chunk, len(in))]
		w := f.process(c, buf)
		out = append(out, buf[:w]...)
		in = in[len(c):]
	}
	w := f.drain(buf)
	return append(out, buf[:w]...)
}

func sine(n int, hz, rate, amp float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(math.Round(amp * math.Sin(2*math.Pi*hz*float64(i)/rate)))
	}
	return s
}

func TestInterpQuality(t *testing.T) {
	const n = 8000
	for _, c := range []struct {
		hz       float64
		minDB    float64 // ratio of signal to (output - ideal) error
		imageMax float64 // max image level relative to the signal, dB
	}{
		{300, 70, -75}, {1000, 70, -75}, {2000, 70, -75}, {3000, 70, -75}, {3400, 15, -75}, {3600, 5, -75},
	} {
		in := sine(n, c.hz, 8000, 10000)
		out := interpolate(in, 2, 333)
		if len(out) != 2*n {
			t.Fatalf("%v Hz: %d outputs for %d inputs", c.hz, len(out), n)
		}
		ideal := sine(2*n, c.hz, 16000, 10000)
		// Compare away from the edges (the filter starts and ends on silence).
		var sig, noise, image float64
		for i := 200; i < 2*n-200; i++ {
			d := float64(out[i]) - float64(ideal[i])
			sig += float64(ideal[i]) * float64(ideal[i])
			noise += d * d
		}
		// The image of hz appears at 8000-hz: correlate with it.
		var re, im float64
		for i := 200; i < 2*n-200; i++ {
			ph := 2 * math.Pi * (8000 - c.hz) * float64(i) / 16000
			re += float64(out[i]) * math.Cos(ph)
			im += float64(out[i]) * math.Sin(ph)
		}
		m := float64(2*n - 400)
		image = math.Sqrt(re*re+im*im) * 2 / m / 10000
		snr := 10 * math.Log10(sig/noise)
		imgDB := 20 * math.Log10(image+1e-12)
		t.Logf("%5.0f Hz: error %.1f dB below signal, image %.1f dB", c.hz, snr, imgDB)
		if snr < c.minDB || imgDB > c.imageMax {
			t.Errorf("%v Hz: SNR %.1f dB (want ≥ %v), image %.1f dB (want ≤ %v)", c.hz, snr, c.minDB, imgDB, c.imageMax)
		}
	}
}

func TestInterpStreaming(t *testing.T) {
	in := sine(5000, 440, 8000, 20000)
	for i := range in {
		in[i] += int16(i % 17 * 50)
	}
	whole := interpolate(in, 2, len(in))
	for _, chunk := range []int{1, 7, 160, 1024} {
		if got := interpolate(in, 2, chunk); !slices.Equal(got, whole) {
			t.Fatalf("chunk %d differs from one-shot processing", chunk)
		}
	}
	// DC passes exactly and the output is in phase (sample 2i == input i).
	dc := make([]int16, 400)
	for i := range dc {
		dc[i] = -12345
	}
	out := interpolate(dc, 2, 50)
	for i := 100; i < 700; i++ {
		if out[i] != -12345 {
			t.Fatalf("DC sample %d = %d", i, out[i])
		}
	}
	for _, l := range []int{3, 6} {
		out := interpolate(sine(2000, 500, 8000, 8000), l, 100)
		ideal := sine(2000*l, 500, float64(8000*l), 8000)
		for i := 100 * l; i < 1900*l; i++ {
			if d := int(out[i]) - int(ideal[i]); d > 20 || d < -20 {
				t.Fatalf("L=%d sample %d: %d want %d", l, i, out[i], ideal[i])
			}
		}
	}
}
