package replica_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"recordings/internal/s3test"
	"recordings/internal/sealed"
	"recordings/replica"
	"recordings/store"
)

func TestMain(m *testing.M) {
	replica.DropCABundle(nil) // as the commands do (see DropCABundle)
	os.Exit(m.Run())
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testLog(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// target is where a test replicates to.
type target struct {
	url string
	s3  replica.S3
}

// targets are the replica targets every replication test runs against.
var targets = []struct {
	name   string
	target func(testing.TB) target
}{
	{"file", fileTarget},
	{"s3", s3Target},
}

func fileTarget(t testing.TB) target {
	return target{url: "file://" + filepath.Join(t.TempDir(), "replica")}
}

func s3Target(t testing.TB) target {
	srv := s3test.Env(t)
	b := srv.Bucket(t)
	return target{url: "s3://" + b + "/db", s3: replica.S3{Endpoint: srv.Endpoint, Region: srv.Region,
		AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}}
}

// running is a database being replicated.
type running struct {
	db   *store.DB
	svc  *replica.Service
	stop func() // stops replication (shipping what is pending) and closes the database
}

func start(t testing.TB, tg target) running {
	t.Helper()
	return startKey(t, tg, nil)
}

// startKey is start with the replica encrypted under key (nil: in clear).
func startKey(t testing.TB, tg target, key *sealed.Key) running {
	t.Helper()
	ctx := context.Background()
	db, err := store.OpenOptions(ctx, filepath.Join(t.TempDir(), "rec.db"), testLog(t), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	svc := replica.New(db.Path(), testLog(t), replica.Options{S3: tg.s3, AutoCheckpoint: db.SetAutoCheckpoint, Key: key})
	svc.SetURL(tg.url)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(rctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("replica run: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}
	t.Cleanup(stop)
	return running{db: db, svc: svc, stop: stop}
}

// upload stores a complete capture and returns its SHA-256.
func upload(t testing.TB, db *store.DB, name string, data []byte) string {
	t.Helper()
	ctx := context.Background()
	id, _, err := db.BeginUpload(ctx, "example.com", name, store.FileName{RegName: "alice"}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AppendChunk(ctx, id, data); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	if err := db.FinishUpload(ctx, id, store.StateReceiving, h); err != nil {
		t.Fatal(err)
	}
	return h
}

// waitCaughtUp ships everything committed so far (waiting for the
// replication to have started) and returns the status, which must show
// the replica current.
func waitCaughtUp(t testing.TB, svc *replica.Service) replica.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		err := svc.Flush(ctx)
		if err == nil {
			break
		}
		if !errors.Is(err, replica.ErrNotReplicating) || ctx.Err() != nil {
			t.Fatalf("flush: %v (%+v)", err, svc.Status())
		}
		time.Sleep(10 * time.Millisecond) // polling for the start
	}
	st := svc.Status()
	if st.State != "replicating" || st.LocalTXID == 0 || st.ReplicaTXID < st.LocalTXID || st.LagSeconds != 0 {
		t.Fatalf("after a flush the replica is not current: %+v", st)
	}
	return st
}

// recordings lists name → SHA-256 of a database file.
func recordings(t *testing.T, path string) map[string]string {
	t.Helper()
	db, err := store.OpenOptions(context.Background(), path, testLog(t), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := map[string]string{}
	cursor := ""
	for {
		rs, next, err := db.ListRecordings(context.Background(), store.ListFilter{Limit: store.MaxListLimit, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			got[r.Name] = r.SHA256
		}
		if next == "" {
			return got
		}
		cursor = next
	}
}

// TestReplicateAndRestore: recordings written while the database is
// replicated (to a folder, to S3) are all in the database restored from
// the replica, which passes the integrity check; restore never overwrites.
func TestReplicateAndRestore(t *testing.T) {
	t.Parallel()
	for _, tc := range targets {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := tc.target(t)
			r := start(t, tg)
			want := map[string]string{}
			for i := range 30 {
				name := fmt.Sprintf("rec-%02d.pcap", i)
				want[name] = upload(t, r.db, name, []byte(strings.Repeat(name, 1000+i)))
			}
			st := waitCaughtUp(t, r.svc)
			if st.URL != tg.url || st.LastSync.IsZero() {
				t.Errorf("status %+v: want url %s and a last sync", st, tg.url)
			}
			r.stop()

			out := filepath.Join(t.TempDir(), "restored", "rec.db")
			res, err := replica.Restore(context.Background(), tg.url, out, replica.RestoreOptions{S3: tg.s3, Log: testLog(t)})
			if err != nil {
				t.Fatalf("restore: %v", err)
			}
			if res.SchemaVersion != store.SchemaVersion() {
				t.Errorf("restored schema version %d, want %d", res.SchemaVersion, store.SchemaVersion())
			}
			got := recordings(t, out)
			if len(got) != len(want) {
				t.Errorf("restored %d recordings, want %d", len(got), len(want))
			}
			for name, sum := range want {
				if got[name] != sum {
					t.Errorf("%s: restored sha %q, want %q", name, got[name], sum)
				}
			}
			// A second restore to the same name is refused and leaves the file.
			before, _ := os.ReadFile(out)
			if _, err := replica.Restore(context.Background(), tg.url, out, replica.RestoreOptions{S3: tg.s3}); err == nil ||
				!strings.Contains(err.Error(), "exists") {
				t.Errorf("restore over an existing file: %v, want refused", err)
			}
			after, _ := os.ReadFile(out)
			if !slices.Equal(before, after) {
				t.Error("the refused restore changed the existing file")
			}
		})
	}
}

// TestRestoreRefusals: bad URLs, an empty replica and an unreachable
// server each fail with a clear error and leave no file behind.
func TestRestoreRefusals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name, url string
		s3        replica.S3
		want      string
	}{
		{"relative file", "file://replica", replica.S3{}, "file:///folder"},
		{"relative path", "file:replica", replica.S3{}, "absolute"},
		{"no scheme", "/var/backups", replica.S3{}, "want file:///folder or s3://bucket/prefix"},
		{"keys in the URL", "s3://key:secret@bucket/p", replica.S3{}, "no user"},
		{"empty folder", "file://" + filepath.Join(dir, "empty"), replica.S3{}, "no database in the replica"},
		{"unreachable server", "s3://bucket/p", replica.S3{Endpoint: "http://127.0.0.1:1", AccessKeyID: "a", SecretAccessKey: "b"}, "restore from"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "out.db")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := replica.Restore(ctx, tc.url, out, replica.RestoreOptions{S3: tc.s3})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("restore %s: %v, want an error containing %q", tc.url, err, tc.want)
			}
			if _, serr := os.Stat(out); !errors.Is(serr, os.ErrNotExist) {
				t.Errorf("a failed restore left %s: %v", out, serr)
			}
		})
	}
}

// TestStatusReportsUnreachableReplica: a replica that cannot be written is
// reported as an error in the status, and the database goes on working.
func TestStatusReportsUnreachableReplica(t *testing.T) {
	t.Parallel()
	tg := target{url: "s3://nobucket/p", s3: replica.S3{Endpoint: "http://127.0.0.1:1", AccessKeyID: "a", SecretAccessKey: "b"}}
	r := start(t, tg)
	upload(t, r.db, "a.pcap", []byte("data"))
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := r.svc.Status()
		if st.State == "error" && st.LastError != "" && st.Errors > 0 {
			if st.URL != tg.url {
				t.Errorf("url %q, want %q", st.URL, tg.url)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no error reported: %+v", st)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition
	}
	upload(t, r.db, "b.pcap", []byte("more data"))
}

// TestRestoreToPointInTime: a restore with a timestamp between two batches
// of recordings has the first batch and not the second.
func TestRestoreToPointInTime(t *testing.T) {
	t.Parallel()
	for _, tc := range targets {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := tc.target(t)
			r := start(t, tg)
			upload(t, r.db, "before.pcap", []byte("first batch"))
			waitCaughtUp(t, r.svc)
			at := time.Now()
			for time.Since(at) < 5*time.Millisecond { // the replica's timestamps have millisecond resolution
				runtime.Gosched()
			}
			upload(t, r.db, "after.pcap", []byte("second batch"))
			waitCaughtUp(t, r.svc)
			r.stop()

			dir := t.TempDir()
			for _, c := range []struct {
				at         time.Time
				wantBefore bool
				wantAfter  bool
			}{
				{at, true, false},
				{time.Time{}, true, true},
			} {
				out := filepath.Join(dir, fmt.Sprintf("at-%d.db", c.at.UnixNano()))
				if _, err := replica.Restore(context.Background(), tg.url, out, replica.RestoreOptions{S3: tg.s3, Timestamp: c.at}); err != nil {
					t.Fatalf("restore to %v: %v", c.at, err)
				}
				got := recordings(t, out)
				if _, ok := got["before.pcap"]; ok != c.wantBefore {
					t.Errorf("restore to %v: before.pcap there: %v, want %v", c.at, ok, c.wantBefore)
				}
				if _, ok := got["after.pcap"]; ok != c.wantAfter {
					t.Errorf("restore to %v: after.pcap there: %v, want %v", c.at, ok, c.wantAfter)
				}
			}
		})
	}
}
