package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"reflect"
	"testing"
	"time"
)

// storedCheckpoints records the checkpoints of a short mixed call.
func storedCheckpoints(tb testing.TB) (*Analysis, *Checkpoints) {
	tb.Helper()
	g := checkpointScenarios[5].g
	g.dur = 12 * time.Second
	g.switchEvery = 3 * time.Second
	pkts := g.packets(tb)
	a, err := Analyze(&fakeSource{pkts: pkts}, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	cps, err := a.RenderCheckpoints(context.Background(), &posSource{fakeSource{pkts: pkts}}, &sliceSink{}, int64(a.SampleRate)/2)
	if err != nil {
		tb.Fatal(err)
	}
	cps.Header = 24
	return a, cps
}

func TestCheckpointsRoundTrip(t *testing.T) {
	t.Parallel()
	a, cps := storedCheckpoints(t)
	if len(cps.Touch) == 0 || len(cps.List) == 0 {
		t.Fatalf("%d checkpoints, %d touch entries", len(cps.List), len(cps.Touch))
	}
	if len(cps.List) < 5 {
		t.Fatalf("%d checkpoints, %d touch entries", len(cps.List), len(cps.Touch))
	}
	b, err := cps.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseCheckpoints(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, cps) || !got.Matches(a) {
		t.Fatalf("round trip differs:\n%+v\n%+v", got, cps)
	}
	if b, err := (*Checkpoints)(nil).MarshalBinary(); b != nil || err != nil {
		t.Fatalf("nil: %v, %v", b, err)
	}
	// An empty set (a capture without a resumable start) round-trips too.
	empty := &Checkpoints{Samples: 10, SampleRate: 8000, Packets: 1}
	b, err = empty.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ParseCheckpoints(b); err != nil || len(got.List) != 0 || got.Samples != 10 {
		t.Fatalf("empty: %+v, %v", got, err)
	}
}

// TestCheckpointsWithPlan: a set stored with its analysis' render plan is
// of version 2 and parses back with the plan; one without is of version 1,
// as before plans were stored; a set of version 2 must carry a plan.
func TestCheckpointsWithPlan(t *testing.T) {
	t.Parallel()
	a, cps := storedCheckpoints(t)
	v1, err := cps.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if v1[3] != 1 {
		t.Fatalf("a set without a plan is of version %d, want 1", v1[3])
	}
	withPlan := *cps
	if withPlan.Plan, err = a.MarshalPlan(); err != nil {
		t.Fatal(err)
	}
	v2, err := withPlan.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if v2[3] != 2 || len(v2) <= len(v1)+len(withPlan.Plan) {
		t.Fatalf("a set with a plan: version %d, %d bytes (%d without)", v2[3], len(v2), len(v1))
	}
	got, err := ParseCheckpoints(v2)
	if err != nil || !reflect.DeepEqual(got, &withPlan) {
		t.Fatalf("round trip with a plan: %v", err)
	}
	pa, err := ParsePlan(got.Plan, Options{})
	if err != nil || !samePlan(pa, a) || !got.Matches(pa) {
		t.Fatalf("stored plan: %v", err)
	}
	if got, err := ParseCheckpoints(v1); err != nil || got.Plan != nil {
		t.Fatalf("version 1: plan %v, %v", got.Plan, err)
	}
	// Version 2 without a plan, or with an empty one (checksums fitting).
	for _, tail := range [][]byte{nil, {0}} {
		d := append(bytes.Clone(v1[:len(v1)-4]), tail...)
		d[3] = 2
		d = binary.BigEndian.AppendUint32(d, crc32.ChecksumIEEE(d))
		if _, err := ParseCheckpoints(d); !errors.Is(err, ErrCheckpointsDamaged) {
			t.Fatalf("version 2 with plan bytes %v: %v", tail, err)
		}
	}
}

// TestCheckpointsDamaged: every truncation and every single flipped bit is
// refused with ErrCheckpointsDamaged.
func TestCheckpointsDamaged(t *testing.T) {
	t.Parallel()
	_, cps := storedCheckpoints(t)
	cps.List = cps.List[:2]
	cps.Touch = cps.Touch[:8]
	b, err := cps.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, d []byte) {
		t.Helper()
		if _, err := ParseCheckpoints(d); !errors.Is(err, ErrCheckpointsDamaged) {
			t.Fatalf("%s: %v", what, err)
		}
	}
	for n := range len(b) {
		check("truncated", b[:n])
	}
	for i := range len(b) * 8 {
		d := bytes.Clone(b)
		d[i/8] ^= 1 << (i % 8)
		check("bit flipped", d)
	}
	check("trailing byte", append(bytes.Clone(b), 0))
}

// FuzzParseCheckpoints parses arbitrary bytes as a stored checkpoint set:
// it fails with ErrCheckpointsDamaged or returns a set that encodes and
// parses back to the same set.
func FuzzParseCheckpoints(f *testing.F) {
	a, cps := storedCheckpoints(f)
	b, err := cps.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	if cps.Plan, err = a.MarshalPlan(); err != nil {
		f.Fatal(err)
	}
	if b, err = cps.MarshalBinary(); err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("RCP\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCheckpoints(b)
		if err != nil {
			if !errors.Is(err, ErrCheckpointsDamaged) {
				t.Fatalf("error %v does not wrap ErrCheckpointsDamaged", err)
			}
			return
		}
		again, err := c.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if c2, err := ParseCheckpoints(again); err != nil || !reflect.DeepEqual(c2, c) {
			t.Fatalf("re-encoded set parses differently: %v", err)
		}
	})
}
