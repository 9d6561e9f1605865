package replica

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/benbjohnson/litestream"

	"recordings/internal/sealed"
	"recordings/store"
)

// ErrNoReplica: the replica holds no database (nothing was replicated to
// that URL, or not before the point in time asked for).
var ErrNoReplica = errors.New("replica: no database in the replica")

// RestoreOptions choose what Restore rebuilds.
type RestoreOptions struct {
	S3 S3
	// Timestamp restores the database as it was at that time (the last
	// transaction shipped at or before it); zero: the latest.
	Timestamp time.Time
	Log       *slog.Logger
	// Key is the master key the replica was encrypted under (nil: a replica
	// in clear; an encrypted one is refused with ErrReplicaEncrypted).
	Key *sealed.Key
}

// Restored describes a restored database.
type Restored struct {
	Path          string
	SchemaVersion int // of the restored file; the service migrates an older one at start
	Bytes         int64
}

// Restore rebuilds the database replicated to url into the new file out.
// It refuses to overwrite anything at out, restores into a temporary file
// beside it, checks that file (PRAGMA integrity_check, and a schema version
// this program knows) and only then gives it the name out.
func Restore(ctx context.Context, url, out string, opt RestoreOptions) (Restored, error) {
	if _, err := os.Lstat(out); err == nil {
		return Restored{}, fmt.Errorf("restore: %s exists; restore into a new file name", out)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Restored{}, fmt.Errorf("restore: %w", err)
	}
	client, err := NewClient(url, opt.S3)
	if err != nil {
		return Restored{}, fmt.Errorf("restore: %w", err)
	}
	var sc *SealedClient
	if opt.Key != nil {
		if sc, err = NewSealedClient(client, opt.Key); err != nil {
			return Restored{}, fmt.Errorf("restore: %w", err)
		}
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	client.SetLogger(log)
	if err := client.Init(ctx); err != nil {
		return Restored{}, fmt.Errorf("restore from %s: %w", url, err)
	}
	if err := checkReplica(ctx, client, sc); err != nil {
		return Restored{}, fmt.Errorf("restore from %s: %w", url, err)
	}
	if sc != nil {
		client = sc
	}
	dir := filepath.Dir(out)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Restored{}, fmt.Errorf("restore: %w", err)
	}
	tmpDir, err := os.MkdirTemp(dir, ".restore-*")
	if err != nil {
		return Restored{}, fmt.Errorf("restore: %w", err)
	}
	defer os.RemoveAll(tmpDir)
	tmp := filepath.Join(tmpDir, filepath.Base(out))

	r := litestream.NewReplicaWithClient(nil, client)
	ro := litestream.NewRestoreOptions()
	ro.OutputPath = tmp
	ro.Timestamp = opt.Timestamp
	if err := r.Restore(ctx, ro); err != nil {
		if errors.Is(err, litestream.ErrTxNotAvailable) || errors.Is(err, litestream.ErrNoSnapshots) {
			return Restored{}, fmt.Errorf("restore from %s: %w (%w)", url, ErrNoReplica, err)
		}
		return Restored{}, fmt.Errorf("restore from %s: %w", url, err)
	}
	v, err := store.CheckFile(ctx, tmp)
	if err != nil {
		return Restored{}, fmt.Errorf("restore from %s: the restored database: %w", url, err)
	}
	if v < 1 || v > store.SchemaVersion() {
		return Restored{}, fmt.Errorf("restore from %s: the restored database has schema version %d; this program knows 1 to %d",
			url, v, store.SchemaVersion())
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return Restored{}, fmt.Errorf("restore: %w", err)
	}
	// A hard link never replaces an existing file, unlike a rename: a file
	// created at out meanwhile is left alone.
	if err := os.Link(tmp, out); err != nil {
		return Restored{}, fmt.Errorf("restore: %w", err)
	}
	st, err := os.Stat(out)
	if err != nil {
		return Restored{}, fmt.Errorf("restore: %w", err)
	}
	return Restored{Path: out, SchemaVersion: v, Bytes: st.Size()}, nil
}
