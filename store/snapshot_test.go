package store

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// fillRecordings stores n recordings of size bytes each (random, so that
// they do not compress away) and returns them by name.
func fillRecordings(t *testing.T, db *DB, n, size int) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	out := make(map[string][]byte, n)
	for i := range n {
		name := fmt.Sprintf("s%04d.pcap", i)
		data := randBytes(uint64(1000+i), size)
		id, _, err := db.BeginUpload(ctx, "d", name, FileName{}, "")
		for off := 0; err == nil && off < len(data); off += 64 << 10 {
			err = db.AppendChunk(ctx, id, data[off:min(off+64<<10, len(data))])
		}
		if err == nil {
			err = db.FinishUpload(ctx, id, StateReceiving, sumHex(data))
		}
		if err != nil {
			t.Fatalf("fill %s: %v", name, err)
		}
		out[name] = data
	}
	return out
}

type progressCall struct{ written, estimate int64 }

// TestSnapshotWithProgress is not parallel: its check that some progress
// call saw a partial copy needs the watcher goroutine to run during the few
// milliseconds the copy is written, which it does not reliably do while
// other tests keep both Ps busy.
func TestSnapshotWithProgress(t *testing.T) {
	tests := []struct {
		name       string
		recordings int
		size       int
		deleted    int // recordings deleted afterwards (free pages the estimate leaves out)
	}{
		{"empty", 0, 0, 0},
		{"some", 8, 512 << 10, 0},
		{"with free pages", 8, 512 << 10, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := openTest(t)
			ctx := context.Background()
			want := fillRecordings(t, db, tc.recordings, tc.size)
			for i := range tc.deleted {
				name := fmt.Sprintf("s%04d.pcap", i)
				r, err := db.RecordingByName(ctx, "d", name)
				if err != nil {
					t.Fatal(err)
				}
				if err := db.DeleteRecording(ctx, r.ID); err != nil {
					t.Fatal(err)
				}
				delete(want, name)
			}
			est, err := db.SnapshotEstimate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			size, err := db.Size(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if est <= 0 || est > size {
				t.Fatalf("estimate %d, database %d bytes", est, size)
			}
			var (
				mu    sync.Mutex
				calls []progressCall
			)
			snap, err := db.SnapshotWithProgress(ctx, time.Millisecond, func(w, e int64) {
				mu.Lock()
				calls = append(calls, progressCall{w, e})
				mu.Unlock()
			})
			if err != nil {
				t.Fatal(err)
			}
			defer snap.Close()
			mu.Lock()
			got := append([]progressCall(nil), calls...)
			mu.Unlock()
			if len(got) < 2 {
				t.Fatalf("%d progress calls, want at least the first and the last", len(got))
			}
			if got[0] != (progressCall{0, est}) {
				t.Errorf("first call %+v, want {0 %d}", got[0], est)
			}
			last := got[len(got)-1]
			if last.written != snap.Size || last.estimate != snap.Size {
				t.Errorf("last call %+v, snapshot %d bytes", last, snap.Size)
			}
			for i, c := range got[:len(got)-1] {
				if c.estimate != est || c.written < 0 || c.written >= est {
					t.Errorf("call %d: %+v: not below the estimate %d", i, c, est)
				}
				if i > 0 && c.written < got[i-1].written {
					t.Errorf("call %d: %+v went back from %d", i, c, got[i-1].written)
				}
			}
			// The estimate is close to what VACUUM INTO writes.
			if d := float64(snap.Size-est) / float64(est); d < -0.1 || d > 0.1 {
				t.Errorf("estimate %d vs snapshot %d bytes (%.1f %%)", est, snap.Size, 100*d)
			}
			mid := 0
			for _, c := range got[1 : len(got)-1] {
				if c.written > 0 {
					mid++
				}
			}
			t.Logf("%d bytes, estimate %d, %d progress calls, %d of them with a partial copy", snap.Size, est, len(got), mid)
			if tc.recordings > 0 && mid == 0 {
				t.Errorf("no progress seen while %d bytes were copied", snap.Size)
			}
			head := make([]byte, 16)
			if _, err := snap.ReadAt(head, 0); err != nil || !bytes.Equal(head, []byte("SQLite format 3\x00")) {
				t.Fatalf("header %q, %v", head, err)
			}
			checkSnapshot(t, snap.Name(), want)
		})
	}
}

func TestSnapshotWithProgressCancelled(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	fillRecordings(t, db, 2, 256<<10)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := db.SnapshotWithProgress(ctx, time.Millisecond, func(int64, int64) {})
	if err == nil {
		t.Fatal("snapshot with a cancelled context succeeded")
	}
	left, _ := os.ReadDir(filepath.Dir(db.Path()))
	for _, e := range left {
		if len(e.Name()) > 8 && e.Name()[:8] == ".backup-" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestClampBelow(t *testing.T) {
	for _, tc := range []struct{ n, limit, want int64 }{
		{0, 100, 0}, {50, 100, 50}, {99, 100, 99}, {100, 100, 99}, {150, 100, 99}, {5, 0, 0}, {-3, 10, 0},
	} {
		if got := clampBelow(tc.n, tc.limit); got != tc.want {
			t.Errorf("clampBelow(%d, %d) = %d, want %d", tc.n, tc.limit, got, tc.want)
		}
	}
}
