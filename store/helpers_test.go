package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// openTest opens a fresh database in a temp dir with a fake clock.
func openTest(t testing.TB) (*DB, *fakeClock) {
	t.Helper()
	clk := newClock()
	db, err := OpenOptions(context.Background(), filepath.Join(t.TempDir(), "sub", "rec.db"), testLogger(t),
		Options{Now: clk.Now, BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return db, clk
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func sumHex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// upload stores data as recording (domain, name) in chunks of the given
// sizes (cycled) and finishes it as complete.
func upload(t testing.TB, db *DB, domain, name, owner string, data []byte, sizes ...int) int64 {
	t.Helper()
	ctx := context.Background()
	id, _, err := db.BeginUpload(ctx, domain, name, FileName{RegName: owner}, owner)
	if err != nil {
		t.Fatalf("begin upload: %v", err)
	}
	if len(sizes) == 0 {
		sizes = []int{MaxChunkSize}
	}
	for i, off := 0, 0; off < len(data); i++ {
		n := min(sizes[i%len(sizes)], len(data)-off)
		if err := db.AppendChunk(ctx, id, data[off:off+n]); err != nil {
			t.Fatalf("append chunk %d: %v", i, err)
		}
		off += n
	}
	if err := db.FinishUpload(ctx, id, StateReceiving, sumHex(data)); err != nil {
		t.Fatalf("finish upload: %v", err)
	}
	return id
}

// versionBefore is the schema version just before the migration named name
// runs (for upgrade tests, whatever is appended after it).
func versionBefore(t testing.TB, name string) int {
	t.Helper()
	for i, m := range migrations {
		if m.name == name {
			return i
		}
	}
	t.Fatalf("no migration %q", name)
	return 0
}
