package media

import (
	"bytes"
	"encoding/json"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestRenderToWAVAndEnvelope(t *testing.T) {
	pkts := callPackets(t, 3*time.Second, false)
	a, err := Analyze(&fakeSource{pkts: pkts}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.Write(WAVHeader(a.SampleRate, 2, a.Samples))
	wav := NewWAVSink(&buf)
	env := Envelope(300, a.Samples)
	if err := a.Render(&fakeSource{pkts: pkts}, MultiSink(wav, env)); err != nil {
		t.Fatal(err)
	}
	if err := wav.Flush(); err != nil {
		t.Fatal(err)
	}
	if int64(buf.Len()) != 44+4*a.Samples {
		t.Fatalf("WAV is %d bytes for %d frames", buf.Len(), a.Samples)
	}
	e := env.Bytes()
	if len(e) != 600 {
		t.Fatalf("envelope %d bytes", len(e))
	}
	for i, v := range e {
		if v == 0 { // both sides talk all the time
			t.Fatalf("envelope point %d channel %d is silent", i/2, i%2)
		}
	}
}

func TestStatsJSON(t *testing.T) {
	pkts := callPackets(t, time.Second, false)
	a, err := Analyze(&fakeSource{pkts: pkts}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(a.Streams[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"direction":"local"`, `"ssrc":4097`, `"src":"192.168.1.10:16386"`,
		`"dst":"192.168.1.20:40000"`, `"payload_type":8`, `"codec":"PCMA"`, `"clock_rate":8000`,
		`"packets":50`, `"lost":0`, `"duplicates":0`, `"reordered":0`, `"late":0`, `"gap_ms":0`,
		`"first":"2026-03-04T10:00:00Z"`, `"last":"2026-03-04T10:00:00.98Z"`, `"duration_ms":1000`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
}

// TestConstantMemory renders a 60 s and a 20 min call: the bytes allocated by
// Analyze+Render must not grow with the call length.
func TestConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	measure := func(d time.Duration) uint64 {
		pkts := callPackets(t, d, true)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		a, err := Analyze(&fakeSource{pkts: pkts}, wideOpt())
		if err != nil || a.SampleRate != 16000 {
			t.Fatal(err, a.SampleRate)
		}
		var c countSink
		if err := a.Render(&fakeSource{pkts: pkts}, &c); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	short, long := measure(time.Minute), measure(20*time.Minute)
	t.Logf("allocated: 60 s call %d bytes, 20 min call %d bytes", short, long)
	if long > short+short/4 {
		t.Fatalf("allocation grows with call length: %d vs %d bytes", long, short)
	}
}

func TestHostileCapture(t *testing.T) {
	sc := newScen(t)
	l := newLeg(1, true)
	// Timestamps jump by about 2^31 back and forth every packet; the capture
	// lasts 2 s, so the timeline must stay near 2 s.
	for k := range 100 {
		ts := l.ts0 + uint32(160*k)
		if k%2 == 1 {
			ts += 1<<31 - 5
		}
		sc.add(time.Duration(k)*20*time.Millisecond, l.src, l.dst, rtpBytes(t, l.seq0+uint16(k), ts, l.ssrc, 8, false, l.codes(k)))
	}
	// Many SSRCs: only MaxStreams are tracked.
	for k := range 100 {
		sc.add(time.Second, "10.9.9.9:1000", "10.9.9.8:1000", rtpBytes(t, 1, 1, uint32(5000+k), 8, false, []byte{1}))
	}
	a, err := Analyze(sc.source(), Options{MaxStreams: 10})
	if err != nil {
		t.Fatal(err)
	}
	if a.Samples > 2*8000+160 || len(a.Streams) != 10 || a.Ignored != 91 {
		t.Fatalf("samples %d streams %d ignored %d", a.Samples, len(a.Streams), a.Ignored)
	}
	if !strings.Contains(strings.Join(a.Warnings, ";"), "more than 10 RTP streams") {
		t.Fatalf("warnings %q", a.Warnings)
	}
	render(t, a, sc.source())
}
