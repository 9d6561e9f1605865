package convert

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"recordings/internal/callgen"
	"recordings/media"
)

func TestPool(t *testing.T) {
	p := NewPool(PoolConfig{Workers: 2, Queue: 1, Budget: time.Hour})
	ctx := context.Background()
	var releases []func()
	for range 2 { // both workers
		_, rel, err := p.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, rel)
	}
	// The third waits in the queue; a fourth is refused at once.
	got := make(chan error, 1)
	go func() {
		_, rel, err := p.Acquire(ctx)
		if err == nil {
			defer rel()
		}
		got <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for len(p.admit) < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // until the third is queued
	}
	if _, _, err := p.Acquire(ctx); !errors.Is(err, ErrBusy) {
		t.Fatalf("fourth: err %v, want ErrBusy", err)
	}
	// A waiter whose client goes away leaves the queue.
	releases[0]()
	if err := <-got; err != nil {
		t.Fatalf("queued: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	_, rel, err := p.Acquire(ctx) // takes the worker the third gave back
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, _, err := p.Acquire(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: err %v", err)
	}
	rel()
	releases[1]()
	if len(p.admit) != 0 || len(p.run) != 0 {
		t.Fatalf("slots left taken: admit %d run %d", len(p.admit), len(p.run))
	}
}

func TestPoolBudget(t *testing.T) {
	p := NewPool(PoolConfig{Workers: 1, Budget: time.Millisecond})
	rctx, rel, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer rel()
	select {
	case <-rctx.Done():
		if !errors.Is(rctx.Err(), context.DeadlineExceeded) {
			t.Fatal(rctx.Err())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("budget not enforced")
	}
}

// TestWriteWAVRangeCancelled: a range render for a client that went away
// stops with the context's error instead of rendering on.
func TestWriteWAVRangeCancelled(t *testing.T) {
	data := callgen.Default(3000).Bytes()
	open := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	a, err := Analyze(open, media.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	size := WAVSize(a)
	if err := WriteWAVRangeContext(ctx, a, open, &out, size-1000, 1000); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if out.Len() != 0 {
		t.Fatalf("wrote %d bytes", out.Len())
	}
	if err := WriteWAVRangeContext(context.Background(), a, open, &out, size-1000, 1000); err != nil || out.Len() != 1000 {
		t.Fatalf("err %v, %d bytes", err, out.Len())
	}
}
