package media

import (
	"bytes"
	"context"
	"errors"
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
	_, cps := storedCheckpoints(f)
	b, err := cps.MarshalBinary()
	if err != nil {
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
