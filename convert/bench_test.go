package convert

import (
	"bytes"
	"io"
	"testing"

	"recordings/internal/callgen"
	"recordings/media"
)

// BenchmarkConvert measures capture → WAV end to end (both passes) for a
// 60-second two-sided G.711 call.
func BenchmarkConvert(b *testing.B) {
	call := callgen.Default(3000)
	data := call.Bytes()
	open := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		a, err := Analyze(open, media.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := WriteWAV(a, open, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/60, "ns/call-second")
}

// BenchmarkConvert10Min is the throughput case of issue 15: capture → WAV
// (analysis and render) of a ten-minute two-way G.711 call, 60,000 RTP
// packets, 18 MB of pcap. cpu-ns/op is the process's CPU time per
// conversion (GC included), which a loaded machine disturbs much less than
// the wall time of ns/op.
func BenchmarkConvert10Min(b *testing.B) {
	call := callgen.Default(30000)
	data := call.Bytes()
	open := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		a, err := Analyze(open, media.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := WriteWAV(a, open, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	if cpu0 >= 0 {
		b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkConvert10MinIndexed is BenchmarkConvert10Min the way the convert
// command runs it: the capture in memory, parsed once (convert.NewIndexed)
// for both passes.
func BenchmarkConvert10MinIndexed(b *testing.B) {
	call := callgen.Default(30000)
	data := call.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		x, err := NewIndexed(data)
		if err != nil {
			b.Fatal(err)
		}
		a, err := Analyze(x.Open, media.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := WriteWAV(a, x.Open, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	if cpu0 >= 0 {
		b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
	}
}

func TestWindowWriter(t *testing.T) {
	src := make([]byte, 1000)
	for i := range src {
		src[i] = byte(i)
	}
	for _, tc := range []struct{ off, n int64 }{{0, 1000}, {0, 1}, {999, 1}, {100, 250}, {37, 500}} {
		var out bytes.Buffer
		ww := &windowWriter{w: &out, off: tc.off, end: tc.off + tc.n}
		var err error
		for p := 0; p < len(src) && err == nil; p += 64 {
			_, err = ww.Write(src[p:min(p+64, len(src))])
		}
		if !bytes.Equal(out.Bytes(), src[tc.off:tc.off+tc.n]) {
			t.Errorf("window %d+%d: got %d bytes", tc.off, tc.n, out.Len())
		}
	}
}
