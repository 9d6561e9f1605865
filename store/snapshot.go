package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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

// Snapshot makes a consistent copy of the database (VACUUM INTO, while
// writes go on) in a temporary directory next to it and opens it. The
// caller must Close it.
func (db *DB) Snapshot(ctx context.Context) (_ *Snapshot, err error) {
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
	if err := db.vacuumInto(ctx, tmp); err != nil {
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
	return &Snapshot{File: f, Size: st.Size(), dir: dir}, nil
}
