// Package retention deletes what the appliance no longer has to keep:
// recordings older than the configured number of days (protected ones
// excepted) and old log entries. It works in small, timed batches so that
// uploads waiting for the database's write lock are never held up long, and
// returns the freed space to the file system afterwards.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"recordings/applog"
	"recordings/events"
	"recordings/store"
)

// Store is what retention needs of the database (*store.DB has it).
type Store interface {
	ExpiredRecordings(ctx context.Context, before store.Cutoff, limit int) ([]store.Expired, error)
	DeleteExpired(ctx context.Context, ids []int64, before store.Cutoff) ([]int64, error)
	TrimExpired(ctx context.Context, id int64, before store.Cutoff, maxBytes int64) (left int64, kept bool, err error)
	IncrementalVacuumStep(ctx context.Context, pages int) (left int64, err error)
	PruneLogs(ctx context.Context, before time.Time) (int64, error)
	Size(ctx context.Context) (int64, error)
	Checkpoint(ctx context.Context) error
}

// Policy is how long things are kept, in days; 0 keeps them forever.
type Policy struct {
	RecordingDays int
	LogDays       int
	// DomainDays are the domains with a retention period of their own
	// (domain, matched in any case → days; 0 keeps that domain's
	// recordings forever); the other domains' recordings are kept
	// RecordingDays.
	DomainDays map[string]int
}

// cutoff is the store's cutoff of p at now; ok is false when every
// recording is kept forever.
func (p Policy) cutoff(now time.Time) (c store.Cutoff, ok bool) {
	at := func(days int) time.Time {
		if days <= 0 {
			return time.Time{}
		}
		ok = true
		return now.AddDate(0, 0, -days)
	}
	c.Default = at(p.RecordingDays)
	if len(p.DomainDays) > 0 {
		c.Domains = make(map[string]time.Time, len(p.DomainDays))
		for d, days := range p.DomainDays {
			c.Domains[d] = at(days)
		}
	}
	return c, ok
}

// MaxDays is the longest retention period accepted (about 30 years).
const MaxDays = 11000

// Options configure a Runner; zero values take the defaults.
type Options struct {
	// Policy returns the periods in force; it is asked at every run, so
	// changed settings apply at the next run (Kick starts one at once).
	Policy func(ctx context.Context) (Policy, error)
	// Every is the time between runs; default 24 h.
	Every time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// After waits like time.After; tests pass a fake.
	After func(d time.Duration) <-chan time.Time
	// BatchTime is the target duration of one delete transaction or vacuum
	// step; batches grow while faster and shrink when slower. Default 25 ms.
	BatchTime time.Duration
	// Events is told of each deleted recording (Deleted, ByRetention).
	Events *events.Broker
	// Stopwatch times the write transactions; default time.Now (wall
	// time). Tests pass a fake advanced by a fake store.
	Stopwatch func() time.Time
}

// Report says what one run did.
type Report struct {
	Cutoff            time.Time // recordings created before this were due (domains with their own period aside); zero when off
	Deleted           int
	DeletedBytes      int64 // capture bytes of the deleted recordings
	Batches           int
	LongestBatch      time.Duration
	VacuumSteps       int
	LongestVacuumStep time.Duration // including the final checkpoint
	SizeBefore        int64         // database size before and after the run
	SizeAfter         int64
	LogsPruned        int64
}

// Runner runs retention at start and then periodically.
type Runner struct {
	db     Store
	log    *slog.Logger // category Recording
	logLog *slog.Logger // category System: pruning the log itself
	opt    Options
	kick   chan struct{}
}

// New returns a runner over db; it logs through log, under
// applog.Recording (pruning old log entries under applog.System).
func New(db Store, log *slog.Logger, opt Options) *Runner {
	if opt.Every <= 0 {
		opt.Every = 24 * time.Hour
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.After == nil {
		opt.After = time.After
	}
	if opt.BatchTime <= 0 {
		opt.BatchTime = 25 * time.Millisecond
	}
	if opt.Policy == nil {
		opt.Policy = func(context.Context) (Policy, error) { return Policy{}, nil }
	}
	if opt.Stopwatch == nil {
		opt.Stopwatch = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{db: db, log: log.With("category", applog.Recording), logLog: log.With("category", applog.System),
		opt: opt, kick: make(chan struct{}, 1)}
}

// Kick asks for a run now (e.g. after the retention setting changed); it
// never blocks.
func (r *Runner) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run runs once at start and then every Options.Every (or when kicked) until
// ctx ends. A failed run is logged and retried at the next turn.
func (r *Runner) Run(ctx context.Context) error {
	for {
		if _, err := r.Once(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			r.log.Error("retention run failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.opt.After(r.opt.Every):
		case <-r.kick:
		}
	}
}

// Once applies the policy now.
func (r *Runner) Once(ctx context.Context) (Report, error) {
	var rep Report
	p, err := r.opt.Policy(ctx)
	if err != nil {
		return rep, fmt.Errorf("retention: read policy: %w", err)
	}
	if p.RecordingDays < 0 || p.RecordingDays > MaxDays || p.LogDays < 0 || p.LogDays > MaxDays {
		return rep, fmt.Errorf("retention: policy %+v outside 0–%d days", p, MaxDays)
	}
	for d, days := range p.DomainDays {
		if days < 0 || days > MaxDays {
			return rep, fmt.Errorf("retention: %d days for domain %.64q outside 0–%d days", days, d, MaxDays)
		}
	}
	now := r.opt.Now()
	if rep.SizeBefore, err = r.db.Size(ctx); err != nil {
		return rep, fmt.Errorf("retention: %w", err)
	}
	if p.LogDays > 0 {
		n, err := r.db.PruneLogs(ctx, now.AddDate(0, 0, -p.LogDays))
		if err != nil {
			return rep, fmt.Errorf("retention: prune logs: %w", err)
		}
		rep.LogsPruned = n
		if n > 0 {
			r.logLog.Info("old log entries deleted", "entries", n, "days", p.LogDays)
		}
	}
	if cut, ok := p.cutoff(now); ok {
		rep.Cutoff = cut.Default
		if err := r.deleteExpired(ctx, cut, &rep); err != nil {
			return rep, err
		}
	}
	if rep.Deleted > 0 || rep.LogsPruned > 0 {
		if err := r.vacuum(ctx, &rep); err != nil {
			return rep, err
		}
	}
	if rep.SizeAfter, err = r.db.Size(ctx); err != nil {
		return rep, fmt.Errorf("retention: %w", err)
	}
	if rep.Deleted > 0 || rep.LogsPruned > 0 {
		r.log.Info("retention done", "deleted", rep.Deleted, "bytes", rep.DeletedBytes,
			"batches", rep.Batches, "longest_batch", rep.LongestBatch, "vacuum_steps", rep.VacuumSteps,
			"longest_vacuum_step", rep.LongestVacuumStep, "size_before", rep.SizeBefore, "size_after", rep.SizeAfter)
	}
	return rep, nil
}

// adapt grows n while batches are well under target and shrinks it when
// they are over, within [1, hi].
func adapt(n int, took, target time.Duration, hi int) int {
	switch {
	case took > target:
		return max(1, n/2)
	case took < target/2:
		return min(hi, n*2)
	}
	return n
}

// Bounds of the bytes deleted per transaction: the budget starts small,
// doubles while transactions are well under BatchTime and halves when over.
const (
	minBudget   = 256 << 10 // one stored chunk
	startBudget = 1 << 20
	maxBudget   = 1 << 30
	listLimit   = 200
)

func (r *Runner) deleteExpired(ctx context.Context, cutoff store.Cutoff, rep *Report) error {
	budget := int64(startBudget)
	timed := func(f func() error) (time.Duration, error) {
		start := r.opt.Stopwatch()
		err := f()
		took := r.opt.Stopwatch().Sub(start)
		rep.Batches++
		rep.LongestBatch = max(rep.LongestBatch, took)
		switch {
		case took > r.opt.BatchTime:
			budget = max(minBudget, budget/2)
		case took < r.opt.BatchTime/2:
			budget = min(maxBudget, budget*2)
		}
		return took, err
	}
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("retention: %w", err)
		}
		due, err := r.db.ExpiredRecordings(ctx, cutoff, listLimit)
		if err != nil {
			return fmt.Errorf("retention: %w", err)
		}
		if len(due) == 0 {
			return nil
		}
		if big := due[0]; big.Size > budget {
			// Too large for one short transaction: take its capture apart
			// from the end first; the row goes once the rest fits.
			var left int64
			_, err := timed(func() (err error) {
				left, _, err = r.db.TrimExpired(ctx, big.ID, cutoff, budget)
				return err
			})
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("retention: %w", err)
			}
			if err == nil {
				rep.DeletedBytes += big.Size - left
			}
			continue // listed again: smaller now, or gone, or kept
		}
		var (
			ids   []int64
			bytes int64
		)
		for _, e := range due {
			if len(ids) > 0 && bytes+e.Size > budget {
				break
			}
			ids = append(ids, e.ID)
			bytes += e.Size
		}
		var deleted []int64
		if _, err := timed(func() (err error) {
			deleted, err = r.db.DeleteExpired(ctx, ids, cutoff)
			return err
		}); err != nil {
			return fmt.Errorf("retention: %w", err)
		}
		gone := make(map[int64]bool, len(deleted))
		for _, id := range deleted {
			gone[id] = true
		}
		for _, e := range due[:len(ids)] {
			if !gone[e.ID] {
				continue // protected or changed since listed
			}
			rep.Deleted++
			rep.DeletedBytes += e.Size
			r.log.Info("recording deleted by retention", "user", e.Owner, "id", e.ID,
				"domain", e.Domain, "name", e.Name, "created", e.CreatedAt, "bytes", e.Size)
			r.opt.Events.Publish(events.Recording{Kind: events.Deleted, ID: e.ID, By: events.ByRetention})
		}
		// Nothing deleted means everything listed changed under us; the
		// next listing excludes what is now protected, so this ends.
	}
}

// maxVacuumPages caps one vacuum step (8 MiB of 4 KiB pages): the time of a
// step is not quite linear in its pages, so growth stops well short of the
// target.
const maxVacuumPages = 2048

func (r *Runner) vacuum(ctx context.Context, rep *Report) error {
	pages := 256
	for {
		start := r.opt.Stopwatch()
		left, err := r.db.IncrementalVacuumStep(ctx, pages)
		took := r.opt.Stopwatch().Sub(start)
		if err != nil {
			return fmt.Errorf("retention: %w", err)
		}
		rep.VacuumSteps++
		rep.LongestVacuumStep = max(rep.LongestVacuumStep, took)
		if left == 0 {
			// Let the file shrink now rather than at the next automatic
			// checkpoint.
			start := r.opt.Stopwatch()
			if err := r.db.Checkpoint(ctx); err != nil {
				return fmt.Errorf("retention: %w", err)
			}
			rep.LongestVacuumStep = max(rep.LongestVacuumStep, r.opt.Stopwatch().Sub(start))
			return nil
		}
		pages = adapt(pages, took, r.opt.BatchTime, maxVacuumPages)
	}
}
