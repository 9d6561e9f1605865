package store

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"runtime"
)

// Modes of the database file, its side files, snapshots and the folder
// created for them: the service's user only.
const (
	privateFile fs.FileMode = 0o600
	privateDir  fs.FileMode = 0o700
)

// files are the database file and SQLite's side files of it.
func (db *DB) files() []string {
	return []string{db.path, db.path + "-wal", db.path + "-shm", db.path + "-journal"}
}

// makePrivateDir creates dir (and missing parents) with mode 0700. An
// existing folder is left as it is — it may be shared, e.g. the working
// directory —, with a warning when other users may enter it.
func makePrivateDir(dir string, log *slog.Logger) error {
	st, err := os.Stat(dir)
	switch {
	case err == nil:
		if !st.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		if runtime.GOOS != "windows" && st.Mode().Perm()&0o007 != 0 {
			log.Warn("the database folder is open to other users; the database files in it are private, but a folder of mode 0700 is safer",
				"dir", dir, "mode", fmt.Sprintf("%#o", st.Mode().Perm()))
		}
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("stat directory: %w", err)
	}
	if err := os.MkdirAll(dir, privateDir); err != nil {
		return fmt.Errorf("create directory: %w", err)
	}
	// MkdirAll applies the umask; the folder itself gets exactly 0700.
	if err := os.Chmod(dir, privateDir); err != nil {
		return fmt.Errorf("create directory: %w", err)
	}
	return nil
}

// createPrivate creates path as an empty file of mode 0600 (an existing
// one is truncated to empty and made private).
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, privateFile)
	if err != nil {
		return err
	}
	if err := f.Chmod(privateFile); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// tightenFiles makes each of paths that exists private (0600) when group
// or others have any access, and logs it: files of an older version, or
// made by hand, may be world-readable. A file it may not change is logged
// as an error and left.
func tightenFiles(log *slog.Logger, paths ...string) error {
	if runtime.GOOS == "windows" {
		return nil // no Unix modes
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("stat: %w", err)
		}
		if st.Mode().Perm()&0o077 == 0 {
			continue
		}
		if err := os.Chmod(p, privateFile); err != nil {
			// Not the service's own file (another owner): say so, but a
			// file mode is no reason to stop the recording of calls.
			log.Error("database file is readable by other users and could not be made private: chmod 600 it", "file", p,
				"mode", fmt.Sprintf("%#o", st.Mode().Perm()), "err", err)
			continue
		}
		log.Warn("database file was readable by other users: made it private", "file", p,
			"was", fmt.Sprintf("%#o", st.Mode().Perm()), "now", fmt.Sprintf("%#o", privateFile))
	}
	return nil
}
