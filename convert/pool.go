package convert

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"
)

// ErrBusy means a render pool's queue is full: the caller should answer
// "try again later" (HTTP 503) instead of waiting.
var ErrBusy = errors.New("convert: render queue full")

// PoolConfig sizes a Pool; zero fields take their defaults.
type PoolConfig struct {
	// Workers is how many renders run at once (default GOMAXPROCS).
	Workers int
	// Queue is how many more may wait for a worker (default 4 × Workers).
	Queue int
	// Budget is the longest a render may hold a worker (default 2 min):
	// its context is cancelled then. A player asks again with a Range.
	Budget time.Duration
}

// Pool bounds the renders that run at once, so that many or slow playbacks
// cannot starve uploads and analyses of CPU: at most Workers renders run,
// at most Queue more wait (in arrival order of the runtime's channel
// semantics), and the rest are refused with ErrBusy at once.
type Pool struct {
	admit, run chan struct{}
	budget     time.Duration
}

// NewPool returns a pool with cfg's sizes.
func NewPool(cfg PoolConfig) *Pool {
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 4 * cfg.Workers
	}
	if cfg.Budget <= 0 {
		cfg.Budget = 2 * time.Minute
	}
	return &Pool{admit: make(chan struct{}, cfg.Workers+cfg.Queue), run: make(chan struct{}, cfg.Workers), budget: cfg.Budget}
}

// Acquire waits for a worker. It fails at once with ErrBusy when the queue
// is full, or with ctx's error when ctx ends while waiting. On success the
// caller renders under the returned context (ctx with the pool's time
// budget) and must call release when done.
func (p *Pool) Acquire(ctx context.Context) (context.Context, func(), error) {
	select {
	case p.admit <- struct{}{}:
	default:
		return nil, nil, ErrBusy
	}
	select {
	case p.run <- struct{}{}:
	case <-ctx.Done():
		<-p.admit
		return nil, nil, fmt.Errorf("waiting for a render worker: %w", ctx.Err())
	}
	rctx, cancel := context.WithTimeout(ctx, p.budget)
	release := func() {
		cancel()
		<-p.run
		<-p.admit
	}
	return rctx, release, nil
}
