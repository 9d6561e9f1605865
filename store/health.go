package store

import (
	"context"
	"fmt"
)

const sqliteFull = 13 // SQLITE_FULL: disk full, or max_page_count reached

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.r.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// IsDiskFull reports whether err means the database could not grow: the disk
// is full or the configured page limit is reached.
func IsDiskFull(err error) bool { return sqliteCode(err)&0xff == sqliteFull }
