package g722

import (
	"os"
	"testing"
	"time"
)

// BenchmarkDecode decodes mix.g722 in 80-octet (10 ms) payloads; one
// iteration is one payload. ns/frame is the time per 10 ms of audio.
func BenchmarkDecode(b *testing.B) {
	in, err := os.ReadFile("testdata/mix.g722")
	if err != nil {
		b.Fatal(err)
	}
	const payload = 80
	frames := len(in) / payload
	d := NewDecoder()
	out := make([]int16, 2*payload)
	b.SetBytes(payload)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	f := 0
	for i := 0; i < b.N; i++ {
		if f == frames {
			f = 0
			d.Reset()
		}
		if _, err := d.Decode(out, in[f*payload:(f+1)*payload]); err != nil {
			b.Fatal(err)
		}
		f++
	}
	ns := float64(time.Since(start).Nanoseconds()) / float64(b.N)
	b.ReportMetric(ns, "ns/frame")
	b.ReportMetric(10e6/ns, "x_realtime")
}
