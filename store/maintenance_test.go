package store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// checkSnapshot opens a backup file on its own and verifies it.
func checkSnapshot(t *testing.T, path string, want map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatalf("open backup: %v", err)
	}
	defer db.Close()
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Fatalf("backup: %v", err)
	}
	for name, data := range want {
		r, err := db.RecordingByName(ctx, "d", name)
		if err != nil {
			t.Fatalf("backup lacks %s: %v", name, err)
		}
		if r.SHA256 != sumHex(data) {
			t.Fatalf("backup %s: sha %s, want %s", name, r.SHA256, sumHex(data))
		}
		cr, err := db.OpenCapture(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(cr)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("backup %s: capture differs (%d bytes, %v)", name, len(got), err)
		}
	}
}

func TestBackupWhileWriting(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	ctx := context.Background()

	var (
		mu       sync.Mutex
		grown    = sync.NewCond(&mu)   // signalled when done grows or the writer fails
		done     = map[string][]byte{} // completed uploads
		stop     atomic.Bool
		wg       sync.WaitGroup
		writeErr error
	)
	wg.Go(func() {
		for i := 0; !stop.Load(); i++ {
			name := fmt.Sprintf("w%04d.pcap", i)
			data := randBytes(uint64(i), 20000+i*97%5000)
			id, _, err := db.BeginUpload(ctx, "d", name, FileName{}, "")
			for off := 0; err == nil && off < len(data); off += 4096 {
				err = db.AppendChunk(ctx, id, data[off:min(off+4096, len(data))])
			}
			if err == nil {
				err = db.FinishUpload(ctx, id, StateReceiving, sumHex(data))
			}
			mu.Lock()
			grown.Broadcast()
			if err != nil {
				writeErr = err
				mu.Unlock()
				return
			}
			done[name] = data
			mu.Unlock()
		}
	})
	defer func() {
		stop.Store(true)
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		if writeErr != nil {
			t.Errorf("writer: %v", writeErr)
		}
	}()

	for round := range 3 {
		// Let the writer get ahead a little.
		mu.Lock()
		for len(done) <= (round+1)*3 && writeErr == nil {
			grown.Wait()
		}
		if writeErr != nil {
			mu.Unlock()
			t.Fatal(writeErr)
		}
		before := make(map[string][]byte, len(done))
		for k, v := range done {
			before[k] = v
		}
		mu.Unlock()

		dir := t.TempDir()
		if round%2 == 0 {
			path := filepath.Join(dir, "stream.db")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			n, err := db.Backup(ctx, f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatal(err)
			}
			if fi, _ := os.Stat(path); fi.Size() != n || n == 0 {
				t.Fatalf("Backup reported %d bytes, file has %d", n, fi.Size())
			}
			checkSnapshot(t, path, before)
		} else {
			path := filepath.Join(dir, "to.db")
			if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := db.BackupTo(ctx, path); err != nil {
				t.Fatal(err)
			}
			checkSnapshot(t, path, before)
		}
	}
	// No snapshot directories are left next to the database.
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(db.Path()), ".backup-*"))
	if len(left) != 0 {
		t.Errorf("temporary backups left: %v", left)
	}
	if err := db.BackupTo(ctx, db.Path()); err == nil {
		t.Error("BackupTo over the live database succeeded")
	}
}

func TestVacuumAndSize(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	ctx := context.Background()
	var ids []int64
	for i := range 8 {
		ids = append(ids, upload(t, db, "d", fmt.Sprint(i), "", randBytes(uint64(i), 200000), 65536))
	}
	full, err := db.Size(ctx)
	if err != nil || full < 8*200000 {
		t.Fatalf("Size = %d, %v; want ≥ %d", full, err, 8*200000)
	}
	for _, id := range ids[:6] {
		if err := db.DeleteRecording(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	free, err := db.FreeSize(ctx)
	if err != nil || free < 5*200000 {
		t.Fatalf("FreeSize after deleting = %d, %v", free, err)
	}
	if err := db.IncrementalVacuum(ctx); err != nil {
		t.Fatal(err)
	}
	after, _ := db.Size(ctx)
	if after > full-5*200000 {
		t.Errorf("Size %d → %d after deleting 6 of 8 and vacuuming", full, after)
	}
	if free, _ := db.FreeSize(ctx); free != 0 {
		t.Errorf("FreeSize after vacuum = %d", free)
	}
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}
