package media

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"recordings/codec/snap"
)

// genCall describes a generated two-way call for the checkpoint tests.
type genCall struct {
	dur time.Duration
	// codecs per direction; a direction switches to the next codec every
	// switchEvery (and keeps its SSRC unless ssrcChange).
	codecs      [2][]string
	switchEvery time.Duration
	loss        float64 // share of packets lost
	reorder     float64 // share of packets swapped with their successor
	dtx         bool    // silences of 1-4 s with SID / CN packets
	ssrcChange  bool    // new SSRC (and sequence numbers) at every codec switch
	jitter      time.Duration
	seed        uint64
}

type genCodec struct {
	pt    uint8
	bytes int // per 20 ms packet
	cnPT  uint8
	cn    []byte // silence descriptor payload
}

var genCodecs = map[string]genCodec{
	"PCMU": {pt: 0, bytes: 160, cnPT: 13, cn: []byte{60}},
	"PCMA": {pt: 8, bytes: 160, cnPT: 13, cn: []byte{50}},
	"G722": {pt: 9, bytes: 160, cnPT: 13, cn: []byte{55}},
	"G729": {pt: 18, bytes: 20, cnPT: 18, cn: []byte{0x5a, 0x3c}},
}

// packets builds the capture: a SIP INVITE, then 20 ms packets of both
// directions in capture order.
func (g genCall) packets(tb testing.TB) []Packet {
	tb.Helper()
	rng := rand.New(rand.NewPCG(g.seed, 7))
	type pk struct {
		at time.Duration
		p  Packet
	}
	var all []pk
	all = append(all, pk{-time.Millisecond, Packet{Time: t0.Add(-time.Millisecond), Src: ap("10.0.0.1:5060"), Dst: ap("10.0.0.2:5060"),
		Payload: sip("v=0\r\nm=audio 16386 RTP/AVP 0 8 9 18 13\r\n")}})
	n := int(g.dur / (20 * time.Millisecond))
	for dir := range 2 {
		src, dst := ap("10.0.0.1:16386"), ap("10.0.0.2:30000")
		if dir == 1 {
			src, dst = ap("10.0.0.2:30000"), ap("10.0.0.1:16388")
		}
		ssrc := uint32(0x1000 + dir)
		seq := uint16(rng.Uint32())
		ts := rng.Uint32()
		silentUntil := -1
		var batch []pk
		for i := range n {
			at := time.Duration(i) * 20 * time.Millisecond
			k := 0
			if g.switchEvery > 0 {
				k = int(at / g.switchEvery)
			}
			name := g.codecs[dir][k%len(g.codecs[dir])]
			c := genCodecs[name]
			if g.ssrcChange && i > 0 && g.switchEvery > 0 && int((at-20*time.Millisecond)/g.switchEvery) != k {
				ssrc += 0x100
				seq = uint16(rng.Uint32())
				ts = rng.Uint32()
			}
			seq++
			ts += 160
			if rng.Float64() < g.loss {
				continue
			}
			var payload []byte
			pt := c.pt
			switch {
			case i < silentUntil:
				continue
			case g.dtx && i > 0 && rng.IntN(400) == 0:
				silentUntil = i + 50 + rng.IntN(150)
				payload, pt = c.cn, c.cnPT
			default:
				payload = make([]byte, c.bytes)
				for j := range payload {
					payload[j] = byte(rng.Uint32())
				}
			}
			jit := time.Duration(0)
			if g.jitter > 0 {
				jit = time.Duration(rng.Int64N(int64(g.jitter)))
			}
			batch = append(batch, pk{at + jit + time.Duration(dir)*3*time.Millisecond, Packet{Src: src, Dst: dst,
				Payload: rtpBytes(tb, seq, ts, ssrc, pt, false, payload)}})
		}
		for i := 0; i+1 < len(batch); i++ {
			if rng.Float64() < g.reorder {
				batch[i].at, batch[i+1].at = batch[i+1].at, batch[i].at
				i++
			}
		}
		all = append(all, batch...)
	}
	// cmp.Compare, not int(a.at-b.at): the difference of two times more
	// than 2.1 s apart does not fit a 32-bit int, and the capture came out
	// shuffled on 386 and arm (issue 15).
	slices.SortStableFunc(all, func(a, b pk) int { return cmp.Compare(a.at, b.at) })
	out := make([]Packet, len(all))
	for i, x := range all {
		x.p.Time = t0.Add(x.at)
		out[i] = x.p
	}
	return out
}

// posSource is a fakeSource that tells its position: the packet index.
type posSource struct{ fakeSource }

func (p *posSource) Pos() int64 { return int64(p.i) }

// cmpSink compares what it receives with want from a sample on; after
// stop samples (when set) it ends the render with errEnough.
type cmpSink struct {
	want []int16
	at   int // sample index of the next frame
	bad  int // first differing sample, or -1
	stop int
}

var errEnough = errors.New("compared enough")

func (c *cmpSink) WriteFrames(f []int16) error {
	if c.stop > 0 && c.at >= c.stop {
		return errEnough
	}
	for i := 0; i+1 < len(f); i += 2 {
		k := 2 * (c.at + i/2)
		if k+1 >= len(c.want) || f[i] != c.want[k] || f[i+1] != c.want[k+1] {
			c.bad = c.at + i/2
			return fmt.Errorf("sample %d differs", c.bad)
		}
	}
	c.at += len(f) / 2
	return nil
}

var checkpointScenarios = []struct {
	name string
	g    genCall
}{
	{"PCMU", genCall{dur: 3 * time.Minute, codecs: [2][]string{{"PCMU"}, {"PCMU"}}, loss: 0.01, dtx: true, seed: 1}},
	{"PCMA", genCall{dur: 3 * time.Minute, codecs: [2][]string{{"PCMA"}, {"PCMA"}}, loss: 0.01, reorder: 0.01, seed: 2}},
	{"G722", genCall{dur: 3 * time.Minute, codecs: [2][]string{{"G722"}, {"G722"}}, loss: 0.02, dtx: true, reorder: 0.01, seed: 3}},
	{"G729", genCall{dur: 3 * time.Minute, codecs: [2][]string{{"G729"}, {"G729"}}, loss: 0.02, dtx: true, reorder: 0.01, seed: 4}},
	{"mixed and codec changes", genCall{dur: 4 * time.Minute, codecs: [2][]string{{"G729", "PCMA", "G722"}, {"PCMU", "G722", "G729", "PCMA"}},
		switchEvery: 37 * time.Second, loss: 0.01, dtx: true, reorder: 0.01, seed: 5}},
	{"SSRC changes, loss, reordering, jitter", genCall{dur: 4 * time.Minute, codecs: [2][]string{{"G722", "G729"}, {"G729", "PCMU"}},
		switchEvery: 29 * time.Second, ssrcChange: true, loss: 0.05, reorder: 0.05, dtx: true, jitter: 15 * time.Millisecond, seed: 6}},
}

// maxCheckpointGap bounds the audio between two checkpoints (and before the
// first and after the last) of the generated calls recorded with a
// checkpoint every second: up to a second more while a stream holds packets
// for reordering (recorder.slack), and DTX silences write nothing, so that
// the timeline's highest write stands still for up to 4 s.
const maxCheckpointGap = 10 * time.Second

// checkSpacing fails the test when the checkpoints leave a stretch longer
// than maxCheckpointGap without one, or are not in order.
func checkSpacing(t *testing.T, a *Analysis, cps *Checkpoints) {
	t.Helper()
	limit := nsToSamples(maxCheckpointGap.Nanoseconds(), a.SampleRate, false)
	prev := int64(0)
	for i, cp := range cps.List {
		if cp.Sample <= prev && i > 0 {
			t.Fatalf("checkpoint %d at sample %d, not after the previous one at %d", i, cp.Sample, prev)
		}
		if cp.Sample-prev > limit {
			t.Fatalf("checkpoint %d at sample %d: %d samples (over %v) after the previous one at %d",
				i, cp.Sample, cp.Sample-prev, maxCheckpointGap, prev)
		}
		prev = cp.Sample
	}
	if a.Samples-prev > limit {
		t.Fatalf("last checkpoint at sample %d of %d: over %v before the end", prev, a.Samples, maxCheckpointGap)
	}
}

// TestGenCallCaptureOrder checks that the generated captures are in
// capture order on every architecture. Their packets were once sorted by
// int(a.at-b.at), which wraps on 32-bit platforms for times more than 2.1 s
// apart: the capture came out shuffled there (its first RTP packet from
// two minutes into the call), and the renders of it recorded a few
// checkpoints instead of one a second (issue 15).
func TestGenCallCaptureOrder(t *testing.T) {
	t.Parallel()
	for _, sc := range checkpointScenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			pkts := sc.g.packets(t)
			for i := 1; i < len(pkts); i++ {
				if pkts[i].Time.Before(pkts[i-1].Time) {
					t.Fatalf("packet %d captured at %v, before packet %d at %v",
						i, pkts[i].Time.Sub(t0), i-1, pkts[i-1].Time.Sub(t0))
				}
			}
			if want := 2 * int(sc.g.dur/(20*time.Millisecond)); len(pkts) < want/2 || len(pkts) > want+1 {
				t.Fatalf("%d packets for %v of two-way audio", len(pkts), sc.g.dur)
			}
		})
	}
}

// TestCheckpointRangesBitExact renders each generated call from the start
// while recording checkpoints, then renders random ranges (and every
// checkpoint's own first sample) resumed from the nearest checkpoint and
// compares them sample for sample with the full render.
func TestCheckpointRangesBitExact(t *testing.T) {
	t.Parallel()
	for _, sc := range checkpointScenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			pkts := sc.g.packets(t)
			a, err := Analyze(&fakeSource{pkts: pkts}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var plain sliceSink
			if err := a.Render(&fakeSource{pkts: pkts}, &plain); err != nil {
				t.Fatal(err)
			}
			var full sliceSink
			cps, err := a.RenderCheckpoints(context.Background(), &posSource{fakeSource{pkts: pkts}}, &full, int64(a.SampleRate))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(plain.s, full.s) {
				t.Fatal("recording checkpoints changed the render")
			}
			if !cps.Matches(a) {
				t.Fatal("checkpoints do not match their analysis")
			}
			if len(cps.List) < int(sc.g.dur/time.Second)/4 {
				t.Fatalf("%d checkpoints for %v", len(cps.List), sc.g.dur)
			}
			checkSpacing(t, a, cps)
			rng := rand.New(rand.NewPCG(sc.g.seed, 99))
			var froms []int64
			for i, cp := range cps.List {
				if i%5 == 0 || i == len(cps.List)-1 {
					froms = append(froms, cp.Sample)
				}
			}
			for range 30 {
				froms = append(froms, rng.Int64N(a.Samples))
			}
			froms = append(froms, a.Samples-1, a.Samples)
			resumed := 0
			for _, from := range froms {
				cp := cps.Find(from)
				if cp == nil {
					continue
				}
				// Five seconds are compared; the ranges from the last
				// checkpoint run to the end.
				k := &cmpSink{want: full.s, at: int(from), bad: -1, stop: int(from) + 5*a.SampleRate}
				src := &fakeSource{pkts: pkts[cp.Offset:]}
				if err := a.RenderFrom(context.Background(), cps, cp, src, k, from); err != nil && !errors.Is(err, errEnough) {
					t.Fatalf("from %d (checkpoint at %d): %v", from, cp.Sample, err)
				}
				if int64(k.at) < min(a.Samples, int64(k.stop)) {
					t.Fatalf("from %d: rendered up to %d of %d", from, k.at, a.Samples)
				}
				resumed++
			}
			if resumed < 40 {
				t.Fatalf("only %d ranges resumed from checkpoints", resumed)
			}
			t.Logf("%d checkpoints, %d bytes (%.0f per hour of audio); %d ranges compared",
				len(cps.List), cps.Size(), float64(cps.Size())*3600/float64(a.DurationMS()/1000), resumed)
		})
	}
}

// TestCheckpointRefused checks that a checkpoint that does not fit is
// refused with ErrCheckpoint instead of rendering something else.
func TestCheckpointRefused(t *testing.T) {
	t.Parallel()
	g := checkpointScenarios[3].g
	g.dur = 40 * time.Second
	pkts := g.packets(t)
	a, err := Analyze(&fakeSource{pkts: pkts}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var full sliceSink
	cps, err := a.RenderCheckpoints(context.Background(), &posSource{fakeSource{pkts: pkts}}, &full, int64(a.SampleRate))
	if err != nil {
		t.Fatal(err)
	}
	if len(cps.List) < 3 {
		t.Fatalf("%d checkpoints, too few to test refusals", len(cps.List))
	}
	cp := cps.List[2]
	for name, tc := range map[string]struct {
		cp   Checkpoint
		from int64
		skip int64
	}{
		"before the checkpoint": {cp, cp.Sample - 1, cp.Offset},
		"wrong source position": {cp, cp.Sample, cp.Offset + 1},
		"truncated state":       {Checkpoint{Sample: cp.Sample, Offset: cp.Offset, Packet: cp.Packet, TimeNS: cp.TimeNS, State: cp.State[:len(cp.State)/2]}, cp.Sample, cp.Offset},
		"other packet count":    {Checkpoint{Sample: cp.Sample, Offset: cp.Offset, Packet: cp.Packet + 1, TimeNS: cp.TimeNS, State: cp.State}, cp.Sample, cp.Offset},
	} {
		err := a.RenderFrom(context.Background(), cps, &tc.cp, &fakeSource{pkts: pkts[tc.skip:]}, &sliceSink{}, tc.from)
		if !errors.Is(err, ErrCheckpoint) {
			t.Errorf("%s: %v, want ErrCheckpoint", name, err)
		}
	}
}

// FuzzCheckpointState restores arbitrary bytes as a render state of a
// short mixed call: a refused state wraps snap.ErrState; an accepted one
// must render the rest of the capture without panicking or writing more
// than the timeline's samples.
func FuzzCheckpointState(f *testing.F) {
	g := checkpointScenarios[5].g
	g.dur = 12 * time.Second
	g.switchEvery = 3 * time.Second
	pkts := g.packets(f)
	a, err := Analyze(&fakeSource{pkts: pkts}, Options{})
	if err != nil {
		f.Fatal(err)
	}
	cps, err := a.RenderCheckpoints(context.Background(), &posSource{fakeSource{pkts: pkts}}, &sliceSink{}, int64(a.SampleRate)/2)
	if err != nil {
		f.Fatal(err)
	}
	for _, cp := range cps.List {
		raw, err := inflate(cp.State)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw, uint16(cp.Offset))
	}
	f.Add([]byte{stateVersion}, uint16(0))
	f.Fuzz(func(t *testing.T, raw []byte, at uint16) {
		r, e, err := a.newRender(context.Background(), &sliceSink{})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.restore(e, raw); err != nil {
			if !errors.Is(err, snap.ErrState) {
				t.Fatalf("error %v does not wrap ErrState", err)
			}
			return
		}
		k := &sliceSink{}
		r.tl.sink = k
		start := min(int(at), len(pkts))
		if err := r.run(context.Background(), e, &fakeSource{pkts: pkts[start:min(start+300, len(pkts))]}, nil); err != nil {
			t.Fatal(err)
		}
		if int64(len(k.s))/2 > a.Samples-r.tl.flushed+int64(len(k.s)/2) || int64(len(k.s))/2 > a.Samples {
			t.Fatalf("%d frames written, timeline has %d", len(k.s)/2, a.Samples)
		}
	})
}
