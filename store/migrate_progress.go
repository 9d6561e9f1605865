package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// migrateSteps brings the database from its version to target using steps
// (steps[i] moves version i to i+1), one transaction per step. The version
// lives in PRAGMA user_version, which is written inside the step's
// transaction and so commits or rolls back with it. A step that runs longer
// than every is reported in the log every that often, so that an admin
// watching a long upgrade sees it move.
func (db *DB) migrateSteps(ctx context.Context, steps []migration, target int, every time.Duration) error {
	var v int
	if err := db.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > len(steps) {
		return fmt.Errorf("%w: database has schema version %d, this program knows up to %d",
			ErrSchemaTooNew, v, len(steps))
	}
	if v < 0 {
		return fmt.Errorf("database has invalid schema version %d: %w", v, ErrInvalid)
	}
	if target > len(steps) {
		return fmt.Errorf("migrate to %d: only %d steps known: %w", target, len(steps), ErrInvalid)
	}
	start := time.Now()
	for i := v; i < target; i++ {
		m := steps[i]
		db.log.Info("store: migrating schema", "from", i, "to", i+1, "step", m.name)
		stop := db.reportProgress(i, m.name, every)
		err := db.write(ctx, func(tx *sql.Tx) error {
			if err := m.up(ctx, tx); err != nil {
				return err
			}
			// PRAGMA takes no bound parameters; i+1 is an int we control.
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1))
			return err
		})
		stop()
		if err != nil {
			return fmt.Errorf("migration %d (%s): %w", i+1, m.name, err)
		}
	}
	if d := time.Since(start); v < target && d > every {
		db.log.Info("store: schema migrated", "from", v, "to", target, "took", d.Round(time.Millisecond))
	}
	return nil
}

// reportProgress logs every interval while a step runs, until the returned
// function is called (which waits for the reporter to end).
func (db *DB) reportProgress(from int, name string, every time.Duration) func() {
	done := make(chan struct{})
	ended := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(ended)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				db.log.Info("store: migration still running", "from", from, "to", from+1, "step", name,
					"elapsed", time.Since(start).Round(time.Second/10))
			}
		}
	}()
	return func() {
		close(done)
		<-ended
	}
}
