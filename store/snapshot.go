package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Snapshot is a consistent copy of the database in a temporary file, for
// serving as a download whose size is known before the first byte.
type Snapshot struct {
	*os.File
	Size int64
	dir  string
}

// Close closes and removes the snapshot.
func (s *Snapshot) Close() error {
	cerr := s.File.Close()
	if err := os.RemoveAll(s.dir); err != nil {
		return fmt.Errorf("store: remove snapshot: %w", err)
	}
	return cerr
}

// SnapshotProgress receives a snapshot's progress: written is the size of
// the copy so far, estimate its expected final size (SnapshotEstimate).
// While the copy runs written stays below estimate; the last call, once the
// copy is complete, has written == estimate == the snapshot's size.
type SnapshotProgress func(written, estimate int64)

// DefaultSnapshotPoll is how often SnapshotWithProgress looks at the
// growing copy when its caller passes no interval.
const DefaultSnapshotPoll = 250 * time.Millisecond

// SnapshotEstimate is the expected size of a snapshot of the live database:
// its pages in use, (page_count − freelist_count) × page_size. VACUUM INTO
// copies only pages in use and may pack them tighter, so it is an estimate.
func (db *DB) SnapshotEstimate(ctx context.Context) (int64, error) {
	var n int64
	err := db.r.QueryRowContext(ctx, `SELECT (p.page_count - f.freelist_count) * s.page_size
		FROM pragma_page_count() p, pragma_freelist_count() f, pragma_page_size() s`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: snapshot estimate: %w", err)
	}
	return max(n, 0), nil
}

// Snapshot makes a consistent copy of the database (VACUUM INTO, while
// writes go on) in a temporary directory next to it and opens it. The
// caller must Close it.
func (db *DB) Snapshot(ctx context.Context) (*Snapshot, error) {
	return db.SnapshotWithProgress(ctx, 0, nil)
}

// SnapshotWithProgress is Snapshot reporting its progress to progress
// (when not nil): every interval (0: DefaultSnapshotPoll) the size of the
// growing copy against SnapshotEstimate, clamped below the estimate until
// the copy is complete, and once at the end the final size as both values.
// progress is called from a helper goroutine while the copy runs, never
// concurrently with itself, and must not block long.
func (db *DB) SnapshotWithProgress(ctx context.Context, interval time.Duration, progress SnapshotProgress) (_ *Snapshot, err error) {
	if interval <= 0 {
		interval = DefaultSnapshotPoll
	}
	dir, err := os.MkdirTemp(filepath.Dir(db.path), ".backup-")
	if err != nil {
		return nil, fmt.Errorf("store: snapshot: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	tmp := filepath.Join(dir, "snapshot.db")
	if progress == nil {
		err = db.vacuumInto(ctx, tmp)
	} else {
		err = db.vacuumWatched(ctx, tmp, interval, progress)
	}
	if err != nil {
		return nil, err
	}
	f, err := os.Open(tmp)
	if err != nil {
		return nil, fmt.Errorf("store: snapshot: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("store: snapshot: %w", err)
	}
	if progress != nil {
		progress(st.Size(), st.Size())
	}
	return &Snapshot{File: f, Size: st.Size(), dir: dir}, nil
}

// vacuumWatched runs vacuumInto while a second goroutine reports the
// growing file's size every interval.
func (db *DB) vacuumWatched(ctx context.Context, tmp string, interval time.Duration, progress SnapshotProgress) error {
	est, err := db.SnapshotEstimate(ctx)
	if err != nil {
		return err
	}
	progress(0, est)
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			st, err := os.Stat(tmp)
			if err != nil {
				continue // not created yet
			}
			progress(clampBelow(st.Size(), est), est)
		}
	}()
	err = db.vacuumInto(ctx, tmp)
	close(stop)
	<-watched // no progress call after this returns
	return err
}

// clampBelow keeps n under limit (at most limit − 1, at least 0), so that
// a copy in progress never shows as complete.
func clampBelow(n, limit int64) int64 {
	if n >= limit {
		n = limit - 1
	}
	return max(n, 0)
}
