package store

import (
	"context"
	"fmt"
)

// DefaultAutoCheckpoint is SQLite's wal_autocheckpoint default, in pages.
const DefaultAutoCheckpoint = 1000

// SetAutoCheckpoint sets how many WAL pages make the writer checkpoint
// after a commit (PRAGMA wal_autocheckpoint); 0 turns SQLite's automatic
// checkpoints off, for while continuous replication (Litestream) owns
// checkpointing, and DefaultAutoCheckpoint turns them back on. The writer
// is one long-lived connection, so the setting holds until it is changed
// or the process ends.
func (db *DB) SetAutoCheckpoint(ctx context.Context, pages int) error {
	if pages < 0 {
		return fmt.Errorf("store: wal_autocheckpoint %d: %w", pages, ErrInvalid)
	}
	var got int
	if err := db.w.QueryRowContext(ctx, fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", pages)).Scan(&got); err != nil {
		return fmt.Errorf("store: wal_autocheckpoint: %w", err)
	}
	if got != pages {
		return fmt.Errorf("store: wal_autocheckpoint is %d after setting %d", got, pages)
	}
	return nil
}
