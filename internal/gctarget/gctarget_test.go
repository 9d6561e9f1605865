package gctarget

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// fakeGC stands in for debug.SetGCPercent and records every call.
type fakeGC struct {
	percent int
	calls   []int
}

func (g *fakeGC) set(p int) int {
	prev := g.percent
	g.percent = p
	g.calls = append(g.calls, p)
	return prev
}

// TestUpdate: the target is lowered once the uploads reach BusyAt, kept
// while they stay above half of it, and restored below; a target the
// operator set lower (or the collector turned off) stands.
func TestUpdate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		start   int // GOGC before
		percent int
		loads   []int64
		want    []int // the target after each load
	}{
		{"lowered while busy", 100, 50, []int64{0, 99, 100, 1000, 60, 50, 49, 0, 100}, []int{100, 100, 50, 50, 50, 50, 100, 100, 50}},
		{"operator's lower GOGC stands", 30, 50, []int64{0, 200, 10}, []int{30, 30, 30}},
		{"operator's equal GOGC stands", 50, 50, []int64{200, 10}, []int{50, 50}},
		{"collector off stays off", -1, 50, []int64{200, 10}, []int{-1, -1}},
		{"off", 100, 0, []int64{200, 10}, []int{100, 100}},
		{"higher GOGC lowered and restored", 400, 50, []int64{200, 10}, []int{50, 400}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := &fakeGC{percent: tc.start}
			tg := &Target{Percent: tc.percent, BusyAt: 100, Set: g.set}
			for i, n := range tc.loads {
				tg.Update(n)
				if g.percent != tc.want[i] {
					t.Fatalf("after %v uploads: GOGC %d, want %d (calls %v)", tc.loads[:i+1], g.percent, tc.want[i], g.calls)
				}
			}
		})
	}
}

// TestUpdateSetsOnlyOnChange: a steady load does not touch the collector
// every time it is looked at.
func TestUpdateSetsOnlyOnChange(t *testing.T) {
	t.Parallel()
	g := &fakeGC{percent: 100}
	tg := &Target{Percent: 50, BusyAt: 10, Set: g.set}
	for _, n := range []int64{20, 20, 30, 20, 9, 5, 4, 1, 0, 0} {
		tg.Update(n)
	}
	if want := []int{50, 100}; !slices.Equal(g.calls, want) {
		t.Fatalf("SetGCPercent calls %v, want %v", g.calls, want)
	}
}

// TestRunRestoresAtEnd: Run follows the load and, when its context ends
// while busy, leaves the collector's target as it found it.
func TestRunRestoresAtEnd(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		g := &fakeGC{percent: 100}
		var uploads atomic.Int64
		tg := &Target{Percent: 50, BusyAt: 10, Set: func(p int) int { return g.set(p) }}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			tg.Run(ctx, time.Second, uploads.Load)
			close(done)
		}()
		synctest.Wait()
		if g.percent != 100 {
			t.Fatalf("idle: GOGC %d, want 100", g.percent)
		}
		uploads.Store(500)
		time.Sleep(time.Second)
		synctest.Wait()
		if g.percent != 50 {
			t.Fatalf("busy: GOGC %d, want 50", g.percent)
		}
		cancel()
		<-done
		if g.percent != 100 {
			t.Fatalf("after Run: GOGC %d, want 100 (calls %v)", g.percent, g.calls)
		}
	})
}
