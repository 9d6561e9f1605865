package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Backup writes a consistent snapshot of the database to w while writes go
// on, and returns the number of bytes written. The snapshot is made with
// VACUUM INTO in a temporary directory next to the database, streamed, and
// removed.
func (db *DB) Backup(ctx context.Context, w io.Writer) (n int64, err error) {
	dir, err := os.MkdirTemp(filepath.Dir(db.path), ".backup-")
	if err != nil {
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	defer func() {
		if rerr := os.RemoveAll(dir); rerr != nil && err == nil {
			err = fmt.Errorf("store: backup: remove snapshot: %w", rerr)
		}
	}()
	tmp := filepath.Join(dir, "snapshot.db")
	if err := db.vacuumInto(ctx, tmp); err != nil {
		return 0, err
	}
	f, err := os.Open(tmp)
	if err != nil {
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	defer f.Close()
	n, err = io.Copy(w, contextReader{ctx, f})
	if err != nil {
		return n, fmt.Errorf("store: backup: copy snapshot: %w", err)
	}
	return n, nil
}

// BackupTo writes a consistent snapshot of the database to path, replacing
// any file there atomically.
func (db *DB) BackupTo(ctx context.Context, path string) (err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("store: backup to %s: %w", path, err)
	}
	if abs == db.path {
		return fmt.Errorf("store: backup to %s: that is the database itself: %w", path, ErrInvalid)
	}
	dir, err := os.MkdirTemp(filepath.Dir(abs), ".backup-")
	if err != nil {
		return fmt.Errorf("store: backup to %s: %w", path, err)
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "snapshot.db")
	if err := db.vacuumInto(ctx, tmp); err != nil {
		return err
	}
	if err := syncFile(tmp); err != nil {
		return fmt.Errorf("store: backup to %s: %w", path, err)
	}
	if err := os.Rename(tmp, abs); err != nil {
		return fmt.Errorf("store: backup to %s: %w", path, err)
	}
	if err := syncFile(filepath.Dir(abs)); err != nil {
		return fmt.Errorf("store: backup to %s: sync directory: %w", path, err)
	}
	return nil
}

// vacuumInto snapshots the database into the new file path, mode 0600
// like the database. It uses a connection of its own (the read pool is
// query-only, which VACUUM INTO refuses), a reader in WAL terms, so writes
// continue meanwhile.
func (db *DB) vacuumInto(ctx context.Context, path string) error {
	if strings.ContainsRune(path, 0) {
		return fmt.Errorf("store: backup: bad path: %w", ErrInvalid)
	}
	// VACUUM INTO writes into an empty file as into a new one, keeping its
	// mode; SQLite would create one readable by everyone (less the umask).
	if err := createPrivate(path); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	snap, err := sql.Open("sqlite", dsn(db.path, roleSnapshot, db.busy))
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	defer snap.Close()
	snap.SetMaxOpenConns(1)
	if _, err := snap.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("store: backup: vacuum into %s: %w", path, err)
	}
	return nil
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	serr := f.Sync()
	cerr := f.Close()
	return errors.Join(serr, cerr)
}

type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// IntegrityCheck runs PRAGMA integrity_check and fails unless it says ok.
func (db *DB) IntegrityCheck(ctx context.Context) (err error) {
	rows, err := db.r.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return fmt.Errorf("store: integrity check: %w", err)
	}
	defer closeOnErr(rows, &err)
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("store: integrity check: %w", err)
		}
		if s != "ok" && len(problems) < 20 {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: integrity check: %w", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("store: integrity check failed: %s", strings.Join(problems, "; "))
	}
	return nil
}

// IncrementalVacuum returns the free pages left by deletions to the file
// system (the database uses auto_vacuum=INCREMENTAL).
func (db *DB) IncrementalVacuum(ctx context.Context) error {
	// incremental_vacuum returns a row per step; it must be stepped to the
	// end, so run it as a query and drain it, on the writer.
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: incremental vacuum: %w", err)
	}
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, `PRAGMA incremental_vacuum`)
	if err != nil {
		return fmt.Errorf("store: incremental vacuum: %w", err)
	}
	for rows.Next() {
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("store: incremental vacuum: %w", err)
	}
	return nil
}

// Size is the database's size in bytes (page_count × page_size), not
// counting the WAL.
func (db *DB) Size(ctx context.Context) (int64, error) {
	var n int64
	err := db.r.QueryRowContext(ctx,
		`SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: size: %w", err)
	}
	return n, nil
}

// FreeSize is the bytes in free pages that IncrementalVacuum would release.
func (db *DB) FreeSize(ctx context.Context) (int64, error) {
	var n int64
	err := db.r.QueryRowContext(ctx,
		`SELECT freelist_count * page_size FROM pragma_freelist_count(), pragma_page_size()`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: free size: %w", err)
	}
	return n, nil
}
