package store

import (
	"context"
	"fmt"
)

// defaultMaxPages is SQLite's own limit on pages per database file.
const defaultMaxPages = 4294967294

// SetMaxPages caps the database at n pages (PRAGMA max_page_count on the
// writer connection), so that a write needing more fails with SQLITE_FULL
// just as on a full disk: tests use it to simulate one. n <= 0 restores the
// SQLite default. SQLite never sets the cap below the file's current page
// count; the cap in effect is returned.
func (db *DB) SetMaxPages(ctx context.Context, n int64) (int64, error) {
	if n <= 0 {
		n = defaultMaxPages
	}
	var got int64
	if err := db.w.QueryRowContext(ctx, fmt.Sprintf(`PRAGMA max_page_count = %d`, n)).Scan(&got); err != nil {
		return 0, fmt.Errorf("store: set max page count %d: %w", n, err)
	}
	return got, nil
}

// PageCount is the number of pages the database file holds now, free pages
// included.
func (db *DB) PageCount(ctx context.Context) (int64, error) {
	var n int64
	if err := db.w.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: page count: %w", err)
	}
	return n, nil
}
