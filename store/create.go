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

// createFile creates a new database file, private to the service's user
// (0600 whatever the umask), with the page size and incremental
// auto-vacuum set, before any connection switches it to WAL mode (after
// which the page size can no longer change). An existing file is left
// alone, unless it is empty (a creation cut short).
func createFile(path string) error {
	if st, err := os.Stat(path); err == nil && st.Size() > 0 {
		return nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("stat: %w", err)
	}
	// SQLite would create the file with 0644 (less the umask): create it
	// empty first, which SQLite takes as a new database.
	if err := createPrivate(path); err != nil {
		return fmt.Errorf("create: %w", err)
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
