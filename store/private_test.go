package store

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// TestFilesPrivate: the database holds password hashes, session tokens and
// the instance password. A new database, the folder created for it,
// SQLite's WAL and shared-memory files and every backup or snapshot are
// private to the service's user (0600 files, 0700 folder), whatever the
// umask lets SQLite create.
func TestFilesPrivate(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no Unix file modes")
	}
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state")
	path := filepath.Join(dir, "rec.db")
	db, err := OpenOptions(ctx, path, testLogger(t), Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.CreateUser(ctx, User{Name: "alice", Role: RoleUser}, "secret-password"); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("folder: mode %#o, want 0700", m)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		if m := mode(t, f); m != 0o600 {
			t.Errorf("%s: mode %#o, want 0600", filepath.Base(f), m)
		}
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := db.BackupTo(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, backup); m != 0o600 {
		t.Errorf("backup: mode %#o, want 0600", m)
	}
	snap, err := db.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if m := mode(t, snap.Name()); m != 0o600 {
		t.Errorf("snapshot: mode %#o, want 0600", m)
	}
	if m := mode(t, filepath.Dir(snap.Name())); m != 0o700 {
		t.Errorf("snapshot folder: mode %#o, want 0700", m)
	}
}

// TestExistingFilesTightened: a database of an older version, readable by
// every user of the machine, is made private at the next start, and the
// log says so; its existing folder is left as it is, with a warning.
func TestExistingFilesTightened(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no Unix file modes")
	}
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "rec.db")
	db, err := OpenOptions(ctx, path, nil, Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, User{Name: "alice", Role: RoleUser}, "secret-password"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// As an older version left them: world-readable, a stale WAL too.
	if err := os.WriteFile(path+"-wal", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal"} {
		if err := os.Chmod(f, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var logs syncBuf
	db, err = Open(ctx, path, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		if m := mode(t, f); m != 0o600 {
			t.Errorf("%s: mode %#o, want 0600", filepath.Base(f), m)
		}
	}
	if m := mode(t, dir); m != 0o755 {
		t.Errorf("an existing folder was changed to %#o", m)
	}
	out := logs.String()
	for _, want := range []string{"made it private", "file=" + path + " ", "was=0644", "open to other users"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%s", want, out)
		}
	}
	if n, err := db.UserCount(ctx); err != nil || n != 1 {
		t.Errorf("the tightened database: %d users, %v; want the one it held", n, err)
	}
}
