package g722

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
)

// readPCM reads raw s16le samples, gunzipping files named *.gz.
func readPCM(t testing.TB, path string) []int16 {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if bytes.HasSuffix([]byte(path), []byte(".gz")) {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("gunzip %s: %v", path, err)
		}
		if raw, err = io.ReadAll(zr); err != nil {
			t.Fatalf("gunzip %s: %v", path, err)
		}
	}
	pcm := make([]int16, len(raw)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
	}
	return pcm
}

// readRef loads the test bitstream and the ITU reference decoder's output.
func readRef(t testing.TB) ([]byte, []int16) {
	t.Helper()
	in, err := os.ReadFile("testdata/mix.g722")
	if err != nil {
		t.Fatalf("read bitstream: %v", err)
	}
	ref := readPCM(t, "testdata/mix.ref.pcm")
	if len(ref) != 2*len(in) {
		t.Fatalf("reference has %d samples for %d octets, want %d", len(ref), len(in), 2*len(in))
	}
	return in, ref
}

// checkSame fails at the first sample where got differs from want.
func checkSame(t *testing.T, got, want []int16) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d samples, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			diffs := 0
			for j := i; j < len(want); j++ {
				if got[j] != want[j] {
					diffs++
				}
			}
			t.Fatalf("first difference at sample %d (octet %d, %.4f s): got %d, want %d; %d of %d samples differ",
				i, i/2, float64(i)/16000, got[i], want[i], diffs, len(want))
		}
	}
}

// decodeAll decodes in with a fresh decoder of the given mode.
func decodeAll(t *testing.T, rate int, in []byte) []int16 {
	t.Helper()
	d, err := NewDecoderMode(rate)
	if err != nil {
		t.Fatalf("NewDecoderMode(%d): %v", rate, err)
	}
	out := make([]int16, d.MaxSamples(len(in)))
	n, err := d.Decode(out, in)
	if err != nil || n != len(out) {
		t.Fatalf("Decode = %d, %v; want %d, nil", n, err, len(out))
	}
	return out
}

func TestBitExact(t *testing.T) {
	t.Parallel()
	in, ref := readRef(t)
	got := decodeAll(t, 64000, in)
	checkSame(t, got, ref)
	sat := 0
	for _, v := range got {
		if v == 32767 || v == -32768 {
			sat++
		}
	}
	if sat < 394 {
		t.Fatalf("only %d saturated samples; the sweep should drive the QMF into saturation", sat)
	}
}

// TestChunked decodes the stream in payloads of several sizes, among them
// 160 octets (20 ms, a common RTP packetisation) and 80 (10 ms), and expects
// exactly the output of a single call: all state carries across calls.
func TestChunked(t *testing.T) {
	t.Parallel()
	in, ref := readRef(t)
	for _, size := range []int{1, 7, 80, 160, 161, 4096} {
		t.Run(fmt.Sprintf("%d octets", size), func(t *testing.T) {
			d := NewDecoder()
			got := make([]int16, 0, len(ref))
			buf := make([]int16, d.MaxSamples(size))
			for off := 0; off < len(in); off += size {
				p := in[off:min(off+size, len(in))]
				n, err := d.Decode(buf, p)
				if err != nil || n != 2*len(p) {
					t.Fatalf("size %d, offset %d: Decode = %d, %v", size, off, n, err)
				}
				got = append(got, buf[:n]...)
			}
			checkSame(t, got, ref)
		})
	}
}

// TestLowerRates checks modes 2 and 3 against spandsp's decoder, which wraps
// where the reference saturates (see testdata/README.md).
func TestLowerRates(t *testing.T) {
	t.Parallel()
	in, _ := readRef(t)
	for _, tc := range []struct {
		rate  int
		file  string
		start int
	}{
		{56000, "testdata/mix.56k.head.spandsp.pcm.gz", 0},
		{56000, "testdata/mix.56k.tail.spandsp.pcm.gz", 16 * 16000},
		{48000, "testdata/mix.48k.head.spandsp.pcm.gz", 0},
		{48000, "testdata/mix.48k.tail.spandsp.pcm.gz", 16 * 16000},
	} {
		t.Run(tc.file, func(t *testing.T) {
			want := readPCM(t, tc.file)
			got := decodeAll(t, tc.rate, in)
			if tc.start+len(want) > len(got) {
				t.Fatalf("reference window [%d, %d) beyond %d samples", tc.start, tc.start+len(want), len(got))
			}
			got = got[tc.start : tc.start+len(want)]
			sat := 0
			for i := range want {
				g, w := got[i], want[i]
				switch {
				case g == w:
				case g == 32767 && w < 0, g == -32768 && w >= 0:
					sat++
				default:
					t.Fatalf("sample %d: got %d, spandsp %d", tc.start+i, g, w)
				}
			}
			t.Logf("%d samples equal, %d saturated where spandsp wraps", len(want)-sat, sat)
		})
	}
}

// TestModesDiffer guards against a mode being silently decoded as another.
func TestModesDiffer(t *testing.T) {
	t.Parallel()
	in, _ := readRef(t)
	in = in[:8000]
	a, b, c := decodeAll(t, 64000, in), decodeAll(t, 56000, in), decodeAll(t, 48000, in)
	if bytes.Equal(i16bytes(a), i16bytes(b)) || bytes.Equal(i16bytes(b), i16bytes(c)) {
		t.Fatal("modes decode identically")
	}
}

func i16bytes(s []int16) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

func TestReset(t *testing.T) {
	t.Parallel()
	in, ref := readRef(t)
	d := NewDecoder()
	buf := make([]int16, d.MaxSamples(len(in)))
	if _, err := d.Decode(buf, in[:5000]); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Conceal(buf); err != nil {
		t.Fatal(err)
	}
	d.Reset()
	n, err := d.Decode(buf, in)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, buf[:n], ref)
}

func TestErrors(t *testing.T) {
	t.Parallel()
	d := NewDecoder()
	for _, tc := range []struct {
		name string
		call func() (int, error)
		want error
	}{
		{"decode short dst", func() (int, error) { return d.Decode(make([]int16, 159), make([]byte, 80)) }, ErrShortBuffer},
		{"decode nil dst", func() (int, error) { return d.Decode(nil, []byte{0}) }, ErrShortBuffer},
		{"conceal short dst", func() (int, error) { return d.Conceal(make([]int16, 159)) }, ErrShortBuffer},
		{"decode empty", func() (int, error) { return d.Decode(nil, nil) }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := tc.call()
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if n != 0 {
				t.Fatalf("n = %d, want 0", n)
			}
		})
	}
	for _, rate := range []int{0, 32000, 64, -64000} {
		if d, err := NewDecoderMode(rate); !errors.Is(err, ErrMode) || d != nil {
			t.Fatalf("NewDecoderMode(%d) = %v, %v; want nil, ErrMode", rate, d, err)
		}
	}
	for _, rate := range []int{64000, 56000, 48000} {
		d, err := NewDecoderMode(rate)
		if err != nil || d.BitRate() != rate {
			t.Fatalf("NewDecoderMode(%d) = %v, %v", rate, d, err)
		}
	}
}

// A short destination must not disturb the state: the stream continues as
// if the failing call had not been made.
func TestErrorKeepsState(t *testing.T) {
	t.Parallel()
	in, ref := readRef(t)
	d := NewDecoder()
	buf := make([]int16, 320)
	got := make([]int16, 0, 640)
	for i := range 4 {
		if _, err := d.Decode(buf[:10], in[i*160:(i+1)*160]); err == nil {
			t.Fatal("short dst accepted")
		}
		n, err := d.Decode(buf, in[i*160:(i+1)*160])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	checkSame(t, got, ref[:len(got)])
}

func TestConceal(t *testing.T) {
	t.Parallel()
	in, ref := readRef(t)
	// A stretch of speech about 1 s in.
	const at = 16000 / 2 // octets
	out := make([]int16, 160)

	t.Run("silence before any payload", func(t *testing.T) {
		d := NewDecoder()
		n, err := d.Conceal(out)
		if err != nil || n != 160 {
			t.Fatalf("Conceal = %d, %v", n, err)
		}
		for i, v := range out {
			if v != 0 {
				t.Fatalf("sample %d = %d, want 0", i, v)
			}
		}
	})

	t.Run("fade and frozen state", func(t *testing.T) {
		d := NewDecoder()
		all := make([]int16, 2*at)
		if _, err := d.Decode(all, in[:at]); err != nil {
			t.Fatal(err)
		}
		last := all[len(all)-160:]
		energy := func(s []int16) (e float64) {
			for _, v := range s {
				e += float64(v) * float64(v)
			}
			return e
		}
		if energy(last) == 0 {
			t.Fatal("test needs non-silent history")
		}
		prev := energy(last)
		for k := range 4 {
			n, err := d.Conceal(out)
			if err != nil || n != 160 {
				t.Fatalf("Conceal %d = %d, %v", k, n, err)
			}
			for i, v := range out {
				if a, b := int32(v), int32(last[i]); a*a > b*b {
					t.Fatalf("frame %d sample %d: |%d| louder than history |%d|", k, i, v, last[i])
				}
			}
			e := energy(out)
			if k < 2 && (e == 0 || e >= prev) {
				t.Fatalf("frame %d: energy %.0f, previous %.0f: want a decaying, non-silent frame", k, e, prev)
			}
			if k >= 2 && e != 0 {
				t.Fatalf("frame %d: energy %.0f, want silence", k, e)
			}
			prev = e
		}
		if out0 := all[len(all)-160]; k0(d) != out0 {
			t.Fatalf("first concealed sample should replay %d", out0)
		}
		// The ADPCM state is frozen: the stream resumes exactly where it was.
		rest := make([]int16, 320)
		n, err := d.Decode(rest, in[at:at+160])
		if err != nil {
			t.Fatal(err)
		}
		checkSame(t, rest[:n], ref[2*at:2*at+n])
	})
}

// k0 returns the first sample a fresh concealment would produce.
func k0(d *Decoder) int16 {
	c := *d
	c.lost = 0
	out := make([]int16, 160)
	if _, err := c.Conceal(out); err != nil {
		return -1
	}
	return out[0]
}

func TestZeroAllocs(t *testing.T) {
	in, _ := readRef(t)
	d := NewDecoder()
	out := make([]int16, 160)
	off := 0
	allocs := testing.AllocsPerRun(200, func() {
		if off+80 > len(in) {
			off = 0
		}
		if _, err := d.Decode(out, in[off:off+80]); err != nil {
			t.Fatal(err)
		}
		off += 80
		if _, err := d.Conceal(out); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per Decode+Conceal, want 0", allocs)
	}
}
