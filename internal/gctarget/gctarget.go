// Package gctarget lowers the Go collector's target (GOGC) while the
// service receives many uploads, and restores it when they are over.
//
// A thousand streamed calls keep some 45 MB live (their buffered blocks,
// the HTTP connections, goroutine stacks) but allocate only a few MB a
// second, so the collector's default target lets the heap grow to twice
// the live heap for a collection every 15 to 20 seconds: half the memory
// is garbage waiting. A lower target while many uploads run trades a
// collection every few seconds (25 %: every 4 to 5 s, about 3 % of one
// core) for some 30 MB less at the peak, unlike a soft memory limit, which
// makes the collector run without pause once the live heap nears it.
// Outside such a load (analyses, renders, which allocate fast) the
// default target stays.
package gctarget

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Target switches the collector's target; the zero value does nothing.
type Target struct {
	// Percent is the target while busy (as GOGC); 0 leaves the target alone.
	Percent int
	// BusyAt is how many uploads make the service busy; it is no longer
	// busy below half as many (so that a load hovering at the threshold
	// does not flip the target every second).
	BusyAt int64
	// Set sets the target and returns the one before (debug.SetGCPercent).
	Set func(percent int) int
	Log *slog.Logger // told when the target changes; nil: not logged

	mu      sync.Mutex
	lowered bool
	prev    int // the target before lowering it
}

// Update sets the target for uploads being received now.
func (t *Target) Update(uploads int64) {
	if t.Percent <= 0 || t.Set == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case !t.lowered && uploads >= max(t.BusyAt, 1):
		prev := t.Set(t.Percent)
		if prev < 0 || prev <= t.Percent {
			// The collector is off, or already works at least as often
			// (GOGC set lower): that choice stands.
			t.Set(prev)
			return
		}
		t.lowered, t.prev = true, prev
		t.log("many uploads: collector target lowered", uploads, prev, t.Percent)
	case t.lowered && uploads < max(t.BusyAt/2, 1):
		t.restore(uploads)
	}
}

func (t *Target) restore(uploads int64) {
	t.Set(t.prev)
	t.lowered = false
	t.log("uploads over: collector target restored", uploads, t.Percent, t.prev)
}

func (t *Target) log(msg string, uploads int64, from, to int) {
	if t.Log != nil {
		t.Log.Info(msg, "uploads", uploads, "gc_percent_was", from, "gc_percent", to)
	}
}

// Run updates the target every interval from uploads() until ctx ends,
// and then restores it.
func (t *Target) Run(ctx context.Context, every time.Duration, uploads func() int64) {
	if t.Percent <= 0 || t.Set == nil {
		return
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	defer func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.lowered {
			t.restore(uploads())
		}
	}()
	for {
		t.Update(uploads())
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
