package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestOpenPragmas(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
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

// TestMigrateUpgrade stores data under schema 1 and checks that opening it
// with the current program upgrades it and indexes the old rows.
func TestMigrateUpgrade(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rec.db")
	ctx := context.Background()
	db, err := OpenOptions(ctx, path, nil, Options{migrateTo: 1})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i, owner := range []string{"Müller", "schmidt", "müllerin"} {
		ids = append(ids, insertOldRecording(t, db, fmt.Sprint(i), owner))
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(ctx, path, nil)
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	defer db.Close()
	var v, indexed int
	if err := db.r.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil || v != SchemaVersion() {
		t.Fatalf("user_version after upgrade = %d, %v", v, err)
	}
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM recordings_fts WHERE recordings_fts MATCH '"ull"'`).Scan(&indexed); err != nil || indexed != 2 {
		t.Fatalf("old rows in the trigram index: %d, %v; want 2", indexed, err)
	}
	rs, _, err := db.ListRecordings(ctx, ListFilter{Query: "MÜLLER"})
	if err != nil || len(rs) != 2 || rs[0].ID != ids[2] || rs[1].ID != ids[0] {
		t.Fatalf("search after upgrade = %+v, %v", rs, err)
	}
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestSearchIndexFollowsChanges checks the trigram index through replace,
// owner change, CDR and delete.
func TestSearchIndexFollowsChanges(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	ctx := context.Background()
	find := func(q string) []int64 {
		t.Helper()
		rs, _, err := db.ListRecordings(ctx, ListFilter{Query: q})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, r := range rs {
			ids = append(ids, r.ID)
		}
		return ids
	}
	id, _, _ := db.BeginUpload(ctx, "d", "a", FileName{RegName: "regalpha"}, "oscar")
	if got := find("oscar"); len(got) != 1 || got[0] != id {
		t.Fatalf("find(oscar) = %v", got)
	}
	if err := db.SetCallOwner(ctx, id, "papa", "admin"); err != nil {
		t.Fatal(err)
	}
	if got := find("oscar"); len(got) != 0 {
		t.Errorf("old owner still found: %v", got)
	}
	if got := find("papa"); len(got) != 1 {
		t.Errorf("new owner not found: %v", got)
	}
	if err := db.SetCDR(ctx, id, CDR{PeerName: "Quebec Corp", PeerNumber: "+4970312345"}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"quebec", "QUÉBEC", "312345", "07031", "+49 7031", "papa", "regalpha"} {
		if got := find(q); len(got) != 1 {
			t.Errorf("find(%q) after CDR = %v", q, got)
		}
	}
	if _, _, err := db.BeginUpload(ctx, "d", "a", FileName{RegName: "regbeta"}, "romeo"); err != nil {
		t.Fatal(err)
	}
	for q, n := range map[string]int{"quebec": 0, "papa": 0, "regalpha": 0, "romeo": 1, "regbeta": 1} {
		if got := find(q); len(got) != n {
			t.Errorf("find(%q) after replace = %v, want %d", q, got, n)
		}
	}
	if err := db.DeleteRecording(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := find("romeo"); len(got) != 0 {
		t.Errorf("deleted recording found: %v", got)
	}
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.ExecContext(ctx, `INSERT INTO recordings_fts (recordings_fts, rank) VALUES ('integrity-check', 1)`); err != nil {
		t.Fatalf("fts integrity-check: %v", err)
	}
}

// recordHook is a slog.Handler that passes every record to fn.
type recordHook func(slog.Record)

func (h recordHook) Enabled(context.Context, slog.Level) bool { return true }
func (h recordHook) Handle(_ context.Context, r slog.Record) error {
	h(r)
	return nil
}
func (h recordHook) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h recordHook) WithGroup(string) slog.Handler      { return h }

// TestBusyRetry holds the write lock from another connection (as another
// process would) and checks that writes wait and retry, or fail with a
// busy error when retries are off. The lock is released when the store
// reports its first retry (from its logger), not after a fixed time, so
// the outcome does not depend on how fast the machine runs either side.
func TestBusyRetry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		retries int
		ok      bool
	}{
		{"retried until the lock is free", 0, true},
		{"no retries", -1, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var (
				tx      *sql.Tx // the other connection's, holding the write lock
				retried atomic.Int32
			)
			log := slog.New(recordHook(func(r slog.Record) {
				if r.Message != "store: database busy, retrying" {
					return
				}
				if retried.Add(1) == 1 {
					// Released between the failed attempt and the retry.
					if err := tx.Commit(); err != nil {
						t.Errorf("release the lock: %v", err)
					}
				}
			}))
			path := filepath.Join(t.TempDir(), "rec.db")
			db, err := OpenOptions(ctx, path, log, Options{BusyTimeout: 20 * time.Millisecond, BusyRetries: c.retries})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			other, err := sql.Open("sqlite", dsn(db.Path(), roleWriter, time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			tx, err = other.BeginTx(ctx, nil) // BEGIN IMMEDIATE: takes the write lock
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('other', '1')`); err != nil {
				t.Fatal(err)
			}
			err = db.SetSetting(ctx, "k", "v")
			if c.ok {
				if err != nil || retried.Load() != 1 {
					t.Fatalf("SetSetting while locked: %v after %d retries, want success after 1", err, retried.Load())
				}
				if v, _, _ := db.Setting(ctx, "other"); v != "1" {
					t.Errorf("the other connection's write is missing")
				}
				return
			}
			if err == nil || !isBusy(err) || retried.Load() != 0 {
				t.Fatalf("SetSetting while locked, no retries = %v after %d retries, want a busy error at once", err, retried.Load())
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if err := db.SetSetting(ctx, "k", "v"); err != nil {
				t.Errorf("SetSetting once the lock is free: %v", err)
			}
		})
	}
}

// TestMigrateBlobs stores analysis blobs inline under schema 4 and checks
// that the upgrade moves them to recording_blobs intact.
func TestMigrateBlobs(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rec.db")
	ctx := context.Background()
	db, err := OpenOptions(ctx, path, nil, Options{migrateTo: 4})
	if err != nil {
		t.Fatal(err)
	}
	with := insertOldRecording(t, db, "with", "")
	without := insertOldRecording(t, db, "without", "")
	if _, err := db.w.ExecContext(ctx, `UPDATE recordings SET stats = ?, envelope = ? WHERE id = ?`,
		[]byte(`{"x":1}`), []byte{1, 2, 3}, with); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(ctx, path, nil)
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	defer db.Close()
	r, err := db.Recording(ctx, with)
	if err != nil || string(r.Stats) != `{"x":1}` || !bytes.Equal(r.Envelope, []byte{1, 2, 3}) {
		t.Fatalf("after upgrade: stats %q envelope %v, %v", r.Stats, r.Envelope, err)
	}
	if r, err := db.Recording(ctx, without); err != nil || r.Stats != nil || r.Envelope != nil {
		t.Fatalf("recording without blobs after upgrade: %+v, %v", r, err)
	}
	var cols int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('recordings')
		WHERE name IN ('stats', 'envelope')`).Scan(&cols); err != nil || cols != 0 {
		t.Errorf("blob columns still in recordings: %d, %v", cols, err)
	}
	if err := db.DeleteRecording(ctx, with); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM recording_blobs`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d blob rows left after delete (%v)", left, err)
	}
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

// insertOldRecording adds a recording named name owned by owner to a
// database at an older schema version (the columns of the first schema
// only, so that today's BeginUpload's newer columns are not needed).
func insertOldRecording(t *testing.T, db *DB, name, owner string) int64 {
	t.Helper()
	var id int64
	now := db.nowMS()
	if err := db.w.QueryRowContext(context.Background(), `INSERT INTO recordings
		(domain, name, reg_name, state, created_at, updated_at, owner, search)
		VALUES ('d', ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		name, owner, StateReceiving, now, now, owner, strings.ToLower(owner+"\n\n\n"+owner)).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}
