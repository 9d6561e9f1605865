package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenPragmas(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	for _, c := range []struct {
		pool   string
		pragma string
		want   string
	}{
		{"writer", "auto_vacuum", "2"},
		{"writer", "journal_mode", "wal"},
		{"writer", "foreign_keys", "1"},
		{"writer", "synchronous", "1"},
		{"writer", "busy_timeout", "5000"},
		{"writer", "user_version", fmt.Sprint(SchemaVersion())},
		{"writer", "query_only", "0"},
		{"reader", "journal_mode", "wal"},
		{"reader", "foreign_keys", "1"},
		{"reader", "busy_timeout", "5000"},
		{"reader", "query_only", "1"},
	} {
		t.Run(c.pool+"/"+c.pragma, func(t *testing.T) {
			q := db.w
			if c.pool == "reader" {
				q = db.r
			}
			var got string
			if err := q.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("PRAGMA %s = %q, want %q", c.pragma, got, c.want)
			}
		})
	}
	if _, err := db.r.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('a', 'b')`); err == nil {
		t.Error("read pool accepted a write")
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "rec.db")
	ctx := context.Background()
	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetSetting(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(ctx, path, nil)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	v, ok, err := db.Setting(ctx, "k")
	if err != nil || !ok || v != "v" {
		t.Fatalf("Setting after reopen = %q, %v, %v", v, ok, err)
	}
}

func TestSchemaTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.db")
	ctx := context.Background()
	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	newer := SchemaVersion() + 3
	if _, err := db.w.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", newer)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, path, nil)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of a newer database: err = %v, want ErrSchemaTooNew", err)
	}
	for _, n := range []int{newer, SchemaVersion()} {
		if !strings.Contains(err.Error(), fmt.Sprint(n)) {
			t.Errorf("error %q does not mention version %d", err, n)
		}
	}
}

func TestOpenBadPath(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, "", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("Open(\"\") = %v, want ErrInvalid", err)
	}
	// A directory where the file should be.
	dir := t.TempDir()
	if _, err := Open(ctx, dir, nil); err == nil {
		t.Errorf("Open(directory) succeeded")
	}
}
