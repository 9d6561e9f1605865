package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// memBlobs is an object store in memory.
type memBlobs struct {
	mu   sync.Mutex
	objs map[string][]byte
}

func (m *memBlobs) Location() string { return "mem://checkpoints" }
func (m *memBlobs) Put(_ context.Context, key string, r io.Reader, size int64) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if int64(len(b)) != size {
		return errors.New("short object")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.objs == nil {
		m.objs = map[string][]byte{}
	}
	m.objs[key] = b
	return nil
}
func (m *memBlobs) ReadAt(_ context.Context, key string, p []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.objs[key]
	if off > int64(len(b)) {
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.ErrUnexpectedEOF
	}
	return n, nil
}
func (m *memBlobs) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objs, key)
	return nil
}
func (m *memBlobs) List(context.Context, func(string, int64) error) error { return nil }
func (m *memBlobs) Check(context.Context) error                           { return nil }

func checkpointRows(t *testing.T, db *DB, id int64) (n int, sealed bool, data []byte) {
	t.Helper()
	err := db.r.QueryRowContext(context.Background(), `SELECT count(*), coalesce(max(sealed), 0), max(data)
		FROM recording_checkpoints WHERE recording_id = ?`, id).Scan(&n, &sealed, &data)
	if err != nil {
		t.Fatal(err)
	}
	return n, sealed, data
}

// TestCheckpoints stores, reads, replaces and drops render checkpoints, in
// clear and sealed with the recording's data key.
func TestCheckpoints(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	plain := bytes.Repeat([]byte("checkpoint state "), 100)
	for _, tc := range []struct {
		name string
		key  bool
	}{{"clear", false}, {"encrypted", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opt := Options{BcryptCost: bcrypt.MinCost}
			if tc.key {
				opt.MasterKey = testKey(t, 7)
			}
			db, err := OpenOptions(ctx, filepath.Join(t.TempDir(), "rec.db"), testLogger(t), opt)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			capture := randBytes(1, 5000)
			id := upload(t, db, "example.com", "a.pcap", "alice", capture)
			other := upload(t, db, "example.com", "b.pcap", "alice", randBytes(2, 5000))
			sha := sumHex(capture)
			if _, err := db.Checkpoints(ctx, id, sha); !errors.Is(err, ErrNotFound) {
				t.Fatalf("none stored: %v", err)
			}
			if err := db.SetCheckpoints(ctx, id, sumHex([]byte("other")), plain); !errors.Is(err, ErrState) {
				t.Fatalf("for another capture: %v", err)
			}
			for _, bad := range [][]byte{nil, make([]byte, maxCheckpointsLen+1)} {
				if err := db.SetCheckpoints(ctx, id, sha, bad); !errors.Is(err, ErrInvalid) {
					t.Fatalf("%d bytes: %v", len(bad), err)
				}
			}
			if err := db.SetCheckpoints(ctx, id, sha, plain); err != nil {
				t.Fatal(err)
			}
			got, err := db.Checkpoints(ctx, id, sha)
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("read back: %d bytes, %v", len(got), err)
			}
			if _, err := db.Checkpoints(ctx, id, sumHex([]byte("other"))); !errors.Is(err, ErrNotFound) {
				t.Fatalf("asked for another capture: %v", err)
			}
			n, sealed, raw := checkpointRows(t, db, id)
			if n != 1 || sealed != tc.key || bytes.Contains(raw, []byte("checkpoint state")) == tc.key {
				t.Fatalf("stored row: %d, sealed %v, in clear %v", n, sealed, bytes.Contains(raw, []byte("checkpoint state")))
			}
			if tc.key {
				// Moved to another recording, a sealed set does not open.
				if _, err := db.w.ExecContext(ctx, `INSERT INTO recording_checkpoints (recording_id, sha256, sealed, data)
					SELECT ?, (SELECT sha256 FROM recordings WHERE id = ?), sealed, data FROM recording_checkpoints WHERE recording_id = ?`,
					other, other, id); err != nil {
					t.Fatal(err)
				}
				rec, _ := db.Recording(ctx, other)
				if _, err := db.Checkpoints(ctx, other, rec.SHA256); !errors.Is(err, ErrCheckpointsUnreadable) {
					t.Fatalf("moved: %v", err)
				}
				// Damaged, neither.
				raw[len(raw)/2] ^= 1
				if _, err := db.w.ExecContext(ctx, `UPDATE recording_checkpoints SET data = ? WHERE recording_id = ?`, raw, id); err != nil {
					t.Fatal(err)
				}
				if _, err := db.Checkpoints(ctx, id, sha); !errors.Is(err, ErrCheckpointsUnreadable) {
					t.Fatalf("damaged: %v", err)
				}
				if err := db.SetCheckpoints(ctx, id, sha, plain); err != nil {
					t.Fatal(err)
				}
			}
			// Deleting the recording drops them.
			if err := db.DeleteRecording(ctx, id); err != nil {
				t.Fatal(err)
			}
			if n, _, _ := checkpointRows(t, db, id); n != 0 {
				t.Fatalf("%d rows after delete", n)
			}
		})
	}
}

// TestCheckpointsReplacedUpload: a cut upload sent again loses the
// checkpoints of its first capture.
func TestCheckpointsReplacedUpload(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTest(t)
	id, _, err := db.BeginUpload(ctx, "example.com", "a.pcap", FileName{RegName: "alice"}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	part := randBytes(3, 3000)
	if err := db.AppendChunk(ctx, id, part); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishUpload(ctx, id, StateIncomplete, sumHex(part)); err != nil {
		t.Fatal(err)
	}
	if err := db.SetCheckpoints(ctx, id, sumHex(part), []byte("cps")); err != nil {
		t.Fatal(err)
	}
	if _, replaced, err := db.BeginUpload(ctx, "example.com", "a.pcap", FileName{RegName: "alice"}, "alice"); err != nil || !replaced {
		t.Fatalf("replace: %v, %v", replaced, err)
	}
	if n, _, _ := checkpointRows(t, db, id); n != 0 {
		t.Fatalf("%d rows after the upload was replaced", n)
	}
}

// TestCheckpointsShippedEncrypted: a capture in clear that is encrypted on
// its way to the object store (or back) loses its checkpoints stored in
// clear; checkpoints stored afterwards are sealed.
func TestCheckpointsShippedEncrypted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rec.db")
	db, err := OpenOptions(ctx, path, testLogger(t), Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	capture := randBytes(4, 70000)
	ids := []int64{
		upload(t, db, "example.com", "a.pcap", "alice", capture),
		upload(t, db, "example.com", "b.pcap", "alice", capture),
	}
	bl := &memBlobs{}
	// b is shipped in clear first, so that moving it back encrypts it.
	if err := db.SetAnalysis(ctx, ids[1], Analysis{State: StateReady}); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.ShipCapture(ctx, ids[1], bl); err != nil || !ok {
		t.Fatalf("ship in clear: %v, %v", ok, err)
	}
	for _, id := range ids {
		if err := db.SetCheckpoints(ctx, id, sumHex(capture), []byte("decoder state")); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = OpenOptions(ctx, path, testLogger(t), Options{BcryptCost: bcrypt.MinCost, MasterKey: testKey(t, 9),
		Blobs: func(string) (Blobs, error) { return bl, nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.SetAnalysis(ctx, ids[0], Analysis{State: StateReady}); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.ShipCapture(ctx, ids[0], bl); err != nil || !ok {
		t.Fatalf("ship: %v, %v", ok, err)
	}
	if ok, err := db.UnshipCapture(ctx, ids[1]); err != nil || !ok {
		t.Fatalf("unship: %v, %v", ok, err)
	}
	for _, id := range ids {
		if n, _, _ := checkpointRows(t, db, id); n != 0 {
			t.Fatalf("recording %d: checkpoints in clear kept for an encrypted capture", id)
		}
		if err := db.SetCheckpoints(ctx, id, sumHex(capture), []byte("decoder state")); err != nil {
			t.Fatal(err)
		}
		if n, sealed, _ := checkpointRows(t, db, id); n != 1 || !sealed {
			t.Fatalf("recording %d: stored again, sealed %v", id, sealed)
		}
		if got, err := db.Checkpoints(ctx, id, sumHex(capture)); err != nil || string(got) != "decoder state" {
			t.Fatalf("recording %d: %q, %v", id, got, err)
		}
	}
}

// TestMigrateCheckpoints upgrades a database with recordings: they stay as
// they were and have no checkpoints until some are stored.
func TestMigrateCheckpoints(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rec.db")
	db, err := OpenOptions(ctx, path, nil, Options{migrateTo: versionBefore(t, "render checkpoints stored with the analysis"), BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	capture := randBytes(5, 9000)
	id := upload(t, db, "example.com", "a.pcap", "alice", capture)
	if err := db.SetAnalysis(ctx, id, Analysis{State: StateReady, Codec: "PCMA", DurationMS: 1000, Envelope: []byte{1, 2}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rec, err := db.Recording(ctx, id)
	if err != nil || rec.State != StateReady || rec.DurationMS != 1000 || !bytes.Equal(rec.Envelope, []byte{1, 2}) || rec.SHA256 != sumHex(capture) {
		t.Fatalf("after the upgrade: %+v, %v", rec, err)
	}
	if _, err := db.Checkpoints(ctx, id, rec.SHA256); !errors.Is(err, ErrNotFound) {
		t.Fatalf("checkpoints of an old recording: %v", err)
	}
	if err := db.SetCheckpoints(ctx, id, rec.SHA256, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Checkpoints(ctx, id, rec.SHA256); err != nil || string(got) != "x" {
		t.Fatalf("%q, %v", got, err)
	}
}

// TestCheckpointsKeyRotated: sealed checkpoints open after the master key
// is rotated (the data key stays; only its wrapping changes).
func TestCheckpointsKeyRotated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rec.db")
	oldKey, newKey := testKey(t, 5), testKey(t, 6)
	db, err := OpenOptions(ctx, path, testLogger(t), Options{BcryptCost: bcrypt.MinCost, MasterKey: oldKey})
	if err != nil {
		t.Fatal(err)
	}
	capture := randBytes(6, 4000)
	id := upload(t, db, "example.com", "a.pcap", "alice", capture)
	if err := db.SetCheckpoints(ctx, id, sumHex(capture), []byte("decoder state")); err != nil {
		t.Fatal(err)
	}
	if n, err := db.RotateKey(ctx, oldKey, newKey); err != nil || n != 1 {
		t.Fatalf("rotate: %d, %v", n, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = OpenOptions(ctx, path, testLogger(t), Options{BcryptCost: bcrypt.MinCost, MasterKey: newKey})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := db.Checkpoints(ctx, id, sumHex(capture)); err != nil || string(got) != "decoder state" {
		t.Fatalf("after rotation: %q, %v", got, err)
	}
	// Without the key they are unreadable, like the capture.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = OpenOptions(ctx, path, testLogger(t), Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Checkpoints(ctx, id, sumHex(capture)); !errors.Is(err, ErrUnreadable) {
		t.Fatalf("without the key: %v", err)
	}
}
