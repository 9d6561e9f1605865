package store

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// openWriter opens only the writer connection of a database at path, as
// OpenOptions does before migrating.
func openWriter(t testing.TB, path string, log *slog.Logger) *DB {
	t.Helper()
	w, err := sql.Open("sqlite", dsn(path, roleWriter, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	w.SetMaxOpenConns(1)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &DB{path: path, w: w, log: log, now: time.Now, retry: 3, busy: 5 * time.Second}
}

// TestMigrationProgress runs in a synctest bubble: the progress ticker
// follows the bubble's fake clock, which moves only while every goroutine
// in the bubble is blocked. A step's SQL (CPU and file I/O, never "durably
// blocking") therefore takes no time on that clock however loaded the
// machine is, and the slow step is slow by sleeping on it, so the number of
// progress lines is exact.
func TestMigrationProgress(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testMigrationProgress)
}

func testMigrationProgress(t *testing.T) {
	ctx := context.Background()
	out := &lockedBuffer{}
	db := openWriter(t, filepath.Join(t.TempDir(), "m.db"), slog.New(slog.NewTextHandler(out, nil)))
	defer db.w.Close() // inside the bubble: it ends the pool's opener goroutine
	steps := []migration{
		{"quick", func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `CREATE TABLE t (x INTEGER)`)
			return err
		}},
		{"slow", func(ctx context.Context, tx *sql.Tx) error {
			time.Sleep(60 * time.Millisecond) // the ticker fires at 25 and 50 ms
			_, err := tx.ExecContext(ctx, `INSERT INTO t VALUES (1)`)
			return err
		}},
	}
	if err := db.migrateSteps(ctx, steps, 1, 25*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "still running") {
		t.Errorf("progress reported for a quick step:\n%s", out.String())
	}
	if err := db.migrateSteps(ctx, steps, 2, 25*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var progress []string
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Contains(line, "migration still running") {
			progress = append(progress, line)
		}
	}
	if len(progress) != 2 || !strings.Contains(progress[0], "step=slow") || !strings.Contains(progress[1], "step=slow") {
		t.Errorf("%d progress lines for a 60 ms step reported every 25 ms, want 2 naming the step:\n%s", len(progress), out.String())
	}
	if !strings.Contains(out.String(), "schema migrated") {
		t.Errorf("no summary:\n%s", out.String())
	}
	var v int
	if err := db.w.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != 2 {
		t.Fatalf("version %d %v", v, err)
	}
	// Too new, and a failing step that rolls back with its version.
	if err := db.migrateSteps(ctx, steps[:1], 1, time.Second); err == nil {
		t.Error("database newer than the program accepted")
	}
	bad := append(steps, migration{"broken", func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO t VALUES (2)`); err != nil {
			return err
		}
		return fmt.Errorf("step fails")
	}})
	if err := db.migrateSteps(ctx, bad, 3, time.Second); err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("failing step: %v", err)
	}
	var n int
	if err := db.w.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil || n != 1 {
		t.Errorf("failed step left %d rows (want 1), %v", n, err)
	}
	if err := db.w.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != 2 {
		t.Errorf("version after failed step %d %v", v, err)
	}
}

// makeV1Fixture creates a database of n recordings (each with one small
// chunk of capture), users and log entries at schema version 1.
func makeV1Fixture(t testing.TB, path string, n int) {
	t.Helper()
	ctx := context.Background()
	db := openWriter(t, path, nil)
	defer db.w.Close()
	if err := db.migrateSteps(ctx, migrations, 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	// Generated in SQL (a recursive counter) rather than row by row from
	// Go, which would take most of the benchmark's set-up time.
	const series = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) `
	err := db.write(ctx, func(tx *sql.Tx) error {
		return execArgs(ctx, tx, []stmtArgs{
			{series + `INSERT INTO recordings
				(id, domain, name, conf_id, mac, serial, reg_name, state, size, nchunks, sha256, created_at, updated_at,
				 codec, duration_ms, owner, search)
				SELECT i, 'example.com', printf('%032x-0090334455aa-%d-user%d.pcap', i, i, i % 200), printf('%032x', i),
					'0090334455aa', i, 'user' || (i % 200), 'ready', 128, 1, printf('%064x', i), ?2 + i * 60000,
					?2 + i * 60000, 'PCMA', 60000, 'user' || (i % 200), 'user' || (i % 200) || char(10, 10, 10) || 'user' || (i % 200)
				FROM n`, []any{n, base}},
			{series + `INSERT INTO chunks (recording_id, seq, off, data) SELECT i, 0, 0, randomblob(128) FROM n`, []any{n}},
			{series + `INSERT INTO logs (time, level, category, user, recording_id, message)
				SELECT ?2 + i * 60000, 0, 'Recording', 'user' || (i % 200), i, 'upload complete' FROM n`, []any{n, base}},
			{`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 199)
				INSERT INTO users (name, role, created_at) SELECT 'user' || i, 'user', ?1 FROM n`, []any{base}},
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

type stmtArgs struct {
	q    string
	args []any
}

func execArgs(ctx context.Context, tx *sql.Tx, stmts []stmtArgs) error {
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s.q, s.args...); err != nil {
			return fmt.Errorf("%.60s: %w", s.q, err)
		}
	}
	return nil
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestMigrateFromV1 opens a small first-schema database with the current
// program: every migration applies and the data reads back.
func TestMigrateFromV1(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "v1.db")
	makeV1Fixture(t, path, 500)
	db, err := OpenOptions(context.Background(), path, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.IntegrityCheck(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs, _, err := db.ListRecordings(context.Background(), ListFilter{Limit: 1000})
	if err != nil || len(recs) != 500 {
		t.Fatalf("%d recordings after migration, %v", len(recs), err)
	}
	r, err := db.Recording(context.Background(), 17)
	if err != nil || r.Owner != "user17" || r.Size != 128 || r.State != StateReady {
		t.Fatalf("recording 17: %+v %v", r, err)
	}
}

// BenchmarkMigrate100k migrates a first-schema database of 100,000
// recordings to the current schema (the fixture is built once, copied for
// each iteration outside the timer).
func BenchmarkMigrate100k(b *testing.B) {
	dir := b.TempDir()
	fixture := filepath.Join(dir, "v1.db")
	start := time.Now()
	makeV1Fixture(b, fixture, 100_000)
	b.Logf("fixture of 100,000 recordings at schema 1 built in %v", time.Since(start).Round(time.Millisecond))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		b.StopTimer()
		path := filepath.Join(dir, fmt.Sprintf("run%d.db", i))
		i++
		copyFile(b, fixture, path)
		b.StartTimer()
		db, err := OpenOptions(context.Background(), path, nil, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		db.Close()
		os.Remove(path)
		b.StartTimer()
	}
	b.ReportMetric(float64(SchemaVersion()), "schema")
}
