// Package capstore runs the capture stores in the background: it ships
// completed captures from the database (where every upload is spooled, at
// least once a second) to the object store named by the capture target,
// deletes the objects of deleted, replaced and moved captures, and reports
// the state of both (object store reachable, captures waiting, encrypted
// captures the configured key cannot read) to /healthz and the admin
// status.
package capstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"recordings/applog"
	"recordings/events"
	"recordings/store"
)

// Options tune a Runner; zero values take the defaults.
type Options struct {
	// Interval between passes when nothing kicks one; default 10 s. A
	// failing object store is retried at this pace.
	Interval time.Duration
	// KeyProblem, when set, is why the configured key file could not be
	// used; it is reported until the service restarts with a good one.
	KeyProblem string
}

// Runner ships captures and collects the objects no recording uses.
type Runner struct {
	db   *store.DB
	log  *slog.Logger
	opt  Options
	kick chan struct{}

	mu     sync.Mutex
	status Status
	passed chan struct{} // closed at the end of the next pass
	// stats are the last counts and when they were taken: counting scans
	// an index of every recording, so a busy /healthz reuses them.
	stats   store.CaptureStats
	statsAt time.Time
}

// statsTTL is how long Check reuses counts.
const statsTTL = 5 * time.Second

// Status is what the last pass found.
type Status struct {
	Target    string    `json:"-"` // CaptureStats.Target in a Report
	Reachable bool      `json:"object_store_reachable"`
	LastError string    `json:"last_error,omitempty"`
	LastPass  time.Time `json:"last_pass,omitzero"`
	Shipped   int64     `json:"shipped"` // since start
}

// Report is the capture stores' part of /healthz and the admin status.
type Report struct {
	Status
	store.CaptureStats
	KeyID      string `json:"master_key_id,omitempty"`
	KeyProblem string `json:"key_problem,omitempty"`
}

// New makes a runner.
func New(db *store.DB, log *slog.Logger, opt Options) *Runner {
	if opt.Interval <= 0 {
		opt.Interval = 10 * time.Second
	}
	return &Runner{db: db, log: log.With("category", applog.System), opt: opt, kick: make(chan struct{}, 1),
		passed: make(chan struct{})}
}

// NextPass returns a channel closed when the next pass has ended (tests
// wait on it rather than sleep).
func (r *Runner) NextPass() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.passed
}

// Kick asks for a pass soon (a capture was analysed, say).
func (r *Runner) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// RecordingEvent kicks a pass when a recording's analysis ended or one was
// deleted; subscribe it to the broker.
func (r *Runner) RecordingEvent(e events.Recording) {
	if e.Kind == events.StateChanged || e.Kind == events.Deleted || e.Kind == events.Replaced {
		r.Kick()
	}
}

// Run makes passes until ctx ends.
func (r *Runner) Run(ctx context.Context) error {
	t := time.NewTicker(r.opt.Interval)
	defer t.Stop()
	for {
		r.Pass(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-r.kick:
		}
	}
}

// Pass ships what waits for the object-store target and removes unused
// objects; it records what went wrong.
func (r *Runner) Pass(ctx context.Context) {
	shipped, err := r.pass(ctx)
	if ctx.Err() != nil {
		return
	}
	target, _ := r.db.CaptureTarget(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	defer func() { close(r.passed); r.passed = make(chan struct{}) }()
	r.statsAt = time.Time{} // a pass changes the counts
	prev := r.status.LastError
	r.status.Target, r.status.LastPass = target, time.Now()
	r.status.Shipped += int64(shipped)
	r.status.LastError = ""
	r.status.Reachable = target != store.SQLiteTarget
	if err != nil {
		r.status.LastError = err.Error()
		if errors.Is(err, errUnreachable) {
			r.status.Reachable = false
		}
		if prev != r.status.LastError {
			r.log.Error("capture store: captures stay in the database until this is resolved", "target", target, "err", err)
		}
	} else if prev != "" {
		r.log.Info("capture store: working again", "target", target)
	}
}

var errUnreachable = errors.New("object store unreachable")

func (r *Runner) pass(ctx context.Context) (int, error) {
	var errs []error
	shipped := 0
	target, err := r.db.CaptureTarget(ctx)
	if err != nil {
		return 0, err
	}
	if target != store.SQLiteTarget {
		b, err := r.db.BlobsAt(target)
		if err == nil {
			err = b.Check(ctx)
		}
		if err != nil {
			return 0, fmt.Errorf("%w: %w", errUnreachable, err)
		}
		for after := int64(0); ; {
			ids, err := r.db.CapturesToMove(ctx, true, after, 100)
			if err != nil {
				return shipped, err
			}
			if len(ids) == 0 {
				break
			}
			for _, id := range ids {
				after = id
				ok, err := r.db.ShipCapture(ctx, id, b)
				if err != nil {
					if ctx.Err() != nil {
						return shipped, ctx.Err()
					}
					if !errors.Is(err, store.ErrUnreadable) { // reported as unreadable
						errs = append(errs, err)
					}
					if len(errs) > 3 {
						return shipped, errors.Join(errs...)
					}
					continue
				}
				if ok {
					shipped++
					r.log.Debug("capture shipped", "id", id, "to", target)
				}
			}
		}
	}
	if _, err := r.db.CollectBlobGarbage(ctx, 1000); err != nil {
		errs = append(errs, err)
	}
	return shipped, errors.Join(errs...)
}

// Check is the health check of the capture stores: it fails while the
// object store is unreachable, while encrypted captures cannot be read
// with the configured key, and while the key file is unusable.
func (r *Runner) Check(ctx context.Context) (any, error) {
	r.mu.Lock()
	st, fresh := r.stats, time.Since(r.statsAt) < statsTTL
	r.mu.Unlock()
	if !fresh {
		var err error
		if st, err = r.db.CaptureStats(ctx); err != nil {
			return nil, err
		}
		r.mu.Lock()
		r.stats, r.statsAt = st, time.Now()
		r.mu.Unlock()
	}
	r.mu.Lock()
	rep := Report{Status: r.status, CaptureStats: st, KeyID: r.db.MasterKeyID(), KeyProblem: r.opt.KeyProblem}
	r.mu.Unlock()
	rep.Status.Target = st.Target
	var problems []error
	if rep.KeyProblem != "" {
		problems = append(problems, fmt.Errorf("key file: %s", rep.KeyProblem))
	}
	if st.Unreadable > 0 {
		problems = append(problems, fmt.Errorf("%d encrypted recordings cannot be read with the configured key (RECORDINGS_KEY_FILE missing or another key); none is deleted", st.Unreadable))
	}
	if rep.LastError != "" {
		problems = append(problems, fmt.Errorf("capture store %s: %s (%d captures wait in the database)", st.Target, rep.LastError, st.Pending))
	}
	return rep, errors.Join(problems...)
}
