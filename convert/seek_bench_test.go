package convert

import (
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"recordings/media"
)

// Seek benchmarks: time to the first byte of a WAV range that starts at
// the nearest render checkpoint, for long generated calls in every codec.
// The captures (and their checkpoints) are generated once and kept in
// $TMPDIR/recordings-seekbench, since a four-hour call takes a while to
// write and to render from the start.

var seekBenchCalls = map[string]seekCall{
	"PCMA":  {codecs: [2][]string{{"PCMA"}, {"PCMA"}}, loss: 0.005, dtx: true, seed: 21},
	"G722":  {codecs: [2][]string{{"G722"}, {"G722"}}, loss: 0.005, dtx: true, seed: 22},
	"G729":  {codecs: [2][]string{{"G729"}, {"G729"}}, loss: 0.005, dtx: true, seed: 23},
	"mixed": {codecs: [2][]string{{"G729", "PCMA", "G722"}, {"PCMU", "G722", "G729"}}, switchEvery: 7 * time.Minute, ssrcChange: true, loss: 0.005, dtx: true, reorder: 0.005, seed: 24},
}

type seekFixture struct {
	path string
	a    *media.Analysis
	cps  *media.Checkpoints
	size int64 // of the WAV
}

var (
	seekFixMu sync.Mutex
	seekFix   = map[string]*seekFixture{}
)

// seekFixtureFor returns the capture of codec's call of length dur with
// checkpoints every `every`, generating and rendering it once.
func seekFixtureFor(tb testing.TB, codec string, dur, every time.Duration) *seekFixture {
	tb.Helper()
	seekFixMu.Lock()
	defer seekFixMu.Unlock()
	key := fmt.Sprintf("%s-%v-%v", codec, dur, every)
	if f := seekFix[key]; f != nil {
		return f
	}
	dir := filepath.Join(os.TempDir(), "recordings-seekbench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	call := seekBenchCalls[codec]
	call.dur = dur
	path := filepath.Join(dir, fmt.Sprintf("%s-%v.pcap", codec, dur))
	if _, err := os.Stat(path); err != nil {
		f, err := os.Create(path + ".tmp")
		if err != nil {
			tb.Fatal(err)
		}
		bw := newBufWriter(f)
		if err := call.write(bw); err != nil {
			tb.Fatal(err)
		}
		if err := errors.Join(bw.flush(), f.Close(), os.Rename(path+".tmp", path)); err != nil {
			tb.Fatal(err)
		}
	}
	open := fileOpener(path)
	a, err := Analyze(open, media.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	cpPath := filepath.Join(dir, key+".checkpoints")
	var cps media.Checkpoints
	if f, err := os.Open(cpPath); err == nil {
		err = gob.NewDecoder(f).Decode(&cps)
		f.Close()
		if err != nil || !cps.Matches(a) {
			cps = media.Checkpoints{}
		}
	}
	if !cps.Matches(a) {
		got, err := RenderCheckpoints(context.Background(), a, open, discard{}, every)
		if err != nil {
			tb.Fatal(err)
		}
		cps = *got
		if f, err := os.Create(cpPath); err == nil {
			gob.NewEncoder(f).Encode(&cps)
			f.Close()
		}
	}
	fx := &seekFixture{path: path, a: a, cps: &cps, size: WAVSize(a)}
	seekFix[key] = fx
	return fx
}

type discard struct{}

func (discard) WriteFrames([]int16) error { return nil }

func fileOpener(path string) Opener {
	return func() (io.ReadCloser, error) { return os.Open(path) }
}

type bufWriter struct {
	w   io.Writer
	buf []byte
}

func newBufWriter(w io.Writer) *bufWriter { return &bufWriter{w: w, buf: make([]byte, 0, 1<<20)} }

func (b *bufWriter) Write(p []byte) (int, error) {
	if len(b.buf)+len(p) > cap(b.buf) {
		if err := b.flush(); err != nil {
			return 0, err
		}
	}
	if len(p) > cap(b.buf) {
		return b.w.Write(p)
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *bufWriter) flush() error {
	_, err := b.w.Write(b.buf)
	b.buf = b.buf[:0]
	return err
}

// errFirstByte ends a range once its first bytes arrived.
var errFirstByte = errors.New("first byte")

type firstByte struct{}

func (firstByte) Write(p []byte) (int, error) { return 0, errFirstByte }

// ttfb renders the range starting at byte off until its first byte and
// returns the wall time and the thread's CPU time it took.
func (fx *seekFixture) ttfb(tb testing.TB, off int64, cps *media.Checkpoints) (wall, cpu time.Duration) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c0 := threadCPU()
	t0 := time.Now()
	err := WriteWAVRangeCheckpoints(context.Background(), fx.a, cps, fileOpener(fx.path), firstByte{}, off, fx.size-off)
	wall, cpu = time.Since(t0), time.Duration(threadCPU()-c0)
	if !errors.Is(err, errFirstByte) {
		tb.Fatalf("range at %d: %v", off, err)
	}
	return wall, cpu
}

// BenchmarkSeekTTFB is the time to the first byte of a range at 10 %,
// 50 % and 90 % of a call, codec × call length × position. cpu-ns/op is
// the rendering thread's CPU time, which a busy machine disturbs less than
// the wall time of ns/op; checkpoint-B/h is the size of the checkpoints
// per hour of audio.
func BenchmarkSeekTTFB(b *testing.B) {
	for _, codec := range []string{"PCMA", "G722", "G729", "mixed"} {
		for _, dur := range []time.Duration{time.Hour, 4 * time.Hour} {
			for _, pos := range []int{10, 50, 90} {
				b.Run(fmt.Sprintf("codec=%s/len=%v/pos=%d%%", codec, dur, pos), func(b *testing.B) {
					fx := seekFixtureFor(b, codec, dur, CheckpointEvery)
					off := 44 + (fx.size-44)/100*int64(pos)/4*4
					var cpu time.Duration
					for b.Loop() {
						_, c := fx.ttfb(b, off, fx.cps)
						cpu += c
					}
					b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
					b.ReportMetric(float64(fx.cps.Size())/(float64(fx.a.DurationMS())/3.6e6), "checkpoint-B/h")
				})
			}
		}
	}
}

// BenchmarkSeekRandom renders 100 ranges at random offsets of a four-hour
// call (per codec) to their first byte and reports the p50 and p99 of the
// wall time and of the CPU time. Run it once per codec:
//
//	go test -run XXX -bench SeekRandom -benchtime 1x ./convert/
//
// SEEK_EVERY (a duration) changes the checkpoint interval, SEEK_LEN the
// call length (default 4h).
func BenchmarkSeekRandom(b *testing.B) {
	every, dur := CheckpointEvery, 4*time.Hour
	if v, err := time.ParseDuration(os.Getenv("SEEK_EVERY")); err == nil && v > 0 {
		every = v
	}
	if v, err := time.ParseDuration(os.Getenv("SEEK_LEN")); err == nil && v > 0 {
		dur = v
	}
	for _, codec := range []string{"PCMA", "G722", "G729", "mixed"} {
		b.Run(fmt.Sprintf("codec=%s/len=%v/every=%v", codec, dur, every), func(b *testing.B) {
			fx := seekFixtureFor(b, codec, dur, every)
			for b.Loop() {
				rng := rand.New(rand.NewPCG(uint64(len(codec)), 100))
				var walls, cpus []time.Duration
				for range 100 {
					off := 44 + rng.Int64N(fx.size-44-4096)
					w, c := fx.ttfb(b, off, fx.cps)
					walls, cpus = append(walls, w), append(cpus, c)
				}
				slices.Sort(walls)
				slices.Sort(cpus)
				b.ReportMetric(float64(walls[49].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(walls[98].Microseconds())/1000, "p99-ms")
				b.ReportMetric(float64(cpus[49].Microseconds())/1000, "cpu-p50-ms")
				b.ReportMetric(float64(cpus[98].Microseconds())/1000, "cpu-p99-ms")
			}
			b.ReportMetric(float64(fx.cps.Size())/(float64(fx.a.DurationMS())/3.6e6), "checkpoint-B/h")
			b.ReportMetric(float64(fx.storedSize(b))/(float64(fx.a.DurationMS())/3.6e6), "stored-B/h")
		})
	}
}

// storedSize is the size of the checkpoints' stored form (the
// recording_checkpoints row's data, before sealing adds 29 bytes).
func (fx *seekFixture) storedSize(tb testing.TB) int {
	b, err := fx.cps.MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	return len(b)
}

// storedWithPlan is the checkpoints' stored form with the analysis'
// render plan, as ingest stores them (before sealing).
func (fx *seekFixture) storedWithPlan(tb testing.TB) []byte {
	set := *fx.cps
	var err error
	if set.Plan, err = fx.a.MarshalPlan(); err != nil {
		tb.Fatal(err)
	}
	b, err := set.MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// coldSeek is the first seek into a call after a restart, with nothing
// cached, to the range at byte off: the stored set parsed and, from=plan,
// the analysis restored from its plan, or, from=analysis (as before plans
// were stored), the capture analysed again; then the range rendered to
// its first byte. It returns the thread's CPU time and the wall time of
// the whole and of getting the analysis.
func (fx *seekFixture) coldSeek(tb testing.TB, stored []byte, fromPlan bool, off int64) (cpu, wall, analysis time.Duration) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c0, t0 := threadCPU(), time.Now()
	cps, err := media.ParseCheckpoints(stored)
	if err != nil {
		tb.Fatal(err)
	}
	t1 := time.Now()
	var a *media.Analysis
	if fromPlan {
		a, err = media.ParsePlan(cps.Plan, media.Options{})
	} else {
		a, err = Analyze(fileOpener(fx.path), media.Options{})
	}
	if err != nil || !cps.Matches(a) {
		tb.Fatalf("analysis: %v", err)
	}
	t2 := time.Now()
	err = WriteWAVRangeCheckpoints(context.Background(), a, cps, fileOpener(fx.path), firstByte{}, off, fx.size-off)
	if !errors.Is(err, errFirstByte) {
		tb.Fatal(err)
	}
	return time.Duration(threadCPU() - c0), time.Since(t0), t2.Sub(t1)
}

// BenchmarkSeekAfterRestart is the first seek into a call after a
// restart, with nothing cached: the stored checkpoints parsed, the
// analysis restored from the plan stored with them (from=plan) or, as
// before plans were stored, the capture analysed again (from=analysis),
// and a range at 50 % rendered to its first byte. cpu-ns/op is the
// thread's CPU time, analysis-ns/op the wall time of getting the analysis.
func BenchmarkSeekAfterRestart(b *testing.B) {
	for _, codec := range []string{"PCMA", "G729", "mixed"} {
		for _, dur := range []time.Duration{time.Hour, 4 * time.Hour} {
			for _, from := range []string{"analysis", "plan"} {
				b.Run(fmt.Sprintf("codec=%s/len=%v/pos=50%%/from=%s", codec, dur, from), func(b *testing.B) {
					fx := seekFixtureFor(b, codec, dur, CheckpointEvery)
					stored := fx.storedWithPlan(b)
					off := 44 + (fx.size-44)/2/4*4
					var cpu, analysis time.Duration
					for b.Loop() {
						c, _, an := fx.coldSeek(b, stored, from == "plan", off)
						cpu, analysis = cpu+c, analysis+an
					}
					b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
					b.ReportMetric(float64(analysis.Nanoseconds())/float64(b.N), "analysis-ns/op")
					b.ReportMetric(float64(len(stored))/(float64(fx.a.DurationMS())/3.6e6), "stored-B/h")
				})
			}
		}
	}
}

// BenchmarkSeekRandomAfterRestart is BenchmarkSeekRandom with each of the
// 100 ranges the first after a restart (coldSeek from the stored plan):
// p50 and p99 of the wall and of the CPU time to the first byte. Run it
// once per codec:
//
//	go test -run XXX -bench SeekRandomAfterRestart -benchtime 1x ./convert/
//
// SEEK_LEN changes the call length (default 4h).
func BenchmarkSeekRandomAfterRestart(b *testing.B) {
	dur := 4 * time.Hour
	if v, err := time.ParseDuration(os.Getenv("SEEK_LEN")); err == nil && v > 0 {
		dur = v
	}
	for _, codec := range []string{"PCMA", "G722", "G729", "mixed"} {
		b.Run(fmt.Sprintf("codec=%s/len=%v", codec, dur), func(b *testing.B) {
			fx := seekFixtureFor(b, codec, dur, CheckpointEvery)
			stored := fx.storedWithPlan(b)
			for b.Loop() {
				rng := rand.New(rand.NewPCG(uint64(len(codec)), 101))
				var walls, cpus []time.Duration
				for range 100 {
					off := 44 + rng.Int64N(fx.size-44-4096)
					c, w, _ := fx.coldSeek(b, stored, true, off)
					walls, cpus = append(walls, w), append(cpus, c)
				}
				slices.Sort(walls)
				slices.Sort(cpus)
				b.ReportMetric(float64(walls[49].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(walls[98].Microseconds())/1000, "p99-ms")
				b.ReportMetric(float64(cpus[49].Microseconds())/1000, "cpu-p50-ms")
				b.ReportMetric(float64(cpus[98].Microseconds())/1000, "cpu-p99-ms")
			}
			plan, err := fx.a.MarshalPlan()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(len(plan)), "plan-B")
			b.ReportMetric(float64(len(stored))/(float64(fx.a.DurationMS())/3.6e6), "stored-B/h")
		})
	}
}

// BenchmarkSeekFromStart is the same first byte at 50 % of a one-hour
// call without checkpoints: what every range cost before (a render from
// the start of the call).
func BenchmarkSeekFromStart(b *testing.B) {
	for _, codec := range []string{"PCMA", "G722", "G729", "mixed"} {
		b.Run(fmt.Sprintf("codec=%s/len=1h/pos=50%%", codec), func(b *testing.B) {
			fx := seekFixtureFor(b, codec, time.Hour, CheckpointEvery)
			off := 44 + (fx.size-44)/2/4*4
			var cpu time.Duration
			for b.Loop() {
				_, c := fx.ttfb(b, off, nil)
				cpu += c
			}
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}
