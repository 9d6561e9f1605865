package store

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// pageSize is the page size of new databases. Captures dominate the file,
// and the WAL writes every page with a system call of its own: 16 KiB pages
// store a 16 KiB chunk in a few writes instead of five or more.
const pageSize = 16384

// createFile creates a new database file with the page size and incremental
// auto-vacuum set, before any connection switches it to WAL mode (after
// which the page size can no longer change). An existing file is left alone.
func createFile(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("stat: %w", err)
	}
	c, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	defer c.Close()
	for _, q := range []string{
		fmt.Sprintf("PRAGMA page_size = %d", pageSize),
		"PRAGMA auto_vacuum = INCREMENTAL",
		"PRAGMA journal_mode = WAL",
	} {
		if _, err := c.Exec(q); err != nil {
			return fmt.Errorf("create: %s: %w", q, err)
		}
	}
	return c.Close()
}
