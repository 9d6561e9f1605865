package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// samePlan reports whether two analyses render alike and say the same:
// every field but the decoder factory of the options (a function, which
// reflect.DeepEqual never finds equal).
func samePlan(a, b *Analysis) bool {
	x, y := *a, *b
	x.opt.newDecoder, y.opt.newDecoder = nil, nil
	return reflect.DeepEqual(&x, &y)
}

// planCase is a capture whose analysis the plan tests store and restore.
type planCase struct {
	name string
	pkts []Packet
}

// planCases are generated calls (codec changes, SSRC changes, loss,
// reordering, DTX) and a capture with discontinuities, idle stretches cut
// from the timeline, 64 streams, one stream beyond them and one of an
// unsupported codec; which picks some of them (all when empty).
func planCases(tb testing.TB, which ...int) []planCase {
	tb.Helper()
	if len(which) == 0 {
		which = []int{0, 1, 2, 3}
	}
	var out []planCase
	for _, i := range which {
		if i < 3 {
			sc := checkpointScenarios[[]int{0, 4, 5}[i]]
			g := sc.g
			g.dur = min(g.dur, 40*time.Second)
			out = append(out, planCase{sc.name, g.packets(tb)})
			continue
		}
		codecs := []uint8{18, 9, 8, 0}
		var jumps []capPacket
		for i := range 65 {
			jumps = append(jumps, jumpStream(i, codecs[i%len(codecs)], time.Duration(i)*ms, 12*time.Hour, i%2 == 0)...)
		}
		jumps = append(jumps, jumpStream(70, 4, 0, time.Second, false)...) // G.723: no decoder
		slicesSortByTime(jumps)
		pkts, _ := pcapPackets(tb, jumps)
		out = append(out, planCase{"66 streams jump 12 h", pkts})
	}
	return out
}

// TestPlanRoundTrip: an analysis restored from its stored plan is the
// analysis (statistics and warnings included), encodes to the same bytes,
// renders the same samples from the start, and resumes ranges from the
// checkpoints recorded with the original to the same samples.
func TestPlanRoundTrip(t *testing.T) {
	t.Parallel()
	for _, c := range planCases(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a, err := Analyze(&fakeSource{pkts: c.pkts}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			b, err := a.MarshalPlan()
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParsePlan(b, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !samePlan(got, a) {
				t.Fatalf("restored analysis differs:\n%+v\n%+v", got, a)
			}
			if again, err := got.MarshalPlan(); err != nil || !bytes.Equal(again, b) {
				t.Fatalf("restored analysis encodes differently: %v", err)
			}
			var full sliceSink
			cps, err := a.RenderCheckpoints(context.Background(), &posSource{fakeSource{pkts: c.pkts}}, &full, int64(a.SampleRate))
			if err != nil {
				t.Fatal(err)
			}
			var restored sliceSink
			if err := got.Render(&fakeSource{pkts: c.pkts}, &restored); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(restored.s, full.s) {
				t.Fatal("the restored analysis renders other samples")
			}
			if !cps.Matches(got) {
				t.Fatal("the checkpoints do not match the restored analysis")
			}
			rng := rand.New(rand.NewPCG(uint64(len(c.pkts)), 3))
			resumed := 0
			for range 10 {
				from := rng.Int64N(a.Samples)
				cp := cps.Find(from)
				if cp == nil {
					continue
				}
				k := &cmpSink{want: full.s, at: int(from), bad: -1, stop: int(from) + 5*a.SampleRate}
				src := &fakeSource{pkts: c.pkts[cp.Offset:]}
				if err := got.RenderFrom(context.Background(), cps, cp, src, k, from); err != nil && !errors.Is(err, errEnough) {
					t.Fatalf("from %d (checkpoint at %d): %v", from, cp.Sample, err)
				}
				if int64(k.at) < min(a.Samples, int64(k.stop)) {
					t.Fatalf("from %d: rendered up to %d of %d", from, k.at, a.Samples)
				}
				resumed++
			}
			t.Logf("%d streams, %d warnings: plan of %d bytes; %d ranges resumed", len(a.Streams), len(a.Warnings), len(b), resumed)
		})
	}
}

// TestPlanRefused: every truncation and every flipped bit of a stored plan
// is refused with ErrPlanUnusable, and so is a plan recorded with other
// analysis options or whose timeline does not add up to its length.
func TestPlanRefused(t *testing.T) {
	t.Parallel()
	c := planCases(t, 2)[0]
	a, err := Analyze(&fakeSource{pkts: c.pkts}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := a.MarshalPlan()
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, d []byte, opt Options) {
		t.Helper()
		if got, err := ParsePlan(d, opt); !errors.Is(err, ErrPlanUnusable) {
			t.Fatalf("%s: %v, %v", what, got, err)
		}
	}
	for n := range len(b) {
		check("truncated", b[:n], Options{})
	}
	for i := range len(b) * 8 {
		d := bytes.Clone(b)
		d[i/8] ^= 1 << (i % 8)
		check("bit flipped", d, Options{})
	}
	check("trailing byte", append(bytes.Clone(b), 0), Options{})
	check("other options", b, Options{MaxIdle: 30 * time.Second})
	check("other options", b, Options{ReorderWindow: 2 * time.Second})
	if _, err := ParsePlan(b, Options{MaxIdle: time.Minute, MaxStreams: 64}); err != nil {
		t.Fatalf("the default options given explicitly: %v", err)
	}
	// A plan whose length is not what its segments give, with a valid
	// checksum: refused.
	bad := *a
	bad.Samples++
	d, err := bad.MarshalPlan()
	if err != nil {
		t.Fatal(err)
	}
	check("length off by one", d, Options{})
	// An analysis that cannot render has no plan.
	if _, err := (&Analysis{}).MarshalPlan(); err == nil {
		t.Fatal("plan of an empty analysis")
	}
}

// TestPlanBounded: notes and warnings are stored cut to maxPlanText bytes
// at a character boundary, and at most maxPlanWarnings of them.
func TestPlanBounded(t *testing.T) {
	t.Parallel()
	c := planCases(t, 0)[0]
	a, err := Analyze(&fakeSource{pkts: c.pkts}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("ü", maxPlanText) // 2 bytes each
	a.Streams[0].Note = "x" + long
	for range maxPlanWarnings + 10 {
		a.Warnings = append(a.Warnings, long)
	}
	b, err := a.MarshalPlan()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParsePlan(b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got.Warnings); n != maxPlanWarnings {
		t.Fatalf("%d warnings stored, want %d", n, maxPlanWarnings)
	}
	for _, s := range append(got.Warnings, got.Streams[0].Note) {
		if len(s) > maxPlanText || len(s) < maxPlanText-1 || !utf8.ValidString(s) {
			t.Fatalf("stored text of %d bytes (valid UTF-8: %v)", len(s), utf8.ValidString(s))
		}
	}
	if len(b) > MaxStoredPlan {
		t.Fatalf("plan of %d bytes", len(b))
	}
}

// withCRC replaces the last four bytes of b with the checksum of the rest,
// so that the fuzzer reaches the body of a plan.
func withCRC(b []byte) []byte {
	if len(b) < 4 {
		return b
	}
	d := bytes.Clone(b)
	binary.BigEndian.PutUint32(d[len(d)-4:], crc32.ChecksumIEEE(d[:len(d)-4]))
	return d
}

// FuzzParsePlan parses arbitrary bytes (as they are, and with their
// checksum made to fit) as a stored render plan: ParsePlan fails with
// ErrPlanUnusable or returns an analysis that encodes to a plan that
// parses back to the same analysis.
func FuzzParsePlan(f *testing.F) {
	for _, c := range planCases(f, 2, 3) {
		a, err := Analyze(&fakeSource{pkts: c.pkts}, Options{})
		if err != nil {
			f.Fatal(err)
		}
		b, err := a.MarshalPlan()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("RPL\x01\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, d := range [][]byte{b, withCRC(b)} {
			a, err := ParsePlan(d, Options{})
			if err != nil {
				if !errors.Is(err, ErrPlanUnusable) {
					t.Fatalf("error %v does not wrap ErrPlanUnusable", err)
				}
				continue
			}
			again, err := a.MarshalPlan()
			if err != nil {
				t.Fatal(err)
			}
			if a2, err := ParsePlan(again, Options{}); err != nil || !samePlan(a2, a) {
				t.Fatalf("re-encoded plan parses differently: %v", err)
			}
		}
	})
}
